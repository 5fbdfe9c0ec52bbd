"""Instructions per request of the sensor board, counted by callgrind: a figure
that does not move with the machine's load, to judge a change by.

    python bench/instructions.py [--layouts K] [PATH ...]   (default: PATHS below)

For each PATH, runs bench/count_board.py under `valgrind --tool=callgrind` for
N=1000 and N=3000 requests and prints one JSON line: user-space instructions
per request (the client's sendto/recvfrom, the server's recvfrom, handle and
sendto and the Python around them; the kernel's part is not counted). "floor"
is the same driver echoing each datagram: subtract it for the server's own
work. "put:PATH" is a PUT of "on" (the LED). "one-socket:PATH" answers PATH
with the same handlers behind the plain Server of bench/server_board.py (no
Observe, no log ring): what the board's configuration costs per request is the
difference. --layouts K counts each PATH over K layouts of the interpreter's
names (PADS) and prints their mean: to judge a change of a few hundred
instructions. Needs valgrind (Debian `valgrind`).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from support import free_port  # noqa: E402

MICROPYTHON = ROOT / ".venv" / "bin" / "micropython"
ONE_SOCKET = "one-socket:"
PATHS = ("/sensors/temp", "accept:/sensors/temp", "/actuators/led", "put:/actuators/led",
         "/board", "floor", ONE_SOCKET + "/sensors/temp")
COUNTS = (1000, 3000)


#: --layouts: names interned before the board starts (count_board.py's
#: COUNT_PAD). A change of a few names moves every qstr and the VM's map
#: lookup cache with them: one layout can be 1 % off either way.
PADS = (0, 7, 13, 29, 41, 53)


def collected(path, n, config, *extra, pad=0):
    env = {**os.environ, "MICROPYPATH": "firmware:boards/unix:boards/common:lib",
           "COUNT_PAD": str(pad)}
    out = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                          str(MICROPYTHON), "bench/count_board.py", path, str(n), config, *extra],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    m = re.search(r"Collected : (\d+)", out.stderr)
    if out.returncode != 0 or not m or "answered %d" % n not in out.stdout:
        raise RuntimeError("callgrind run failed for %s: %s" % (path, out.stderr[-500:]))
    return int(m.group(1))


def per_request(path, pad=0):
    extra = ()
    if path.startswith(ONE_SOCKET):  # the same handlers behind bench/server_board.py's server
        path, extra = path[len(ONE_SOCKET):], ("one-socket",)
    with tempfile.TemporaryDirectory() as tmp:
        config = os.path.join(tmp, "config.json")
        with open(config, "w") as f:
            json.dump({"port": free_port()}, f)
        a, b = (collected(path, n, config, *extra, pad=pad) for n in COUNTS)
    return (b - a) / (COUNTS[1] - COUNTS[0])


def main():
    if not shutil.which("valgrind"):
        sys.exit("instructions: valgrind not found (Debian package valgrind)")
    args = sys.argv[1:]
    layouts = 1
    if args[:1] == ["--layouts"]:
        if len(args) < 2 or not args[1].isdigit() or not 1 <= int(args[1]) <= len(PADS):
            sys.exit("instructions: --layouts takes 1 to %d" % len(PADS))
        layouts, args = int(args[1]), args[2:]
    paths = args or PATHS
    if layouts == 1:
        print(json.dumps({p: round(per_request(p)) for p in paths}))
        return
    for p in paths:  # the mean over the layouts, and each one
        counts = [round(per_request(p, pad)) for pad in PADS[:layouts]]
        print(json.dumps({p: round(sum(counts) / layouts), "layouts": counts}))


if __name__ == "__main__":
    main()
