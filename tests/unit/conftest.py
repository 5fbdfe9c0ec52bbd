# pytest (CPython): the import paths tests/unit/run.py sets up for MicroPython,
# without compat/ (CPython has the real unittest), plus the board fakes.
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
_rooms = [os.path.join(_here, room) for room in ("coap", "firmware", "boards")]
for _p in [os.path.join(_here, "..", "..", "lib"), os.path.join(_here, "fakes"), _here] + _rooms:
    _p = os.path.normpath(_p)
    if _p not in sys.path:
        sys.path.insert(0, _p)
