"""Observe (RFC 7641) and Block2 (RFC 7959) against the simulated board, with
real clients: libcoap's coap-client-notls and aiocoap's observation API."""

import asyncio
import json
import subprocess

import aiocoap
import pytest

from boardsim import SimulatedBoard
from support import NUMBER_BYTES as NUMBER



def coap_client(*args, timeout=30):
    return subprocess.run(["coap-client-notls", *args], capture_output=True, timeout=timeout)


def board_info(port):
    out = coap_client("-B", "3", "-m", "get", "coap://127.0.0.1:%d/board" % port)
    return json.loads(out.stdout)


@pytest.fixture
def fresh_board():
    with SimulatedBoard(config={"observers": 2, "observe_con_every": 2}) as b:
        yield b


def test_libcoap_receives_notifications(fresh_board):
    # -s 7: observe for 7 s; the unix board's temperature moves 0.10 °C a second and
    # its default sensor, a simulated DHT22, is read every 2 s like a real one
    out = coap_client("-s", "7", "-B", "9", "-m", "get",
                      "coap://127.0.0.1:%d/sensors/temp" % fresh_board.port)
    values = NUMBER.findall(out.stdout)
    assert len(values) >= 3, out
    assert len(set(values)) >= 2, values  # notifications carried new readings


def test_libcoap_fetches_multi_block_log_byte_exact(fresh_board):
    url = "coap://127.0.0.1:%d/board/log" % fresh_board.port
    out = coap_client("-b", "64", "-B", "5", "-m", "get", url)
    assert out.returncode == 0, out.stderr
    console = fresh_board.output().encode()
    assert len(console) > 2 * 64  # really more than one block
    assert out.stdout == console + b"\n", (out.stdout, console)  # coap-client ends with a newline


def test_early_negotiation_over_udp(fresh_board):  # RFC 7959 §2.4
    import socket
    import coapmsg as m
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(3)
        s.sendto(m.get("board/log", options=[(23, m.uint(0 << 4 | 2))]), ("127.0.0.1", fresh_board.port))
        r = m.decode(s.recv(2048))
        if r[1] == 0:  # a ping: the answer is held for its RST (coap/pending.py)
            s.sendto(m.encode(m.RST, 0, r[2]), ("127.0.0.1", fresh_board.port))
            r = m.decode(s.recv(2048))
    console = fresh_board.output().encode()
    block2 = m.to_uint(m.option(r[4], 23))
    # 64-byte blocks asked for; the server may answer smaller ones (§2.4), never
    # larger (64: the RST proved the address, RFC 9175 §2.4)
    assert (r[1], block2 & 7 <= 2, bool(block2 & 8)) == (69, True, True)
    assert r[5] == console[:16 << (block2 & 7)]
    assert m.to_uint(m.option(r[4], 28)) == len(console)  # Size2


async def _observe_and_cancel(port, count):
    ctx = await aiocoap.Context.create_client_context()
    try:
        msg = aiocoap.Message(code=aiocoap.GET, uri="coap://127.0.0.1:%d/sensors/temp" % port,
                              observe=0)
        req = ctx.request(msg)
        first = await asyncio.wait_for(req.response, 5)
        values = [first.payload]
        async def collect():
            async for note in req.observation:
                values.append(note.payload)
                if len(values) > count:
                    break
        await asyncio.wait_for(collect(), 15)
        registered = board_info(port)["observers"]
        req.observation.cancel()
        # aiocoap answers the next CON notification with RST (every 2nd here)
        after = registered
        for _ in range(40):
            await asyncio.sleep(0.25)
            after = board_info(port)["observers"]
            if after == 0:
                break
        return values, registered, after
    finally:
        await ctx.shutdown()


def test_aiocoap_sees_updates_and_cancellation(fresh_board):
    values, registered, after = asyncio.run(_observe_and_cancel(fresh_board.port, 2))
    assert all(NUMBER.fullmatch(v) for v in values), values
    assert len(set(values)) >= 2
    assert registered == 1
    assert after == 0  # the board dropped the observer once aiocoap cancelled


def test_full_table_stays_full(fresh_board):
    # observers: 2 in this board's config; a third registration takes the place
    # of the one silent longest (test_observe_field.py), the count stays 2
    procs = [subprocess.Popen(["coap-client-notls", "-s", "5", "-B", "6", "-m", "get",
                               "coap://127.0.0.1:%d/sensors/temp" % fresh_board.port],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for _ in range(3)]
    try:
        import time
        deadline = time.monotonic() + 5
        while board_info(fresh_board.port)["observers"] < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert board_info(fresh_board.port)["observers"] == 2
    finally:
        for p in procs:
            p.kill()
            p.wait()


def test_a_board_with_an_empty_filesystem_starts_without_observers():
    # SimulatedBoard runs each board process in a new directory: nothing saved
    with SimulatedBoard(config={"observers": 2}) as b:
        port = b.port
        p = subprocess.Popen(["coap-client-notls", "-s", "20", "-B", "21", "-m", "get",
                              "coap://127.0.0.1:%d/sensors/temp" % port],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            import time
            deadline = time.monotonic() + 5
            while board_info(port)["observers"] < 1 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert board_info(port)["observers"] == 1
            b.stop()
            with SimulatedBoard(config={"observers": 2}, port=port) as rebooted:
                assert board_info(rebooted.port)["observers"] == 0  # must register again
                out = coap_client("-s", "2", "-B", "4", "-m", "get",
                                  "coap://127.0.0.1:%d/sensors/temp" % port)
                assert NUMBER.search(out.stdout)
        finally:
            p.kill()
            p.wait()
