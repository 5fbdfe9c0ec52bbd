"""lib/ imports no board module: the library gets a socket, never the board (STYLE.md).

Read from the sources (the AST), so an import inside a function or behind a try
counts as much as one at the top.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# MicroPython's hardware modules (docs.micropython.org, "Libraries specific to ...")
HARDWARE = {"machine", "network", "esp", "esp32", "rp2", "pyb", "stm", "dht", "onewire",
            "ds18x20", "neopixel", "bluetooth", "espnow", "framebuf", "wm8960", "lcd160cr"}


def board_modules():
    """The hardware modules and every module the firmware and boards/ folders define."""
    names = set(HARDWARE)
    for folder in ("firmware", "boards"):
        for path in (ROOT / folder).rglob("*.py"):
            names.add(path.parent.name if path.name == "__init__.py" else path.stem)
    names.discard("manifest")  # a build script in each board folder, never imported
    return names


def imported(source):
    """(line, top-level module name) of each absolute import in the source."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.lineno, node.module.split(".")[0]


def board_imports(source, forbidden):
    return [(line, name) for line, name in imported(source) if name in forbidden]


def test_lib_imports_no_board_module():
    forbidden = board_modules()
    found = []
    for path in sorted((ROOT / "lib").rglob("*.py")):
        for line, name in board_imports(path.read_text(), forbidden):
            found.append("%s:%d imports %s" % (path.relative_to(ROOT), line, name))
    assert not found, "\n".join(found)


def test_the_check_sees_each_way_of_importing():
    forbidden = board_modules()
    for source in ("import machine", "from machine import Pin", "import network as net",
                   "def f():\n    import esp32", "try:\n    import rp2\nexcept ImportError:\n    pass",
                   "import board", "from drivers import dht22", "import wifiboard"):
        assert board_imports(source, forbidden), source
    assert not board_imports("import socket\nfrom .parse import Request\nfrom coap import Server",
                             forbidden)
