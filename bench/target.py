"""What a request costs on the target: the firmware on the emulated RP2040 over
PPP (../shared/targets/rp2040-net, as make test-target runs it), measured with
the emulator's cycle counter and the board's own allocator.

    python bench/target.py [-n 200]        (as root; boots and stops the board)
    KEEP=1 python bench/target.py           (leaves it running, and reuses it next time)

Reports, per CON GET sent one at a time from the namespace:
- emulated Cortex-M0+ cycles (the idle background subtracted), for a prepared
  answer (GET /actuators/led again) and for the full path (the same GET with
  Accept: text/plain, which no prepared answer takes; and GET /sensors/temp
  with Accept), with the median at 125 MHz;
- bytes allocated per datagram by the server's receive-and-answer loop
  (gc.mem_alloc() around Server.drain on the board, no collection between).
"""

import argparse
import json
import os
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "target"))
import run as target  # noqa: E402  (tests/target/run.py: boot, stop, the paths)

CONFIG = {"name": "bench-pico", "ppp": {"uart": 0, "baud": 115200, "tx": 0, "rx": 1}}
ACCEPT, TEXT = 17, 0
#: (label, path, Accept or None)
CASES = (("prepared GET /actuators/led", "actuators/led", None),
         ("full path GET /actuators/led, Accept text", "actuators/led", TEXT),
         ("full path GET /sensors/temp, Accept text", "sensors/temp", TEXT))

# Run on the board through mpremote: the firmware's own server, its datagrams
# answered by Server.drain as serve() does, with gc.mem_alloc() around each call
_ALLOC = """
import gc, select, time, app, board
server, socks, addresses, log = app.start()
s = socks[0]
s.setblocking(False)
p = select.poll()
p.register(s, select.POLLIN)
print("READY")
n = total = skipped = 0
try:
    while True:
        if not p.poll(%d):  # quiet: the sender is done
            if n:
                break
            continue
        a = gc.mem_alloc()
        k = server.drain(s, 64)
        d = gc.mem_alloc() - a
        if d < 0:  # the allocator collected meanwhile: not counted
            skipped += k
        else:
            n += k
            total += d
finally:
    board.disconnect()
print("ALLOC", n, total, skipped)
"""


def get(mid, path, accept):
    token = struct.pack(">H", mid)
    msg = struct.pack(">BBH", 0x42, 0x01, mid) + token
    last = 0
    for seg in path.split("/"):
        b = seg.encode()
        msg += bytes(((11 - last) << 4 | len(b),)) + b
        last = 11
    if accept is not None:
        msg += bytes(((ACCEPT - last) << 4 | (1 if accept else 0),))
        msg += bytes((accept,)) if accept else b""
    return msg


def cycles(n, idle_s=5.0):
    """Inside the namespace: {label: (median cycles, min, max)} per GET."""
    sys.path.insert(0, str(target.NET))
    from emu_stats import counters
    ctl = str(target.RUN / "ctl.sock")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(10)
    c0 = counters(ctl)
    time.sleep(idle_s)
    c1 = counters(ctl)
    idle = (c1["cycles"] - c0["cycles"]) / ((c1["nanos"] - c0["nanos"]) / 1e9)
    out = {"idle_cycles_per_s": round(idle)}
    mid = 0
    for label, path, accept in CASES:
        got = []
        for i in range(n + 5):
            mid = (mid + 1) & 0xFFFF
            before = counters(ctl)
            s.sendto(get(mid, path, accept), (target.BOARD_IP, 5683))
            while True:
                d = s.recv(2048)
                if d[2:4] == struct.pack(">H", mid):
                    break
            after = counters(ctl)
            dn = (after["nanos"] - before["nanos"]) / 1e9
            if i >= 5:  # the first ones prepare the answer
                got.append(after["cycles"] - before["cycles"] - idle * dn)
        out[label] = [round(statistics.median(got)), round(min(got)), round(max(got))]
    print(json.dumps(out))


def allocation(n):
    """Bytes allocated per datagram, the board running _ALLOC while the
    namespace sends n GETs of each case."""
    mp = [str(target.VENV / "bin" / "mpremote"), "connect", str(target.REPL), "resume"]
    subprocess.run(mp + ["exec", "pass"], check=True, capture_output=True, timeout=60)  # stop main
    before = len(target.board_output())
    board = subprocess.Popen(mp + ["exec", _ALLOC % 3000], stdout=subprocess.PIPE,
                             text=True)
    time.sleep(3)
    for _ in range(60):  # until the firmware's PPP link is up again, and bound
        if "READY" in target.board_output()[before:]:
            break
        time.sleep(1)
    sender = subprocess.run(["ip", "netns", "exec", target.NS, sys.executable, __file__,
                             "--send", str(n)], capture_output=True, text=True, timeout=600)
    out, _ = board.communicate(timeout=600)
    line = [ln for ln in out.splitlines() if ln.startswith("ALLOC")]
    if not line:
        raise RuntimeError("no figures from the board: %s %s" % (out, sender.stderr))
    _, got, nbytes, skipped = line[0].split()
    return int(got), int(nbytes), int(skipped)


def send(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    mid = 0x4000
    for _, path, accept in CASES:
        for _ in range(n):
            mid += 1
            for _ in range(3):  # an answer lost on the way: ask again
                s.sendto(get(mid, path, accept), (target.BOARD_IP, 5683))
                try:
                    s.recv(2048)
                    break
                except socket.timeout:
                    pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=200, help="GETs per case (default 200)")
    a = ap.parse_args()
    missing = target.needs()
    if missing:
        print("bench/target: needs " + missing)
        return 2
    try:
        target.boot(CONFIG, log=lambda line: print("bench/target: " + line, flush=True),
                    reuse=os.environ.get("KEEP") == "1")
        got = subprocess.run(["ip", "netns", "exec", target.NS, sys.executable, __file__,
                              "--cycles", str(a.n)], capture_output=True, text=True, check=True)
        figures = json.loads(got.stdout)
        print("idle background: %d cycles per emulated second (subtracted)"
              % figures.pop("idle_cycles_per_s"))
        for label, (med, lo, hi) in figures.items():
            print("%-44s %8d cycles/GET (min %d, max %d) = %.2f ms at 125 MHz"
                  % (label, med, lo, hi, med / 125e3))
        n, nbytes, skipped = allocation(a.n)
        print("allocated per datagram (Server.drain, %d datagrams): %.0f bytes%s"
              % (n, nbytes / n, " (%d more during a collection, not counted)" % skipped
                 if skipped else ""))
    finally:
        if os.environ.get("KEEP") != "1":
            target.stop()
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--cycles"]:
        cycles(int(sys.argv[2]))
    elif sys.argv[1:2] == ["--send"]:
        send(int(sys.argv[2]))
    else:
        sys.exit(main())
