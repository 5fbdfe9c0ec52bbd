# Observers whose address is not verified yet (RFC 9175 §2.4) under attack:
# a forged registration can't guess its way to verification, and can't push
# a verified observer out of the table.
import unittest

import coapmsg as m
from coap import Server
from coap.clock import ticks_add
from heaplock import heap_lock, locked
from sample import RESOURCES, board
from test_observe import FakeSock, deliver, obs_value, observe

VICTIM = bytes([2, 0, 0x9C, 0x41, 10, 0, 0, 7]) + bytes(8)  # 10.0.0.7:40001, spoofed
CLIENT = bytes([2, 0, 0x9C, 0x42, 10, 0, 0, 9]) + bytes(8)  # 10.0.0.9:40002, a real one
GONE = bytes([2, 0, 0x9C, 0x43, 10, 0, 0, 11]) + bytes(8)   # a client gone without a word
NEWCOMER = bytes([2, 0, 0x9C, 0x44, 10, 0, 0, 12]) + bytes(8)
TEMP = RESOURCES[0]


def limited(observers=4, **kw):
    srv = Server(RESOURCES, log=None, ack_timeout_ms=0, amplification_limit=True,
                 observers=observers, **kw)
    if srv.echo is None:  # the 32-bit test builds have no cryptolib
        from coap.echo import Echo
        from test_echo import StandIn
        srv.echo = Echo(cipher=StandIn)
    return srv


def empty(mtype, mid, srv, peer):
    deliver(srv, m.encode(mtype, 0, mid & 0xFFFF), peer=peer)


class Base(unittest.TestCase):
    def setUp(self):
        self.srv = limited()
        self.obs = self.srv.observers
        self.sock = FakeSock()

    def tearDown(self):
        board.temp_centi = 2312  # shared with the other tests

    def change(self):
        board.temp_centi += 10
        self.obs.changed(TEMP)
        self.obs.tick()

    def register(self, peer, token=b"ob", options=()):
        return deliver(self.srv, observe(0, token=token, options=options), peer=peer,
                       sock=self.sock)

    def to(self, peer):
        return [note for note, addr in self.sock.sent if addr == peer]


class Guessing(Base):
    def test_a_brute_force_of_forged_acks_never_verifies(self):
        reg = observe(0)
        r = self.register(VICTIM)
        self.change()
        (con,) = self.to(VICTIM)
        self.assertEqual(con[0], m.CON)
        # the attacker tries MIDs from its guess on; the right one comes last
        for k in range(1, 257):
            empty(m.ACK, con[2] + k, self.srv, VICTIM)
        empty(m.ACK, con[2], self.srv, VICTIM)
        for _ in range(5):
            self.change()
        self.assertEqual(self.obs.count(), 0)
        sent = len(m.encode(*r)) + sum(len(m.encode(*n)) for n in self.to(VICTIM))
        self.assertTrue(sent <= 3 * len(reg), "%d bytes for %d" % (sent, len(reg)))

    def test_con_every_0_keeps_con_until_the_address_is_proven(self):
        self.srv = limited(con_every=0)
        self.obs = self.srv.observers
        self.register(CLIENT)
        self.change()
        con = self.to(CLIENT)[-1]
        empty(m.ACK, con[2], self.srv, CLIENT)
        self.change()
        self.change()
        self.assertEqual([n[0] for n in self.to(CLIENT)], [m.CON, m.NON, m.NON])

    def test_registering_again_buys_no_more_guesses(self):
        self.register(VICTIM)
        self.change()
        con = self.to(VICTIM)[-1]
        empty(m.ACK, con[2] + 1, self.srv, VICTIM)
        empty(m.ACK, con[2] + 2, self.srv, VICTIM)
        self.register(VICTIM)  # the same token: the same entry
        self.change()
        con = self.to(VICTIM)[-1]
        empty(m.ACK, con[2] + 1, self.srv, VICTIM)
        self.assertEqual(self.obs.count(), 0)

    def test_a_clients_late_ack_of_a_replaced_con_is_forgiven(self):  # RFC 7641 §4.5.2
        self.register(CLIENT)
        self.change()
        first = self.to(CLIENT)[-1]
        self.change()  # changed while the CON waits: a new message, a new MID
        second = self.to(CLIENT)[-1]
        self.assertNotEqual(first[2], second[2])
        empty(m.ACK, first[2], self.srv, CLIENT)  # the ACK of the first, late
        empty(m.ACK, second[2], self.srv, CLIENT)
        for _ in range(3):
            self.change()
        self.assertEqual((self.obs.count(), len(self.to(CLIENT))), (1, 5))

    def test_acks_of_other_peers_are_no_guesses(self):
        self.register(CLIENT)
        self.change()
        con = self.to(CLIENT)[-1]
        for k in range(1, 4):  # (fewer than amplify.Guesses closes proofs at)
            empty(m.ACK, con[2] + k, self.srv, VICTIM)
            empty(m.RST, con[2] + k, self.srv, VICTIM)
        empty(m.ACK, con[2], self.srv, CLIENT)
        self.change()
        self.assertEqual((self.obs.count(), self.to(CLIENT)[-1][0]), (1, m.NON))

    def test_an_ack_for_another_pending_observation_is_no_guess(self):
        # one client, four observations, each CON acknowledged in turn
        for t in (b"a", b"b", b"c", b"d"):
            self.register(CLIENT, token=t)
        self.change()
        for con in self.to(CLIENT):
            empty(m.ACK, con[2], self.srv, CLIENT)
        self.assertEqual(self.obs.count(), 4)
        self.assertTrue(all(b < 0 for b in self.obs.budget))


class LuckyGuess(Base):
    # The right MID among 3 guesses: 3 in 65 536 per registration. What it
    # buys ends at the next CON, whose MID the first doesn't predict.
    def setUp(self):
        Base.setUp(self)
        self.srv = limited(con_every=4)
        self.obs = self.srv.observers
        self.register(VICTIM)
        self.change()
        empty(m.ACK, self.to(VICTIM)[-1][2], self.srv, VICTIM)  # the lucky one
        self.assertTrue(self.obs.budget[0] < 0)

    def until_con(self):
        self.change()
        while self.to(VICTIM)[-1][0] != m.CON:
            self.change()
        return self.to(VICTIM)[-1]

    def test_forged_wrong_acks_never_end_a_verified_observer(self):
        # anyone can forge them from its address: a verified observer's CON is
        # retransmitted until it is acknowledged or times out (RFC 7641 §4.5)
        con = self.until_con()
        for k in (1, 2, 3, 4):
            empty(m.ACK, con[2] ^ (k << 12), self.srv, VICTIM)
        self.assertEqual(self.obs.count(), 1)
        empty(m.ACK, con[2], self.srv, VICTIM)
        self.assertEqual(self.obs.tries[0], 0)

    def test_the_next_con_is_not_where_the_mids_before_it_point(self):
        mids, gaps = [], set()
        for _ in range(12):
            con = self.until_con()
            empty(m.ACK, con[2], self.srv, VICTIM)  # (a real client's, here)
            mids.append(con[2])
        for a, b in zip(mids, mids[1:]):
            gaps.add((b - a) & 0xFFFF)
        self.assertTrue(len(gaps) > 1, gaps)  # not every con_every-th MID
        seen = [n[2] for n in self.to(VICTIM)]
        self.assertEqual(len(set(seen)), len(seen))  # RFC 7252 §4.4: none reused


class Flood(Base):
    # A brute force spread over many registrations (3 guesses each) or many
    # held reads: past amplify.Guesses' limit of stray ACKs/RSTs a minute, no
    # ACK or RST proves any address until the minute is over.
    def flood(self, n):
        for k in range(n):
            empty(m.ACK, 0x5000 + k, self.srv, VICTIM)

    def test_after_a_flood_of_guesses_even_the_right_ack_proves_nothing(self):
        self.flood(self.srv.guesses.limit)
        self.register(CLIENT)
        self.change()
        con = self.to(CLIENT)[-1]
        empty(m.ACK, con[2], self.srv, CLIENT)
        self.assertTrue(self.obs.budget[0] >= 0)  # still on probation
        self.assertFalse(self.srv.proven.has(CLIENT))
        self.assertEqual(self.obs.count(), 1)  # and still observing

    def test_the_next_minute_a_retransmissions_ack_proves_it(self):
        self.flood(self.srv.guesses.limit)
        self.register(CLIENT)
        self.change()
        con = self.to(CLIENT)[-1]
        empty(m.ACK, con[2], self.srv, CLIENT)
        g = self.srv.guesses
        g.since = ticks_add(g.since, -g.window_ms)  # a minute later
        self.obs.tick()  # (ack_timeout_ms=0) the CON again, same MID (RFC 7252 §4.2)
        again = self.to(CLIENT)[-1]
        self.assertEqual(again[2], con[2])
        empty(m.ACK, again[2], self.srv, CLIENT)
        self.assertTrue(self.obs.budget[0] < 0)
        self.assertTrue(self.srv.proven.has(CLIENT))

    def test_one_line_says_so_once_a_minute(self):
        lines = []
        self.flood(3 * self.srv.guesses.limit)
        self.srv.guesses.report(lines.append)
        self.srv.guesses.report(lines.append)
        self.assertEqual(len(lines), 1)
        self.assertTrue("matched nothing" in lines[0], lines)

    def test_below_the_limit_the_right_ack_proves(self):
        self.flood(self.srv.guesses.limit - 1)
        self.register(CLIENT)
        self.change()
        empty(m.ACK, self.to(CLIENT)[-1][2], self.srv, CLIENT)
        self.assertTrue(self.obs.budget[0] < 0)


class Eviction(Base):
    def verified(self, peer, token=b"ob"):
        self.register(peer, token)
        self.change()
        empty(m.ACK, self.to(peer)[-1][2], self.srv, peer)

    def test_forged_registrations_never_evict_a_verified_observer(self):
        self.srv = limited(observers=2)
        self.obs = self.srv.observers
        self.verified(CLIENT)
        self.obs.alive_at[0] = ticks_add(self.obs.alive_at[0], -30000)  # and quiet for a while
        for k in range(4):
            r = self.register(VICTIM, token=bytes([k]))
            self.assertEqual(r[:2], (m.ACK, 0))  # taken: its answer follows as a CON
        self.assertEqual(self.obs.count(), 2)
        before = len(self.to(CLIENT))
        self.change()
        self.assertEqual(len(self.to(CLIENT)), before + 1)

    def test_a_table_of_verified_observers_answers_a_forged_registration_plainly(self):  # §4.1
        self.srv = limited(observers=1)
        self.obs = self.srv.observers
        self.verified(CLIENT)
        r = self.register(VICTIM, token=b"x")
        self.assertEqual((r[1], obs_value(r), self.obs.count()), (69, None, 1))
        self.assertEqual(self.obs.find(CLIENT, b"\0\0\0\0ob", 4, 2), 0)

    def test_a_verified_newcomer_takes_an_unverified_entrys_place_first(self):
        self.srv = limited(observers=2)
        self.obs = self.srv.observers
        self.verified(CLIENT)
        self.obs.alive_at[0] = ticks_add(self.obs.alive_at[0], -30000)  # the verified one showed life longest ago
        self.register(VICTIM)
        other = bytes([2, 0, 0x9C, 0x43, 10, 0, 0, 10]) + bytes(8)
        self.srv.echo.make(other)  # offered with an earlier answer, repeated now
        r = self.register(other, options=[(252, bytes(self.srv.echo.value))])
        self.assertTrue(obs_value(r) is not None)
        peers = sorted(a for a in self.obs.addr if a is not None)
        self.assertEqual(peers, sorted([CLIENT, other]))



def _attacked(srv, sock, reg, peer, wrong, right, res):
    # A module-level function: calling a closure over this many allocates.
    srv.request.peer = peer
    srv.handle(reg, len(reg), False, sock)  # a full table: the unverified entry gives way
    obs = srv.observers
    obs.changed(res)
    obs.tick()  # its CON, under a fresh random MID
    mid = obs.mid[obs.find(peer, reg, 4, reg[0] & 15)]
    wrong[2] = mid >> 8
    wrong[3] = (mid & 255) ^ 1
    right[2] = mid >> 8
    right[3] = mid & 255
    srv.handle(wrong, len(wrong), False, sock)  # a guess
    srv.handle(right, len(right), False, sock)  # the real ACK: verified


class NoAlloc(unittest.TestCase):
    def test_eviction_guesses_and_verification_allocate_nothing(self):
        if heap_lock is None:
            raise unittest.SkipTest("heap_lock exists only in MicroPython")
        srv = limited(observers=1)
        sock = FakeSock(keep=False)
        reg = observe(0, token=b"v")
        wrong = bytearray(m.encode(m.ACK, 0, 0))
        right = bytearray(wrong)
        for lock in (False, True):  # a warm-up, then the same under the lock
            srv.observers.remove(0)
            deliver(srv, observe(0, token=b"old"), peer=CLIENT)  # unverified
            if lock:
                with locked(self, "eviction, guesses, verification"):
                    _attacked(srv, sock, reg, VICTIM, wrong, right, TEMP)
            else:
                _attacked(srv, sock, reg, VICTIM, wrong, right, TEMP)
            obs = srv.observers
            self.assertEqual((obs.count(), obs.addr[0], obs.budget[0]), (1, VICTIM, -1))


class Inbox(FakeSock):
    """FakeSock with datagrams to receive: the server's own drain() runs."""

    def __init__(self):
        FakeSock.__init__(self)
        self.inbox = []

    def recvfrom(self, n):
        if not self.inbox:
            raise OSError(11)
        return self.inbox.pop(0)


class TakingAPlace(Base):
    # A table of verified observers, one of them gone without a word (most
    # clients leave so): a newcomer that answers a ping takes the place of the
    # one that showed life longest ago; a forged one, which can't, never does.
    def setUp(self):
        Base.setUp(self)
        self.srv = limited(observers=2, held_requests=2)
        self.obs = self.srv.observers
        self.sock = Inbox()
        for peer in (GONE, CLIENT):
            self.register(peer)
            self.change()
            empty(m.ACK, self.to(peer)[-1][2], self.srv, peer)
        self.obs.alive_at[0] = ticks_add(self.obs.alive_at[0], -60000)  # GONE, quiet since
        self.assertEqual([b < 0 for b in self.obs.budget], [True, True])

    def send(self, msg, peer):
        self.sock.inbox.append((msg, peer))
        self.srv.drain(self.sock, 10)
        return self.to(peer)

    def test_a_newcomer_that_answers_the_ping_takes_the_quiet_ones_place(self):
        ping = self.send(observe(0, token=b"n"), NEWCOMER)[-1]
        self.assertEqual(ping[:4], (m.CON, 0, ping[2], b""))
        answer = self.send(m.encode(m.RST, 0, ping[2]), NEWCOMER)[-1]
        self.assertEqual((answer[0], answer[1], answer[3]), (m.ACK, 69, b"n"))
        self.assertTrue(obs_value(answer) is not None)  # registered
        self.assertEqual(sorted(a for a in self.obs.addr if a), sorted([CLIENT, NEWCOMER]))

    def test_a_forged_newcomer_takes_no_place(self):
        reg = observe(0, token=b"n")
        out = self.send(reg, NEWCOMER)
        p = self.srv.pending
        for i in range(p.size):
            p.due_at[i] = ticks_add(p.due_at[i], -p.timeout_ms)  # no RST came
        self.srv.answer_held()
        out = self.to(NEWCOMER)
        self.assertEqual(obs_value(out[-1]), None)  # a plain GET (§4.1)
        self.assertEqual(sorted(a for a in self.obs.addr if a), sorted([GONE, CLIENT]))
        sent = sum(len(m.encode(*o)) for o in out)
        self.assertTrue(sent <= 3 * len(reg), (sent, len(reg)))
