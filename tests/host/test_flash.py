"""tools.flash without hardware: the exact commands, and every refusal before a write."""

import shlex
import struct

import pytest

from hostutil import BIN, one_line_error, run_tool
from tools import flash
from tools.common import run_cli

CHIP_IDS = {"esp32": 0, "esp32s2": 2, "esp32c3": 5, "esp32s3": 9, "esp32c6": 13}


def esp_image(chip="esp32"):
    """An ESP image header: magic 0xE9 first, the chip id in bytes 12-13 (esptool's
    image format), then padding."""
    return b"\xe9\x03\x02\x20" + bytes(8) + struct.pack("<H", CHIP_IDS[chip]) + bytes(50)


ESP_IMAGE = esp_image("esp32")


def uf2(blocks=2, family=0xE48BFF56, flags=0x2000):
    """A UF2 file of `blocks` blocks: 32-byte header, 476 data bytes, end magic (UF2 spec)."""
    out = b""
    for i in range(blocks):
        out += struct.pack("<8I", 0x0A324655, 0x9E5D5157, flags, 0x10000000 + 256 * i, 256, i,
                           blocks, family)
        out += bytes([i]) * 476 + struct.pack("<I", 0x0AB16F30)
    return out


@pytest.fixture
def image(tmp_path):
    def make(name, data):
        p = tmp_path / name
        p.write_bytes(data)
        return p
    return make


def call(capsys, *argv):
    """tools.flash in this process: (exit status, stdout lines, stderr lines)."""
    status = run_cli("flash", flash.main, [str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out.splitlines(), err.splitlines()


@pytest.mark.parametrize("chip, offset", [
    ("esp32", "0x1000"), ("esp32s2", "0x1000"),
    ("esp32s3", "0x0"), ("esp32c3", "0x0"), ("esp32c6", "0x0")])
def test_esp32_dry_run_commands(quiet_pty, image, chip, offset):
    fw = image("ESP32_GENERIC-v1.29.0.bin", esp_image(chip))
    result = run_tool("flash", "--board", "esp32", "--port", quiet_pty, "--firmware", fw,
                      "--chip", chip, "--dry-run")
    assert result.returncode == 0, result.stderr
    base = "%s --chip %s --port %s --baud 460800" % (BIN / "esptool", chip, quiet_pty)
    assert result.stdout.splitlines() == [base + " erase-flash",
                                          "%s write-flash %s %s" % (base, offset, fw),
                                          "flash: dry run, nothing written"]


def test_esp32_runs_erase_then_write(quiet_pty, image, tmp_path, capsys, monkeypatch):
    log = tmp_path / "esptool.log"
    fake = tmp_path / "esptool"
    fake.write_text('#!/bin/sh\necho "$@" >> %s\n' % log)
    fake.chmod(0o755)
    monkeypatch.setattr(flash, "venv_tool", lambda name: str(fake))
    fw = image("fw.bin", esp_image("esp32s3"))
    status, out, err = call(capsys, "--board", "esp32", "--port", quiet_pty, "--firmware", fw,
                            "--chip", "esp32s3", "--baud", "921600")
    assert (status, err) == (0, [])
    base = "--chip esp32s3 --port %s --baud 921600" % quiet_pty
    assert log.read_text().splitlines() == [base + " erase-flash",
                                            base + " write-flash 0x0 %s" % fw]
    assert out == [shlex.join([str(fake)] + line.split()) for line in log.read_text().splitlines()]


def test_esp32_tool_failure_stops(quiet_pty, image, tmp_path, capsys, monkeypatch):
    fake = tmp_path / "esptool"
    fake.write_text("#!/bin/sh\nexit 2\n")
    fake.chmod(0o755)
    monkeypatch.setattr(flash, "venv_tool", lambda name: str(fake))
    status, out, err = call(capsys, "--board", "esp32", "--port", quiet_pty,
                            "--firmware", image("fw.bin", ESP_IMAGE), "--chip", "esp32")
    assert status == 1 and err == ["flash: esptool failed; see its output above"]
    assert len(out) == 1 and out[0].endswith("erase-flash")  # write-flash never ran


@pytest.mark.parametrize("argv, message", [
    (["--firmware", "{tmp}/missing.bin"], "flash: no such firmware image {tmp}/missing.bin; "
                                          "get it from https://micropython.org/download/"),
    (["--firmware", "{tmp}/fw.uf2"], "flash: {tmp}/fw.uf2 is not a .bin image"),
    (["--firmware", "{tmp}/text.bin"], "flash: {tmp}/text.bin does not start like an ESP32 image"),
    (["--firmware", "{tmp}/fw.bin", "--chip", "esp8266"], "flash: no MicroPython offset known"),
    (["--firmware", "{tmp}/fw.bin", "--port", "/dev/no-such-port"], "flash: no such port"),
    (["--firmware", "{tmp}/fw.bin", "--port", ""], "flash: no port given"),
    ([], "flash: no firmware image given"),
])
def test_esp32_refusals(quiet_pty, image, tmp_path, argv, message):
    image("fw.bin", ESP_IMAGE)
    image("fw.uf2", uf2())
    image("text.bin", b"not firmware")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    port = [] if "--port" in argv else ["--port", quiet_pty]
    line = one_line_error(run_tool("flash", "--board", "esp32", *port, *argv))
    assert line.startswith(message.replace("{tmp}", str(tmp_path))), line


def test_esp32_image_for_another_chip_erases_nothing(quiet_pty, image, tmp_path, capsys,
                                                     monkeypatch):
    # An ESP32-S3 image with CHIP=esp32: erasing first would leave a blank board
    log = tmp_path / "esptool.log"
    fake = tmp_path / "esptool"
    fake.write_text('#!/bin/sh\necho "$@" >> %s\n' % log)
    fake.chmod(0o755)
    monkeypatch.setattr(flash, "venv_tool", lambda name: str(fake))
    fw = image("fw.bin", esp_image("esp32s3"))
    status, out, err = call(capsys, "--board", "esp32", "--port", quiet_pty, "--firmware", fw,
                            "--chip", "esp32")
    assert status == 1 and out == [] and len(err) == 1
    assert err[0] == ("flash: %s is an image for esp32s3 (chip id 9 in its header), not for "
                      "esp32 (chip id 0); nothing was erased" % fw)
    assert not log.exists()  # esptool never ran


@pytest.mark.parametrize("chip", ["ESP32", "ESP32-S3", "esp32-c3"])
def test_esp32_chip_names_as_printed_on_the_module(quiet_pty, image, chip):
    want = chip.lower().replace("-", "")
    fw = image("fw.bin", esp_image(want))
    result = run_tool("flash", "--board", "esp32", "--port", quiet_pty, "--firmware", fw,
                      "--chip", chip, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "--chip %s " % want in result.stdout.splitlines()[0]


def test_esp32_chip_not_answering(quiet_pty, image):
    # No --chip: the tool asks the chip, and nothing answers on this port.
    line = one_line_error(run_tool("flash", "--board", "esp32", "--port", quiet_pty,
                                   "--firmware", image("fw.bin", ESP_IMAGE)))
    assert line.startswith("flash: no ESP32 answered on %s" % quiet_pty)


@pytest.fixture
def drive(tmp_path):
    d = tmp_path / "RPI-RP2"
    d.mkdir()
    (d / "INFO_UF2.TXT").write_text("UF2 Bootloader v3.0\nModel: Raspberry Pi RP2\n"
                                    "Board-ID: RPI-RP2\n")
    return d


def test_rp2040_copies_to_the_drive(image, drive):
    fw = image("RPI_PICO_W-v1.29.0.uf2", uf2(blocks=4))
    dry = run_tool("flash", "--board", "rp2040", "--firmware", fw, "--drive", drive, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines() == ["cp %s %s" % (fw, drive / fw.name),
                                       "flash: dry run, nothing written"]
    assert not (drive / fw.name).exists()
    real = run_tool("flash", "--board", "rp2040", "--firmware", fw, "--drive", drive)
    assert real.returncode == 0, real.stderr
    assert (drive / fw.name).read_bytes() == fw.read_bytes()


def test_rp2040_finds_a_mounted_drive(image, drive, capsys, monkeypatch):
    monkeypatch.setattr(flash, "DRIVE_GLOBS", [str(drive.parent / "RPI-*")])
    fw = image("fw.uf2", uf2())
    assert call(capsys, "--board", "rp2040", "--firmware", fw, "--dry-run")[1][0] == (
        "cp %s %s" % (fw, drive / "fw.uf2"))


def test_rp2040_uses_picotool_without_a_drive(image, tmp_path, capsys, monkeypatch):
    log = tmp_path / "picotool.log"
    fake = tmp_path / "picotool"
    fake.write_text('#!/bin/sh\necho "$@" > %s\n' % log)
    fake.chmod(0o755)
    monkeypatch.setattr(flash, "DRIVE_GLOBS", [str(tmp_path / "nowhere" / "RPI-RP2")])
    monkeypatch.setenv("PATH", "%s:/usr/bin:/bin" % tmp_path)
    fw = image("fw.uf2", uf2())
    status, out, err = call(capsys, "--board", "rp2040", "--firmware", fw)
    assert (status, err) == (0, [])
    assert out == ["%s load -x %s" % (fake, fw)]
    assert log.read_text().split() == ["load", "-x", str(fw)]


@pytest.mark.parametrize("data, message", [
    (uf2(family=0xE48BFF59), "is for another chip (UF2 family 0xe48bff59"),  # an RP2350 image
    (uf2()[:700], "is not a UF2 image (700 bytes"),
    (uf2()[:512] + bytes(512), "is not a UF2 image (block 1 is damaged)"),
])
def test_rp2040_bad_images_write_nothing(image, drive, data, message):
    fw = image("fw.uf2", data)
    line = one_line_error(run_tool("flash", "--board", "rp2040", "--firmware", fw,
                                   "--drive", drive))
    assert line.startswith("flash: %s %s" % (fw, message)), line
    assert sorted(p.name for p in drive.iterdir()) == ["INFO_UF2.TXT"]


def test_rp2040_refusals(image, tmp_path, capsys, monkeypatch):
    fw = image("fw.uf2", uf2())
    line = one_line_error(run_tool("flash", "--board", "rp2040", "--firmware", fw,
                                   "--drive", tmp_path / "not-mounted"))
    assert line.startswith("flash: drive %s is not mounted" % (tmp_path / "not-mounted"))
    line = one_line_error(run_tool("flash", "--board", "rp2040",
                                   "--firmware", image("fw.bin", ESP_IMAGE)))
    assert line.startswith("flash: %s is not a .uf2 image" % (tmp_path / "fw.bin"))
    # Nothing mounted where a desktop mounts it, and no picotool on PATH
    monkeypatch.setattr(flash, "DRIVE_GLOBS", [str(tmp_path / "nowhere" / "RPI-RP2")])
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    status, out, err = call(capsys, "--board", "rp2040", "--firmware", fw)
    assert status == 1 and out == [] and len(err) == 1
    assert err[0].startswith("flash: no RPI-RP2 drive mounted")


def test_rp2040_dry_run_without_a_drive_says_what_it_would_do(image, tmp_path):
    fw = image("fw.uf2", uf2())
    env_path = str(tmp_path / "empty")  # no picotool either
    import os
    import subprocess
    import sys
    from hostutil import ROOT
    result = subprocess.run([sys.executable, "-m", "tools.flash", "--board", "rp2040",
                             "--firmware", str(fw), "--dry-run"], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, env=dict(os.environ, PATH=env_path))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("flash: no RPI-RP2 drive mounted now")
    assert lines[1:] == ["cp %s RPI-RP2/fw.uf2" % fw, "flash: dry run, nothing written"]


def test_unix_has_nothing_to_flash(image):
    line = one_line_error(run_tool("flash", "--board", "unix",
                                   "--firmware", image("fw.bin", ESP_IMAGE)))
    assert line == "flash: no flashing for board 'unix' (known: esp32, rp2040, rp2040-ppp)"


@pytest.mark.parametrize("board, argv, notes, command", [
    ("esp32", ["--port", "/dev/ttyUSB0", "--firmware", "/nonexistent/Downloads/ESP32_GENERIC-v1.29.0.bin"],
     ["flash: no image at /nonexistent/Downloads/ESP32_GENERIC-v1.29.0.bin yet; get it from "
      "https://micropython.org/download/ESP32_GENERIC/",
      "flash: no device at /dev/ttyUSB0 now; plug the board in",
      "flash: a dry run does not ask the chip; assuming esp32"],
     "--chip esp32 --port /dev/ttyUSB0 --baud 460800 write-flash 0x1000 "
     "/nonexistent/Downloads/ESP32_GENERIC-v1.29.0.bin"),
    ("esp32", ["--chip", "esp32s3"],
     ["flash: no image given (FIRMWARE=...); get one from https://micropython.org/download/",
      "flash: no device at PORT now"],
     "--chip esp32s3 --port PORT --baud 460800 write-flash 0x0 FIRMWARE.bin"),
    ("rp2040", ["--firmware", "/nonexistent/Downloads/RPI_PICO_W-v1.29.0.uf2"],
     ["flash: no image at /nonexistent/Downloads/RPI_PICO_W-v1.29.0.uf2 yet; get it from "
      "https://micropython.org/download/RPI_PICO_W/"],
     "RPI-RP2/RPI_PICO_W-v1.29.0.uf2"),
])
def test_dry_run_needs_no_board_and_no_image(board, argv, notes, command):
    # what docs/flashing.md shows, on a machine with neither (the docs test runs it too)
    out = run_tool("flash", "--board", board, "--dry-run", *argv)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    for note in notes:
        assert any(line.startswith(note) for line in lines), (note, lines)
    assert any(line.endswith(command) for line in lines), lines
    assert lines[-1] == "flash: dry run, nothing written"
