# The private `_X = const()` copies of numbers, in the library, the firmware and
# the boards, must agree with where the numbers come from: numbers.py, or the
# C headers (errno, <netinet/in.h>) that CPython's errno and socket modules mirror.
import sys
import unittest

from coap import numbers, parse, server

_here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
_root = _here + "/../../.."

PUBLIC = {k: getattr(numbers, k) for k in dir(numbers) if k.isupper()}
ALIASES = {"BAD_OPTION": "BAD_OPTION", "TOO_LARGE": "REQUEST_ENTITY_TOO_LARGE",
           "UNSUPPORTED_FORMAT": "UNSUPPORTED_CONTENT_FORMAT", "INTERNAL_ERROR": "INTERNAL_SERVER_ERROR",
           "UNAVAILABLE": "SERVICE_UNAVAILABLE", "TEXT": "TEXT_PLAIN"}


def library_modules():
    """Every module of lib/coap that imports here (loops_viper is MicroPython's)."""
    import importlib
    import os
    names = sorted(f[:-3] for f in os.listdir(_root + "/lib/coap")
                   if f.endswith(".py") and f not in ("__init__.py", "loops_viper.py"))
    return [importlib.import_module("coap." + n) for n in names]


def firmware_modules():
    for p in (_root + "/firmware", _root + "/boards/common"):
        if p not in sys.path:
            sys.path.insert(0, p)
    import resources
    import sensors
    return [resources, sensors]


def from_file(name, path):
    """A module loaded from its file under its own name: each board has a board.py."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class Constants(unittest.TestCase):
    def test_private_copies_agree(self):
        if sys.implementation.name == "micropython":
            # MicroPython compiles `_X = const()` away: only CPython can see the copies
            raise unittest.SkipTest("checked under CPython")
        checked = 0
        having = set()
        for mod in library_modules() + firmware_modules():
            for k in dir(mod):
                if not k.startswith("_") or k.startswith("__") or not k[1:].isupper():
                    continue
                v = getattr(mod, k)
                if not isinstance(v, int):
                    continue
                name = ALIASES.get(k[1:], k[1:])
                if name in PUBLIC:
                    self.assertEqual(v, PUBLIC[name], "%s.%s" % (mod.__name__, k))
                    checked += 1
                    having.add(mod.__name__)
        self.assertTrue(checked >= 100, "only %d constants checked" % checked)
        self.assertTrue({"coap.server", "coap.rd", "resources", "sensors"} <= having, having)

    def test_system_copies_agree(self):
        """errno and <netinet/in.h> numbers the unix port does not expose (Linux's)."""
        if sys.implementation.name == "micropython":
            raise unittest.SkipTest("checked under CPython")
        import errno
        import socket
        unix = from_file("unix_board", _root + "/boards/unix/board.py")
        firmware_modules()
        if _root + "/boards/unix" not in sys.path:  # app imports a board (as test_app does)
            sys.path.insert(0, _root + "/boards/unix")
        import app
        copies = {app: ("EAFNOSUPPORT", "EADDRINUSE", "EADDRNOTAVAIL", "IPPROTO_IPV6",
                        "IPV6_V6ONLY"),
                  unix: ("IPPROTO_IP", "IP_ADD_MEMBERSHIP", "IPPROTO_IPV6", "IPV6_JOIN_GROUP")}
        for mod, names in copies.items():
            for name in names:
                want = getattr(errno, name, None) or getattr(socket, name)
                self.assertEqual(getattr(mod, "_" + name), want, "%s._%s" % (mod.__name__, name))

    def test_parse_status_copies_agree(self):
        if sys.implementation.name == "micropython":
            raise unittest.SkipTest("checked under CPython")
        self.assertEqual((server._OK, server._IGNORE, server._FORMAT_ERROR),
                         (parse.OK, parse.IGNORE, parse.FORMAT_ERROR))

    def test_observe_full_copy_agrees(self):
        if sys.implementation.name == "micropython":
            raise unittest.SkipTest("checked under CPython")
        from coap import dispatch, observe
        self.assertEqual(dispatch._FULL, observe.FULL)

    def test_walk_state_copies_agree(self):
        if sys.implementation.name == "micropython":
            raise unittest.SkipTest("checked under CPython")
        from coap import loops_py
        names = [k for k in dir(loops_py) if k.startswith("S_") or k == "STATE_SIZE"]
        self.assertEqual(len(names), 10)
        for k in names:
            self.assertEqual(getattr(parse, "_" + k), getattr(loops_py, k), k)

    def test_code_text(self):
        self.assertEqual(numbers.code_text(numbers.CONTENT), "2.05")
        self.assertEqual(numbers.code_text(numbers.BAD_OPTION), "4.02")
