"""Datagrams a real client exchanges with the simulated board to read a resource.

Each client runs against a counting relay on 127.0.0.1 that forwards to the
board from one socket per client port, so the board sees a fresh port for each
run, as it would the client's own. Prints one line per (client, path):
datagrams out (client to board), in, and the payload bytes the client printed.

    .venv/bin/python bench/count_datagrams.py [config.json overrides as JSON]
"""

import json
import os
import select
import socket
import subprocess
import sys
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from boardsim import SimulatedBoard  # noqa: E402

VENV = os.path.join(ROOT, ".venv", "bin")
NODE_GET = os.path.join(ROOT, "tests", "interop", "nodecoap_get.js")
NODE_MODULES = os.path.join(ROOT, "tools", "node", "node_modules")
PATHS = (".well-known/core", "board", "board/log")
COAPTHON_GET = """
import sys
from coapthon.client.helperclient import HelperClient
c = HelperClient(server=("127.0.0.1", int(sys.argv[1])))
try:
    r = c.get(sys.argv[2], timeout=20)
    sys.stdout.write(r.payload if r is not None and r.payload else "")
finally:
    c.stop()
"""


class Relay:
    """Forwards datagrams between clients and the board; counts them."""

    def __init__(self, board_port):
        self.board = ("127.0.0.1", board_port)
        self.front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.front.bind(("127.0.0.1", 0))
        self.port = self.front.getsockname()[1]
        self.backs = {}  # client address -> socket towards the board
        self.up = self.down = 0
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def reset(self):
        self.up = self.down = 0

    def _run(self):
        while not self.stop:
            socks = [self.front] + list(self.backs.values())
            for s in select.select(socks, [], [], 0.1)[0]:
                data, addr = s.recvfrom(4096)
                if s is self.front:
                    back = self.backs.get(addr)
                    if back is None:
                        back = self.backs[addr] = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    self.up += 1
                    back.sendto(data, self.board)
                else:
                    client = next(a for a, b in self.backs.items() if b is s)
                    self.down += 1
                    self.front.sendto(data, client)


def run_client(peer, port, path):
    uri = "coap://127.0.0.1:%d/%s" % (port, path)
    if peer == "libcoap":
        argv = ["coap-client-notls", "-B", "30", "-m", "get", uri]
    elif peer == "aiocoap":
        argv = [os.path.join(VENV, "aiocoap-client"), uri]
    elif peer == "node-coap":
        argv = ["node", NODE_GET, uri]
    else:
        argv = [os.path.join(VENV, "python"), "-c", COAPTHON_GET, str(port), path]
    proc = subprocess.run(argv, capture_output=True, timeout=90,
                          env=dict(os.environ, NODE_PATH=NODE_MODULES))
    return proc.returncode, len(proc.stdout.rstrip(b"\n"))


def fill_log(port):
    """Fill /board/log's ring: every LED change logs a line."""
    sys.path.insert(0, os.path.join(ROOT, "tests", "unit"))
    import coapmsg as m
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        for i in range(200):
            s.sendto(m.get("actuators/led", code=3, mid=i,
                               payload=b"on" if i % 2 else b"off"), ("127.0.0.1", port))
            s.recv(2048)


def aiocoap_after_observing(relay):
    """One aiocoap context (one port): observe /sensors/temp until the first
    notification, then read each path; the datagrams of each read."""
    import asyncio

    from aiocoap import GET, Context, Message

    async def run():
        ctx = await Context.create_client_context()
        base = "coap://127.0.0.1:%d/" % relay.port
        obs = ctx.request(Message(code=GET, uri=base + "sensors/temp", observe=0))
        await obs.response
        async for _ in obs.observation:
            break
        out = []
        for path in PATHS:
            relay.reset()
            r = await ctx.request(Message(code=GET, uri=base + path)).response
            out.append((path, relay.up, relay.down, len(r.payload)))
        obs.observation.cancel()
        await ctx.shutdown()
        return out
    return asyncio.run(run())


def main():
    config = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    with SimulatedBoard(config=config) as board:
        fill_log(board.port)
        relay = Relay(board.port)
        print("%-10s %-18s %4s %4s %6s" % ("client", "path", "out", "in", "bytes"))
        for peer in ("libcoap", "aiocoap", "node-coap", "CoAPthon3"):
            for path in PATHS:
                relay.reset()
                rc, n = run_client(peer, relay.port, path)
                print("%-10s %-18s %4d %4d %6d%s" % (peer, path, relay.up, relay.down, n,
                                                     "" if rc == 0 else "  (exit %d)" % rc))
        for path, up, down, n in aiocoap_after_observing(relay):
            print("%-10s %-18s %4d %4d %6d  (one context, after observing)"
                  % ("aiocoap", path, up, down, n))
        relay.stop = True


if __name__ == "__main__":
    main()
