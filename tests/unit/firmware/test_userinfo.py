# A URI's user:password@ is never shown: not in a config problem line, not in
# the RD lines (#21 finding 9). CoAP URIs have no userinfo (RFC 7252 §6), so
# such an "rd" is refused; RFC 3986 §3.2.1: never render it in the clear.
import sys
import unittest

_here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
for _p in (_here + "/../../../firmware",):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import config  # noqa: E402
from coap.client import parse_uri  # noqa: E402

URI = "coap://admin:hunter2@192.0.2.7:5683/rd"


class Userinfo(unittest.TestCase):
    def test_a_coap_uri_with_userinfo_is_refused(self):
        with self.assertRaises(ValueError):
            parse_uri(URI)
        self.assertEqual(parse_uri("coap://192.0.2.7:5683/rd"), ("192.0.2.7", 5683, [b"rd"]))

    def test_the_config_line_masks_it(self):
        cfg, problems = config.validate({"rd": URI})
        self.assertEqual(cfg["rd"], None)
        self.assertEqual(len(problems), 1)
        self.assertNotIn("hunter2", problems[0])
        self.assertIn('"coap://***@192.0.2.7:5683/rd"', problems[0])

    def test_the_environment_line_masks_it(self):
        cfg = dict(config.DEFAULTS)
        problems = config.from_env(cfg, {"COAP_RD": URI}.get)
        self.assertEqual(len(problems), 1)
        self.assertNotIn("hunter2", problems[0])
        self.assertIn("coap://***@192.0.2.7:5683/rd", problems[0])

    def test_masking(self):
        mask = config.without_userinfo
        self.assertEqual(mask("coap://u:p@[::1]/x@y"), "coap://***@[::1]/x@y")
        self.assertEqual(mask("coap://[::1]:5683/a@b"), "coap://[::1]:5683/a@b")
        self.assertEqual(mask("multicast:5683"), "multicast:5683")


if __name__ == "__main__":
    unittest.main()
