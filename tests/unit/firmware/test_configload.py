# firmware/config.py: settings from the environment (make run COAP_PORT=...)
# and where an invalid config file goes wrong.
import sys
import unittest

_here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
for _p in (_here + "/../../../firmware",):
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


class Fields(unittest.TestCase):
    def test_observe_con_every_0_is_non_only(self):
        cfg, problems = config.validate({"observe_con_every": 0})
        self.assertEqual((cfg["observe_con_every"], problems), (0, []))

    def test_a_negative_observe_con_every_is_one_line(self):
        cfg, problems = config.validate({"observe_con_every": -1})
        self.assertEqual(problems, ["config: observe_con_every: expected an integer from 0 "
                                    "to 1000 (0: NON only, one CON a day), got -1; using 20"])
        self.assertEqual(cfg["observe_con_every"], 20)


class JsonPosition(unittest.TestCase):
    def test_where_a_config_goes_wrong(self):
        from jsonpos import error_position
        cases = (
            ('{"port": 5683,', (1, 15, "end of file")),
            ('{\n  "port": 5683\n  "name": "x"\n}', (3, 3, repr('"'))),
            ("[1, 2,]", (1, 7, repr("]"))),
            ('{"a": tru}', (1, 7, repr("t"))),
            ('{"a": "x\ny"}', (1, 9, repr("\n"))),  # a raw newline in a string
            ('{"a": 1} x', (1, 10, repr("x"))),
            ('{"a": 1.}', (1, 9, repr("}"))),
            ('{"a": "\\q"}', (1, 9, repr("q"))),
            ("", (1, 1, "end of file")),
        )
        for text, where in cases:
            self.assertEqual(error_position(text), where, text)

    def test_valid_json_has_no_error(self):
        from jsonpos import error_position
        for text in ('{"a": [1, -2.5e+3, true, false, null, "x\\u00e9\\n"]}', " [] ", '"s"'):
            self.assertIsNone(error_position(text), text)


if __name__ == "__main__":
    unittest.main()
