"""The simulated board managed by a real LwM2M server over UDP: npm
lwm2m-node-lib 1.4.0 (tests/interop/lwm2m_server.js drives it). The board
registers from its serving socket, the server reads Device and each sensor
(text and TLV), writes the LED, executes a reset of min/max, sees an Update
before the lifetime ends, one with the Lifetime it wrote, one on Execute of
1/0/8, and a De-register on Ctrl-C, answered before the board exits; a
server restart leads to a new registration."""

import json
import os
import queue
import re
import signal
import struct
import subprocess
import threading
import time

import pytest

from boardsim import ROOT, SimulatedBoard
from support import free_port

SERVER_JS = os.path.join(ROOT, "tests", "interop", "lwm2m_server.js")
LIB = os.path.join(ROOT, "tools", "node", "node_modules", "lwm2m-node-lib")


class LwM2MServer:
    """lwm2m_server.js: JSON lines out, commands in."""

    def __init__(self, port):
        if not os.path.isdir(LIB):
            raise AssertionError("npm lwm2m-node-lib missing: run `make peers`")
        self.port = port
        self.lines = queue.Queue()
        self.seen = []
        self.proc = subprocess.Popen(["node", SERVER_JS, str(port)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True)
        threading.Thread(target=self._read, daemon=True).start()
        self.expect(lambda m: m.get("event") == "started", 10)

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(json.loads(line))

    def expect(self, match, timeout):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("nothing matching came in %ss (after %s)"
                                     % (timeout, self.seen[-3:]))
            try:
                m = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            self.seen.append(m)
            if match(m):
                return m

    def after(self, n, match, timeout):
        """The first message since seen[n] that matches, waiting for it if
        none came yet (ask() reads past events that come before its reply)."""
        for m in self.seen[n:]:
            if match(m):
                return m
        return self.expect(match, timeout)

    def ask(self, command, timeout=10):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        m = self.expect(lambda m: m.get("reply") == command, timeout)
        assert "error" not in m, m
        return m["value"]

    def stop(self):
        self.proc.kill()
        self.proc.wait()


def tlv(payload_hex):
    """{resource id: value bytes} of a flat TLV payload (resources only)."""
    data = bytes.fromhex(payload_hex)
    out, i = {}, 0
    while i < len(data):
        t = data[i]
        w = 2 if t & 0x20 else 1
        ident = int.from_bytes(data[i + 1:i + 1 + w], "big")
        i += 1 + w
        lw = (t >> 3) & 3
        n = t & 7 if lw == 0 else int.from_bytes(data[i:i + lw], "big")
        i += lw
        out[ident] = data[i:i + n]
        i += n
    return out


@pytest.fixture
def lwm2m():
    server = LwM2MServer(free_port())
    yield server
    server.stop()


def board_for(server, lifetime=20, **config):
    return SimulatedBoard(config=dict(config, name="lw-board", lwm2m={
        "server": "coap://127.0.0.1:%d" % server.port, "lifetime_s": lifetime}))


def test_register_read_write_execute_update_deregister(lwm2m):
    board = board_for(lwm2m).start()
    try:
        reg = lwm2m.expect(lambda m: m.get("event") == "registration", 10)
        assert (reg["endpoint"], reg["lifetime"], reg["version"], reg["binding"]) == (
            "lw-board", "20", "1.1", "U")
        assert reg["payload"] == ('</>;rt="oma.lwm2m";ct=11542,</1/0>,</3/0>,</5/0>,'
                                  '</3303/0>,</3304/0>,</3311/0>')
        # text reads of Device and each sensor
        assert lwm2m.ask("read lw-board 3 0 0") == "coap-board"
        assert lwm2m.ask("read lw-board 3 0 1") == "unix"
        temp = float(lwm2m.ask("read lw-board 3303 0 5700"))
        assert 10 < temp < 40
        assert lwm2m.ask("read lw-board 3303 0 5701") == "Cel"
        assert 0 < float(lwm2m.ask("read lw-board 3304 0 5700")) <= 100
        # TLV reads of an instance: the value as a double, the unit as a string
        got = lwm2m.ask("get lw-board /3303/0 tlv")
        assert got["code"] == "2.05"
        res = tlv(got["payload"])
        assert res[5701] == b"Cel" and 10 < struct.unpack(">d", res[5700])[0] < 40
        device = tlv(lwm2m.ask("get lw-board /3/0 tlv")["payload"])
        assert (device[0], device[1], device[16]) == (b"coap-board", b"unix", b"U")
        # Discover
        links = bytes.fromhex(lwm2m.ask("get lw-board /3311/0 link")["payload"])
        assert links == b"</3311/0>,</3311/0/5850>"
        # the LED, on and off
        lwm2m.ask("write lw-board 3311 0 5850 1")
        assert lwm2m.ask("read lw-board 3311 0 5850") == "1"
        lwm2m.ask("write lw-board 3311 0 5850 0")
        assert lwm2m.ask("read lw-board 3311 0 5850") == "0"
        lwm2m.ask("execute lw-board 3303 0 5605")
        # an Update before the 20 s lifetime runs out
        lwm2m.expect(lambda m: m.get("event") == "update", 15)
        # the Lifetime written: at once an Update that carries it (lt=)
        n = len(lwm2m.seen)
        lwm2m.ask("write lw-board 1 0 1 30")
        assert lwm2m.after(n, lambda m: m.get("event") == "update", 5)["lifetime"] == "30"
        assert lwm2m.ask("read lw-board 1 0 1") == "30"
        # the Registration Update Trigger: an Update at once
        n = len(lwm2m.seen)
        lwm2m.ask("execute lw-board 1 0 8")
        lwm2m.after(n, lambda m: m.get("event") == "update", 5)
        # Ctrl-C: a De-register
        board.proc.send_signal(signal.SIGINT)
        assert lwm2m.expect(lambda m: m.get("event") == "unregistration", 5)["endpoint"] == \
            "lw-board"
        board.proc.wait(5)
    finally:
        out = board.stop()
    assert "lwm2m: registered as /rd/" in out
    assert "lwm2m: de-registered /rd/1 (2.02)" in out  # waited for its answer
    assert "board: LED on" in out and "board: LED off" in out


def test_a_restarted_server_gets_a_new_registration(lwm2m):
    with board_for(lwm2m, lifetime=10):
        lwm2m.expect(lambda m: m.get("event") == "registration", 10)
        port = lwm2m.port
        lwm2m.stop()
        fresh = LwM2MServer(port)  # knows nothing of the board
        try:
            # the next Update gets 4.04: the board registers again
            reg = fresh.expect(lambda m: m.get("event") == "registration", 20)
            assert reg["endpoint"] == "lw-board"
        finally:
            fresh.stop()


def test_reboot_restarts_the_board_which_registers_again(lwm2m):
    with board_for(lwm2m) as board:
        lwm2m.expect(lambda m: m.get("event") == "registration", 10)
        lwm2m.ask("execute lw-board 3 0 4")  # answered 2.04 before the board goes
        reg = lwm2m.expect(lambda m: m.get("event") == "registration", 15)
        assert reg["endpoint"] == "lw-board"
        assert lwm2m.ask("read lw-board 3 0 0") == "coap-board"
        deadline = time.monotonic() + 5  # the board logs the 2.01 a moment later
        while board.output().count("lwm2m: registered as /rd/") < 2:
            assert time.monotonic() < deadline, board.output()
            time.sleep(0.1)
        assert "lwm2m: rebooting (Execute on /3/0/4)" in board.output()


def test_observation_shaped_by_its_attributes(lwm2m):
    # The simulated temperature moves about 0.2 every 2 s: with st=100 (1.00)
    # it is pmax=3 that makes the first notification, 3 s after the start.
    # Only the first: lwm2m-node-lib observes through its own proxy (node-coap
    # 0.22's proxy middleware), which relays the board's notifications to its
    # agent but never the agent's ACK back to the board, so the first CON
    # notification stays unacknowledged and, RFC 7641 §4.5, the board retries
    # it and then drops the observer. The pace of notifications is tested
    # below with libcoap's client, which acknowledges them.
    with board_for(lwm2m):
        lwm2m.expect(lambda m: m.get("event") == "registration", 10)
        lwm2m.ask("attrs lw-board 3303 0 5700 pmin=1&pmax=3&st=100")
        links = bytes.fromhex(lwm2m.ask("get lw-board /3303/0/5700 link")["payload"])
        assert links == b"</3303/0/5700>;pmin=1;pmax=3;st=100.00"
        start = time.monotonic()
        first = lwm2m.ask("observe lw-board 3303 0 5700")
        assert 10 < float(first) < 40
        m = lwm2m.expect(lambda m: m.get("event") == "notification", 8)
        assert m["path"] == "3303/0/5700" and 10 < float(m["value"]) < 40
        assert 2.5 <= time.monotonic() - start <= 4.5


def test_pmax_paces_the_notifications_libcoap_sees(lwm2m):
    with board_for(lwm2m) as board:
        uri = "coap://127.0.0.1:%d/3303/0/5700" % board.port
        put = subprocess.run(["coap-client-notls", "-B", "3", "-m", "put",
                              uri + "?pmin=1&pmax=2&st=100"], capture_output=True, timeout=10)
        assert put.returncode == 0, put.stderr
        got = subprocess.run(["coap-client-notls", "-s", "7", "-m", "get", uri],
                             capture_output=True, text=True, timeout=20).stdout
        values = re.findall(r"\d+\.\d\d", got)
        # the first answer, then one every 2 s (st=1.00 is never reached)
        assert 3 <= len(values) <= 5, got


def test_non_notifications_reach_lwm2m_node_lib_paced_by_pmax(lwm2m):
    # "observe_con_every": 0 sends them NON: nothing for its proxy to lose
    with board_for(lwm2m, observe_con_every=0) as board:
        lwm2m.expect(lambda m: m.get("event") == "registration", 10)
        lwm2m.ask("attrs lw-board 3303 0 5700 pmin=1&pmax=2&st=100")
        lwm2m.ask("observe lw-board 3303 0 5700")
        times = []
        for _ in range(4):
            m = lwm2m.expect(lambda m: m.get("event") == "notification", 5)
            assert m["path"] == "3303/0/5700" and 10 < float(m["value"]) < 40
            times.append(time.monotonic())
        gaps = [b - a for a, b in zip(times, times[1:])]
        assert all(1.5 <= g <= 3.0 for g in gaps), (gaps, board.output())


def senml(payload, cbor):
    """{resolved name: value} of a SenML pack (RFC 8428 §4.5.1), decoded
    by json or cbor2 (keys -2 bn, 0 n, 2 v, 3 vs, 4 vb in CBOR, §6)."""
    import cbor2
    keys = {-2: "bn", 0: "n", 2: "v", 3: "vs", 4: "vb"}
    out, bn = {}, ""
    for r in cbor2.loads(payload) if cbor else json.loads(payload):
        r = {keys.get(k, k): v for k, v in r.items()}
        bn = r.get("bn", bn)
        for k in ("v", "vs", "vb"):
            if k in r:
                out[bn + r.get("n", "")] = r[k]
    return out


def test_senml_reads_asked_for_with_accept(lwm2m):
    # lwm2m-node-lib reads TLV and text only: SenML is asked for by aiocoap
    import asyncio

    import aiocoap

    async def get(port, path, accept):
        ctx = await aiocoap.Context.create_client_context()
        try:
            uri = "coap://127.0.0.1:%d/%s" % (port, path)
            msg = aiocoap.Message(code=aiocoap.GET, accept=accept, uri=uri)
            r = await asyncio.wait_for(ctx.request(msg).response, 10)
            if r.code == aiocoap.UNAUTHORIZED and r.opt.echo:
                # more than 3x the request to an address not yet proven
                # (RFC 9175 §2.4): asked again with the Echo value
                msg = aiocoap.Message(code=aiocoap.GET, accept=accept, uri=uri,
                                      echo=r.opt.echo)
                r = await asyncio.wait_for(ctx.request(msg).response, 10)
        finally:
            await ctx.shutdown()
        assert (str(r.code), r.opt.content_format) == ("2.05 Content", accept), (r, r.payload)
        return r.payload

    with board_for(lwm2m) as board:
        lwm2m.expect(lambda m: m.get("event") == "registration", 10)
        temp = struct.unpack(">d", tlv(lwm2m.ask("get lw-board /3303/0 tlv")["payload"])[5700])[0]
        for accept in (110, 112):
            got = senml(asyncio.run(get(board.port, "3303/0", accept)), accept == 112)
            assert set(got) == {"/3303/0/5700", "/3303/0/5701", "/3303/0/5601",
                                "/3303/0/5602"}, got
            assert got["/3303/0/5701"] == "Cel" and abs(got["/3303/0/5700"] - temp) < 2
            device = senml(asyncio.run(get(board.port, "3", accept)), accept == 112)
            assert (device["/3/0/0"], device["/3/0/1"], device["/3/0/11/0"]) == (
                "coap-board", "unix", 0)
            led = senml(asyncio.run(get(board.port, "3311/0/5850", accept)), accept == 112)
            assert led == {"/3311/0/5850": False}


def test_an_observed_instance_in_senml_paced_by_its_attributes(lwm2m):
    # libcoap's client observes /3303/0 as SenML JSON; the instance's
    # attributes (pmax 2 s, st 1.00, which the slow simulated temperature
    # never reaches) pace its notifications: the answer, then one every 2 s
    with board_for(lwm2m) as board:
        uri = "coap://127.0.0.1:%d/3303/0" % board.port
        put = subprocess.run(["coap-client-notls", "-B", "3", "-m", "put",
                              uri + "?pmin=1&pmax=2&st=100"], capture_output=True, timeout=10)
        assert put.returncode == 0, put.stderr
        got = subprocess.run(["coap-client-notls", "-s", "7", "-A", "110", "-m", "get", uri],
                             capture_output=True, text=True, timeout=20).stdout
        packs, i = [], got.find("[")  # it prints them one after the other
        while i >= 0:
            pack, i = json.JSONDecoder().raw_decode(got, i)
            packs.append(pack)
            i = got.find("[", i)
        assert 3 <= len(packs) <= 5, got
        for p in packs:
            assert p[0]["bn"] == "/3303/" and p[0]["n"] == "0/5700" and 10 < p[0]["v"] < 40


def test_firmware_update_object_updates_the_app(lwm2m, tmp_path):
    # LwM2M object 5 drives the app update (docs/updates.md): the server
    # writes the manifest's URI, the board fetches it over OSCORE from
    # aiocoap-fileserver (its update context) and holds it, State 2; the
    # server executes Update; the board swaps, restarts and registers again
    # with the new version in 3/0/3 and Update Result 1.
    from e2e.test_app_update import UPDATE, deploy, new_build, serving

    tree = deploy(tmp_path / "board")
    with serving(tmp_path) as (root, files):
        new_build(tmp_path, "0.2.0", root)
        config = dict(name="lw-board", update_oscore=UPDATE, observe_con_every=0, lwm2m={
            "server": "coap://127.0.0.1:%d" % lwm2m.port, "lifetime_s": 60})
        board = SimulatedBoard(config=config, tree=str(tree), start_timeout=20).start()
        try:
            lwm2m.expect(lambda m: m.get("event") == "registration", 10)
            assert lwm2m.ask("read lw-board 3 0 3") == "0.1.0"
            assert (lwm2m.ask("read lw-board 5 0 9"), lwm2m.ask("read lw-board 5 0 5")) == (
                "0", "0")  # pull; no update yet
            assert lwm2m.ask("observe lw-board 5 0 3") == "0"  # Idle
            lwm2m.ask("write lw-board 5 0 1 %s/manifest.json" % files)
            # Downloading (1), then Downloaded (2): every file in and verified
            m = lwm2m.expect(lambda m: m.get("event") == "notification"
                             and m["value"] == "2", 120)
            assert m["path"] == "5/0/3"
            assert lwm2m.ask("read lw-board 5 0 7") == "0.2.0"
            assert lwm2m.ask("read lw-board 5 0 5") == "0"
            assert (tree / "app.json").exists() is False  # nothing swapped yet
            lwm2m.ask("execute lw-board 5 0 2")
            reg = lwm2m.expect(lambda m: m.get("event") == "registration", 30)
            assert reg["endpoint"] == "lw-board"
            assert lwm2m.ask("read lw-board 3 0 3") == "0.2.0"
            assert lwm2m.ask("read lw-board 5 0 5") == "1"  # Firmware updated successfully
            assert lwm2m.ask("read lw-board 5 0 3") == "0"  # Idle
        finally:
            out = board.stop()
    assert "update: 0.2.0 downloaded; waiting to install" in out
    assert "over OSCORE" in out and "update: 0.2.0 confirmed" in out
    assert json.loads((tree / "app.json").read_text())["version"] == "0.2.0"


def test_firmware_update_refused_without_a_secure_fetch(lwm2m, tmp_path):
    # no update_oscore and no "update_plain": a URI written is refused with
    # Update Result 9 (unsupported protocol), and nothing is fetched
    from e2e.test_app_update import deploy

    tree = deploy(tmp_path / "board")
    config = dict(name="lw-board", lwm2m={"server": "coap://127.0.0.1:%d" % lwm2m.port})
    board = SimulatedBoard(config=config, tree=str(tree), start_timeout=20).start()
    try:
        lwm2m.expect(lambda m: m.get("event") == "registration", 10)
        lwm2m.ask("write lw-board 5 0 1 coap://127.0.0.1:9/manifest.json")
        assert lwm2m.ask("read lw-board 5 0 5") == "9"
        assert lwm2m.ask("read lw-board 5 0 3") == "0"
    finally:
        out = board.stop()
    assert "lwm2m: update refused: no update_oscore context" in out
