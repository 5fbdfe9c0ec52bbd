# The AES-128 block primitive against FIPS-197 Appendix C.1, and without allocation.
import unittest

from coap import aes
from heaplock import heap_lock, locked


def _hex(s):
    return bytes(int(s[i:i + 2], 16) for i in range(0, len(s), 2))


KEY = _hex("000102030405060708090a0b0c0d0e0f")
PLAIN = _hex("00112233445566778899aabbccddeeff")
CIPHER = _hex("69c4e0d86a7b0430d8cdb78070b4c55a")


class AESBlock(unittest.TestCase):
    def setUp(self):
        if not aes.available():
            raise unittest.SkipTest("this port has no cryptolib")

    def test_fips197_c1(self):
        out = bytearray(16)
        aes.AES(KEY).encrypt_block(PLAIN, out)
        self.assertEqual(bytes(out), CIPHER)

    def test_in_place(self):
        buf = bytearray(PLAIN)
        aes.AES(KEY).encrypt_block(buf, buf)
        self.assertEqual(bytes(buf), CIPHER)

    def test_wrong_key_length(self):
        with self.assertRaises(ValueError):
            aes.AES(KEY[:15])

    def test_no_allocation(self):
        if heap_lock is None:
            raise unittest.SkipTest("heap_lock is MicroPython's")
        cipher = aes.AES(KEY)
        src = bytearray(PLAIN)
        dst = bytearray(16)
        cipher.encrypt_block(src, dst)
        with locked(self, "encrypt_block"):
            for _ in range(10):
                cipher.encrypt_block(src, dst)
        self.assertEqual(bytes(dst), CIPHER)
