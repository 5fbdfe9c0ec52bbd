"""End-to-end tests: the board as `make run` starts it. Some report to the
conformance table (tests/interop/conformance.py), like the interop tests."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "interop"))

import conformance  # noqa: E402


def pytest_sessionfinish(session):
    conformance.write()
