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


class LwM2M(unittest.TestCase):
    """"lwm2m": {"oscore": ...}: the board's context with its LwM2M server,
    checked like "oscore"; the LwM2M objects then need it, the rest of the
    board stays as "oscore" and "open" say."""

    SERVER = {"server": "coap://192.0.2.9", "endpoint": "b1"}

    class Entry:
        def __init__(self, href):
            self.href = href

    def test_kept_and_unusable_ones_named_never_printed(self):
        cfg, problems = config.validate({"lwm2m": dict(self.SERVER, oscore=GOOD)})
        self.assertEqual((cfg["lwm2m"]["oscore"], problems), (GOOD, []))
        cfg, _ = config.validate({"lwm2m": self.SERVER})
        self.assertIsNone(cfg["lwm2m"]["oscore"])
        self.assertIsNone(security.lwm2m_context(cfg, print))
        for value, start in ((dict(GOOD, secret="00"), "lwm2m.oscore.secret: expected"),
                             (dict(GOOD, recipient_id="01"),
                              "lwm2m.oscore: sender_id and recipient_id must differ"),
                             ("x", "lwm2m.oscore: expected an object")):
            cfg, problems = config.validate({"lwm2m": dict(self.SERVER, oscore=value)})
            self.assertEqual((cfg["lwm2m"]["oscore"], len(problems)), (config.INVALID, 1))
            self.assertEqual(cfg["lwm2m"]["server"], "coap://192.0.2.9")
            self.assertTrue(problems[0].startswith("config: " + start), problems[0])
            self.assertTrue(problems[0].endswith(
                "; not registering, the LwM2M objects are refused"), problems[0])
            self.assertNotIn(SECRET[:6], problems[0])
            self.assertIs(security.lwm2m_context(cfg, print), False)

    def test_a_bad_lwm2m_field_never_shows_the_secret(self):
        cfg, problems = config.validate({"lwm2m": dict(self.SERVER, lifetime_s=0, oscore=GOOD)})
        self.assertIsNone(cfg["lwm2m"])
        self.assertEqual(len(problems), 1)
        self.assertNotIn(SECRET[:6], problems[0])

    def test_only_the_lwm2m_objects_need_it_without_an_oscore_context(self):
        others = [self.Entry(b"sensors/temp"), self.Entry(b"board")]
        ctx = object()
        got = security.with_lwm2m(None, ["x"], ctx, others)
        self.assertEqual(got, ([ctx], ["x", "sensors/temp", "board"]))
        # unusable: still closed (an empty list refuses), the rest open
        self.assertEqual(security.with_lwm2m(None, [], False, others),
                         ([], ["sensors/temp", "board"]))
        # next to the board's own context: both open the protected resources
        mine = object()
        self.assertEqual(security.with_lwm2m([mine], ["board"], ctx, others),
                         ([mine, ctx], ["board"]))

    def test_its_own_sequence_file(self):
        if not aes.available():
            raise unittest.SkipTest("this port has no cryptolib")
        import os
        cfg, _ = config.validate({"lwm2m": dict(self.SERVER, oscore=GOOD)})
        security.LWM2M_SEQUENCE_FILE = "/tmp/coap-config-test-lwm2m-ssn"
        try:
            os.remove(security.LWM2M_SEQUENCE_FILE)
        except OSError:
            pass
        lines = []
        try:
            ctx = security.lwm2m_context(cfg, lines.append)
            self.assertEqual((ctx.sender_id, ctx.recipient_id), (b"\x01", b""))
            self.assertEqual(ctx.next_ssn(), 0)
            with open(security.LWM2M_SEQUENCE_FILE) as f:
                self.assertEqual(f.read(), "64")  # reserved before use (B.1.1)
            self.assertTrue(lines[0].startswith("lwm2m: no /tmp/coap-config-test-lwm2m-ssn"))
            self.assertEqual(lines[1], "lwm2m: OSCORE context ready (sender_id 01)")
            self.assertNotIn(SECRET[:6], "".join(lines))
        finally:
            os.remove(security.LWM2M_SEQUENCE_FILE)
            security.LWM2M_SEQUENCE_FILE = "lwm2m.seq"
