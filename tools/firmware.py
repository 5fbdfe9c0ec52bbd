"""Build MicroPython with the firmware frozen in: the image `make flash` takes.

    python -m tools.firmware --board rp2040 --micropython ~/src/micropython
                             [--mp-board RPI_PICO_W | --board-dir DIR] [--jobs 2]
                             [--dry-run]

Runs the port's make with FROZEN_MANIFEST=boards/<board>/manifest.py: the
library, boards/common, the drivers and the firmware (boot.py and main.py
included) become bytecode in flash, beside what the port's boards freeze.
The tree must have its submodules (`make -C ports/<port> submodules`).

rp2 (rp2040, rp2040-ppp): needs cmake and the Arm toolchain. pico-sdk 2.x
builds the .uf2 with picotool, which it would fetch from the network, so the
build makes .elf and .bin only and this tool writes the .uf2 from the .bin.
rp2040-ppp needs a board with network.PPP, which no stock rp2 board has:
--board-dir names one. esp32: needs ESP-IDF (idf.py on PATH, IDF_PATH set).

Refuses, in one line on stderr, a missing or wrong source tree, a missing
submodule and a missing toolchain, naming what to install. --dry-run prints
the make command and needs neither tree nor toolchain (it says which is
missing). The build has its own folder, ports/<port>/build-<BOARD>-coap.
"""

import argparse
import os
import shlex
import shutil
import struct
import subprocess
import sys
from pathlib import Path

from .common import ROOT, Refused, run_cli
from .flash import _RP2040_FAMILY, _UF2_FAMILY_PRESENT, _UF2_MAGIC, check_uf2

#: Board -> (MicroPython port, its default board; None: must be named).
PORTS = {"esp32": ("esp32", "ESP32_GENERIC"), "rp2040": ("rp2", "RPI_PICO_W"),
         "rp2040-ppp": ("rp2", None)}
#: What each port's build needs on PATH, and where it comes from.
TOOLCHAINS = {
    "rp2": [("make", "Debian package make"), ("cmake", "Debian package cmake"),
            ("arm-none-eabi-gcc", "Debian packages gcc-arm-none-eabi "
             "libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib")],
    "esp32": [("make", "Debian package make"),
              ("idf.py", "ESP-IDF (the version ports/esp32/README.md names), "
               "then `. $IDF_PATH/export.sh`")],
}
#: Submodules the build reads, as (folder, a file it must hold).
SUBMODULES = {"rp2": [("lib/pico-sdk", "pico_sdk_init.cmake"), ("lib/tinyusb", "src"),
                      ("lib/micropython-lib", "micropython")],
              "esp32": [("lib/micropython-lib", "micropython")]}
#: The image `make flash` takes, in the port's build folder.
IMAGES = {"rp2": "firmware.uf2", "esp32": "firmware.bin"}
PPP_BOARD_HINT = ("rp2040-ppp needs a MicroPython board with network.PPP, which no stock "
                  "rp2 board has: name its folder with BOARD_DIR=... (--board-dir; "
                  "docs/flashing.md, Build an image with everything frozen in)")

_RP2040_FLASH = 0x10000000  # XIP base: where a .bin of the rp2 port starts


def check_tree(tree, port):
    """The MicroPython source tree as a Path, with what the port's build reads."""
    if not tree:
        raise Refused("no MicroPython source tree given: MICROPYTHON=<folder> (--micropython), "
                      "a clone of https://github.com/micropython/micropython")
    path = Path(tree).expanduser()
    if not path.is_dir():
        raise Refused("no such folder %s (MICROPYTHON: a MicroPython source tree)" % tree)
    if not (path / "py" / "mpconfig.h").is_file():
        raise Refused("%s is not a MicroPython source tree (no py/mpconfig.h)" % tree)
    if not (path / "ports" / port / "Makefile").is_file():
        raise Refused("%s has no ports/%s: a MicroPython tree too old or not whole" % (tree, port))
    for folder, inside in SUBMODULES[port]:
        if not (path / folder / inside).exists():
            raise Refused("%s/%s is missing or empty: run `make -C %s/ports/%s submodules`"
                          % (tree, folder, tree, port))
    return path.resolve()


def check_toolchain(port):
    for exe, where in TOOLCHAINS[port]:
        if not shutil.which(exe):
            raise Refused("%s not found: install %s" % (exe, where))
    if port == "esp32" and not os.environ.get("IDF_PATH"):
        raise Refused("IDF_PATH is not set: source ESP-IDF's export.sh first "
                      "(`. $IDF_PATH/export.sh`)")


def port_board(board, mp_board=None, board_dir=None):
    """(make arguments naming the port's board, the board's name)."""
    if mp_board and board_dir:
        raise Refused("give MICROPYTHON_BOARD or BOARD_DIR, not both")
    if board_dir:
        d = Path(board_dir).expanduser().resolve()
        if not (d / "mpconfigboard.h").is_file():
            raise Refused("%s is not a MicroPython board folder (no mpconfigboard.h)"
                          % board_dir)
        return ["BOARD_DIR=" + str(d)], d.name
    name = mp_board or PORTS[board][1]
    if name is None:
        raise Refused(PPP_BOARD_HINT)
    return ["BOARD=" + name], name


def command(board, tree, board_args, name, jobs=2):
    """(environment additions, the make command, the build folder)."""
    port = PORTS[board][0]
    build = "build-%s-coap" % name  # our own: FROZEN_MANIFEST is read when it is created
    manifest = ROOT / "boards" / board / "manifest.py"
    cmd = ["make", "-C", str(Path(tree) / "ports" / port)] + board_args + [
        "BUILD=" + build, "FROZEN_MANIFEST=" + str(manifest), "-j%d" % jobs]
    # Not on make's command line: there it would replace the Makefile's own CMAKE_ARGS
    more = os.environ.get("CMAKE_ARGS", "")
    env = {"CMAKE_ARGS": ("-DPICO_NO_PICOTOOL=1 " + more).strip()} if port == "rp2" else {}
    return env, cmd, Path(tree) / "ports" / port / build


def shown(env, cmd):
    return " ".join(["%s=%s" % (k, shlex.quote(v)) for k, v in env.items()] + [shlex.join(cmd)])


def check_build_folder(build, manifest):
    """The rp2 port's make runs cmake only for a new build folder, so a folder
    made with another manifest would go on freezing that one."""
    cache = build / "CMakeCache.txt"
    if not cache.is_file():
        return
    for line in cache.read_text(errors="replace").splitlines():
        if line.startswith("MICROPY_FROZEN_MANIFEST:") and line.split("=", 1)[1] != str(manifest):
            raise Refused("%s was made with another manifest (%s): remove it and build again"
                          % (build, line.split("=", 1)[1]))


def write_uf2(binary, uf2):
    """The flat image from the XIP base (firmware.bin) as UF2 blocks for the
    RP2040 (https://github.com/microsoft/uf2): 256 bytes of flash per block."""
    data = binary.read_bytes()
    count = (len(data) + 255) // 256
    with open(uf2, "wb") as f:
        for n in range(count):
            chunk = data[n * 256:(n + 1) * 256].ljust(256, b"\0")
            f.write(struct.pack("<8I", _UF2_MAGIC[0], _UF2_MAGIC[1], _UF2_FAMILY_PRESENT,
                                _RP2040_FLASH + n * 256, 256, n, count, _RP2040_FAMILY))
            f.write(chunk.ljust(476, b"\0"))
            f.write(struct.pack("<I", _UF2_MAGIC[2]))
    check_uf2(uf2, uf2.read_bytes())  # as make flash will, before it writes


def firmware(board, tree, mp_board=None, board_dir=None, jobs=2, dry_run=False, say=print):
    """Build (or with dry_run print) the image; returns its Path."""
    if board not in PORTS:
        raise Refused("no firmware image for board %r (known: %s)"
                      % (board, ", ".join(sorted(PORTS))))
    port = PORTS[board][0]
    if jobs < 1:
        raise Refused("JOBS must be 1 or more, not %d" % jobs)
    if dry_run:
        return _dry_run(board, tree, mp_board, board_dir, jobs, say)
    tree = check_tree(tree, port)
    check_toolchain(port)
    env, cmd, build = command(board, tree, *port_board(board, mp_board, board_dir), jobs)
    check_build_folder(build, ROOT / "boards" / board / "manifest.py")
    say(shown(env, cmd))
    if subprocess.run(cmd, env=dict(os.environ, **env)).returncode != 0:
        raise Refused("the MicroPython build failed; see its output above")
    image = build / IMAGES[port]
    if port == "rp2":
        write_uf2(build / "firmware.bin", image)
    say("firmware: %s (%d bytes), with %s frozen in"
        % (image, image.stat().st_size, "boards/%s/manifest.py" % board))
    say("flash it: make flash BOARD=%s FIRMWARE=%s%s"
        % (board, image, " PORT=/dev/ttyUSB0" if port == "esp32" else ""))
    return image


def _dry_run(board, tree, mp_board, board_dir, jobs, say):
    """Say what is missing, one line each, and print the command all the same."""
    port = PORTS[board][0]
    try:
        tree = check_tree(tree, port)
    except Refused as e:
        say("firmware: %s" % e)
        tree = Path(tree or "MICROPYTHON")
    try:
        check_toolchain(port)
    except Refused as e:
        say("firmware: %s" % e)
    try:
        board_args, name = port_board(board, mp_board, board_dir)
    except Refused as e:
        say("firmware: %s" % e)
        board_args, name = ["BOARD_DIR=BOARD_DIR"], "BOARD"
    env, cmd, build = command(board, tree, board_args, name, jobs)
    say(shown(env, cmd))
    say("firmware: dry run, nothing built; the image would be %s" % (build / IMAGES[port]))
    return build / IMAGES[port]


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m tools.firmware",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--board", required=True, help="esp32, rp2040 or rp2040-ppp")
    ap.add_argument("--micropython", default="", help="the MicroPython source tree")
    ap.add_argument("--mp-board", help="the port's board name (default: RPI_PICO_W for "
                    "rp2040, ESP32_GENERIC for esp32)")
    ap.add_argument("--board-dir", help="a board folder of its own (rp2040-ppp: one with "
                    "network.PPP)")
    ap.add_argument("--jobs", type=int, default=2, help="parallel compile jobs (default 2)")
    ap.add_argument("--dry-run", action="store_true", help="print the make command, build nothing")
    args = ap.parse_args(argv)
    firmware(args.board, args.micropython, args.mp_board, args.board_dir, args.jobs,
             args.dry_run)


if __name__ == "__main__":
    sys.exit(run_cli("firmware", main, sys.argv[1:]))
