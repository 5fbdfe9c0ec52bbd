# firmware/config.py and security.py: the "oscore" and "open" fields. A usable
# context becomes a security context; an unusable one is named by field, never
# printed, and leaves every protected resource refused.
import sys
import unittest

_here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
_root = _here + "/../../.."
for _p in (_root + "/firmware", _root + "/boards/unix"):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import config  # noqa: E402
import security  # noqa: E402
from coap import aes  # noqa: E402

SECRET = "00112233445566778899aabbccddeeff"
GOOD = {"secret": SECRET, "salt": "9e7ca92223786340", "sender_id": "01", "recipient_id": ""}


class Fields(unittest.TestCase):
    def test_no_context_by_default(self):
        cfg, problems = config.validate({})
        self.assertEqual((cfg["oscore"], cfg["open"], problems), (None, [], []))
        self.assertIsNone(security.contexts(cfg, print))

    def test_good_context(self):
        cfg, problems = config.validate({"oscore": GOOD, "open": ["sensors/humidity"]})
        self.assertEqual(problems, [])
        self.assertEqual(cfg["oscore"], GOOD)

    def test_bad_contexts_are_named_and_never_printed(self):
        cases = (
            ({"secret": SECRET}, "oscore.sender_id: missing"),
            (dict(GOOD, secret="00"), "oscore.secret: expected"),
            (dict(GOOD, secret=SECRET[:-1] + "g"), "oscore.secret: expected"),
            (dict(GOOD, salt="abc"), "oscore.salt: expected"),
            (dict(GOOD, recipient_id="01"), "oscore: sender_id and recipient_id must differ"),
            (dict(GOOD, sender_id="0102030405060708"), "oscore.sender_id: expected"),
            (dict(GOOD, kid="01"), "oscore: unknown field 'kid'"),
            ("secret", "oscore: expected an object"),
        )
        for value, start in cases:
            cfg, problems = config.validate({"oscore": value})
            self.assertEqual(cfg["oscore"], config.INVALID)
            self.assertEqual(len(problems), 1)
            self.assertTrue(problems[0].startswith("config: " + start), problems[0])
            self.assertTrue(problems[0].endswith("OSCORE-protected resources are refused"))
            self.assertNotIn(SECRET[:6], problems[0])
            self.assertEqual(security.contexts(cfg, print), [])  # asked for: refuse

    def test_update_context_checked_the_same_way(self):
        cfg, problems = config.validate({"update_oscore": GOOD})
        self.assertEqual((cfg["update_oscore"], cfg["oscore"], problems), (GOOD, None, []))
        for value, start in ((dict(GOOD, secret="00"), "update_oscore.secret: expected"),
                             (dict(GOOD, recipient_id="01"),
                              "update_oscore: sender_id and recipient_id must differ")):
            cfg, problems = config.validate({"update_oscore": value})
            self.assertEqual(cfg["update_oscore"], config.INVALID)
            self.assertEqual(len(problems), 1)
            self.assertTrue(problems[0].startswith("config: " + start), problems[0])
            self.assertTrue(problems[0].endswith("; updates are refused"), problems[0])
            self.assertNotIn(SECRET[:6], problems[0])
            with self.assertRaises(ValueError):
                security.update_context(cfg)

    def test_bad_open_list(self):
        cfg, problems = config.validate({"open": "sensors/humidity"})
        self.assertEqual(cfg["open"], [])
        self.assertTrue(problems[0].startswith("config: open: expected "))

    def test_unhex(self):
        self.assertEqual(config.unhex("0aff"), b"\x0a\xff")
        self.assertEqual(config.unhex(""), b"")
        for bad in ("0", "0g", "+1", " 1", 12):
            self.assertIsNone(config.unhex(bad))


class Start(unittest.TestCase):
    def test_update_context_has_its_own_sequence_file(self):
        if not aes.available():
            raise unittest.SkipTest("this port has no cryptolib")
        import os
        cfg, _ = config.validate({"oscore": GOOD, "update_oscore": dict(GOOD, sender_id="02")})
        security.UPDATE_SEQUENCE_FILE = "/tmp/coap-config-test-update-ssn"
        try:
            os.remove(security.UPDATE_SEQUENCE_FILE)
        except OSError:
            pass
        try:
            ctx = security.update_context(cfg)
            self.assertEqual((ctx.sender_id, ctx.recipient_id), (b"\x02", b""))
            self.assertEqual(ctx.next_ssn(), 0)
            with open(security.UPDATE_SEQUENCE_FILE) as f:
                self.assertEqual(f.read(), "64")  # reserved before use (B.1.1)
            self.assertEqual(security.update_context(cfg).next_ssn(), 64)  # after a reboot
        finally:
            os.remove(security.UPDATE_SEQUENCE_FILE)
            security.UPDATE_SEQUENCE_FILE = "update.seq"

    def test_context_from_config(self):
        if not aes.available():
            raise unittest.SkipTest("this port has no cryptolib")
        import os
        lines = []
        cfg, _ = config.validate({"oscore": GOOD})
        security.SEQUENCE_FILE = "/tmp/coap-config-test-ssn"
        try:
            os.remove(security.SEQUENCE_FILE)
        except OSError:
            pass
        ctxs = security.contexts(cfg, lines.append)
        self.assertEqual(len(ctxs), 1)
        self.assertEqual((ctxs[0].sender_id, ctxs[0].recipient_id), (b"\x01", b""))
        self.assertTrue(lines[0].startswith("oscore: no /tmp/coap-config-test-ssn: "))
        self.assertTrue(lines[1].startswith("oscore: context ready"))
        lines = []
        security.contexts(cfg, lines.append)  # a reboot: the file is there now
        self.assertEqual(len(lines), 1)
        self.assertTrue(lines[0].startswith("oscore: context ready"))
        self.assertNotIn(SECRET[:6], "".join(lines))
