"""Copy a board's files to it over its serial port with mpremote; only what changed.

    python -m tools.deploy --board esp32 --port /dev/ttyUSB0 [--config config.json]
                           [--source] [--dry-run] [--timeout S]

Builds first (tools.build) and copies the .mpy files, or with --source the .py files.
Each local file's sha256 is compared with the one the board computes itself, and
only new and changed files are copied; a module's other form (x.py beside a new
x.mpy, or the reverse) is removed, since the board would import the .py. The
board is then soft-reset so main.py restarts (tools/pty_board restarts the unix
port as a board would).

Each file goes to the board under a temporary name (x.mpy.part), every one is
checked against its sha256 on the board, and only then are they renamed into
place: a deploy killed at any point leaves each file the old one or the new one.

config.json is checked by the firmware's own config.load, run on the host's
unix port: a config the board would reject (and run on defaults) is refused.

--dry-run builds into a temporary folder, prints what would be copied and why,
and copies, removes and resets nothing. Without a board (no --port, or nothing
there) it lists the files it would compare with the board's.
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from .build import build
from .common import ROOT, Refused, run_cli, venv_tool
from .layout import BOARDS, CONFIG, check_board, compiled, counterpart, files_for
from .remote import Mpremote, check_port, soft_reset


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# The firmware's own check, on the host's unix port: what the board would say
_VALIDATE = """\
import sys, config
cfg, problems = config.load(sys.argv[1])
for p in problems:
    print(p)
"""


def check_config(path, src=ROOT):
    try:
        json.loads(Path(path).read_text())
    except OSError as e:
        raise Refused("cannot read config %s: %s" % (path, e.strerror))
    except ValueError as e:
        raise Refused("config %s is not valid JSON: %s" % (path, e))
    exe = venv_tool("micropython")
    if not exe:
        raise Refused("micropython (the unix port) not found to check %s; run `make setup`"
                      % path)
    env = dict(os.environ, MICROPYPATH=os.pathsep.join(
        str(Path(src) / d) for d in ("firmware", "lib")))
    out = subprocess.run([exe, "-c", _VALIDATE, str(path)], capture_output=True, text=True,
                         env=env, timeout=60)
    lines = out.stdout.strip().splitlines()
    if out.returncode != 0:
        raise Refused("the firmware could not check config %s: %s"
                      % (path, (out.stdout + out.stderr).strip().splitlines()[-1:]))
    if lines:
        more = " (and %d more)" % (len(lines) - 1) if len(lines) > 1 else ""
        raise Refused("config %s: the board would not take it: %s%s"
                      % (path, lines[0][len("config: "):], more))


def local_files(board, source=False, config=None, src=ROOT, mpy_cross=None, out=None):
    """[(local file, destination)] to put on the board: the built tree (in out,
    default SRC/build/BOARD), or the sources."""
    if source:
        return files_for(board, src, config)
    out = Path(out) if out else Path(src) / "build" / board
    build(board, src, out, mpy_cross)
    files = [(out / compiled(dest), compiled(dest)) for _, dest in files_for(board, src)]
    if config is not None:
        files.append((Path(config), CONFIG))
    return files


def plan(files, remote):
    """(rows, copies, removals): rows are (why, destination) for the report,
    why one of new, changed, unchanged, remove."""
    rows, copies, removals = [], [], []
    for local, dest in files:
        there = remote[dest]
        if there == "-":
            why = "new"
        elif there == sha256(local):
            why = "unchanged"
        else:
            why = "changed"  # also "?": something that is not a regular file is in the way
        rows.append((why, dest))
        if why != "unchanged":
            copies.append((local, dest))
        other = counterpart(dest)
        if other and remote.get(other, "-") != "-":
            rows.append(("remove", other))
            removals.append(other)
    return rows, copies, removals


def deploy(board, port, config=None, source=False, dry_run=False, timeout=10.0,
           src=ROOT, mpy_cross=None, say=print):
    check_board(board)
    if config is not None:
        check_config(config, src)
    if dry_run:
        with tempfile.TemporaryDirectory() as scratch:  # a dry run leaves build/ alone
            return _dry_run(board, port, config, source, timeout, src, mpy_cross, say,
                            Path(scratch) / board)
    check_port(port)
    files = local_files(board, source, config, src, mpy_cross)
    mp = Mpremote(port, timeout)
    rows, copies, removals = _plan(files, mp)
    _report(files, rows, copies, removals, source, board, port, say)
    counts = _counts(files, copies, removals)
    if copies or removals:
        # Roughly 1 KB/s through the raw REPL on a slow board, on top of the usual wait.
        size = sum(Path(local).stat().st_size for local, _ in copies)
        mp.copy(copies, removals, timeout + size / 1000,
                {dest: sha256(local) for local, dest in copies})
        done = counts.replace("to copy", "copied").replace("to remove", "removed")
        say("deploy: done: %s" % done)
    else:
        say("deploy: nothing to copy: all %d files unchanged" % len(files))
    if soft_reset(port):
        say("deploy: soft reset: main.py is starting")
    else:
        say("deploy: the board did not confirm a soft reset; press its reset button")
    return rows


def _plan(files, mp):
    paths = [dest for _, dest in files]
    paths += [counterpart(d) for d in paths if counterpart(d)]
    return plan(files, mp.hashes(paths))


def _counts(files, copies, removals):
    return "%d to copy, %d unchanged, %d to remove" % (
        len(copies), len(files) - len(copies), len(removals))


def _report(files, rows, copies, removals, source, board, port, say):
    kind = "source .py" if source else "built .mpy"
    say("deploy: %d files (%s) for %s on %s" % (len(files), kind, board, port or "no port"))
    for why, dest in rows:
        say("  %-9s  %s" % (why, dest))


def _dry_run(board, port, config, source, timeout, src, mpy_cross, say, out):
    files = local_files(board, source, config, src, mpy_cross, out)
    try:
        if not port:
            raise Refused("no port given")
        check_port(port)
        rows, copies, removals = _plan(files, Mpremote(port, timeout))
    except Refused as e:
        # No board to ask: say what would be compared, and stop there
        _report(files, [("compare", dest) for _, dest in files], [], [], source, board, port,
                say)
        say("deploy: dry run, no board (%s): would compare these %d files' sha256 with the "
            "board's and copy the new and changed ones" % (e, len(files)))
        return []
    _report(files, rows, copies, removals, source, board, port, say)
    say("deploy: dry run, nothing copied: %s" % _counts(files, copies, removals))
    say("deploy: dry run, no reset: reading the hashes stopped the board's program "
        "(press its reset button to restart main.py)")
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m tools.deploy", description=__doc__.split("\n")[0])
    ap.add_argument("--board", required=True, help="one of: " + ", ".join(sorted(BOARDS)))
    ap.add_argument("--port", default="", help="the board's serial port, e.g. /dev/ttyUSB0")
    ap.add_argument("--config", help="a config.json to put on the board")
    ap.add_argument("--source", action="store_true", help="copy the .py sources, not the build")
    ap.add_argument("--dry-run", action="store_true",
                    help="show what would be copied, copy nothing")
    ap.add_argument("--timeout", type=float, default=10.0,
                    help="seconds to wait for the board's raw REPL (default 10)")
    ap.add_argument("--src", default=str(ROOT), help="the source tree (default: this repo)")
    args = ap.parse_args(argv)
    if not args.port and not args.dry_run:
        raise Refused("no port given: --port /dev/ttyUSB0 (make deploy PORT=...)")
    deploy(args.board, args.port, args.config, args.source, args.dry_run, args.timeout, args.src)


if __name__ == "__main__":
    sys.exit(run_cli("deploy", main, sys.argv[1:]))
