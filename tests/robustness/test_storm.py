"""A storm of random datagrams at the MicroPython board: no crash, no hang, every answer
a well-formed CoAP message, and still serving afterwards.

STORM_COUNT datagrams (default 20 000), within STORM_SECONDS (default 120): the
storm stops early rather than run long. A ping every BURST datagrams must be answered,
so a board that hangs fails at once and the board's socket buffer never overflows.
"""

import os
import random
import time

import coapmsg
from rawcoap import Peer, well_formed

COUNT = int(os.environ.get("STORM_COUNT", "20000"))
SECONDS = float(os.environ.get("STORM_SECONDS", "120"))
BURST = 32  # small enough that the board's socket buffer never drops the ping
TEMPLATES = [  # valid requests to mutate; no Observe, so no observation outlives the storm
    coapmsg.get("sensors/temp", token=b"\x01\x02"),
    coapmsg.get("sensors/temp", mtype=1, options=[(17, b"\x32")]),
    coapmsg.get("actuators/led", code=3, payload=b"on", options=[(12, b"")]),
    coapmsg.get(".well-known/core", query=["rt=core.s"]),
    coapmsg.get(".well-known/core", options=[(23, b"\x10")]),
    coapmsg.get("board", token=b"12345678", options=[(2049, b"x" * 20), (65000, b"y" * 300)]),
    b"\x40\x00\x00\x01",
]


def storm(rng, count):
    """count random datagrams: raw bytes, random headers, mutated valid requests."""
    for _ in range(count):
        kind = rng.random()
        if kind < 0.15:
            yield rng.randbytes(rng.randint(0, 40))
        elif kind < 0.35:
            yield bytes([0x40 | rng.randrange(64), rng.randrange(256)]) + rng.randbytes(
                rng.randint(0, 60))
        elif kind < 0.95:
            data = bytearray(rng.choice(TEMPLATES))
            for _ in range(rng.randint(1, 4)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            if rng.random() < 0.3:
                data = data[:rng.randint(0, len(data))]
            elif rng.random() < 0.2:
                data += rng.randbytes(rng.randint(1, 50))
            yield bytes(data)
        else:
            yield bytes([0x40 | rng.randrange(64)]) + rng.randbytes(rng.randint(1000, 1400))


def test_random_storm_leaves_the_board_serving(board, summary):
    rng = random.Random(20140601)
    sent = answers = 0
    started = time.monotonic()
    with Peer(board.host, board.port) as peer:
        for data in storm(rng, COUNT):
            peer.send(data)
            sent += 1
            if sent % BURST == 0 or sent == COUNT:
                replies = peer.sync(timeout=10)
                bad = [r.hex() for r in replies if not well_formed(r)]
                assert not bad, "malformed answers: %s" % bad
                answers += len(replies)
                assert board.proc.poll() is None, board.output()
                if time.monotonic() - started > SECONDS:
                    break
        elapsed = time.monotonic() - started
        mtype, code, mid, token, opts, payload = peer.request("sensors/temp")
    assert (mtype, code, mid, token) == (2, 69, 0x4242, b"\x5a")
    summary("storm: %d datagrams in %.1f s (%.0f/s), %d answers; board still serving"
            % (sent, elapsed, sent / elapsed, answers))
