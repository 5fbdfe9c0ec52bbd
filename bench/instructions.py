"""Instructions per request of the sensor board, counted by callgrind: a figure
that does not move with the machine's load, to judge a change by.

    python bench/instructions.py [PATH ...]      (default: PATHS below)

For each PATH, runs bench/count_board.py under `valgrind --tool=callgrind` for
N=1000 and N=3000 requests and prints one JSON line: user-space instructions
per request (the client's sendto/recvfrom, the server's recvfrom, handle and
sendto and the Python around them; the kernel's part is not counted). "floor"
is the same driver echoing each datagram: subtract it for the server's own
work. "put:PATH" is a PUT of "on" (the LED). "one-socket:PATH" answers PATH
with the same handlers behind the plain Server of bench/server_board.py (no Observe, no log ring): what the board's
configuration costs per request is the difference. Needs valgrind (Debian `valgrind`).
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


def collected(path, n, config, *extra):
    env = {**os.environ, "MICROPYPATH": "firmware:boards/unix:boards/common:lib"}
    out = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                          str(MICROPYTHON), "bench/count_board.py", path, str(n), config, *extra],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    m = re.search(r"Collected : (\d+)", out.stderr)
    if out.returncode != 0 or not m or "answered %d" % n not in out.stdout:
        raise RuntimeError("callgrind run failed for %s: %s" % (path, out.stderr[-500:]))
    return int(m.group(1))


def per_request(path):
    extra = ()
    if path.startswith(ONE_SOCKET):  # the same handlers behind bench/server_board.py's server
        path, extra = path[len(ONE_SOCKET):], ("one-socket",)
    with tempfile.TemporaryDirectory() as tmp:
        config = os.path.join(tmp, "config.json")
        with open(config, "w") as f:
            json.dump({"port": free_port()}, f)
        a, b = (collected(path, n, config, *extra) for n in COUNTS)
    return (b - a) / (COUNTS[1] - COUNTS[0])


def main():
    if not shutil.which("valgrind"):
        sys.exit("instructions: valgrind not found (Debian package valgrind)")
    paths = sys.argv[1:] or PATHS
    print(json.dumps({p: round(per_request(p)) for p in paths}))


if __name__ == "__main__":
    main()
