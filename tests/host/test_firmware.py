"""tools.firmware (make firmware) without a MicroPython tree or a toolchain:
what the board manifests freeze, the make command for each board, the image
`make flash` takes, and every refusal."""

import ast
import os
import shlex
import struct
import subprocess
import sys

import pytest

from hostutil import ROOT, Manifest, one_line_error, run_tool
from tools.flash import check_uf2
from tools.layout import files_for

#: Modules in C in every MicroPython build the firmware runs on
BUILT_IN = {"array", "binascii", "cryptolib", "gc", "hashlib", "json", "machine", "micropython",
            "network", "os", "random", "select", "socket", "sys", "time"}
#: What else the firmware imports, by port: the port's C modules, and what
#: its boards manifest freezes (dht and onewire from micropython-lib, rp2.py)
FROM_PORT = {"esp32": {"esp32", "dht", "onewire"}, "rp2040": {"rp2", "dht", "onewire"},
             "rp2040-ppp": {"rp2", "dht", "onewire"}}
#: Imported only under CPython: coap/aes.py's backend where there is no cryptolib
HOST_ONLY = {"cryptography"}
BOARDS = ["esp32", "rp2040", "rp2040-ppp"]
MPY = "/src/micropython"


def imports(path):
    """Top-level names a module imports, less those tried in a try/except
    ImportError (a CPython fallback, say)."""
    tree = ast.parse(path.read_text())
    tried = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
                "ImportError" in ast.dump(h.type) for h in node.handlers if h.type):
            tried.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    names = set()
    for node in ast.walk(tree):
        if id(node) in tried:
            continue
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def top_name(dest):
    """The name a module on the board is imported by: app.py app,
    drivers/dht22.py drivers, lib/coap/parse.py coap (lib/ is on sys.path)."""
    parts = dest.removeprefix("lib/").split("/")
    return parts[0].removesuffix(".py")


@pytest.mark.parametrize("board", BOARDS)
def test_the_manifest_freezes_every_module_the_firmware_imports(board):
    manifest = Manifest(ROOT / "boards" / board / "manifest.py")
    frozen = {top_name(dest) for src, dest in files_for(board)
              if src.resolve() in manifest.sources}
    needed = set().union(*(imports(src) for src, _ in files_for(board)))
    assert needed - frozen - BUILT_IN - FROM_PORT[board] - HOST_ONLY == set()
    # A FROZEN_MANIFEST replaces the board's own: the port's modules come back
    # through the port's boards manifest (_boot.py, which mounts the filesystem)
    assert manifest.ports == {"$(PORT_DIR)/boards/manifest.py"}


@pytest.mark.parametrize("board", ["rp2040", "rp2040-ppp"])
def test_the_rp2_images_keep_the_networking_bundle_of_the_pico_w(board):
    assert Manifest(ROOT / "boards" / board / "manifest.py").requires == {"bundle-networking"}


def test_a_second_metadata_in_one_package_is_refused(tmp_path):
    # MicroPython's build refuses it ("Duplicate call to metadata()"): an
    # include() is the same package, a require() a package of its own
    (tmp_path / "inner.py").write_text('metadata(version="1")\n')
    (tmp_path / "outer.py").write_text('metadata(version="1")\ninclude("inner.py")\n')
    with pytest.raises(ValueError, match="duplicate call to metadata"):
        Manifest(tmp_path / "outer.py")


@pytest.fixture
def tree(tmp_path):
    """The files of a MicroPython tree with submodules that the tool looks at."""
    top = tmp_path / "micropython"
    for f in ("py/mpconfig.h", "ports/rp2/Makefile", "ports/esp32/Makefile",
              "lib/pico-sdk/pico_sdk_init.cmake", "lib/tinyusb/src/tusb.h",
              "lib/micropython-lib/micropython/README.md"):
        (top / f).parent.mkdir(parents=True, exist_ok=True)
        (top / f).write_text("")
    return top


@pytest.fixture
def board_dir(tmp_path):
    d = tmp_path / "RPI_PICO_PPP"
    d.mkdir()
    (d / "mpconfigboard.h").write_text("")
    return d


FAKE_MAKE = """#!%s
# Records its command line, then does what the port's make does for the tool:
# a firmware.bin in the build folder (FAKE_FAIL=1: fails instead)
import os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_LOG"], "w") as f:
    f.write("CMAKE_ARGS=%%s make %%s" %% (os.environ.get("CMAKE_ARGS", ""), " ".join(args)))
if os.environ.get("FAKE_FAIL"):
    sys.exit(2)
build = os.path.join(args[args.index("-C") + 1],
                     [a for a in args if a.startswith("BUILD=")][0][6:])
os.makedirs(build, exist_ok=True)
with open(os.path.join(build, "firmware.bin"), "wb") as f:
    f.write(os.urandom(1000))
""" % sys.executable


@pytest.fixture
def toolchain(tmp_path):
    """env for the tool with PATH holding only the named (fake) programs."""
    def make(*names, **extra):
        bin_dir = tmp_path / "bin"
        bin_dir.mkdir(exist_ok=True)
        for name in names:
            (bin_dir / name).write_text(FAKE_MAKE if name == "make" else "#!/bin/true\n")
            (bin_dir / name).chmod(0o755)
        env = {k: v for k, v in os.environ.items() if k not in ("IDF_PATH", "CMAKE_ARGS")}
        env.update(PATH=str(bin_dir), FAKE_LOG=str(tmp_path / "make.log"), **extra)
        return env
    return make


RP2_TOOLS = ("make", "cmake", "arm-none-eabi-gcc")


def firmware(*args, env=None):
    return run_tool("firmware", *args, env=env)


@pytest.mark.parametrize("board, port, board_arg, build", [
    ("rp2040", "rp2", "BOARD=RPI_PICO_W", "build-RPI_PICO_W-coap"),
    ("rp2040-ppp", "rp2", "BOARD_DIR={board_dir}", "build-RPI_PICO_PPP-coap"),
    ("esp32", "esp32", "BOARD=ESP32_GENERIC", "build-ESP32_GENERIC-coap"),
])
def test_a_dry_run_prints_the_ports_make(tree, board_dir, toolchain, board, port, board_arg,
                                         build):
    extra = ["--board-dir", board_dir] if board == "rp2040-ppp" else []
    out = firmware("--board", board, "--micropython", tree, "--dry-run", *extra,
                   env=toolchain(*RP2_TOOLS, "idf.py", IDF_PATH="/opt/esp-idf"))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    env = ["CMAKE_ARGS=-DPICO_NO_PICOTOOL=1"] if port == "rp2" else []
    assert shlex.split(lines[0]) == env + [
        "make", "-C", "%s/ports/%s" % (tree, port), board_arg.format(board_dir=board_dir),
        "BUILD=" + build, "FROZEN_MANIFEST=%s/boards/%s/manifest.py" % (ROOT, board), "-j2"]
    image = "firmware.uf2" if port == "rp2" else "firmware.bin"
    assert lines[1] == ("firmware: dry run, nothing built; the image would be %s/ports/%s/%s/%s"
                        % (tree, port, build, image))


def test_a_dry_run_for_the_esp32_without_esp_idf_or_sources_says_so(toolchain):
    out = firmware("--board", "esp32", "--dry-run", "--mp-board", "ESP32_GENERIC_S3",
                   env=toolchain("make"))
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "firmware: no MicroPython source tree given: MICROPYTHON=<folder> (--micropython), "
        "a clone of https://github.com/micropython/micropython",
        "firmware: idf.py not found: install ESP-IDF (the version ports/esp32/README.md "
        "names), then `. $IDF_PATH/export.sh`",
        "make -C MICROPYTHON/ports/esp32 BOARD=ESP32_GENERIC_S3 "
        "BUILD=build-ESP32_GENERIC_S3-coap FROZEN_MANIFEST=%s/boards/esp32/manifest.py -j2" % ROOT,
        "firmware: dry run, nothing built; the image would be "
        "MICROPYTHON/ports/esp32/build-ESP32_GENERIC_S3-coap/firmware.bin"]


def test_a_build_runs_the_ports_make_and_writes_the_uf2_flash_takes(tree, toolchain, tmp_path):
    env = toolchain(*RP2_TOOLS)
    out = firmware("--board", "rp2040", "--micropython", tree, "--jobs", "1", env=env)
    assert out.returncode == 0, out.stderr
    build = tree / "ports" / "rp2" / "build-RPI_PICO_W-coap"
    assert (tmp_path / "make.log").read_text().split() == [
        "CMAKE_ARGS=-DPICO_NO_PICOTOOL=1", "make", "-C", str(tree / "ports" / "rp2"),
        "BOARD=RPI_PICO_W", "BUILD=build-RPI_PICO_W-coap",
        "FROZEN_MANIFEST=%s/boards/rp2040/manifest.py" % ROOT, "-j1"]
    uf2 = build / "firmware.uf2"
    assert out.stdout.splitlines()[-1] == "flash it: make flash BOARD=rp2040 FIRMWARE=%s" % uf2
    data = uf2.read_bytes()
    check_uf2(uf2, data)  # what make flash checks before it writes
    # Block n holds flash bytes 256n.. at 0x10000000 + 256n: together, the .bin
    flash = b""
    for n, off in enumerate(range(0, len(data), 512)):
        _, _, _, addr, size, number, count, _ = struct.unpack_from("<8I", data, off)
        assert (addr, size, number, count) == (0x10000000 + 256 * n, 256, n, 4)
        flash += data[off + 32:off + 32 + size]
    assert flash == (build / "firmware.bin").read_bytes().ljust(1024, b"\0")
    dry = run_tool("flash", "--board", "rp2040", "--firmware", uf2, "--dry-run")
    assert dry.returncode == 0, dry.stderr


def test_cmake_args_of_ones_own_are_kept(tree, toolchain, tmp_path):
    env = toolchain(*RP2_TOOLS, CMAKE_ARGS="-DPICO_STDIO_UART=1")
    out = firmware("--board", "rp2040", "--micropython", tree, env=env)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "make.log").read_text().startswith(
        "CMAKE_ARGS=-DPICO_NO_PICOTOOL=1 -DPICO_STDIO_UART=1 make ")


def test_a_failed_build_says_so(tree, toolchain):
    out = firmware("--board", "rp2040", "--micropython", tree, env=toolchain(*RP2_TOOLS,
                                                                             FAKE_FAIL="1"))
    assert out.stderr.strip().splitlines()[-1] == (
        "firmware: the MicroPython build failed; see its output above")
    assert out.returncode == 1


def test_a_build_folder_made_with_another_manifest_is_refused(tree, toolchain):
    build = tree / "ports" / "rp2" / "build-RPI_PICO_W-coap"
    build.mkdir(parents=True)
    (build / "CMakeCache.txt").write_text(
        "MICROPY_FROZEN_MANIFEST:UNINITIALIZED=/old/manifest.py\n")
    assert one_line_error(firmware("--board", "rp2040", "--micropython", tree,
                                   env=toolchain(*RP2_TOOLS))) == (
        "firmware: %s was made with another manifest (/old/manifest.py): remove it and build "
        "again" % build)


@pytest.mark.parametrize("args, tools, error", [
    (["--board", "unix"], RP2_TOOLS,
     "no firmware image for board 'unix' (known: esp32, rp2040, rp2040-ppp)"),
    (["--board", "rp2040"], RP2_TOOLS,
     "no MicroPython source tree given: MICROPYTHON=<folder> (--micropython), a clone of "
     "https://github.com/micropython/micropython"),
    (["--board", "rp2040", "--micropython", "{tmp}/nowhere"], RP2_TOOLS,
     "no such folder {tmp}/nowhere (MICROPYTHON: a MicroPython source tree)"),
    (["--board", "rp2040", "--micropython", "{tmp}"], RP2_TOOLS,
     "{tmp} is not a MicroPython source tree (no py/mpconfig.h)"),
    (["--board", "rp2040", "--micropython", "{tree}"], ("make", "cmake"),
     "arm-none-eabi-gcc not found: install Debian packages gcc-arm-none-eabi "
     "libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib"),
    (["--board", "esp32", "--micropython", "{tree}"], ("make",),
     "idf.py not found: install ESP-IDF (the version ports/esp32/README.md names), then "
     "`. $IDF_PATH/export.sh`"),
    (["--board", "esp32", "--micropython", "{tree}"], ("make", "idf.py"),
     "IDF_PATH is not set: source ESP-IDF's export.sh first (`. $IDF_PATH/export.sh`)"),
    (["--board", "rp2040-ppp", "--micropython", "{tree}"], RP2_TOOLS,
     "rp2040-ppp needs a MicroPython board with network.PPP, which no stock rp2 board has: "
     "name its folder with BOARD_DIR=... (--board-dir; docs/flashing.md, Build an image with "
     "everything frozen in)"),
    (["--board", "rp2040-ppp", "--micropython", "{tree}", "--board-dir", "{tmp}"], RP2_TOOLS,
     "{tmp} is not a MicroPython board folder (no mpconfigboard.h)"),
    (["--board", "rp2040", "--micropython", "{tree}", "--board-dir", "{tmp}", "--mp-board",
      "RPI_PICO"], RP2_TOOLS, "give MICROPYTHON_BOARD or BOARD_DIR, not both"),
    (["--board", "rp2040", "--micropython", "{tree}", "--jobs", "0"], RP2_TOOLS,
     "JOBS must be 1 or more, not 0"),
])
def test_refusals(tree, tmp_path, toolchain, args, tools, error):
    fill = {"tmp": tmp_path / "empty", "tree": tree}
    fill["tmp"].mkdir()
    args = [a.format(**fill) for a in args]
    assert one_line_error(firmware(*args, env=toolchain(*tools))) == "firmware: " + error.format(
        **fill)


def test_a_tree_without_its_submodules_is_refused(tree, toolchain):
    for f in (tree / "lib" / "pico-sdk").iterdir():
        f.unlink()
    assert one_line_error(firmware("--board", "rp2040", "--micropython", tree,
                                   env=toolchain(*RP2_TOOLS))) == (
        "firmware: %s/lib/pico-sdk is missing or empty: run `make -C %s/ports/rp2 submodules`"
        % (tree, tree))


def test_make_firmware_passes_its_variables_on():
    made = subprocess.run(["make", "-n", "--no-print-directory", "firmware", "BOARD=rp2040-ppp",
                           "MICROPYTHON=" + MPY, "BOARD_DIR=/b/RPI_PICO_PPP", "JOBS=1",
                           "DRY_RUN=1", "PY=" + sys.executable], cwd=ROOT, capture_output=True,
                          text=True)
    assert made.stdout.splitlines()[-1].split() == [
        sys.executable, "-m", "tools.firmware", "--board", "rp2040-ppp", "--micropython", MPY,
        "--board-dir", "/b/RPI_PICO_PPP", "--jobs", "1", "--dry-run"]
