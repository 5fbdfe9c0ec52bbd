"""tools.size: the library's flash and heap footprint."""

import re

from hostutil import run_tool
from tools.layout import PACKAGES


def test_size_reports_flash_and_heap():
    result = run_tool("size")
    assert result.returncode == 0, result.stderr
    found = {}
    for line in result.stdout.splitlines():
        m = re.match(r"^(.+?)\s+(\d+) bytes$", line)
        if m:
            found[m.group(1)] = int(m.group(2))
    names = ["lib/coap .mpy, %s (%s)" % (part, arch) for arch in ("xtensawin", "armv6m")
             for part in ("server core", "all modules", "OSCORE modules")]
    assert set(found) == set(names + ["GC heap: code imported from .mpy",
                                      "GC heap: Server, buffers and table",
                                      "GC heap: OSCORE code imported from .mpy",
                                      "GC heap: one OSCORE context and its buffers"]), result.stdout
    per_module = [l for l in result.stdout.splitlines() if l.startswith("OSCORE modules (")]
    assert per_module and "oscore " in per_module[0] and "ccm " in per_module[0], result.stdout
    # An OSCORE context holds at least its two scratch datagrams.
    assert found["GC heap: one OSCORE context and its buffers"] > 2 * 1152
    assert all(n > 0 for n in found.values()), found
    for arch in ("xtensawin", "armv6m"):
        core = found["lib/coap .mpy, server core (%s)" % arch]
        assert core < found["lib/coap .mpy, all modules (%s)" % arch]
    # The Server holds at least its 1152-byte response buffer.
    assert found["GC heap: Server, buffers and table"] > 1152
    core_line = [l for l in result.stdout.splitlines() if l.startswith("server core: ")]
    assert core_line and "server" in core_line[0] and "rd" not in core_line[0].split(": ")[1].split(", ")


def test_size_reports_each_package_on_wasm32():
    result = run_tool("size")
    assert result.returncode == 0, result.stderr
    rows = {}
    for line in result.stdout.splitlines():
        words = line.split()
        if words and words[0].startswith("coap-") and len(words) == 7:
            rows[words[0]] = [int(n) for n in words[1:]]
    assert set(rows) == {name for name, _, _, _ in PACKAGES}, result.stdout
    for name, _, _, files in PACKAGES:
        modules, lines, xtensa, armv6m, own, total = rows[name]
        assert modules == len(files)
        assert lines > 10 * modules and xtensa > 0 and armv6m > 0
        assert own > 0
    # What a package costs with its requirements is its own cost and core's
    core = rows["coap-core"][4]
    for name in ("coap-observe", "coap-oscore", "coap-fleet"):
        own, total = rows[name][4:]
        assert abs(total - (own + core)) < 256, (name, rows)
    m = re.search(r"package level on wasm32: an empty coap/x/__init__ takes (\d+) bytes "
                  r"of heap, an empty module (\d+)$", result.stdout, re.M)
    assert m and int(m.group(1)) > int(m.group(2)) > 0, result.stdout


def test_size_takes_no_arguments():
    result = run_tool("size", "--board", "esp32")
    assert result.returncode == 1
    assert result.stderr.strip() == "size: takes no arguments"
