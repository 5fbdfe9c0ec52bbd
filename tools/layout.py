"""The deployed layout: which file of the repo goes where on a board.

Every board gets the same tree at its filesystem root:

    boot.py, main.py, ...   firmware/*.py (all but manifest.py)
    board.py                boards/<board>/board.py
    wifiboard.py, ...       boards/common/*.py (what the boards share)
    drivers/*.py            boards/common/drivers/*.py (sensor drivers)
    lib/coap/*.py           lib/coap/*.py (less testing.py: host-side only)
    config.json             the user's config, when one is given

build, deploy and the manifest test all take the list from files_for(), so that
what is compiled, what is copied and what the package manifests list cannot drift.
"""

import json
import os
import re
from pathlib import Path

from .common import ROOT, Refused

#: Boards and the mpy-cross architecture of their native emitter ("host": the
#: unix port on the machine that runs mpy-cross).
#: rp2040 is the Pico W (Wi-Fi), rp2040-ppp a plain Pico on PPP (a modem on a UART).
BOARDS = {"esp32": "xtensawin", "rp2040": "armv6m", "rp2040-ppp": "armv6m", "unix": "host"}

#: The .mpy version the firmware imports: MicroPython 1.29 reads v6.3.
MPY_VERSION = "6.3"

#: Run as source: MicroPython looks for these by their .py names.
SOURCE_ONLY = ("boot.py", "main.py")

CONFIG = "config.json"

#: lib/coap modules that stay on the host: coap.testing runs resources there.
HOST_ONLY = ("testing.py",)


def check_board(board):
    if board not in BOARDS:
        raise Refused("unknown board %r (known: %s)" % (board, ", ".join(sorted(BOARDS))))


def files_for(board, root=ROOT, config=None):
    """[(source path, destination path on the board)], sorted by destination.

    Sources are .py files (config aside); destinations are relative to the board's root."""
    check_board(board)
    root = Path(root)
    pairs = [(p, p.name) for p in (root / "firmware").glob("*.py") if p.name != "manifest.py"]
    pairs.append((root / "boards" / board / "board.py", "board.py"))
    common = root / "boards" / "common"
    pairs += [(p, p.name) for p in common.glob("*.py")]
    pairs += [(p, "drivers/" + p.name) for p in (common / "drivers").glob("*.py")]
    pairs += [(p, "lib/coap/" + p.name) for p in (root / "lib" / "coap").glob("*.py")
              if p.name not in HOST_ONLY]
    if config is not None:
        pairs.append((Path(config), CONFIG))
    return sorted(pairs, key=lambda pair: pair[1])


def compiled(dest):
    """The destination name of dest once built: modules become .mpy."""
    if dest in SOURCE_ONLY or not dest.endswith(".py"):
        return dest
    return dest[:-3] + ".mpy"


def counterpart(dest):
    """The other form of a module (x.py <-> x.mpy), or None. A board holding both
    imports the .py, so a deploy of one form removes the other."""
    if dest in SOURCE_ONLY:
        return None
    if dest.endswith(".py"):
        return dest[:-3] + ".mpy"
    if dest.endswith(".mpy"):
        return dest[:-4] + ".py"
    return None


PACKAGE_JSON = "firmware/package.json"
VERSION_FILE = "lib/coap/__init__.py"


def version(root=ROOT):
    """The version, as lib/coap/__init__.py writes it (read, not imported:
    the tools run without lib/ on the path)."""
    text = (Path(root) / VERSION_FILE).read_text()
    return re.search(r'^__version__ = "([^"]+)"$', text, re.M).group(1)


def write_package_json(root=ROOT):
    """Rewrite firmware/package.json's version (version()) and urls (for mip)
    from files_for(): every file but board.py, each relative to the
    package.json. A new module, such as a driver, needs only
    `python -m tools.layout` to be listed."""
    root = Path(root)
    path = root / PACKAGE_JSON
    data = json.loads(path.read_text())
    data["version"] = version(root)
    data["urls"] = [[dest, os.path.relpath(src, path.parent)]
                    for src, dest in files_for("unix", root) if dest != "board.py"]
    path.write_text(json.dumps(data, indent=2) + "\n")


if __name__ == "__main__":
    write_package_json()
    print("%s: written" % PACKAGE_JSON)
