# What OSCORE costs per request, on the MicroPython unix port:
#
#     .venv/bin/micropython -X heapsize=8m bench/oscore.py [requests]   (make bench-oscore)
#     valgrind --tool=callgrind .venv/bin/micropython bench/oscore.py only ROW N
#         (ROW: plain, oscore or forgery: 1 000 requests made, the first N
#         answered; run N=250 and 750, divide the difference in instructions
#         by 500: a figure the machine's load can't move)
#
# The same GET of a 5-byte sensor reading through Server.handle, unprotected
# and protected (RFC 8613, AES-CCM-16-64-128 over cryptolib), in alternating
# rounds of one run. Protected requests are made beforehand, each with its own
# Partial IV, so only the board's work is counted: verify, decrypt, parse,
# handle, encrypt. No socket: this is the CPU per request, not throughput.
# The last row is what a forgery costs to refuse: 1 100 bytes of random
# "ciphertext" under the client's kid, each with a Partial IV never seen.
import gc
import os
import sys
import time

_here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
sys.path.insert(0, _here + "/../tests/unit")
sys.path.insert(0, _here + "/../lib")

import coapmsg as m  # noqa: E402
from coap import Resource, Server  # noqa: E402
from coap.oscorectx import Context  # noqa: E402
from oscoreclient import BOARD_ID, CLIENT_ID, SALT, SECRET, Client  # noqa: E402

ROUNDS = 10


def temp(req, resp):
    resp.payload_fixed(2150, 2)


def table():
    return (Resource("sensors/temp", get=temp, ct=0),)


def run(srv, msgs):
    t0 = time.ticks_us()
    for msg in msgs:
        srv.handle(msg, len(msg))
    return time.ticks_diff(time.ticks_us(), t0)


def forgery(piv, i):
    # piv: ahead of every request the client made (the window can't refuse it)
    flags = bytes([0x08 | 3, piv >> 16, (piv >> 8) & 0xFF, piv & 0xFF])  # kid, n = 3
    return m.encode(m.CON, 2, i & 0xFFFF, b"", [(9, flags + CLIENT_ID)], os.urandom(1100))


def main(n):
    plain_srv = Server(table(), log=None)
    ctx = Context(SECRET, SALT, BOARD_ID, CLIENT_ID)
    osc_srv = Server(table(), log=None, oscore=[ctx])
    client = Client()
    plain = [m.get("sensors/temp", mid=i & 0xFFFF) for i in range(n)]
    plain_us = 0
    osc_us = 0
    bad_us = 0
    protected = None
    for _ in range(ROUNDS):
        protected = None
        gc.collect()
        protected = [None] * n
        for i in range(n):
            protected[i] = client.protect(plain[i])
        gc.collect()
        plain_us += run(plain_srv, plain)
        forged = [forgery(client.ssn + 64 + i, i) for i in range(n)]
        gc.collect()
        bad_us += run(osc_srv, forged)
        assert osc_srv.response.buf[1] == 128  # 4.00, refused
        osc_us += run(osc_srv, protected)
        assert osc_srv.response.buf[1] == 68 and plain_srv.response.buf[1] == 69
    total = n * ROUNDS
    print("| request | us per request | ratio |")
    print("|---|---:|---:|")
    print("| GET /sensors/temp, plain | %.1f | 1.00 |" % (plain_us / total))
    print("| GET /sensors/temp, OSCORE | %.1f | %.2f |" % (osc_us / total, osc_us / plain_us))
    print("| 1 100-byte forgery, OSCORE, refused | %.1f | %.2f |" % (bad_us / total,
                                                                  bad_us / plain_us))
    print("(%d requests each, %d alternating rounds, MicroPython %s, one process)"
          % (total, ROUNDS, sys.implementation.version[:3]))


def only(row, n):
    ctx = Context(SECRET, SALT, BOARD_ID, CLIENT_ID)
    srv = Server(table(), log=None, oscore=None if row == "plain" else [ctx])
    client = Client()
    msgs = [m.get("sensors/temp", mid=i) for i in range(1000)]
    if row == "oscore":
        msgs = [client.protect(msg) for msg in msgs]
    elif row == "forgery":
        msgs = [forgery(64 + i, i) for i in range(1000)]
    gc.collect()
    for i in range(n):
        srv.handle(msgs[i], len(msgs[i]))


if len(sys.argv) > 3 and sys.argv[1] == "only":
    only(sys.argv[2], int(sys.argv[3]))
else:
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
