"""Copy a board's files to it over its serial port with mpremote; only what changed.

    python -m tools.deploy --board esp32 --port /dev/ttyUSB0 [--config config.json]
                           [--source] [--dry-run] [--timeout S]

Builds first (tools.build) and copies the .mpy files, or with --source the .py files.
Each local file's sha256 is compared with the one the board computes itself, and
only new and changed files are copied; a module's other form (x.py beside a new
x.mpy, or the reverse) is removed, since the board would import the .py. A real
board is then soft-reset so main.py restarts; the unix board is not (a soft reset
ends the unix port).

--dry-run reads the board's hashes and prints what would be copied and why, but
copies and removes nothing. A real board is soft-reset after it all the same:
reading the hashes stopped its program.
"""

import argparse
import hashlib
import json
import sys
from pathlib import Path

from .build import build
from .common import ROOT, Refused, run_cli
from .layout import BOARDS, CONFIG, check_board, compiled, counterpart, files_for
from .remote import Mpremote, check_port, soft_reset


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def check_config(path):
    try:
        json.loads(Path(path).read_text())
    except OSError as e:
        raise Refused("cannot read config %s: %s" % (path, e.strerror))
    except ValueError as e:
        raise Refused("config %s is not valid JSON: %s" % (path, e))


def local_files(board, source=False, config=None, src=ROOT, mpy_cross=None):
    """[(local file, destination)] to put on the board: the built tree, or the sources."""
    if source:
        return files_for(board, src, config)
    out = Path(src) / "build" / board
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
        check_config(config)
    check_port(port)
    files = local_files(board, source, config, src, mpy_cross)
    mp = Mpremote(port, timeout)
    paths = [dest for _, dest in files]
    paths += [counterpart(d) for d in paths if counterpart(d)]
    rows, copies, removals = plan(files, mp.hashes(paths))
    kind = "source .py" if source else "built .mpy"
    say("deploy: %d files (%s) for %s on %s" % (len(files), kind, board, port))
    for why, dest in rows:
        say("  %-9s  %s" % (why, dest))
    counts = "%d to copy, %d unchanged, %d to remove" % (
        len(copies), len(files) - len(copies), len(removals))
    if dry_run:
        say("deploy: dry run, nothing copied: %s" % counts)
    elif copies or removals:
        # Roughly 1 KB/s through the raw REPL on a slow board, on top of the usual wait.
        size = sum(Path(local).stat().st_size for local, _ in copies)
        mp.copy(copies, removals, timeout + size / 1000)
        done = counts.replace("to copy", "copied").replace("to remove", "removed")
        say("deploy: done: %s" % done)
    else:
        say("deploy: nothing to copy: all %d files unchanged" % len(files))
    if board != "unix":
        # Also after a dry run: reading the hashes interrupted the board's program.
        if soft_reset(port):
            say("deploy: soft reset: main.py is starting")
        else:
            say("deploy: the board did not confirm a soft reset; press its reset button")
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
    if not args.port:
        raise Refused("no port given: --port /dev/ttyUSB0 (make deploy PORT=...)")
    deploy(args.board, args.port, args.config, args.source, args.dry_run, args.timeout, args.src)


if __name__ == "__main__":
    sys.exit(run_cli("deploy", main, sys.argv[1:]))
