# The observer table saved as bytes and restored after a reboot (#14).
import unittest

import coapmsg as m
from coap import Server
from coap.observestore import CHUNK, ObserverStore
from heaplock import heap_lock, no_alloc
from sample import RESOURCES
from test_observe import FakeSock, deliver, obs_value, observe

V4 = b"\x02\x00\x16\x33\x7f\x00\x00\x01" + bytes(8)  # a sockaddr_in, as the unix port gives it
V6 = b"\x0a\x00\x16\x33" + bytes(20) + b"\x00\x00\x00\x01"


def board_with(socks, saved, min_gap_ms=0, amplification_limit=False):
    # verified peers unless asked (RFC 9175 §2.4: an Echo, or an ACK of a notification)
    srv = Server(RESOURCES, log=None, ack_timeout_ms=0, amplification_limit=amplification_limit)
    store = ObserverStore(srv.observers, srv.resources, socks,
                          lambda buf, n: saved.append(bytes(buf[:n])), min_gap_ms)
    return srv, store


class RoundTrip(unittest.TestCase):
    def setUp(self):
        self.socks = [FakeSock(), FakeSock()]
        self.saved = []
        self.srv, self.store = board_with(self.socks, self.saved)
        deliver(self.srv, observe(0, token=b"tok1", query=["unit=F"], options=[(17, m.uint(50))]),
                peer=V4, sock=self.socks[0])
        deliver(self.srv, observe(0, token=b"t2"), peer=V6, sock=self.socks[1])
        self.store.tick()
        self.seq_before = self.srv.observers.seq

    def reboot(self):
        data = self.saved[-1]
        socks = [FakeSock(), FakeSock()]
        srv, store = board_with(socks, [])
        return srv, store, socks, data

    def test_a_change_is_saved_once(self):
        self.assertEqual(self.store.saves, 1)
        self.store.tick()
        self.assertEqual(self.store.saves, 1)
        deliver(self.srv, observe(1, token=b"t2"), peer=V6)
        self.store.tick()
        self.assertEqual(self.store.saves, 2)

    def test_a_table_that_keeps_changing_is_saved_at_most_every_min_gap(self):
        srv, store = board_with(self.socks, [], min_gap_ms=60000)
        for k in range(5):  # clients that come and go
            deliver(srv, observe(0, token=bytes([k])), peer=V4)
            store.tick()
        self.assertEqual(store.saves, 1)  # the first change at once, the rest later
        srv.observers.seq = store.reserved - CHUNK // 2 - 1
        store.tick()
        store.tick()
        self.assertEqual(store.saves, 1)
        # an Observe number never goes past the saved one: saved with room for
        # any tick's worth of registrations and notifications
        srv.observers.seq = store.reserved - CHUNK // 2
        store.tick()
        self.assertEqual(store.saves, 2)

    def test_a_registration_flood_writes_no_more_than_the_floor(self):  # #21, finding 4
        saved = []
        srv, store = board_with(self.socks, saved, min_gap_ms=600000,
                                amplification_limit=True)
        reg = observe(0)
        before = srv.observers.seq
        for k in range(60000):  # forged sources, a tick every 600 as serve() runs it
            srv.request.peer = bytes([2, 0, k >> 8, k & 255, 10, 0, 0, 7]) + bytes(8)
            srv.handle(reg, len(reg), False, self.socks[0])
            if k % 600 == 599:
                store.tick()
                ahead = (store.reserved - srv.observers.seq) & 0xFFFFFF
                self.assertTrue(0 < ahead <= CHUNK)  # never past the saved number
        self.assertEqual(srv.observers.seq - before, 60000)  # a number each
        self.assertEqual((store.saves, len(saved)), (1, 1))


    def test_observe_number_is_saved_in_chunks(self):
        obs = self.srv.observers
        obs.seq += CHUNK // 2 - 1
        self.store.tick()
        self.assertEqual(self.store.saves, 1)
        obs.seq += 1
        self.store.tick()
        self.assertEqual(self.store.saves, 2)

    def test_restored_observers_get_notifications_from_their_own_request(self):
        srv, store, socks, data = self.reboot()
        self.assertEqual(store.restore(data, len(data)), 2)
        self.assertEqual(srv.observers.count(), 2)
        srv.observers.tick()  # restored entries are notified at once
        (n1, a1), = socks[0].sent
        (n2, a2), = socks[1].sent
        self.assertEqual((n1[0], n1[3], n1[5], a1), (m.CON, b"tok1", b'{"temp":73.61}', V4))
        self.assertEqual((n2[3], n2[5], a2), (b"t2", b"23.12", V6))
        self.assertEqual(m.to_uint(m.option(n1[4], 12)), 50)
        # §3.4: newer than anything sent before the reboot
        self.assertTrue(obs_value(n1) > self.seq_before)
        # and they are the same observers: an RST from the peer ends one
        deliver(srv, m.encode(m.RST, 0, n2[2]), peer=V6)
        self.assertEqual(srv.observers.count(), 1)

    def test_a_restored_observer_that_no_longer_answers_is_removed(self):  # §4.5
        srv, store, socks, data = self.reboot()
        store.restore(data, len(data))
        for _ in range(10):  # the CON and its 4 retransmissions, unanswered
            srv.observers.tick()
        self.assertEqual(srv.observers.count(), 0)
        self.assertEqual(len(socks[0].sent), 5)

    def test_restore_allocates_nothing(self):
        if heap_lock is None:
            raise unittest.SkipTest("heap_lock exists only in MicroPython")
        srv, store, socks, data = self.reboot()
        store.restore(data, len(data))  # warm-up
        for i in range(srv.observers.size):
            srv.observers.remove(i)
        self.assertEqual(no_alloc(self, "restore", store.restore, data, len(data)), 2)

    def test_fewer_sockets_after_a_reboot_drop_only_their_observers(self):
        socks = [FakeSock()]  # the second address could not be bound this time
        srv, store = board_with(socks, [])
        data = self.saved[-1]
        self.assertEqual(store.restore(data, len(data)), 1)
        srv.observers.tick()
        self.assertEqual(socks[0].sent[0][0][3], b"tok1")

    def test_a_changed_table_maps_observers_by_path(self):  # after a firmware update
        from coap import Resource
        from sample import temp_get
        socks = [FakeSock(), FakeSock()]
        table = (Resource("new/first", get=temp_get, obs=True),) + RESOURCES
        srv = Server(table, log=None)
        store = ObserverStore(srv.observers, srv.resources, socks, lambda b, n: None)
        data = self.saved[-1]
        self.assertEqual(store.restore(data, len(data)), 2)
        self.assertEqual({r.href for r in srv.observers.res if r}, {b"/sensors/temp"})
        gone = Server(table[:1] + RESOURCES[1:], log=None)  # no /sensors/temp any more
        store = ObserverStore(gone.observers, gone.resources, socks, lambda b, n: None)
        self.assertEqual((store.restore(data, len(data)), gone.observers.count()), (0, 0))

    def test_damaged_tables_never_raise(self):
        import random
        random.seed(14)
        good = self.saved[-1]
        for k in range(300):
            data = bytearray(good)
            for _ in range(1 + k % 4):
                data[random.getrandbits(16) % len(data)] = random.getrandbits(8)
            srv, store, socks, _ = self.reboot()
            n = store.restore(data, len(data) - random.getrandbits(3) % 4)
            self.assertTrue(-1 <= n <= 2)
            self.assertEqual(srv.observers.count(), max(n, 0))
            srv.observers.tick()  # and whatever came back can be notified

    def test_not_a_saved_table_restores_nothing(self):
        srv, store, socks, data = self.reboot()
        self.assertEqual(store.restore(b"garbage", 7), -1)
        cut = data[:len(data) - 3]
        self.assertEqual(store.restore(cut, len(cut)), 1)  # the whole entries only
        self.assertEqual(srv.observers.count(), 1)


class Unverified(unittest.TestCase):
    def test_kept_once_it_acknowledged_a_notification(self):  # RFC 9175 §2.4
        saved, socks = [], [FakeSock()]
        srv, store = board_with(socks, saved, amplification_limit=True)
        deliver(srv, observe(0), peer=V4, sock=socks[0])
        store.tick()
        self.assertEqual(saved[-1][6], 0)  # no entry: the address may be spoofed
        srv.observers.changed(RESOURCES[0])
        srv.observers.tick()
        note = socks[0].sent[-1][0]
        deliver(srv, m.encode(m.ACK, 0, note[2]), peer=V4)
        store.tick()
        self.assertEqual(saved[-1][6], 1)


    def test_a_restored_observer_is_on_probation_until_it_acknowledges(self):
        # #21, finding 1: whatever verified an entry before (a lucky guess at
        # a 16-bit MID too), after a reboot it gets at most 3x its request
        # until its address acknowledges the reboot's CON
        saved, socks = [], [FakeSock()]
        srv, store = board_with(socks, saved, amplification_limit=True)
        reg = observe(0)
        deliver(srv, reg, peer=V4, sock=socks[0])
        srv.observers.changed(RESOURCES[0])
        srv.observers.tick()
        deliver(srv, m.encode(m.ACK, 0, socks[0].sent[-1][0][2]), peer=V4)
        store.tick()
        for ack_it in (False, True):
            socks = [FakeSock()]
            srv, store = board_with(socks, [], amplification_limit=True)
            self.assertEqual(store.restore(saved[-1], len(saved[-1])), 1)
            srv.observers.tick()
            if ack_it:
                deliver(srv, m.encode(m.ACK, 0, socks[0].sent[-1][0][2]), peer=V4)
            for _ in range(10):  # changes, and retransmissions due at once
                srv.observers.changed(RESOURCES[0])
                srv.observers.tick()
            sent = sum(len(m.encode(*note)) for note, _ in socks[0].sent)
            if ack_it:
                self.assertEqual((srv.observers.count(), len(socks[0].sent)), (1, 11))
            else:
                self.assertEqual(srv.observers.count(), 0)
                self.assertTrue(sent <= 3 * len(reg), "%d bytes for %d" % (sent, len(reg)))


class LwipAddresses(unittest.TestCase):
    def test_host_port_tuples_round_trip(self):  # ESP32 and Pico W: recvfrom gives a tuple
        saved = []
        socks = [FakeSock()]
        srv, store = board_with(socks, saved)
        peer = ("2001:db8::1", 40000)
        deliver(srv, observe(0, token=b"e"), peer=peer, sock=socks[0])
        store.tick()
        srv2, store2 = board_with(socks, [])
        self.assertEqual(store2.restore(saved[-1], len(saved[-1])), 1)
        srv2.observers.tick()
        note, addr = socks[0].sent[-1]
        self.assertEqual((note[3], addr), (b"e", peer))


class DeepSleep(unittest.TestCase):
    limit = False

    def wake(self, data, socks, ack_it):
        srv, store = board_with(socks, self.saved, amplification_limit=self.limit)
        store.restore(data, len(data))
        srv.observers.tick()  # the wake's notification: CON
        if ack_it:
            note = socks[0].sent[-1][0]
            deliver(srv, m.encode(m.ACK, 0, note[2]), peer=V4)
        store.sleeping(2)
        return srv, self.saved[-1]

    def test_an_observer_that_misses_three_wakes_is_dropped(self):
        self.saved = []
        socks = [FakeSock()]
        srv, store = board_with(socks, self.saved)
        deliver(srv, observe(0), peer=V4, sock=socks[0])
        store.sleeping(2)
        data = self.saved[-1]
        counts = []
        for ack_it in (False, False, True, False, False, False):
            srv, data = self.wake(data, socks, ack_it)
            counts.append(srv.observers.count())
        self.assertEqual(counts, [1, 1, 1, 1, 1, 0])

    def test_on_probation_after_each_wake_and_still_counted(self):
        # RFC 9175 §2.4: a restored observer must acknowledge again, and one
        # that doesn't is kept (and counted) until it missed too many wakes
        self.saved, self.limit = [], True
        socks = [FakeSock()]
        srv, store = board_with(socks, self.saved, amplification_limit=True)
        deliver(srv, observe(0), peer=V4, sock=socks[0])
        srv.observers.changed(RESOURCES[0])
        srv.observers.tick()
        deliver(srv, m.encode(m.ACK, 0, socks[0].sent[-1][0][2]), peer=V4)
        store.sleeping(2)
        data = self.saved[-1]
        counts = []
        for ack_it in (False, True, False, False, False):
            srv, data = self.wake(data, socks, ack_it)
            counts.append((srv.observers.count(), srv.observers.budget[0] < 0))
        self.assertEqual(counts, [(1, False), (1, True), (1, False), (1, False), (0, False)])
