# coap.later: separate responses (RFC 7252 §5.2.2): an empty ACK at once,
# the answer later as a CON of its own, retransmitted until acknowledged.
import unittest

import coapmsg as m
from coap import Resource, Server
from heaplock import no_alloc

PEER = bytes([2, 0, 0x9C, 0x41, 10, 0, 0, 7]) + bytes(8)


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
        self.sent.append(m.decode(bytes(buf)))


class Slow:
    """A reading that takes time: GET defers, the board answers later."""

    def __init__(self):
        self.slots = [-1, -1, -1]
        self.n = 0
        self.runs = 0

    def get(self, req, resp):
        self.runs += 1
        slot = resp.defer()
        if slot >= 0:
            self.slots[self.n] = slot
            self.n += 1

    def reading(self, req, resp):
        resp.payload(b"21.5" if not req.query_is(b"unit", b"F") else b"70.7")

    def large(self, req, resp):
        resp.payload(b"x" * 300)

    def medium(self, req, resp):
        resp.payload(b"x" * 200)


def now_get(req, resp):
    resp.payload(b"now")


def wrong(req, resp):
    resp.defer()


class Separate(unittest.TestCase):
    def setUp(self):
        self.slow = Slow()
        self.srv = Server((Resource("slow", get=self.slow.get, put=self.slow.get, separate=True),
                           Resource("now", get=now_get)),
                          log=None, amplification_limit=False, separate=2)
        self.sock = Sock()

    def send(self, msg):
        self.sock.inbox.append((msg, PEER))
        self.srv.drain(self.sock, 10)
        out, self.sock.sent = self.sock.sent, []
        return out

    def later(self, i=0, handler=None):
        self.srv.answer_later(self.slow.slots[i], handler or self.slow.reading)
        out, self.sock.sent = self.sock.sent, []
        return out

    def tick_after(self, ms):
        later = self.srv.later
        for i in range(later.size):
            later.due_at[i] -= ms
        self.srv.on_tick()
        out, self.sock.sent = self.sock.sent, []
        return out

    def test_an_empty_ack_at_once_then_the_answer_as_a_con(self):  # §5.2.2
        out = self.send(m.get("slow", mid=0x4242, token=b"tk", query=("unit=F",)))
        self.assertEqual(out, [(m.ACK, 0, 0x4242, b"", [], b"")])
        out = self.later()
        t, code, mid, token, opts, payload = out[0]
        self.assertEqual((t, code, token, payload), (m.CON, 69, b"tk", b"70.7"))
        self.assertNotEqual(mid, 0x4242)
        self.assertEqual(self.slow.runs, 1)
        self.assertEqual(self.send(m.encode(m.ACK, 0, mid)), [])
        self.assertEqual(self.srv.later.active, 0)

    def test_a_request_waiting_for_its_answer_is_acknowledged_again(self):  # §4.5
        self.send(m.get("slow", mid=0x4242))
        out = self.send(m.get("slow", mid=0x4242))
        self.assertEqual(out, [(m.ACK, 0, 0x4242, b"", [], b"")])
        self.assertEqual((self.slow.runs, self.srv.later.active), (1, 1))
        mid = self.later()[0][2]
        self.assertEqual(self.send(m.get("slow", mid=0x4242)), [(m.ACK, 0, 0x4242, b"", [], b"")])
        self.send(m.encode(m.ACK, 0, mid))
        self.assertEqual(self.send(m.get("slow", mid=0x4242))[0][1], 0)  # handled anew
        self.assertEqual(self.slow.runs, 2)

    def test_the_con_answer_is_sent_again_until_acknowledged(self):  # §4.2
        self.send(m.get("slow", mid=0x4242))
        first = self.later()
        tries = [first]
        for _ in range(6):
            tries.append(self.tick_after(60000))
        self.assertEqual(tries[:5], [first] * 5)  # 1 + MAX_RETRANSMIT (4)
        self.assertEqual(tries[5:], [[], []])
        self.assertEqual(self.srv.later.active, 0)

    def test_an_rst_ends_the_wait(self):
        self.send(m.get("slow", mid=0x4242))
        mid = self.later()[0][2]
        self.send(m.encode(m.RST, 0, mid))
        self.assertEqual(self.srv.later.active, 0)

    def test_an_ack_of_another_mid_ends_nothing(self):
        self.send(m.get("slow", mid=0x4242))
        mid = self.later()[0][2]
        self.send(m.encode(m.ACK, 0, (mid + 1) & 0xFFFF))
        self.assertEqual(self.srv.later.active, 1)

    def test_a_non_request_gets_nothing_now_and_a_non_answer(self):  # §5.2.3
        self.assertEqual(self.send(m.get("slow", mtype=m.NON, mid=0x4242)), [])
        out = self.later()
        self.assertEqual((out[0][0], out[0][1], out[0][5]), (m.NON, 69, b"21.5"))
        self.assertEqual(self.srv.later.active, 0)

    def test_a_full_table_is_5_03_with_max_age(self):  # §5.9.3.4
        self.send(m.get("slow", mid=1))
        self.send(m.get("slow", mid=2))
        out = self.send(m.get("slow", mid=3))
        self.assertEqual((out[0][0], out[0][1]), (m.ACK, 163))
        self.assertTrue(m.to_uint(m.option(out[0][4], 14)) >= 1)

    def test_a_request_nobody_answers_gets_5_03_in_the_end(self):
        self.send(m.get("slow", mid=0x4242, token=b"q"))
        out = self.tick_after(60000)
        self.assertEqual((out[0][0], out[0][1], out[0][3]), (m.CON, 163, b"q"))

    def test_an_answer_larger_than_a_slot_is_5_00(self):
        self.send(m.get("slow", mid=0x4242))
        out = self.later(handler=self.slow.large)
        self.assertEqual((out[0][0], out[0][1]), (m.CON, 160))

    def test_answer_later_of_a_free_slot_is_refused(self):
        with self.assertRaises(ValueError):
            self.srv.answer_later(0, self.slow.reading)

    def test_defer_without_a_separate_resource_is_5_00(self):
        srv = Server((Resource("wrong", get=wrong),), log=None)
        msg = m.get("wrong")
        n = srv.handle(msg, len(msg))
        self.assertEqual(m.decode(bytes(srv.response.buf[:n]))[1], 160)

    def test_other_resources_answer_piggybacked(self):
        self.send(m.get("slow", mid=1))
        out = self.send(m.get("now", mid=2))
        self.assertEqual((out[0][0], out[0][1], out[0][5]), (m.ACK, 69, b"now"))

    def test_no_table_without_a_separate_resource(self):
        self.assertEqual(Server((Resource("now", get=now_get),), log=None).later, None)

    def test_the_answer_to_an_unproven_peer_stays_within_3x(self):  # RFC 9175 §2.4
        srv = Server((Resource("slow", get=self.slow.get, separate=True),), log=None)
        sock = Sock()
        msg = m.get("slow", mid=0x4242)
        sock.inbox.append((msg, PEER))
        srv.drain(sock, 1)
        srv.answer_later(self.slow.slots[0], self.slow.medium)
        sent = sock.sent
        self.assertEqual((sent[0][1], sent[1][0]), (0, m.CON))
        self.assertTrue(len(m.encode(*sent[1][:6])) + 4 <= 3 * len(msg))
        self.assertEqual(sent[1][1], 129)  # 4.01 with an Echo instead

    def test_deferring_and_acknowledging_again_allocate_nothing(self):
        srv = self.srv
        srv.request.peer = PEER
        msg = m.get("slow", mid=0x4242)
        srv.handle(msg, len(msg))  # warm-up
        srv.later.release(0)
        self.slow.n = 0
        n = no_alloc(self, "deferring", srv.handle, msg, len(msg))
        self.assertEqual((n, srv.response.buf[0] >> 4 & 3), (4, m.ACK))
        n = no_alloc(self, "acknowledging again", srv.handle, msg, len(msg))
        self.assertEqual((n, self.slow.runs), (4, 2))


if __name__ == "__main__":
    unittest.main()
