# coap/prepared.py: a repeated plain GET of a prepared resource is answered
# from the kept answer by Server.drain, byte for byte what the full path
# answers, never stale after an unsafe request or Server.forget(), and never
# for a request the full path would answer differently.
import unittest

import coapmsg as m
from coap import Resource, Server
from heaplock import heap_lock, locked

EAGAIN = OSError(11)  # made once: raising it allocates nothing new


class State:
    def __init__(self):
        self.temp = 2150
        self.led = 0
        self.calls = 0


def table(state):
    def temp(req, resp):
        state.calls += 1
        if resp.format == 50:
            resp.payload(b'{"t":')
            resp.payload_fixed(state.temp, 2)
            resp.payload(b"}")
        else:
            resp.payload_fixed(state.temp, 2)

    def led_get(req, resp):
        state.calls += 1
        resp.payload(b"on" if state.led else b"off")

    def led_put(req, resp):
        state.led = 1 if req.payload_is(b"on") else 0

    def big(req, resp):
        for _ in range(20):
            resp.payload(b"0123456789")

    def info(req, resp):
        state.calls += 1
        resp.payload(b'{"name":"greenhouse","uptime_ms":')
        resp.payload_int(state.temp * 1000)
        resp.payload(b',"free_heap":123456,"observers":0,"sensor_errors":{}}')

    def fails(req, resp):
        resp.error(163, b"no reading")  # 5.03

    return (
        Resource("sensors/temp", get=temp, ct=(0, 50), obs=True, prepared=True, max_age=5),
        Resource("actuators/led", get=led_get, put=led_put, ct=0, max_age=0, prepared=True),
        Resource("big", get=big, prepared=True),
        # within 3x of a GET of this path, only as a first block with an Echo
        Resource("board/information", get=info, ct=50, max_age=0, prepared=True),
        Resource("fails", get=fails, prepared=True),
        Resource("plain", get=temp),  # not prepared: its handler runs every time
    )


class Queue:
    """A non-blocking socket for drain(): hands out queued (data, addr) pairs,
    then EAGAIN; remembers what was sent. Allocates nothing per call."""

    def __init__(self, items, room=0):
        self.items = items
        self.i = 0
        self.sent = [None] * (room or len(items))
        self.to = [None] * (room or len(items))
        self.n_sent = 0

    def recvfrom(self, size):
        if self.i == len(self.items):
            raise EAGAIN
        self.i += 1
        return self.items[self.i - 1]

    def sendto(self, buf, addr):
        self.sent[self.n_sent] = buf  # kept as it is: the caller copies
        self.to[self.n_sent] = addr
        self.n_sent += 1


PEER = bytes([2, 0, 0x16, 0x33, 127, 0, 0, 1]) + bytes(8)  # the unix port's sockaddr_in
OTHER = ("192.168.1.20", 5683)  # lwIP's shape


def answers(srv, requests, peer=PEER):
    """Each request through drain, one at a time: the bytes sent back (None: silence)."""
    out = []
    for msg in requests:
        q = Queue([(msg, peer)])
        srv.drain(q, 10)
        out.append(bytes(q.sent[0]) if q.n_sent else None)
    return out


def get(path, mid=1, token=b"\x7a", **kw):
    return m.get(path, mid=mid, token=token, **kw)


class Prepared(unittest.TestCase):
    def setUp(self):
        self.state = State()
        self.srv = Server(table(self.state), log=None)

    def test_second_get_is_answered_without_the_handler(self):
        got = answers(self.srv, [get("sensors/temp", mid=1), get("sensors/temp", mid=2, token=b"\x01"),
                                 get("sensors/temp", mid=3, token=b"\x02")])
        self.assertEqual(self.state.calls, 1)
        for i, a in enumerate(got):
            t, code, mid, token, opts, payload = m.decode(a)
            self.assertEqual((t, code, mid, payload), (m.ACK, 69, i + 1, b"21.50"))
        self.assertEqual([m.decode(a)[3] for a in got], [b"\x7a", b"\x01", b"\x02"])
        self.assertEqual(self.srv.prepared.count(), 1)

    def test_same_bytes_as_the_full_path(self):
        # Every request of a varied sequence, answered by a server with prepared
        # answers and by one without: the same bytes, in the same order
        other_state = State()
        full = Server(table(other_state), log=None, prepared=0)
        self.assertIsNone(full.prepared)
        full._mid = self.srv._mid
        # the same Echo key: the same 4.01 + Echo for "big"
        full.echo = full.dispatcher.echo = self.srv.echo
        if full.echo is not None:  # and the same second, on a slow board too
            full.echo.seconds = lambda: 1000
        seq = []
        for i in range(3):
            for token in (b"", b"\x7a", b"12345678"):
                seq += [get("sensors/temp", mid=10 * i, token=token),
                        get("actuators/led", mid=10 * i + 1, token=token),
                        get("sensors/temp", mid=10 * i + 7, token=token),  # replayed
                        get("actuators/led", mid=10 * i + 8, token=token),
                        get("big", mid=10 * i + 2, token=token),
                        get("fails", mid=10 * i + 3, token=token),
                        get("sensors/temp", mid=10 * i + 4, token=token,
                            options=[(17, m.uint(50))]),
                        get("sensors/temp", mid=10 * i + 5, token=token, mtype=m.NON),
                        get("nothing/here", mid=10 * i + 6, token=token),
                        get("board/information", mid=10 * i + 9, token=token),
                        # what libcoap sends off port 5683, and a client naming the host
                        get("sensors/temp", mid=10 * i + 5, token=token,
                            options=[(7, m.uint(56830))]),
                        get("sensors/temp", mid=10 * i + 6, token=token,
                            options=[(3, b"greenhouse.local"), (7, m.uint(5683))])]
            seq.append(m.get("actuators/led", code=3, payload=b"on" if i % 2 == 0 else b"off"))
        for peer in (PEER, OTHER, PEER):
            self.assertEqual(answers(self.srv, seq, peer), answers(full, seq, peer))
        self.assertTrue(self.state.calls < other_state.calls)

    def test_a_first_block_goes_out_with_each_peers_own_echo(self):
        srv, echo = self.srv, self.srv.echo
        if echo is None:
            raise unittest.SkipTest("no AES on this port: no Echo is offered")
        got = answers(srv, [get("board/information", mid=1)])
        calls = self.state.calls  # the full answer, counted, then block 0
        got += answers(srv, [get("board/information", mid=2)])
        got += answers(srv, [get("board/information", mid=3)], peer=OTHER)
        self.assertEqual(self.state.calls, calls)  # then replayed
        for a, peer in zip(got, (PEER, PEER, OTHER)):
            t, code, mid, token, opts, payload = m.decode(a)
            self.assertEqual(code, 69)
            self.assertEqual([o[0] for o in opts], [4, 12, 14, 23, 28, 252])
            block2 = [o[1] for o in opts if o[0] == 23][0]
            self.assertEqual(block2[0] >> 4, 0)  # block 0 ...
            self.assertTrue(block2[0] & 8)  # ... of more
            self.assertEqual(len(payload), 16 << (block2[0] & 7))
            value = [o[1] for o in opts if o[0] == 252][0]
            self.assertEqual(echo.check(peer, value, 0, len(value)), 0)  # VERIFIED

    def test_an_unsafe_request_forgets(self):
        before = answers(self.srv, [get("actuators/led"), get("actuators/led")])
        self.assertEqual([m.decode(a)[5] for a in before], [b"off", b"off"])
        answers(self.srv, [m.get("actuators/led", code=3, payload=b"on")])
        self.assertEqual(self.srv.prepared.count(), 0)
        after = answers(self.srv, [get("actuators/led", mid=9)])
        self.assertEqual(m.decode(after[0])[5], b"on")

    def test_an_observer_coming_or_going_forgets(self):
        # the server's own state, which a handler may show (the board's /board does)
        answers(self.srv, [get("sensors/temp")])
        self.assertEqual(self.srv.prepared.count(), 1)
        got = answers(self.srv, [get("sensors/temp", token=b"ob", options=[(6, b"")])])
        self.assertEqual(self.srv.observers.count(), 1)
        self.assertEqual(self.srv.prepared.count(), 0)
        answers(self.srv, [get("sensors/temp")])
        self.assertEqual(self.srv.prepared.count(), 1)
        # its RST ends the observation: forgotten again
        self.srv.observers.changed(self.srv.resources[0])
        sock = Queue([], room=4)
        self.srv.observers.sock[0] = sock
        self.srv.observers.tick()
        note = m.decode(bytes(sock.sent[0]))
        answers(self.srv, [m.encode(m.RST, 0, note[2])])
        self.assertEqual(self.srv.observers.count(), 0)
        self.assertEqual(self.srv.prepared.count(), 0)
        self.assertEqual(m.decode(got[0])[:2], (m.ACK, 0))  # the answer: a CON of its own

    def test_forget_shows_a_new_reading(self):
        answers(self.srv, [get("sensors/temp")])
        self.state.temp = 2311  # what a board's refresh does, then it forgets
        self.srv.forget()
        self.assertEqual(m.decode(answers(self.srv, [get("sensors/temp")])[0])[5], b"23.11")

    def test_only_plain_requests_and_answers_are_kept(self):
        not_kept = [
            get("sensors/temp", options=[(17, m.uint(0))]),  # Accept
            get("sensors/temp", query=["x=1"]),
            get("sensors/temp", mtype=m.NON),
            get("sensors/temp", options=[(23, m.uint(0x02))]),  # Block2
            get("sensors/temp", payload=b"x"),
            get("sensors/temp", options=[(3, b"")]),  # an empty Uri-Host: 4.02
            get("sensors/temp", options=[(3, b"b.local"), (3, b"again")]),  # repeated: 4.02
            get("big"),  # even a first block is more than 3x: 4.01 (RFC 9175 §2.4)
            get("fails"),  # 5.03
            get("plain"),  # not prepared
            get("sensors/" + "x" * 40),  # 4.04, and longer than a key
        ]
        for msg in not_kept:
            answers(self.srv, [msg])
            self.assertEqual(self.srv.prepared.count(), 0, msg)

    def test_uri_host_and_port_name_the_resource_too(self):
        # the server reads neither: the same bytes are the same answer
        msg = get("sensors/temp", options=[(3, b"greenhouse.local"), (7, m.uint(56830))])
        got = answers(self.srv, [msg, msg, msg])
        self.assertEqual(self.state.calls, 1)
        self.assertEqual(self.srv.prepared.count(), 1)
        self.assertEqual(m.decode(got[2])[5], b"21.50")

    def test_a_large_answer_is_kept_without_the_limit(self):
        srv = Server(table(State()), log=None, amplification_limit=False)
        got = answers(srv, [get("big"), get("big", mid=2)])
        self.assertEqual(srv.prepared.count(), 0)  # 200 bytes: more than a slot holds
        self.assertEqual(got[0][4:], got[1][4:])

    def test_a_proven_peer_gets_the_whole_answer_not_the_kept_first_block(self):
        # RFC 9175 §2.4: what the limit cut is kept for anyone; a peer that
        # proved its address gets the full path's answer instead
        msg = get("big", token=b"", options=[(3, b"board.local")])
        cut = m.decode(answers(self.srv, [msg])[0])
        self.assertEqual((cut[1], self.srv.prepared.count()), (69, 1))
        self.assertTrue(m.option(cut[4], 252) is not None)
        self.srv.proven.add(PEER)
        whole = m.decode(answers(self.srv, [msg])[0])
        self.assertEqual((whole[1], m.option(whole[4], 23), len(whole[5])), (69, None, 200))
        again = m.decode(answers(self.srv, [msg], peer=OTHER)[0])
        self.assertEqual(again[5], cut[5])  # to anyone else: still the kept block
        self.assertEqual(self.srv.prepared.count(), 1)

    def test_a_group_request_is_never_replayed(self):
        answers(self.srv, [get("sensors/temp")])
        group = Queue([(get("sensors/temp", mtype=m.NON), PEER), (get("sensors/temp"), PEER)])
        self.srv.multicast_socks = (group,)
        sent = []
        self.srv.on_multicast = lambda buf, addr: sent.append(bytes(buf))
        self.srv.drain(group, 10)
        self.assertEqual(group.n_sent, 0)
        self.assertEqual(len(sent), 1)  # the NON through the full path; the CON dropped (§8.1)

    def test_a_get_without_observe_still_ends_the_observation(self):
        # RFC 7641 §3.6: a GET with the observation's token and no Observe ends it
        token = b"\x55\x66"
        answers(self.srv, [get("sensors/temp", token=token, options=[(6, b"")])])
        self.assertEqual(self.srv.observers.count(), 1)
        answers(self.srv, [get("sensors/temp", token=b"\x01\x02")])  # kept (same TKL)
        self.assertEqual(self.srv.prepared.count(), 1)
        answers(self.srv, [get("sensors/temp", token=token, mid=7)], peer=OTHER)
        self.assertEqual(self.srv.observers.count(), 1)  # another peer's token: still on
        got = answers(self.srv, [get("sensors/temp", token=token, mid=8)])
        self.assertEqual(self.srv.observers.count(), 0)
        self.assertEqual(m.decode(got[0])[:3], (m.ACK, 69, 8))

    def test_full_table_reuses_the_oldest_slot(self):
        srv = Server(table(State()), log=None, prepared=2)
        for tkl in range(4):
            answers(srv, [get("sensors/temp", token=bytes(tkl))])
        self.assertEqual(srv.prepared.count(), 2)
        calls = self.state.calls
        answers(self.srv, [get("sensors/temp", token=bytes(3)), get("sensors/temp", token=bytes(3))])
        self.assertEqual(self.state.calls, calls + 1)

    def test_port_zero_gets_nothing(self):
        answers(self.srv, [get("sensors/temp")])
        q = Queue([(get("sensors/temp"), ("10.0.0.1", 0))])
        self.srv.drain(q, 10)
        self.assertEqual(q.n_sent, 0)


class NoAlloc(unittest.TestCase):
    def setUp(self):
        if heap_lock is None:
            raise unittest.SkipTest("heap_lock exists only in MicroPython")

    def test_keeping_and_replaying_allocate_nothing(self):
        srv = Server(table(State()), log=None)
        for peer, path in ((PEER, "sensors/temp"), (OTHER, "sensors/temp"),
                           (PEER, "board/information"), (OTHER, "board/information")):
            msgs = [get(path, mid=i, token=b"\x01\x02") for i in range(4)]
            answers(srv, msgs[:1], peer)  # warm-up: first-call caches
            srv.forget()
            q = Queue([(msg, peer) for msg in msgs])
            with locked(self, "keep and replay"):
                n = srv.drain(q, 10)  # the first is kept, the next three replayed
            self.assertEqual((n, q.n_sent), (4, 4))
            self.assertEqual(m.decode(q.sent[3])[:3], (m.ACK, 69, 3))


if __name__ == "__main__":
    unittest.main()
