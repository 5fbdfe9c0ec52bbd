"""Helpers for the host tools' tests: run a tool, read its one-line refusal.

(Not in conftest.py: tests/ has more than one conftest, and a plain import of
`conftest` could find another one.)"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run_tool(module, *args, cwd=ROOT, timeout=120):
    """`python -m tools.<module> ARGS`; the CompletedProcess (text)."""
    return subprocess.run([sys.executable, "-m", "tools." + module] + [str(a) for a in args],
                          cwd=cwd, capture_output=True, text=True, timeout=timeout)


def one_line_error(result):
    """The refusal a tool printed: exactly one line on stderr, with a non-zero exit."""
    assert result.returncode != 0, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]
