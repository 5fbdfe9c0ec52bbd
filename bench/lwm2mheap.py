"""Heap that LwM2M takes on a board: what app.start() builds (the board's
handlers, its resource table, the Server), without and with an "lwm2m"
config, on the 32-bit wasm MicroPython (tools/run32.mjs) and the 64-bit unix
port, from .mpy as deployed.

    .venv/bin/python bench/lwm2mheap.py [TREE]

TREE: another checkout of the project to measure (default: this one), e.g.
one made with `git worktree add` at an earlier commit.

The config is the default one (a DHT22: temperature and humidity) and, with
LwM2M, {"server": "coap://192.0.2.9"}. Sockets, network and fleet (its
registration) are left out: wasm32 has no sockets. Per config it
prints the table's entries, the heap the modules' code takes (gc.mem_alloc()
after a first build, its objects dropped) and the heap the built objects
hold (a second build, modules loaded). wasm32 runs bytecode: loops_viper is
native only, so loops_py stands in there, as on a port without viper; and
that port never frees a generator (about 100 bytes each, measured), so its
figures count every generator a build ran: an upper bound for a board.
"""

import json
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tools.build import compile_module, find_mpy_cross  # noqa: E402
from tools.common import ROOT, Refused, run_cli, venv_tool  # noqa: E402
from tools.layout import BOARDS  # noqa: E402

RUN32 = ROOT / "tools" / "run32.mjs"
#: compiled into the library folder, each tree to its top (coap/, drivers/, firmware's modules)
TREES = (("lib", "coap"), ("boards/common", "drivers"), ("firmware", ""))

# Runs on MicroPython with only the compiled tree on its path. LWM2M: 0 or 1.
_MEASURE = """\
import gc
import os
import sys
LWM2M, MODULES = %d, %r
if not hasattr(os, "urandom"):  # wasm32 has none (the Echo's secret asks for one)
    import random
    os.urandom = lambda n: bytes(random.getrandbits(8) for _ in range(n))
def used():
    gc.collect()
    return gc.mem_alloc()

class Driver:
    def read(self, out):
        out[0] = 2150
        out[1] = 4500
        return True

class Board:
    name = "unix"
    def open_sensor(self, spec, module):
        return Driver()
    def led(self):
        return 0
    def set_led(self, on):
        pass

def build():
    # app.start(), less the network: config, sensors, handlers, table, Server
    import config as board_config
    import resources
    import security
    import sensorconfig
    import sensors
    import sleep  # noqa: F401  (app imports it: deep sleep, kept observers)
    import update
    from coap import Server
    from logring import LogRing
    log = LogRing(echo=lambda line: None)
    cfg, problems = board_config.validate(
        {"lwm2m": {"server": "coap://192.0.2.9"}} if LWM2M else {})
    assert not problems, problems
    b = Board()
    specs, problems = sensorconfig.parse(cfg["sensors"], None, "dht22")
    assert not problems, problems
    readings = sensors.Sensors(specs, b, cfg["name"], log)
    readings.refresh(0)
    handlers = resources.SensorBoard(b, cfg, log, readings)
    handlers.updater = update.Updater(None, log)
    handlers.app_version = update.running().encode()
    table = resources.table(handlers, cfg)
    objects = None
    if LWM2M:
        import lwm2mboard
        try:  # with the updater: Firmware Update, object 5
            objects = lwm2mboard.Objects(b, cfg, readings, handlers.updater,
                                         handlers.app_version, log)
        except TypeError:  # a tree from before object 5
            objects = lwm2mboard.Objects(b, cfg, readings)
        table += tuple(objects.resources())
    server = Server(table, log=log, observers=cfg["observers"],
                    con_every=cfg["observe_con_every"],
                    amplification_limit=cfg["amplification_limit"],
                    held_requests=cfg["held_requests"],
                    oscore=security.contexts(cfg, log), open=cfg["open"])
    handlers.server = server
    if objects is not None:
        objects.server = server
    server.tick = resources.ChangeWatch(server, readings, cfg["observe_threshold"]).tick
    return server, handlers, objects

if MODULES is None:  # which modules a build loads
    build()
    print("modules", " ".join(sorted(sys.modules)))
else:
    start = used()
    for name in MODULES:
        __import__(name)
    code = used()
    built = build()
    print("heap", len(built[0].resources), code - start, used() - code)
"""

# app.start() itself on the unix port (sockets on 127.0.0.1, the LwM2M
# registration sent to the discard port): what it leaves on the heap, the
# modules it imports on its way (LwM2M's, the registration's) included
_APP = """\
import gc
import app
gc.collect()
before = gc.mem_alloc()
server, socks, addresses, log = app.start(%r, log=lambda line: None)
gc.collect()
print("app", len(server.resources), gc.mem_alloc() - before)
for s in socks:
    s.close()
"""
_LWM2M = {"server": "coap://127.0.0.1:9"}


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def compile_tree(exe, arch, out, src=ROOT):
    """The firmware's and library's modules as .mpy under out, laid out for
    import; a native-only module is skipped where arch is None (bytecode)."""
    for tree, sub in TREES:
        base = Path(src) / tree
        for source in sorted((base / sub).glob("*.py")):
            dest = Path(out) / sub / (source.stem + ".mpy")
            dest.parent.mkdir(parents=True, exist_ok=True)
            if source.name in ("boot.py", "main.py"):
                continue
            try:
                compile_module(exe, arch, source, dest, source.name)
            except Refused:
                if arch is not None or "@micropython.viper" not in source.read_text():
                    raise


def on_wasm32(lib, code):
    node = shutil.which("node")
    if not node:
        raise Refused("node not found: the wasm32 MicroPython needs it; run `make peers`")
    return subprocess.run([node, str(RUN32), str(lib)], input=code, capture_output=True,
                          text=True, timeout=120)


def on_unix(lib, code):
    micropython = venv_tool("micropython")
    if not micropython:
        raise Refused("micropython (the unix port) not found; run `make setup`")
    return subprocess.run([micropython, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=lib, env={"MICROPYPATH": str(lib)})


def _run(port, run, lib, lwm2m, modules, word, count, code=None):
    out = run(lib, code or _MEASURE % (lwm2m, modules))
    words = out.stdout.split()
    if out.returncode != 0 or not words or words[0] != word or (count and len(words) != count):
        raise Refused("measuring on %s failed: %s"
                      % (port, (out.stdout + out.stderr).strip()[-300:]))
    return words[1:]


def measure(src=ROOT):
    """{(port, lwm2m): (table entries, code heap, objects heap)}: the modules
    a build loads are found by one run, then measured apart in another; and
    {("app", lwm2m): (table entries, heap)} of app.start() on the unix port."""
    exe = find_mpy_cross()
    got = {}
    with tempfile.TemporaryDirectory() as tmp:
        for port, arch, run in (("wasm32", None, on_wasm32),
                                ("unix64", BOARDS["unix"], on_unix)):
            lib = Path(tmp) / port
            compile_tree(exe, arch, lib, src)
            for lwm2m in (0, 1):
                modules = _run(port, run, lib, lwm2m, None, "modules", 0)
                got[port, lwm2m] = tuple(int(w) for w in _run(port, run, lib, lwm2m, modules,
                                                              "heap", 4))
        # the unix board too, for app.start()
        for source in [Path(src) / "boards" / "unix" / "board.py"] + sorted(
                (Path(src) / "boards" / "common").glob("*.py")):
            compile_module(exe, BOARDS["unix"], source, lib / (source.stem + ".mpy"), source.name)
        for lwm2m in (0, 1):
            config = Path(tmp) / ("config%d.json" % lwm2m)
            cfg = {"bind": ["127.0.0.1"], "port": _free_port()}
            if lwm2m:
                cfg["lwm2m"] = _LWM2M
            config.write_text(json.dumps(cfg))
            got["app", lwm2m] = tuple(int(w) for w in _run(
                "the unix port", on_unix, lib, lwm2m, None, "app", 3, _APP % str(config)))
    return got


def main(argv):
    if len(argv) > 1:
        raise Refused("takes at most one argument, the tree to measure")
    src = Path(argv[0]) if argv else ROOT
    if not (src / "firmware" / "lwm2mboard.py").is_file():
        raise Refused("%s is not a tree of this project with LwM2M" % src)
    got = measure(src)
    print("%-8s %-8s %7s %9s %9s %9s" % ("port", "config", "entries", "code", "objects",
                                          "total"))
    for (port, lwm2m), (entries, code, objects) in ((k, v) for k, v in got.items()
                                                    if k[0] != "app"):
        print("%-8s %-8s %7d %9d %9d %9d" % (port, "lwm2m" if lwm2m else "plain", entries,
                                             code, objects, code + objects))
    for port in ("wasm32", "unix64"):
        plain, lw = got[port, 0], got[port, 1]
        print("%s: LwM2M adds %d bytes of heap (%d code, %d objects)" % (
            port, lw[1] + lw[2] - plain[1] - plain[2], lw[1] - plain[1], lw[2] - plain[2]))
    print("unix64: app.start() leaves %d bytes (%d entries) plain, %d (%d) with LwM2M"
          % (got["app", 0][1], got["app", 0][0], got["app", 1][1], got["app", 1][0]))
    print("(bytes of GC heap, gc.mem_alloc(); code: modules imported from .mpy,"
          " which a frozen image keeps in flash)")


if __name__ == "__main__":
    sys.exit(run_cli("lwm2mheap", main, sys.argv[1:]))
