"""How big the CoAP library is on a board: flash (.mpy bytes) and RAM (GC heap).

    python -m tools.size

Then per installable package (tools/pkgsize.py): its .mpy bytes and the heap
its modules take on the 32-bit wasm MicroPython.
Flash: lib/coap compiled with mpy-cross for each real board's architecture.
"Server core" counts the modules a Server actually imports; client, rd, multicast
and numbers load only when a board uses them.
RAM: on the unix port, gc.mem_alloc() after `import coap` (the code, loaded from
.mpy as on a board; a frozen build keeps it in flash instead) and after building
a Server with a small table (its buffers and tables). The unix port is 64-bit, so
its heap objects are up to twice the size of a 32-bit board's: an upper bound.
"""

import subprocess
import sys
import tempfile
from pathlib import Path

from . import pkgsize
from .build import compile_module, find_mpy_cross
from .common import ROOT, Refused, run_cli, venv_tool
from .layout import BOARDS

ARCHES = ("xtensawin", "armv6m")

# Runs on the unix port, with only the compiled library on its path.
_HEAP = """\
import gc
def get(req, resp):
    resp.payload(b"21.50")
import sys
gc.collect()
before = gc.mem_alloc()
import coap
import coap.observe  # the table below is observable: Server() would import it
import coap.prepared  # ... and prepared, as the sensor board's is
gc.collect()
code = gc.mem_alloc()
server = coap.Server((coap.Resource("sensors/temp", get=get, ct=0, obs=True, prepared=True),
                      coap.Resource("sensors/humidity", get=get, ct=0)), log=None)
gc.collect()
print("heap", code - before, gc.mem_alloc() - code,
      ",".join(m[5:] for m in sys.modules if m.startswith("coap.")))
# OSCORE: its modules' code, then one context with the layer's buffers
gc.collect()
before = gc.mem_alloc()
from coap.oscorectx import Context
from coap.oscore import Oscore
gc.collect()
code = gc.mem_alloc()
ctx = Context(bytes(16), b"", b"\x01", b"\x02")
layer = Oscore([ctx], 1152, None)  # no Echo: the layer alone
gc.collect()
print("oscore", code - before, gc.mem_alloc() - code)
"""
#: the modules a board with an OSCORE context loads on top of the server core
OSCORE_MODULES = ("oscore", "oscorectx", "oscorekept", "cose", "ccm", "aes", "hkdf")


def compile_lib(exe, arch, out, src=ROOT):
    """Compile lib/coap/*.py into out/coap/; returns {module: .mpy bytes}."""
    pkg = Path(out) / "coap"
    pkg.mkdir(parents=True, exist_ok=True)
    sizes = {}
    for source in sorted((Path(src) / "lib" / "coap").glob("*.py")):
        target = pkg / (source.stem + ".mpy")
        compile_module(exe, arch, source, target, "lib/coap/" + source.name)
        sizes[source.stem] = target.stat().st_size
    return sizes


def heap_bytes(lib_dir):
    micropython = venv_tool("micropython")
    if not micropython:
        raise Refused("micropython (the unix port) not found; run `make setup`")
    out = subprocess.run([micropython, "-c", _HEAP], capture_output=True, text=True,
                         timeout=60, cwd=lib_dir, env={"MICROPYPATH": str(lib_dir)})
    words = out.stdout.split()
    if out.returncode != 0 or len(words) != 7 or words[0] != "heap" or words[4] != "oscore":
        raise Refused("measuring the heap failed: %s" % (out.stdout + out.stderr).strip()[-300:])
    return int(words[1]), int(words[2]), words[3].split(","), int(words[5]), int(words[6])


def measure(src=ROOT, mpy_cross=None):
    """({arch: {module: .mpy bytes}}, code heap, server heap, modules a Server loads,
    OSCORE code heap, heap of one OSCORE context with its buffers, and
    tools.pkgsize's per-package rows and level cost)."""
    exe = find_mpy_cross(mpy_cross)
    with tempfile.TemporaryDirectory() as tmp:
        flash = {arch: compile_lib(exe, arch, Path(tmp) / arch, src) for arch in ARCHES}
        compile_lib(exe, BOARDS["unix"], Path(tmp) / "host", src)
        code, objects, core, osc_code, osc_objects = heap_bytes(Path(tmp) / "host")
    rows, level = pkgsize.measure(exe, flash, src)
    return flash, code, objects, ["__init__"] + core, osc_code, osc_objects, rows, level


def _row(name, n):
    return "%-44s %7d bytes" % (name, n)


def main(argv=None):
    if argv:
        raise Refused("takes no arguments")
    flash, code, objects, core, osc_code, osc_objects, rows, level = measure()
    for arch, sizes in flash.items():
        print(_row("lib/coap .mpy, server core (%s)" % arch, sum(sizes[m] for m in core)))
        print(_row("lib/coap .mpy, all modules (%s)" % arch, sum(sizes.values())))
        print(_row("lib/coap .mpy, OSCORE modules (%s)" % arch,
                   sum(sizes[m] for m in OSCORE_MODULES)))
    print(_row("GC heap: code imported from .mpy", code))
    print(_row("GC heap: Server, buffers and table", objects))
    print(_row("GC heap: OSCORE code imported from .mpy", osc_code))
    print(_row("GC heap: one OSCORE context and its buffers", osc_objects))
    print("server core: %s" % ", ".join(sorted(core)))
    arch = ARCHES[0]
    print("OSCORE modules (%s .mpy): %s" % (arch, ", ".join(
        "%s %d" % (m, flash[arch][m]) for m in OSCORE_MODULES)))
    print("(heap measured on the 64-bit unix port: a 32-bit board needs less;"
          " a frozen build keeps the code in flash)")
    print()
    for line in pkgsize.report(rows, level):
        print(line)


if __name__ == "__main__":
    sys.exit(run_cli("size", main, sys.argv[1:]))
