"""What each installable package costs (tools/layout.py's PACKAGES), for `make size`.

Flash: the .mpy bytes of its modules per board architecture (given by tools.size).
Heap: on the 32-bit (wasm32) MicroPython (tools/run32.mjs), gc.mem_alloc() after
importing its modules from bytecode .mpy, less what its requirements took when
imported first, each package in a fresh interpreter. loops_viper is native code
only (no native emitter there): on wasm32 loops falls back to loops_py, as the
core's import on a board without viper would.
Level: what one more package level would cost, coap/x/__init__ against a module.
"""

import shutil
import subprocess
import tempfile
from pathlib import Path

from .build import compile_module
from .common import ROOT, Refused
from .layout import PACKAGES, requires

RUN32 = ROOT / "tools" / "run32.mjs"

_MEASURE = """\
import gc
def used():
    gc.collect()
    return gc.mem_alloc()
def load(names):
    for n in names:
        __import__(n)
before, own = %r, %r
start = used()
load(before)
deps = used()
load(own)
print("heap", deps - start, used() - deps)
"""

# One empty subpackage (a level) against one empty module, both bytecode
_LEVEL = """\
import gc
import coap
gc.collect()
a = gc.mem_alloc()
import coap.level
gc.collect()
b = gc.mem_alloc()
import coap.flat
gc.collect()
print("level", b - a, gc.mem_alloc() - b)
"""


def _run32(lib, code):
    node = shutil.which("node")
    if not node:
        raise Refused("node not found: the wasm32 MicroPython needs it; run `make peers`")
    out = subprocess.run([node, str(RUN32), str(lib)], input=code, capture_output=True,
                         text=True, timeout=120)
    words = out.stdout.split()
    if out.returncode != 0 or len(words) != 3:
        raise Refused("measuring on wasm32 failed: %s" % (out.stdout + out.stderr).strip()[-300:])
    return int(words[1]), int(words[2])


def _bytecode(exe, src, out):
    """lib/coap as bytecode .mpy in out/coap; the module names that compiled."""
    pkg = Path(out) / "coap"
    pkg.mkdir(parents=True)
    done = set()
    for source in sorted((Path(src) / "lib" / "coap").glob("*.py")):
        try:
            compile_module(exe, None, source, pkg / (source.stem + ".mpy"), source.name)
        except Refused:
            if "@micropython.viper" not in source.read_text():
                raise
            continue  # native only: skipped, as wasm32 skips it
        done.add(source.stem)
    return done


def _names(package, compiled):
    files = dict((p[0], p[3]) for p in PACKAGES)[package]
    mods = [f[:-3] for f in files if f[:-3] in compiled]
    return ["coap" if m == "__init__" else "coap." + m for m in mods]


def measure(exe, flash, src=ROOT):
    """[(package, modules, lines, {arch: .mpy bytes}, own heap, heap with what it
    requires)], and (heap of a package level, heap of a module) on wasm32.
    flash: {arch: {module: .mpy bytes}} from tools.size."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        compiled = _bytecode(exe, src, tmp)
        for name, _, _, files in PACKAGES:
            before = [n for dep in requires(name)[:-1] for n in _names(dep, compiled)]
            deps, own = _run32(tmp, _MEASURE % (before, _names(name, compiled)))
            lines = sum(len((Path(src) / "lib" / "coap" / f).read_text().splitlines())
                        for f in files)
            sizes = {arch: sum(mods[f[:-3]] for f in files) for arch, mods in flash.items()}
            rows.append((name, len(files), lines, sizes, own, own + deps))
        (Path(tmp) / "coap" / "level").mkdir()
        for empty in ("level/__init__", "flat"):
            (Path(tmp) / "empty.py").write_text("")
            compile_module(exe, None, Path(tmp) / "empty.py",
                           Path(tmp) / "coap" / (empty + ".mpy"), empty + ".py")
        level = _run32(tmp, _LEVEL)
    return rows, level


def report(rows, level):
    """The table `make size` prints, one line per package."""
    arches = list(rows[0][3])
    out = ["%-14s %7s %6s %s %10s %10s" % (
        "package", "modules", "lines", " ".join("%9s" % a for a in arches),
        "heap32", "+requires")]
    for name, n, lines, sizes, own, total in rows:
        out.append("%-14s %7d %6d %s %10d %10d" % (
            name, n, lines, " ".join("%9d" % sizes[a] for a in arches), own, total))
    out.append("(.mpy bytes per architecture; heap32: bytes of GC heap its modules take"
               " on wasm32 once imported from .mpy)")
    out.append("package level on wasm32: an empty coap/x/__init__ takes %d bytes of heap,"
               " an empty module %d" % level)
    return out
