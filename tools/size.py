"""How big the CoAP library is on a board: flash (.mpy bytes) and RAM (GC heap).

    python -m tools.size

Flash: lib/coap compiled with mpy-cross for each real board's architecture.
RAM: on the unix port, gc.mem_alloc() after `import coap` and building a Server
with a small table, minus the same before; the modules imported are the .mpy
files, as on a board. The unix port is 64-bit, so its heap objects are up to twice
the size of a 32-bit board's: the heap number is an upper bound there.
"""

import subprocess
import sys
import tempfile
from pathlib import Path

from .build import compile_module, find_mpy_cross
from .common import ROOT, Refused, run_cli, venv_tool
from .layout import BOARDS

TARGET_BYTES = 8 * 1024
ARCHES = ("xtensawin", "armv6m")

# Runs on the unix port, with only the compiled library on its path.
_HEAP = """\
import gc
def get(req, resp):
    resp.payload(b"21.50")
gc.collect()
before = gc.mem_alloc()
import coap
server = coap.Server((coap.Resource("sensors/temp", get=get, ct=0),
                      coap.Resource("sensors/humidity", get=get, ct=0)), log=None)
gc.collect()
print("heap", gc.mem_alloc() - before)
"""


def compile_lib(exe, arch, out, src=ROOT):
    """Compile lib/coap/*.py into out/coap/; returns the total .mpy bytes."""
    pkg = Path(out) / "coap"
    pkg.mkdir(parents=True, exist_ok=True)
    total = 0
    for source in sorted((Path(src) / "lib" / "coap").glob("*.py")):
        target = pkg / (source.stem + ".mpy")
        compile_module(exe, arch, source, target, "lib/coap/" + source.name)
        total += target.stat().st_size
    return total


def heap_bytes(lib_dir):
    micropython = venv_tool("micropython")
    if not micropython:
        raise Refused("micropython (the unix port) not found; run `make setup`")
    out = subprocess.run([micropython, "-c", _HEAP], capture_output=True, text=True,
                         timeout=60, cwd=lib_dir, env={"MICROPYPATH": str(lib_dir)})
    words = out.stdout.split()
    if out.returncode != 0 or len(words) != 2 or words[0] != "heap":
        raise Refused("measuring the heap failed: %s" % (out.stdout + out.stderr).strip()[-300:])
    return int(words[1])


def measure(src=ROOT, mpy_cross=None):
    """{arch: .mpy bytes of lib/coap} and the heap bytes the server holds."""
    exe = find_mpy_cross(mpy_cross)
    with tempfile.TemporaryDirectory() as tmp:
        flash = {arch: compile_lib(exe, arch, Path(tmp) / arch, src) for arch in ARCHES}
        compile_lib(exe, BOARDS["unix"], Path(tmp) / "host", src)
        heap = heap_bytes(Path(tmp) / "host")
    return flash, heap


def _row(name, n):
    verdict = "within" if n <= TARGET_BYTES else "OVER"
    return "%-34s %7d bytes   target %d: %s" % (name, n, TARGET_BYTES, verdict)


def main(argv=None):
    if argv:
        raise Refused("takes no arguments")
    flash, heap = measure()
    for arch, n in flash.items():
        print(_row("lib/coap .mpy (%s)" % arch, n))
    print(_row("GC heap after import + Server", heap))
    print("(heap measured on the 64-bit unix port: a 32-bit board needs less)")


if __name__ == "__main__":
    sys.exit(run_cli("size", main, sys.argv[1:]))
