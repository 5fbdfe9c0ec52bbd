"""Raw CoAP over UDP for the robustness tests: datagrams out, answers in, pings as sentinels."""

import json
import select
import socket
import time

import coapmsg

SENTINEL_MIDS = 0xF000  # pings use MIDs from here up; test datagrams stay below


def well_formed(data):
    """True when data is a CoAP message in canonical form (RFC 7252 §3)."""
    if len(data) < 4 or data[0] >> 6 != 1 or data[0] & 15 > 8:
        return False
    try:
        fields = coapmsg.decode(data)
    except IndexError:
        return False
    return coapmsg.encode(*fields) == data


class Peer:
    """A connected UDP socket to the board: only the board's datagrams come back."""

    def __init__(self, host, port):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.sock.connect((host, port))
        self._ping = 0

    def send(self, data):
        self.sock.send(data)

    def recv(self, timeout):
        """The next datagram, or None when nothing arrives within timeout seconds."""
        if not select.select([self.sock], [], [], timeout)[0]:
            return None
        return self.sock.recv(70000)

    def sync(self, timeout=5.0):
        """Ping the board; the datagrams that arrived before its RST (they answer what
        was sent before the ping, since one socket answers in order)."""
        self._ping = (self._ping + 1) & 0x0FFF
        mid = SENTINEL_MIDS + self._ping
        ping = bytes([0x40, 0, mid >> 8, mid & 0xFF])
        rst = bytes([0x70, 0, mid >> 8, mid & 0xFF])
        self.send(ping)
        before = []
        deadline = time.monotonic() + timeout
        while True:
            data = self.recv(max(0.0, deadline - time.monotonic()))
            assert data is not None, "the board did not answer a ping within %ss" % timeout
            if data == rst:
                return before
            before.append(data)

    def request(self, path, mid=0x4242, token=b"\x5a", **kw):
        """Send a CON request and return the decoded answer (asserting there is one)."""
        self.send(coapmsg.get(path, mid=mid, token=token, **kw))
        answers = self.sync()
        if len(answers) == 1 and answers[0][0] == 0x40 and answers[0][1] == 0:
            # a ping: the board holds a large answer for its RST (coap/pending.py)
            self.send(coapmsg.encode(coapmsg.RST, 0, coapmsg.decode(answers[0])[2]))
            answers = self.sync()
        assert len(answers) == 1, "expected one answer to %s, got %r" % (path, answers)
        return coapmsg.decode(answers[0])

    def free_heap(self, pings=64, quiet_s=0.3):
        """/board's free heap, fresh: the board measures it when a quiet tick
        (every 100 ms) follows 64 datagrams or more since its last collection,
        so this many pings, then a few ticks of quiet, first. The read with an
        Echo goes the full path: a new read of the figures."""
        for _ in range(pings):
            self.sync()
        time.sleep(quiet_s)
        # In one datagram: with the Echo the board offers (RFC 9175 §2.4, 3x rule)
        mtype, code, mid, token, opts, payload = self.request("board", token=b"12345678")
        echo = coapmsg.option(opts, 252)
        if echo is not None:
            mtype, code, mid, token, opts, payload = self.request(
                "board", token=b"12345678", options=[(252, echo)])
        assert code == 69, "GET /board answered %d.%02d" % (code >> 5, code & 31)
        assert coapmsg.option(opts, 23) is None, "GET /board with an Echo came block-wise"
        return json.loads(payload)["free_heap"]

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
