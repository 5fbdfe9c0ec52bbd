"""tools.size: the library's flash and heap footprint."""

import re

from hostutil import run_tool


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


def test_size_takes_no_arguments():
    result = run_tool("size", "--board", "esp32")
    assert result.returncode == 1
    assert result.stderr.strip() == "size: takes no arguments"
