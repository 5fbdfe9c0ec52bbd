# Observers whose address is not verified yet (RFC 9175 §2.4) under attack:
# a forged registration can't push a verified observer out of the table.
import unittest

import coapmsg as m
from coap import Server
from coap.clock import ticks_add
from sample import RESOURCES, board
from test_observe import FakeSock, deliver, obs_value, observe

VICTIM = bytes([2, 0, 0x9C, 0x41, 10, 0, 0, 7]) + bytes(8)  # 10.0.0.7:40001, spoofed
CLIENT = bytes([2, 0, 0x9C, 0x42, 10, 0, 0, 9]) + bytes(8)  # 10.0.0.9:40002, a real one
TEMP = RESOURCES[0]


def limited(observers=4):
    srv = Server(RESOURCES, log=None, ack_timeout_ms=0, amplification_limit=True,
                 observers=observers)
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
            self.assertEqual(r[1], 69)
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


