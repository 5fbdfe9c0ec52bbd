"""Soak: SOAK_REQUESTS CON GETs of /sensors/temp (default 20 000; CI runs 1 000 000)
kept 64 outstanding from one non-blocking socket, every response checked; the
board's free heap must be the same before and after. The numbers are printed in
the terminal summary, never asserted."""

import os
import re
import select
import socket
import time

import coapmsg
from rawcoap import Peer
from support import NUMBER_BYTES

REQUESTS = int(os.environ.get("SOAK_REQUESTS", "20000"))
WINDOW = 64
QUIET_S = 10  # no answer at all for this long: the board is gone
# ACK 2.05, MID, a 4-byte token, Content-Format 0 (option 12, empty), then the reading
FAST = re.compile(rb"\x64\x45(..)(....)\xc0\xff" + NUMBER_BYTES.pattern, re.DOTALL)


def check_slow(data, want_mid, want_token):
    """The same checks for an answer in another (still valid) encoding."""
    mtype, code, mid, token, opts, payload = coapmsg.decode(data)
    assert (mtype, code, mid, token) == (2, 69, want_mid, want_token), data.hex()
    assert coapmsg.to_uint(coapmsg.option(opts, 12) or b"") == 0, data.hex()
    assert NUMBER_BYTES.fullmatch(payload), data.hex()


def soak(host, port, total):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    sock.connect((host, port))
    sock.setblocking(False)
    template = bytearray(coapmsg.get("sensors/temp", token=b"\0\0\0\0"))
    outstanding = {}  # MID -> token
    sent = done = 0
    try:
        while done < total:
            while len(outstanding) < WINDOW and sent < total:
                mid = sent & 0xFFFF
                token = sent.to_bytes(4, "big")
                template[2:4] = mid.to_bytes(2, "big")
                template[4:8] = token
                sock.send(template)
                outstanding[mid] = token
                sent += 1
            assert select.select([sock], [], [], QUIET_S)[0], (
                "no answer for %d s with %d outstanding after %d done"
                % (QUIET_S, len(outstanding), done))
            while True:
                try:
                    data = sock.recv(2048)
                except BlockingIOError:
                    break
                m = FAST.fullmatch(data)
                mid = int.from_bytes(data[2:4], "big")
                assert mid in outstanding, "answer to no outstanding request: %s" % data.hex()
                token = outstanding.pop(mid)
                if m is None or m.group(2) != token:
                    check_slow(data, mid, token)
                done += 1
    finally:
        sock.close()
    return done


def test_soak(board, summary):
    with Peer(board.host, board.port) as peer:
        # The same traffic first: what its first datagrams allocate once (the
        # prepared answer's first use, an interned name) is not a leak
        soak(board.host, board.port, 2000)
        peer.free_heap()
        heap_before = peer.free_heap()
        started = time.monotonic()
        done = soak(board.host, board.port, REQUESTS)
        elapsed = time.monotonic() - started
        heap_after = peer.free_heap()
    summary("soak: %d requests (%d outstanding) in %.1f s, %.0f req/s; free heap %d before, "
            "%d after" % (done, WINDOW, elapsed, done / elapsed, heap_before, heap_after))
    assert done == REQUESTS
    assert heap_after == heap_before
