# coap.hkdf: HKDF-SHA256 against RFC 5869 Appendix A, test cases 1-3 (the
# SHA-256 ones): short inputs, 80-byte inputs (a salt longer than the HMAC
# block, hashed first), and no salt and no info (as OSCORE without a Master
# Salt derives, RFC 8613 §3.2).
import unittest

from coap.hkdf import hkdf_sha256


def h(s):
    s = s.replace(" ", "")
    return bytes(int(s[i:i + 2], 16) for i in range(0, len(s), 2))


class RFC5869(unittest.TestCase):
    def test_case_1_basic(self):  # A.1
        okm = hkdf_sha256(h("000102030405060708090a0b0c"), bytes([0x0B] * 22),
                          h("f0f1f2f3f4f5f6f7f8f9"), 42)
        self.assertEqual(okm, h("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db0"
                                "2d56ecc4c5bf34007208d5b887185865"))

    def test_case_2_longer_inputs_and_outputs(self):  # A.2
        okm = hkdf_sha256(bytes(range(0x60, 0xB0)), bytes(range(0x50)),
                          bytes(range(0xB0, 0x100)), 82)
        self.assertEqual(okm, h("b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
                                "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
                                "cc30c58179ec3e87c14c01d5c1f3434f1d87"))

    def test_case_3_no_salt_no_info(self):  # A.3
        okm = hkdf_sha256(b"", bytes([0x0B] * 22), b"", 42)
        self.assertEqual(okm, h("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f"
                                "3c738d2d9d201395faa4b61a96c8"))

    def test_shorter_output_is_a_prefix(self):  # §2.3: T(1) | T(2) ... cut to L
        ikm = bytes([0x0B] * 22)
        self.assertEqual(hkdf_sha256(b"", ikm, b"", 13), hkdf_sha256(b"", ikm, b"", 42)[:13])


if __name__ == "__main__":
    unittest.main()
