"""node-coap (npm `coap`, pinned in tools/node, the library under Node-RED's CoAP
node) against the simulated board: GET, PUT, Block2, IPv6, Observe ended by RST,
and clients that close() without deregistering (#14)."""

import json
import os
import subprocess
import time

import pytest

from boardsim import ROOT, SimulatedBoard
from support import NUMBER

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nodecoap_client.js")
NODE_PATH = os.path.join(ROOT, "tools", "node", "node_modules")


def node(*args, timeout=30):
    out = subprocess.run(["node", SCRIPT, *map(str, args)], capture_output=True, timeout=timeout,
                         env=dict(os.environ, NODE_PATH=NODE_PATH))
    assert out.returncode == 0, out
    return json.loads(out.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def board():
    with SimulatedBoard(config={"observe_threshold": 1, "observe_con_every": 2}) as b:
        yield b


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_get(board, host):
    r = node("get", host, board.port, "sensors/temp")
    assert r["code"] == "2.05" and NUMBER.fullmatch(r["payload"]), r


def test_put(board):
    assert node("put", "::1", board.port, "actuators/led", "on")["code"] == "2.04"
    assert node("get", "127.0.0.1", board.port, "actuators/led")["payload"] == "on"


def test_block2_in_64_byte_blocks(board):
    r = node("get", "127.0.0.1", board.port, "board/log", 2)  # SZX 2: 64 bytes
    # the log ring holds the firmware's log lines, in order, as the console shows them
    assert r["code"] == "2.05" and len(r["payload"]) > 2 * 64  # really more than one block
    assert r["payload"].startswith("coap: serving on") and r["payload"] in board.output()


def test_observe_then_rst_ends_it(board):
    p = subprocess.Popen(["node", SCRIPT, "observe", "127.0.0.1", str(board.port),
                          "sensors/temp", "3", "8000"], stdout=subprocess.PIPE,
                         env=dict(os.environ, NODE_PATH=NODE_PATH))
    try:
        r = json.loads(p.stdout.readline())  # three values, then close(): RST follows
        assert r["code"] == "2.05" and len(set(r["values"])) >= 2, r
        deadline = time.monotonic() + 8
        n = board.observers()
        while n and time.monotonic() < deadline:
            time.sleep(0.2)
            n = board.observers()
        assert n == 0
    finally:
        p.kill()
        p.wait()


def test_clients_that_close_and_vanish_do_not_lock_out_a_new_one():
    # default observe_con_every: only every 20th notification would find them gone
    with SimulatedBoard() as b:
        for _ in range(4):
            node("vanish", "127.0.0.1", b.port, "sensors/temp", 1, 0)
        assert b.observers() == 4
        r = node("observe", "::1", b.port, "sensors/temp", 2, 0, timeout=30)
        assert r["code"] == "2.05" and len(r["values"]) == 2
