"""bench/lwm2mheap.py: LwM2M's heap, kept within what a Pico has to spare."""

import re
import subprocess
import sys

from hostutil import ROOT

SCRIPT = ROOT / "bench" / "lwm2mheap.py"


def run(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)


def test_lwm2m_takes_few_entries_and_little_heap():
    result = run()
    assert result.returncode == 0, result.stderr
    rows = {}
    for line in result.stdout.splitlines():
        m = re.match(r"^(wasm32|unix64)\s+(plain|lwm2m)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$", line)
        if m:
            rows[m.group(1), m.group(2)] = [int(m.group(i)) for i in range(3, 7)]
    assert set(rows) == {(p, c) for p in ("wasm32", "unix64") for c in ("plain", "lwm2m")}
    for port in ("wasm32", "unix64"):
        plain, lw = rows[port, "plain"], rows[port, "lwm2m"]
        # one entry per object (1, 3, 5, 3303, 3304, 3311) and per observable resource
        assert (plain[0], lw[0]) == (7, 16), result.stdout
        # the objects, not the code: 15.6 KB on wasm32 (63 KB when each
        # resource was an entry of its own); well within the ~68 KB a Pico
        # has free once serving (docs/memory.md)
        assert 0 < lw[2] - plain[2] < 20000, (port, result.stdout)
    m = re.search(r"app.start\(\) leaves (\d+) bytes \(7 entries\) plain, (\d+) \(16\)",
                  result.stdout)
    # 73.8 KB since OSCORE for LwM2M, 58.5 KB before: a seventh qstr pool
    # (14.7 KB) for the names the modules intern (docs/lwm2m.md)
    assert m and 0 < int(m.group(2)) - int(m.group(1)) < 80000, result.stdout


def test_a_bad_tree_is_one_line():
    result = run("/nonexistent")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == "lwm2mheap: /nonexistent is not a tree of this project with LwM2M\n"
