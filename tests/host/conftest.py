"""Fixtures for the host tools: a scratch source tree, a board on a pty, a silent port."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hostutil import ROOT


@pytest.fixture
def src_tree(tmp_path):
    """A copy of the parts of the repo the tools read, safe to break."""
    tree = tmp_path / "src"
    for part in ("firmware", "boards", "lib"):
        shutil.copytree(ROOT / part, tree / part, ignore=shutil.ignore_patterns("__pycache__"))
    return tree


class PtyBoard:
    """tools.pty_board running the unix port with `root` as its filesystem."""

    def __init__(self, root):
        self.root = Path(root)
        self.proc = subprocess.Popen([sys.executable, "-m", "tools.pty_board", str(root)],
                                     cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self.port = self.proc.stdout.readline().strip()
        assert self.port.startswith("/dev/"), self.proc.stderr.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(timeout=10)
        self.proc.stdout.close()
        self.proc.stderr.close()


@pytest.fixture
def pty_board(tmp_path):
    """Start boards: pty_board() gives one on an empty filesystem, pty_board(dir) on dir."""
    boards = []

    def start(root=None):
        if root is None:
            root = tmp_path / ("board%d" % len(boards))
            root.mkdir()
        boards.append(PtyBoard(root))
        return boards[-1]

    yield start
    for b in boards:
        b.stop()


@pytest.fixture
def quiet_pty(tmp_path):
    """A serial port nothing answers on: a pty whose other side is held but never read."""
    master, slave = os.openpty()
    yield os.ttyname(slave)
    os.close(slave)
    os.close(master)
