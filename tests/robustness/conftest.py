"""Robustness tests: raw datagrams, fuzzing and load against lib/coap and the board."""

import os
import sys

import pytest

# The conformance recorder lives with the interop tests; the raw peer reports to it too.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "interop"))

import conformance  # noqa: E402

_SUMMARY = []


@pytest.fixture
def summary():
    """summary(line): print line in the terminal summary, even when output is captured."""
    return _SUMMARY.append


def pytest_terminal_summary(terminalreporter):
    if _SUMMARY:
        terminalreporter.section("robustness numbers")
        for line in _SUMMARY:
            terminalreporter.write_line(line)


def pytest_sessionfinish(session):
    conformance.write()
