"""Put MicroPython itself on a board: esptool for the ESP32 family, UF2 for the Pico W.

    python -m tools.flash --board esp32 --port /dev/ttyUSB0 --firmware ESP32_GENERIC-v1.29.0.bin
                          [--chip esp32s3] [--baud 460800] [--dry-run]
    python -m tools.flash --board rp2040 --firmware RPI_PICO_W-v1.29.0.uf2 [--drive PATH]
                          [--dry-run]

Everything that can be checked is checked before the first byte is written: the
image exists, has the right extension and starts the way such an image must, the
port exists, the chip is one we know the offset for. --dry-run prints the exact
commands and stops there; it needs no board and no image (it says what is missing
and where to get the image) and assumes an esp32 without --chip.

ESP32: erase-flash, then write-flash at the chip's offset (MicroPython's images
start with the bootloader, which sits at 0x1000 on the esp32 and esp32s2 and at 0x0
on the newer chips). Without --chip the chip is asked for its type first.

RP2040: copy the .uf2 onto the RPI-RP2 drive the Pico shows in BOOTSEL mode, or
with no drive mounted, `picotool load -x`. The drive is not a real disk: its
bootloader programs flash block by block as the UF2 blocks arrive, whatever the
file is called, and reboots once the last one is in. A copy to a temporary name and
a rename would protect nothing (the rename never happens: the board has rebooted).
So "nothing half-written" here means: every block is checked first, then the file
is written in one go. An interrupted copy leaves the Pico in BOOTSEL mode, waiting
for the rest; copying the file again finishes it.
"""

import argparse
import glob
import os
import shlex
import shutil
import struct
import subprocess
import sys
from pathlib import Path

from .common import Refused, run_cli, venv_tool

#: Offset of MicroPython's combined image (bootloader first), by esptool chip name.
ESP32_OFFSETS = {"esp32": 0x1000, "esp32s2": 0x1000,
                 "esp32s3": 0x0, "esp32c3": 0x0, "esp32c6": 0x0}
#: The chip id in bytes 12-13 of an ESP image's extended header (esptool's
#: IMAGE_CHIP_ID): an image for another chip is refused before anything is erased.
ESP32_CHIP_IDS = {"esp32": 0, "esp32s2": 2, "esp32c3": 5, "esp32s3": 9, "esp32c6": 13}
#: Where desktop Linux mounts the Pico's BOOTSEL drive.
DRIVE_GLOBS = ["/media/*/RPI-RP2", "/run/media/*/RPI-RP2", "/media/RPI-RP2"]

_ESP_IMAGE_MAGIC = 0xE9  # first byte of an ESP bootloader/app image
_UF2_MAGIC = (0x0A324655, 0x9E5D5157, 0x0AB16F30)  # start 0, start 1, end
_UF2_FAMILY_PRESENT = 0x2000
_RP2040_FAMILY = 0xE48BFF56
_EXTENSIONS = {"esp32": ".bin", "rp2040": ".uf2", "rp2040-ppp": ".uf2"}
#: Where each board's MicroPython image comes from (docs/flashing.md, step 1).
DOWNLOADS = {"esp32": "https://micropython.org/download/ESP32_GENERIC/ (ESP32_GENERIC_S3 "
                      "and so on for the newer chips)",
             "rp2040": "https://micropython.org/download/RPI_PICO_W/",
             "rp2040-ppp": "a MicroPython build for the Pico with network.PPP "
                           "(docs/flashing.md: A cellular modem)"}
#: The chip a dry run assumes when not told: it never opens the port to ask.
DRY_RUN_CHIP = "esp32"


def check_image(board, path, dry_run=False, say=print):
    """The image as a Path. A dry run goes on without one, saying where to get it."""
    if board not in _EXTENSIONS:
        raise Refused("no flashing for board %r (known: %s)"
                      % (board, ", ".join(sorted(_EXTENSIONS))))
    want = _EXTENSIONS[board]
    if not path:
        if dry_run:
            say("flash: no image given (FIRMWARE=...); get one from %s" % DOWNLOADS[board])
            return Path("FIRMWARE" + want)
        raise Refused("no firmware image given: --firmware FILE (make flash FIRMWARE=...); "
                      "get one from %s" % DOWNLOADS[board])
    p = Path(path)
    if p.suffix.lower() != want:
        raise Refused("%s is not a %s image: %s needs a %s file from micropython.org/download"
                      % (p, want, board, want))
    if not p.is_file():
        if dry_run:
            say("flash: no image at %s yet; get it from %s" % (p, DOWNLOADS[board]))
            return p
        raise Refused("no such firmware image %s; get it from %s" % (p, DOWNLOADS[board]))
    if board == "esp32":
        with open(p, "rb") as f:
            data = f.read(16)
        if not data or data[0] != _ESP_IMAGE_MAGIC:
            raise Refused("%s does not start like an ESP32 image "
                          "(first byte 0x%02x, expected 0xe9)" % (p, data[0] if data else 0))
        if len(data) < 16:
            raise Refused("%s is too short for an ESP32 image (%d bytes)" % (p, len(data)))
    else:
        check_uf2(p, p.read_bytes())
    return p


def normal_chip(chip):
    """esptool's chip name: "ESP32-S3" and "esp32s3" are the same chip."""
    return chip.lower().replace("-", "").replace("_", "") if chip else chip


def check_chip_id(image, chip):
    """Refuse an image built for another chip than the one it is about to erase."""
    with open(image, "rb") as f:
        header = f.read(16)
    got, = struct.unpack_from("<H", header, 12)
    want = ESP32_CHIP_IDS[chip]
    if got != want:
        names = [name for name, cid in ESP32_CHIP_IDS.items() if cid == got]
        raise Refused("%s is an image for %s (chip id %d in its header), not for %s (chip id "
                      "%d); nothing was erased" % (image, names[0] if names else "another chip",
                                                   got, chip, want))


def check_uf2(p, data):
    """Every 512-byte block has the UF2 magic numbers and, if it names one, the RP2040 family."""
    if not data or len(data) % 512:
        raise Refused("%s is not a UF2 image (%d bytes, not a multiple of 512)" % (p, len(data)))
    for off in range(0, len(data), 512):
        start0, start1, flags, _, _, _, _, family = struct.unpack_from("<8I", data, off)
        end, = struct.unpack_from("<I", data, off + 508)
        if (start0, start1, end) != _UF2_MAGIC:
            raise Refused("%s is not a UF2 image (block %d is damaged)" % (p, off // 512))
        if flags & _UF2_FAMILY_PRESENT and family != _RP2040_FAMILY:
            raise Refused("%s is for another chip (UF2 family 0x%08x, the RP2040 is 0x%08x)"
                          % (p, family, _RP2040_FAMILY))


def check_port(port):
    if not port:
        raise Refused("no port given: --port /dev/ttyUSB0 (make flash PORT=...)")
    if not os.path.exists(port):
        raise Refused("no such port %s (is the board plugged in? `mpremote devs` lists ports)"
                      % port)


def detect_chip(port):
    """esptool's chip name of the board on port, e.g. "esp32s3" (asked at the ROM's baud)."""
    from esptool.cmds import detect_chip as esptool_detect
    from esptool.logger import log

    log.set_verbosity("silent")  # its progress and notes would bury our one-line answer
    try:
        esp = esptool_detect(port)
    except Exception as e:  # esptool raises its own FatalError and serial errors
        raise Refused("no ESP32 answered on %s: %s (hold BOOT while pressing RESET, then retry)"
                      % (port, str(e).splitlines()[0] if str(e) else type(e).__name__))
    with esp:  # closes the port for esptool's own run
        return esp.CHIP_NAME.lower().replace("-", "")


def esp32_commands(port, image, chip, baud):
    if chip not in ESP32_OFFSETS:
        raise Refused("no MicroPython offset known for chip %r (known: %s)"
                      % (chip, ", ".join(sorted(ESP32_OFFSETS))))
    esptool = venv_tool("esptool")
    if not esptool:
        raise Refused("esptool not found; run `make setup`")
    base = [esptool, "--chip", chip, "--port", port, "--baud", str(baud)]
    return [base + ["erase-flash"],
            base + ["write-flash", "0x%x" % ESP32_OFFSETS[chip], str(image)]]


def find_drive(drive=None):
    """The mounted RPI-RP2 drive, or None."""
    if drive:
        if not (Path(drive) / "INFO_UF2.TXT").is_file():
            raise Refused("drive %s is not mounted (no INFO_UF2.TXT there): hold BOOTSEL while "
                          "plugging in the Pico" % drive)
        return Path(drive)
    for pattern in DRIVE_GLOBS:
        for found in sorted(glob.glob(pattern)):
            if (Path(found) / "INFO_UF2.TXT").is_file():
                return Path(found)
    return None


def write_uf2(image, drive):
    data = image.read_bytes()
    if shutil.disk_usage(drive).free < len(data):
        raise Refused("drive %s has no room for %s" % (drive, image.name))
    try:
        with open(drive / image.name, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())  # the Pico programs as blocks arrive: push them all out now
    except OSError as e:
        # After the last block the Pico reboots and its drive vanishes, which can fail
        # the final flush or close: that is success. With the drive still there it is not.
        if (drive / "INFO_UF2.TXT").exists():
            raise Refused("copying %s to %s failed: %s" % (image.name, drive, e.strerror or e))


def flash(board, firmware, port=None, chip=None, baud=460800, drive=None, dry_run=False,
          say=print):
    image = check_image(board, firmware, dry_run, say)
    if board == "esp32":
        if dry_run and not (port and os.path.exists(port)):
            # A dry run never opens the port: it says what it would do without a board
            say("flash: no device at %s now; plug the board in (`mpremote devs` lists ports)"
                % (port or "PORT"))
            port = port or "PORT"
        else:
            check_port(port)
        if chip is None and dry_run:
            say("flash: a dry run does not ask the chip; assuming %s (CHIP=esp32s3 and so on "
                "for another: the offset depends on it)" % DRY_RUN_CHIP)
            chip = DRY_RUN_CHIP
        chip = normal_chip(chip) or detect_chip(port)
        commands = esp32_commands(port, image, chip, baud)
        if image.is_file():
            check_chip_id(image, chip)
    else:
        target = find_drive(drive)
        picotool = shutil.which("picotool")
        if target is not None:
            commands = [["cp", str(image), str(target / image.name)]]
        elif picotool:
            commands = [[picotool, "load", "-x", str(image)]]
        elif dry_run:
            # Nothing to write to, but a dry run only says what it would do
            say("flash: no RPI-RP2 drive mounted now (looked in %s); hold BOOTSEL while "
                "plugging in the Pico, then:" % ", ".join(DRIVE_GLOBS))
            commands = [["cp", str(image), "RPI-RP2/" + image.name]]
        else:
            raise Refused("no RPI-RP2 drive mounted (looked in %s) and no picotool: hold "
                          "BOOTSEL while plugging in the Pico, or pass --drive PATH"
                          % ", ".join(DRIVE_GLOBS))
    for cmd in commands:
        say(shlex.join(cmd))
        if dry_run:
            continue
        if cmd[0] == "cp":
            write_uf2(image, target)
        elif subprocess.run(cmd).returncode != 0:
            raise Refused("%s failed; see its output above" % Path(cmd[0]).name)
    if dry_run:
        say("flash: dry run, nothing written")
    return commands


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m tools.flash", description=__doc__.split("\n")[0])
    ap.add_argument("--board", required=True, help="esp32, rp2040 or rp2040-ppp")
    ap.add_argument("--firmware", default="", help="the MicroPython image (.bin or .uf2)")
    ap.add_argument("--port", default="", help="ESP32: the serial port, e.g. /dev/ttyUSB0")
    ap.add_argument("--chip", help="ESP32: %s (default: ask the chip)"
                    % ", ".join(sorted(ESP32_OFFSETS)))
    ap.add_argument("--baud", type=int, default=460800, help="ESP32: baud rate (default 460800)")
    ap.add_argument("--drive", help="RP2040: where the RPI-RP2 drive is mounted")
    ap.add_argument("--dry-run", action="store_true", help="print the commands, do nothing")
    args = ap.parse_args(argv)
    flash(args.board, args.firmware, args.port, args.chip, args.baud, args.drive, args.dry_run)


if __name__ == "__main__":
    sys.exit(run_cli("flash", main, sys.argv[1:]))
