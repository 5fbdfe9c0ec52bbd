"""tools.size: the library's flash and heap footprint, against the 8 KB targets."""

import re

from hostutil import run_tool


def test_size_reports_flash_and_heap():
    result = run_tool("size")
    assert result.returncode == 0, result.stderr
    found = {}
    for line in result.stdout.splitlines():
        m = re.match(r"^(.+?)\s+(\d+) bytes\s+target 8192: (within|OVER)$", line)
        if m:
            found[m.group(1)] = int(m.group(2))
    assert set(found) == {"lib/coap .mpy (xtensawin)", "lib/coap .mpy (armv6m)",
                          "GC heap after import + Server"}, result.stdout
    assert all(n > 0 for n in found.values()), found
    # The heap holds at least the Server's 1152-byte response buffer.
    assert found["GC heap after import + Server"] > 1152


def test_size_takes_no_arguments():
    result = run_tool("size", "--board", "esp32")
    assert result.returncode == 1
    assert result.stderr.strip() == "size: takes no arguments"
