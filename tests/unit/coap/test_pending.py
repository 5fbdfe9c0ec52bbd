# Large answers held for a ping (coap/pending.py): a peer that answers the
# ping with RST gets the whole answer a round trip later; one that doesn't
# gets the first block within 3x; a victim of a spoofed request gets the
# ping and that block, together within 3x of the request.
import unittest

import coapmsg as m
from coap import aes
from heaplock import heap_lock, locked
from sample import RESOURCES, make_server

PEER = bytes([2, 0, 0x9C, 0x41, 10, 0, 0, 7]) + bytes(8)   # 10.0.0.7:40001
OTHER = bytes([2, 0, 0x9C, 0x42, 10, 0, 0, 7]) + bytes(8)  # the same host, port 40002
BIG = b"0123456789" * 200


def big(mid, token=b"t", mtype=m.CON, options=()):
    # a request like most clients send: with a Uri-Host, so a block fits 3x
    return m.get("big", mtype=mtype, mid=mid, token=token,
                 options=[(3, b"board.local")] + list(options))


class Sock:
    """One datagram per recvfrom, then EAGAIN; keeps what was sent."""

    def __init__(self):
        self.inbox = []
        self.sent = []

    def recvfrom(self, n):
        if not self.inbox:
            raise OSError(11)
        return self.inbox.pop(0)

    def sendto(self, buf, addr):
        self.sent.append((m.decode(bytes(buf)), len(buf), addr))


class Held(unittest.TestCase):
    def setUp(self):
        self.srv = make_server(held_requests=2)
        self.sock = Sock()

    def send(self, msg, peer=PEER):
        self.sock.inbox.append((msg, peer))
        self.srv.drain(self.sock, 10)
        out, self.sock.sent = self.sock.sent, []
        return out

    def timeout(self):
        p = self.srv.pending
        for i in range(p.size):
            p.due_at[i] = p.due_at[i] - p.timeout_ms
        self.srv.answer_held()
        out, self.sock.sent = self.sock.sent, []
        return out

    def test_a_peer_that_answers_the_ping_gets_the_whole_answer(self):
        msg = big(0x2001)
        out = self.send(msg)
        self.assertEqual(len(out), 1)  # the ping, nothing else
        ping = out[0][0]
        self.assertEqual((ping[0], ping[1], ping[3], out[0][1]), (m.CON, 0, b"", 4))
        out = self.send(m.encode(m.RST, 0, ping[2]))
        answer = out[0][0]
        self.assertEqual((answer[0], answer[1], answer[2], answer[3]), (m.ACK, 69, 0x2001, b"t"))
        self.assertEqual((answer[5], m.to_uint(m.option(answer[4], 23))), (BIG[:1024], 8 | 6))
        out = self.send(big(0x2002, options=[(23, m.uint(1 << 4 | 6))]))
        self.assertEqual(out[0][0][5], BIG[1024:])  # the rest in one more

    def test_no_rst_gets_the_first_block_within_3x(self):
        msg = big(0x2001)
        out = self.send(msg) + self.timeout()
        self.assertEqual([o[0][1] for o in out], [0, 69])
        self.assertTrue(sum(o[1] for o in out) <= 3 * len(msg), out)
        first = out[1][0]
        self.assertEqual((first[0], first[2]), (m.ACK, 0x2001))
        self.assertEqual(first[5], BIG[:len(first[5])])
        self.assertEqual(self.srv.pending.active, 0)

    def test_an_rst_from_another_port_or_mid_proves_nothing(self):
        out = self.send(big(0x2001))
        mid = out[0][0][2]
        self.assertEqual(self.send(m.encode(m.RST, 0, mid), OTHER), [])
        self.assertEqual(self.send(m.encode(m.RST, 0, (mid + 1) & 0xFFFF)), [])
        out = self.timeout()
        self.assertTrue(out[0][1] <= 3 * len(big(0x2001)) - 4)

    def test_a_brute_force_of_rsts_proves_nothing(self):
        # a spoofed large GET from a victim's address, then a forged RST for
        # every Message ID: past amplify.Guesses' limit, even the right one
        # proves nothing, and the victim gets only the ping and a small block
        msg = big(0x2001)
        self.srv.pending.timeout_ms = 600000  # however slow this port sends them
        mid = self.send(msg)[0][0][2]
        for k in range(1, 0x10000):
            self.send(m.encode(m.RST, 0, (mid + k) & 0xFFFF))
        self.assertEqual(self.send(m.encode(m.RST, 0, mid)), [])
        out = self.timeout()
        self.assertTrue(4 + out[0][1] <= 3 * len(msg), out)
        self.assertFalse(self.srv.proven.has(PEER))

    def test_a_retransmission_is_the_same_held_request(self):
        msg = big(0x2001)
        first = self.send(msg)[0][0]
        again = self.send(msg)[0][0]
        self.assertEqual(again[2], first[2])  # the same ping again
        self.assertEqual(self.srv.pending.active, 1)

    def test_full_slots_answer_in_small_blocks_at_once(self):
        for i in range(2):
            self.send(big(0x2001 + i))
        out = self.send(big(0x2010))
        self.assertEqual((out[0][0][0], out[0][0][1]), (m.ACK, 69))
        self.assertTrue(m.option(out[0][0][4], 23) is not None)

    def test_small_answers_and_non_requests_are_not_held(self):
        out = self.send(m.get("sensors/temp", mid=0x2001))
        self.assertEqual(out[0][0][1], 69)
        out = self.send(big(0x2002, mtype=m.NON))
        self.assertEqual((out[0][0][0], out[0][0][1]), (m.NON, 69))
        self.assertEqual(self.srv.pending.active, 0)

    def test_the_peer_stays_proven(self):
        out = self.send(big(0x2001))
        self.send(m.encode(m.RST, 0, out[0][0][2]))
        out = self.send(big(0x2002))
        self.assertEqual(len(out[0][0][5]), 1024)  # no ping this time


class NoAlloc(unittest.TestCase):
    def setUp(self):
        if heap_lock is None:
            raise unittest.SkipTest("heap_lock exists only in MicroPython")

    def test_holding_pinging_and_answering_allocate_nothing(self):
        from test_prepared import Queue
        srv = make_server(held_requests=2)

        def flow(peer, rst, q):
            for i in range(len(srv.proven.peer)):
                srv.proven.peer[i] = None  # unproven again
            srv.drain(q, 10)  # held: the ping
            if rst:
                srv.pending.on_rst(srv.pending.mid[0], peer)
            else:
                srv.pending.due_at[0] = srv.pending.due_at[0] - 1000
            srv.answer_held()
            return srv.pending.active

        for peer in (PEER, ("10.0.0.7", 40001)):
            for rst in (True, False):
                flow(peer, rst, Queue([(big(0x3001), peer)], room=4))  # warm-up
                q = Queue([(big(0x3001), peer)], room=4)
                with locked(self, "hold, ping, answer"):
                    got = flow(peer, rst, q)
                self.assertEqual(got, 0, (got, peer, rst))
