# Server.peek_receive, for lwIP's sockets: peek at the first bytes with the
# sender's address, then take the datagram off the queue at its own length.
import unittest

import coapmsg as m
from sample import make_server

PEER = ("10.77.0.1", 40000)
_EAGAIN = 11


class LwipSocket:
    """The datagram socket of MicroPython's extmod/modlwip.c (v1.28.0):
    recvfrom(n, flags) copies at most n bytes of the first datagram and, with
    MSG_PEEK (1), leaves it queued; readinto(buf, n) is a stream read, which
    goes on into the next datagrams until it has n bytes or none is left, and
    stops at an empty one. A datagram longer than what is read loses its tail."""

    def __init__(self, *datagrams):
        self.queue = list(datagrams)
        self.sent = []
        self.reads = []

    def recvfrom(self, n, flags=0):
        if not self.queue:
            raise OSError(_EAGAIN)
        data, addr = self.queue[0] if flags & 1 else self.queue.pop(0)
        self.reads.append(("recvfrom", n, flags))
        return data[:n], addr

    def readinto(self, buf, n):
        self.reads.append(("readinto", n))
        done = 0
        while done < n and self.queue:
            data = self.queue.pop(0)[0]
            k = min(len(data), n - done)
            buf[done:done + k] = data[:k]
            done += k
            if not data:
                break
        return done

    def sendto(self, buf, addr):
        self.sent.append((m.decode(bytes(buf)), addr))


def server(peek=128):
    srv = make_server()
    srv.peek_receive(peek)
    return srv


class PeekReceive(unittest.TestCase):
    def test_two_queued_requests_get_two_answers(self):
        sock = LwipSocket((m.get("actuators/led", mid=1), PEER),
                          (m.get("sensors/temp", mid=2), PEER))
        self.assertEqual(server().drain(sock, 10), 2)
        self.assertEqual([(d[1], d[2]) for d, _ in sock.sent], [(69, 1), (69, 2)])
        self.assertEqual([a for _, a in sock.sent], [PEER, PEER])
        self.assertEqual(sock.queue, [])

    def test_peek_then_read_exactly_the_datagram(self):
        msg = m.get("actuators/led")
        sock = LwipSocket((msg, PEER))
        server(64).drain(sock, 10)
        self.assertEqual(sock.reads[:2], [("recvfrom", 64, 1), ("readinto", len(msg))])

    def test_a_request_longer_than_the_peek_is_read_whole(self):
        put = m.get("actuators/led", code=3, mid=7, payload=b"on",
                    options=[(12, b"")] + [(2048, b"x" * 40)] * 3)  # elective options
        self.assertTrue(len(put) > 128)
        sock = LwipSocket((put, PEER))
        server().drain(sock, 10)
        self.assertEqual(sock.sent[0][0][1:3], (68, 7))  # 2.04 Changed
        self.assertEqual(sock.reads, [("recvfrom", 128, 1), ("recvfrom", 1153, 0)])

    def test_an_oversized_request_is_4_13(self):
        sock = LwipSocket((m.get("actuators/led", code=3, payload=b"x" * 1400), PEER))
        server().drain(sock, 10)
        self.assertEqual(sock.sent[0][0][1], 141)  # 4.13 Request Entity Too Large

    def test_an_empty_datagram_is_taken_off_the_queue(self):
        sock = LwipSocket((b"", PEER), (m.get("actuators/led", mid=3), PEER))
        self.assertEqual(server().drain(sock, 10), 2)
        self.assertEqual([d[2] for d, _ in sock.sent], [3])
