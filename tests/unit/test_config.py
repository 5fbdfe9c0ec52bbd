# firmware/config.py: settings from the environment (make run COAP_PORT=...)
# and where an invalid config file goes wrong.
import sys
import unittest

_here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
for _p in (_here + "/../../firmware",):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import config  # noqa: E402


class Environment(unittest.TestCase):
    def test_coap_port_sets_the_port(self):
        cfg = dict(config.DEFAULTS)
        self.assertEqual(config.from_env(cfg, {"COAP_PORT": "5684"}.get), [])
        self.assertEqual(cfg["port"], 5684)

    def test_a_bad_coap_port_is_one_line_naming_it(self):
        for bad in ("abc", "0", "70000", "-1"):
            cfg = dict(config.DEFAULTS)
            problems = config.from_env(cfg, {"COAP_PORT": bad}.get)
            self.assertEqual(problems, ['config: COAP_PORT: expected an integer from 1 to '
                                        '65535, got "%s"; using 5683' % bad])
            self.assertEqual(cfg["port"], 5683)


if __name__ == "__main__":
    unittest.main()
