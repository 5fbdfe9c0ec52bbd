# Runs tests/unit inside the MicroPython unix port:  micropython tests/unit/run.py
# (the same modules also run under CPython with pytest).
import sys

_here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
_root = _here + "/../.."
sys.path.insert(0, _here + "/compat")
sys.path.insert(0, _here)
# Tests by room: the library's modules, the firmware's, the boards' (one
# test module per module, test_<module>.py); helpers stay in tests/unit
ROOMS = ("coap", "firmware", "boards")
for _room in ROOMS:
    sys.path.insert(0, _here + "/" + _room)
sys.path.insert(0, _here + "/fakes")
sys.path.insert(0, _root + "/lib")
sys.path.insert(0, _root)

import unittest  # noqa: E402  (compat/unittest.py on MicroPython)

try:
    import cryptolib  # noqa: F401
except ImportError:  # a port built without it: a plain-Python AES for the tests only
    sys.path.insert(0, _here + "/nocrypto")



def test_modules():
    import os
    found = []
    for d in ("",) + ROOMS:
        found += [f[:-3] for f in os.listdir(_here + "/" + d if d else _here)
                  if f.startswith("test_") and f.endswith(".py")]
    return sorted(found)


def main(only=()):
    """Run the named test modules (all when none are named); True when all passed."""
    return unittest.main([__import__(n) for n in test_modules() if not only or n in only])


if __name__ == "__main__":
    sys.exit(0 if main(sys.argv[1:]) else 1)
