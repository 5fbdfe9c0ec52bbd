# Stateless Echo values (RFC 9175): bound to address and port, limited in
# age, checked against an independent AES-CBC, and allocation-free.
import os
import sys
import unittest

from coap import aes
from coap.echo import BOGUS, EXPIRED, SIZE, VERIFIED, Echo
from heaplock import heap_lock, locked

V4 = bytes([2, 0, 0x16, 0x33, 192, 168, 1, 20]) + bytes(8)           # sockaddr_in, port 5683
V4_OTHER_ADDR = bytes([2, 0, 0x16, 0x33, 192, 168, 1, 21]) + bytes(8)
V4_OTHER_PORT = bytes([2, 0, 0x16, 0x34, 192, 168, 1, 20]) + bytes(8)
V6 = bytes([10, 0, 0x16, 0x33]) + bytes(4) + bytes([0xFE, 0x80] + [0] * 13 + [1]) + bytes(4)
LWIP = ("192.168.1.20", 5683)
LWIP6 = ("fe80::1", 5683, 0, 0)
PEERS = (V4, V6, LWIP, LWIP6)


def made(echo, peer, now):
    echo.make(peer, now)
    return bytes(echo.value)


def cbc_mac_reference(key, msg):
    """The last block of AES-128-CBC with a zero IV, from another implementation."""
    if sys.implementation.name == "micropython":
        import cryptolib
        out = bytearray(len(msg))
        cryptolib.aes(key, 2, bytes(16)).encrypt(msg, out)
        return bytes(out[-16:])
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    enc = Cipher(algorithms.AES(key), modes.CBC(bytes(16))).encryptor()
    return (enc.update(msg) + enc.finalize())[-16:]


class StandIn:
    """A keyed byte mixer, NOT a cipher: lets the 32-bit test builds, which have no
    cryptolib, run the Echo arithmetic and allocation checks."""

    def __init__(self, key):
        self.key = key

    def encrypt_block(self, src, dst):
        k = self.key
        acc = 0
        for i in range(16):  # every output byte depends on every input byte
            acc = (acc * 31 + src[i] + k[i]) & 0xFFFF
        for i in range(16):
            acc = (acc * 31 + src[i] + k[i]) & 0xFFFF
            dst[i] = acc & 0xFF


def new_echo(**kw):
    return Echo(**kw) if aes.available() else Echo(cipher=StandIn, **kw)


class EchoValues(unittest.TestCase):
    # With AES where the port has it, else with a stand-in (see StandIn)
    def setUp(self):
        self.echo = new_echo(lifetime_s=300)

    def test_value_verifies_its_own_peer(self):
        for peer in PEERS:
            v = made(self.echo, peer, 1000)
            self.assertEqual(len(v), SIZE)
            self.assertEqual(self.echo.check(peer, v, 0, len(v), 1007), VERIFIED)
            self.assertEqual(self.echo.age, 7)

    def test_value_read_in_place_from_a_datagram(self):
        v = made(self.echo, V4, 50)
        datagram = b"\x40\x01\x12\x34" + v + b"tail"
        self.assertEqual(self.echo.check(V4, datagram, 4, SIZE, 50), VERIFIED)

    def test_another_address_or_port_verifies_nothing(self):
        v = made(self.echo, V4, 1000)
        for other in (V4_OTHER_ADDR, V4_OTHER_PORT, V6, ("192.168.1.21", 5683),
                      ("192.168.1.20", 5684), ("192.168.1.2", 5683)):
            self.assertEqual(self.echo.check(other, v, 0, SIZE, 1000), BOGUS, other)
        v = made(self.echo, LWIP, 1000)
        self.assertEqual(self.echo.check(("192.168.1.200", 5683), v, 0, SIZE, 1000), BOGUS)

    def test_expired_after_the_lifetime(self):
        v = made(self.echo, V4, 1000)
        self.assertEqual(self.echo.check(V4, v, 0, SIZE, 1300), VERIFIED)
        self.assertEqual(self.echo.check(V4, v, 0, SIZE, 1301), EXPIRED)
        self.assertEqual(self.echo.age, -1)
        # from the future (a value made after `now`) is far "older" modulo the wrap
        self.assertEqual(self.echo.check(V4, v, 0, SIZE, 999), EXPIRED)

    def test_timestamps_wrap_and_stay_small_ints(self):
        top = (1 << 30) - 10
        v = made(self.echo, V4, top)
        self.assertEqual(self.echo.check(V4, v, 0, SIZE, 20), VERIFIED)  # 30 s later, wrapped
        self.assertEqual(self.echo.age, 30)

    def test_bogus_values(self):
        v = made(self.echo, V4, 1000)
        cases = [b"", bytes(41), v[:11], v + b"x", os.urandom(SIZE),
                 bytes([v[0], v[1], v[2], v[3] ^ 1]) + v[4:],       # timestamp moved
                 v[:11] + bytes([v[11] ^ 0x80])]                     # tag changed
        for bad in cases:
            self.assertEqual(self.echo.check(V4, bad, 0, len(bad), 1000), BOGUS, bad)

    def test_a_repeated_make_gives_what_a_fresh_one_does(self):
        # make() reuses its value for the same peer in the same second: the
        # value is a function of both, so it must equal a fresh computation
        key = bytes(range(16))
        cipher = self.echo._cipher
        a, b = Echo(key=key, cipher=cipher), Echo(key=key, cipher=cipher)
        for now, peer in ((5, V4), (5, V4), (5, V6), (5, V4), (6, V4), (6, LWIP), (6, LWIP)):
            b = Echo(key=key, cipher=cipher)
            self.assertEqual(made(a, peer, now), made(b, peer, now), (now, peer))

    def test_another_key_verifies_nothing(self):
        v = made(self.echo, V4, 1000)
        self.assertEqual(new_echo().check(V4, v, 0, SIZE, 1000), BOGUS)  # e.g. after a reboot

    def test_tag_is_aes_cbc_mac_of_the_documented_layout(self):
        if not aes.available():
            raise unittest.SkipTest("this port has no cryptolib")
        key = bytes(range(16))
        echo = Echo(key=key)
        v = made(echo, V4, 0x01020304)
        msg = bytearray(64)
        msg[0:4] = b"\x01\x02\x03\x04"
        msg[4:6] = b"\x16\x33"      # port 5683
        msg[6] = 1                  # raw address bytes
        msg[7] = 4
        msg[8:12] = bytes([192, 168, 1, 20])
        self.assertEqual(v, b"\x01\x02\x03\x04" + cbc_mac_reference(key, bytes(msg))[:8])
        v = made(echo, ("10.0.0.7", 40000), 5)
        msg = bytearray(64)
        msg[3] = 5
        msg[4:6] = bytes([40000 >> 8, 40000 & 0xFF])
        msg[6] = 2                  # address text, one code per character
        msg[7] = 8
        msg[8:16] = bytes([1, 0, 10, 0, 10, 0, 10, 7])  # "10.0.0.7": digits 0-9, "." is 10
        self.assertEqual(v[4:], cbc_mac_reference(key, bytes(msg))[:8])

    def test_seconds_is_a_small_int(self):
        s = self.echo.seconds()
        self.assertTrue(0 <= s < (1 << 30))

    def test_seconds_follow_ticks_across_their_wrap(self):
        # A board's clock: ticks_ms wraps at 2**30 (the 64-bit unix port's does not)
        from coap import echo as echo_module
        period = 1 << 30
        now = [period - 1500]  # 1.5 s before ticks_ms wraps
        saved = (echo_module.ticks_ms, echo_module.ticks_diff, echo_module.ticks_add)

        def diff(a, b):
            d = (a - b) % period
            return d - period if d >= period // 2 else d
        echo_module.ticks_ms = lambda: now[0]
        echo_module.ticks_diff = diff
        echo_module.ticks_add = lambda t, d: (t + d) % period
        try:
            e = new_echo()
            start = e.seconds()
            v = made(e, V4, start)
            now[0] = 2500  # 4 s later, past the wrap
            self.assertEqual((e.seconds() - start) & 0x3FFFFFFF, 4)
            self.assertEqual(e.check(V4, v, 0, SIZE), VERIFIED)
            self.assertEqual(e.age, 4)
            now[0] = 1500  # 12.4 days minus 1 s later: ticks_diff says "the past"
            e.seconds()  # the age of old values is unknown now: a new key
            self.assertEqual(e.check(V4, v, 0, SIZE), BOGUS)
        finally:
            echo_module.ticks_ms, echo_module.ticks_diff, echo_module.ticks_add = saved

    def test_make_and_check_allocate_nothing(self):
        if heap_lock is None:
            raise unittest.SkipTest("heap_lock is MicroPython's")
        for peer in PEERS:
            v = made(self.echo, peer, 77)
            self.echo.check(peer, v, 0, SIZE, 77)  # warm-up
            with locked(self, "make and check"):
                self.echo.make(peer, 78)
                got = self.echo.check(peer, self.echo.value, 0, SIZE, 80)
                self.echo.seconds()
            self.assertEqual(got, VERIFIED)
