# coap.ccm: AES-CCM with an 8-byte tag and a 13-byte nonce (L = 2), against
# RFC 3610 packet vectors #1-#4 (those have exactly these parameters; #2-#4
# end mid-block and #4 has a 12-byte header) and the AEAD of RFC 8613
# Appendix C.4; any flipped bit fails the tag; nothing allocates.
import unittest

from coap.ccm import CCM
from heaplock import no_alloc


def h(s):
    s = s.replace(" ", "")
    return bytes(int(s[i:i + 2], 16) for i in range(0, len(s), 2))


RFC3610_KEY = h("c0c1c2c3c4c5c6c7c8c9cacbcccdcecf")


def packet(n):
    """Packet vector n's input: the bytes 00, 01, ... (header, then payload)."""
    return bytes(range(n))


class Vectors(unittest.TestCase):
    def check(self, key, nonce, aad, plain, cipher):
        ccm = CCM(key)
        out = bytearray(len(plain) + 8)
        out[0:] = b""
        ccm.encrypt(nonce, aad, len(aad), plain, 0, len(plain), out)
        self.assertEqual(bytes(out), cipher)
        back = bytearray(len(plain))
        self.assertTrue(ccm.decrypt(nonce, aad, len(aad), cipher, 0, len(cipher), back, 0))
        self.assertEqual(bytes(back), plain)
        for i in range(len(cipher)):  # any flipped bit fails the tag
            bad = bytearray(cipher)
            bad[i] ^= 0x10
            self.assertFalse(ccm.decrypt(nonce, aad, len(aad), bad, 0, len(bad), back, 0))
        other = bytearray(aad + b"!")  # so does other associated data
        self.assertFalse(ccm.decrypt(nonce, other, len(other), cipher, 0, len(cipher), back, 0))

    def test_rfc3610_packet_vector_1(self):
        p = packet(0x1F)
        self.check(RFC3610_KEY, h("00000003020100a0a1a2a3a4a5"), p[:8], p[8:],
                   h("588c979a61c663d2f066d0c2c0f989806d5f6b61dac38417e8d12cfdf926e0"))

    def test_rfc3610_packet_vector_2(self):
        p = packet(0x20)
        self.check(RFC3610_KEY, h("00000004030201a0a1a2a3a4a5"), p[:8], p[8:],
                   h("72c91a36e135f8cf291ca894085c87e3cc15c439c9e43a3ba091d56e10400916"))

    def test_rfc3610_packet_vector_3(self):
        p = packet(0x21)
        self.check(RFC3610_KEY, h("00000005040302a0a1a2a3a4a5"), p[:8], p[8:],
                   h("51b1e5f44a197d1da46b0f8e2d282ae871e838bb64da8596574adaa76fbd9fb0c5"))

    def test_rfc3610_packet_vector_4(self):
        p = packet(0x1F)
        self.check(RFC3610_KEY, h("00000006050403a0a1a2a3a4a5"), p[:12], p[12:],
                   h("a28c6865939a9a79faaa5c4c2a9d4a91cdac8c96c861b9c9e61ef1"))

    def test_rfc8613_c4_aead(self):
        self.check(h("f0910ed7295e6ad4b54fc793154302ff"), h("4622d4dd6d944168eefb549868"),
                   h("8368456e63727970743040488501810a40411440"), h("01b3747631"),
                   h("612f1092f1776f1c1668b3825e"))


class Edges(unittest.TestCase):
    def test_shorter_than_a_tag_is_refused(self):
        ccm = CCM(bytes(16))
        self.assertFalse(ccm.decrypt(bytes(13), b"", 0, bytes(7), 0, 7, bytearray(8), 0))

    def test_offsets_into_larger_buffers(self):
        # OSCORE decrypts a payload where it lies in the datagram
        p = packet(0x1F)
        cipher = h("588c979a61c663d2f066d0c2c0f989806d5f6b61dac38417e8d12cfdf926e0")
        src = b"head" + cipher + b"tail"
        dst = bytearray(3 + 23)
        ccm = CCM(RFC3610_KEY)
        self.assertTrue(ccm.decrypt(h("00000003020100a0a1a2a3a4a5"), p[:8], 8, src, 4,
                                    len(cipher), dst, 3))
        self.assertEqual(bytes(dst[3:]), p[8:])

    def test_a_wrong_key_length_is_refused(self):
        with self.assertRaises(ValueError):
            CCM(bytes(15))


class Sealer:
    """encrypt and decrypt of a 1 KB payload, called without arguments."""

    def __init__(self):
        self.ccm = CCM(RFC3610_KEY)
        self.nonce = bytes(13)
        self.aad = bytes(20)
        self.plain = bytes(1024)
        self.sealed = bytearray(1032)
        self.opened = bytearray(1024)

    def seal(self):
        self.sealed[0:] = b""
        self.ccm.encrypt(self.nonce, self.aad, 20, self.plain, 0, 1024, self.sealed)

    def open(self):
        return self.ccm.decrypt(self.nonce, self.aad, 20, self.sealed, 0, 1032, self.opened, 0)


class NoAlloc(unittest.TestCase):
    def test_encrypt_and_decrypt_allocate_nothing(self):  # it runs on the request path
        s = Sealer()
        s.seal()
        s.open()  # warm up
        no_alloc(self, "encrypt", s.seal)
        self.assertTrue(no_alloc(self, "decrypt", s.open))
        self.assertEqual(bytes(s.opened), s.plain)


if __name__ == "__main__":
    unittest.main()
