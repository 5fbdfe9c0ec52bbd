"""A spoofed Observe registration against a brute force of forged ACKs (#21, finding 1).

The attacker registers on /sensors/temp with the victim's address (127.0.0.5 on
loopback, forged through a raw socket: needs root, as CI has), then sends an
empty ACK from that address for every Message ID, at ~20 k/s, the right one
(read off the victim's socket, as a lucky attacker would have it) last. The
victim must get at most 3x the registration in all, nothing after the attack,
and nothing after the board restarts from its saved observers.

    .venv/bin/python -m pytest -s tests/robustness/test_spoofed_observe.py
"""

import os
import select
import socket
import struct
import tempfile
import time

import pytest

import coapmsg as m
from boardsim import SimulatedBoard, ping

VICTIM = "127.0.0.5"
RATE = 20000  # forged ACKs a second


class Forger:
    """Sends UDP datagrams with any IPv4 source, through a raw socket."""

    def __init__(self, src, dst):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        self.src, self.dst = src, dst

    def send(self, payload):
        udp = struct.pack("!HHHH", self.src[1], self.dst[1], 8 + len(payload), 0) + payload
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, socket.IPPROTO_UDP,
                         0, socket.inet_aton(self.src[0]), socket.inet_aton(self.dst[0]))
        self.sock.sendto(ip + udp, (self.dst[0], 0))

    def close(self):
        self.sock.close()


def received(sock, wait, most=10.0):
    """Every datagram sock gets until `wait` seconds pass without one (at
    most `most` seconds: a stream is cut off, not waited out)."""
    got = []
    end = time.monotonic() + most
    while time.monotonic() < end and select.select([sock], [], [], wait)[0]:
        got.append(sock.recv(2048))
    return got


def notifications(got):
    return [m.decode(d) for d in got if m.decode(d)[0] in (m.CON, m.NON)]


@pytest.fixture
def victim():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((VICTIM, 0))  # a real address that never answers: it only counts
    yield s
    s.close()


def test_forged_acks_verify_no_spoofed_registration(victim):
    if os.geteuid() != 0:
        pytest.skip("forging a source address needs a raw socket (root)")
    with tempfile.TemporaryDirectory() as state:  # observers.bin, across the restart
        board = SimulatedBoard(cwd=state).start()
        try:
            forger = Forger(victim.getsockname(), ("127.0.0.1", board.port))
            reg = m.get("sensors/temp", token=b"", options=[(6, b"")])
            forger.send(reg)
            # an unproven peer's registration: an empty ACK, then the answer as
            # a CON (RFC 7252 §5.2.2) whose ACK would verify the address
            got = received(victim, 4.0)
            assert got and m.decode(got[0])[:2] == (m.ACK, 0), got
            cons = [n for n in notifications(got) if n[0] == m.CON]
            assert cons, "no CON notification to verify with: %r" % got
            start = time.monotonic()
            for mid in range(65536):
                forger.send(m.encode(m.ACK, 0, (cons[-1][2] + 1 + mid) & 0xFFFF))
                if mid % 64 == 63:
                    time.sleep(max(0.0, start + mid / RATE - time.monotonic()))
            got += received(victim, 0.2)
            last = notifications(got)[-1][2]  # the MID pending now: a lucky guess
            for _ in range(3):
                forger.send(m.encode(m.ACK, 0, last))
            print("\n65 536 forged ACKs in %.1f s" % (time.monotonic() - start))
            got += received(victim, 6.0)
            total = sum(len(d) for d in got)
            print("victim: %d datagrams, %d bytes for a %d-byte registration (%.2fx)"
                  % (len(got), total, len(reg), total / len(reg)))
            assert total <= 3 * len(reg)
            assert ping(board.host, board.port)  # still serving
            time.sleep(max(0.0, 11.0 - (time.monotonic() - start)))  # past the write floor
        finally:
            board.stop()
        board = SimulatedBoard(cwd=state).start()  # the table as it was saved
        try:
            after = received(victim, 4.0)
            print("victim after the restart: %d datagrams" % len(after))
            assert after == []
        finally:
            board.stop()
