import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# lib/coap and the unit tests' helpers import under CPython too
for p in (os.path.join(ROOT, "lib"), os.path.join(HERE, "unit"), HERE, ROOT):
    if p not in sys.path:
        sys.path.insert(0, p)

from boardsim import SimulatedBoard  # noqa: E402


@pytest.fixture(scope="module")
def board():
    """One simulated board per test module, on a free port of 127.0.0.1 and ::1."""
    with SimulatedBoard() as b:
        yield b
