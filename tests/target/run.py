"""make test-target: the firmware on MicroPython's own network stack (lwIP), on
a 32-bit Cortex-M0+ with 264 KB of RAM: MicroPython v1.28.0's RP2040 firmware
with network.PPP, emulated (rp2040js), its UART0 carrying PPP to a peer in a
network namespace (../shared/targets/rp2040-net; RP2040_NET=<folder> to use
another). Needs root (namespaces, TUN), node and npm, iproute2, libcoap3-bin.

Boots the emulated board, builds (make build) and deploys (make deploy) the
rp2040-ppp board with a PPP and OSCORE config, then from inside the namespace
checks it with libcoap and aiocoap (run.py --checks), one line per check.
KEEP=1 leaves the board running afterwards.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NET = Path(os.environ.get("RP2040_NET") or ROOT.parent / "shared" / "targets" / "rp2040-net")
VENV = Path(os.environ.get("VENV") or ROOT / ".venv").resolve()
NS = "rp2net"
BOARD_IP = "10.77.0.2"
RUN = Path("/tmp/rp2net/run")
REPL = RUN / "repl"
#: The board's config: PPP on UART0 (GP0/GP1, as the emulator wires it), an
#: OSCORE context, every resource open too, Max-Age 2 s (a notification every 1.8 s)
SECRET, SALT, BOARD_ID, CLIENT_ID = "0102030405060708090a0b0c0d0e0f10", "9e7ca92223786340", "01", "02"
CONFIG = {
    "name": "emu-pico",
    "ppp": {"uart": 0, "baud": 115200, "tx": 0, "rx": 1, "timeout_ms": 30000},
    "oscore": {"secret": SECRET, "salt": SALT, "sender_id": BOARD_ID, "recipient_id": CLIENT_ID},
    # the board's own context with the file server an update comes from (docs/updates.md)
    "update_oscore": {"secret": "f0e1d2c3b4a5968778695a4b3c2d1e0f", "salt": SALT,
                      "sender_id": "b1", "recipient_id": "f1"},
    "open": ["actuators/led", "board", "board/log", "sensors/temp"],  # not "sensors"
    "max_age_s": 2,
}


def say(line):
    print("test-target: " + line, flush=True)


def needs():
    """What is missing to run, in words; None when nothing is."""
    if not (NET / "net_board.sh").is_file():
        return ("%s (the emulated RP2040 on PPP: ../shared/targets/rp2040-net beside this "
                "clone, or RP2040_NET=<folder>)" % NET)
    if os.geteuid() != 0:
        return "root (network namespaces, /dev/net/tun)"
    for exe, pkg in (("node", "nodejs"), ("npm", "npm"), ("ip", "iproute2"),
                     ("coap-client-notls", "libcoap3-bin")):
        if not shutil.which(exe):
            return "%s (Debian package %s)" % (exe, pkg)
    if not (VENV / "bin" / "mpremote").exists():
        return "%s/bin/mpremote (make setup)" % VENV
    return None


def sh(cmd, **kw):
    return subprocess.run(cmd, cwd=ROOT, check=True, **kw)


def board_output():
    return (RUN / "repl.log").read_bytes().decode("utf-8", "replace").replace("\r", "")


def wait_for(text, after, timeout):
    """Wait until the board's console shows text past offset after."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if text in board_output()[after:]:
            return True
        time.sleep(0.5)
    return False


def env():
    return dict(os.environ, MPREMOTE=str(VENV / "bin" / "mpremote"), LINK="0", RUN=str(RUN),
                NS=NS)


def boot(config, log=say, reuse=False):
    """The emulated board up, the rp2040-ppp firmware built, deployed with
    config and serving. reuse: keep an emulator left running (KEEP=1), and
    deploy only what changed. Raises CalledProcessError or RuntimeError."""
    t0 = time.monotonic()
    running = subprocess.run(["ip", "netns", "list"], capture_output=True,
                             text=True).stdout.split().count(NS)
    if not (reuse and running):
        if running or (RUN / "repl.pid").exists():
            stop()  # a run stopped half-way
        sh(["bash", str(NET / "net_board.sh")], env=env(), stdout=subprocess.DEVNULL)
    log("emulated board up (%s), PPP peer waiting in namespace %s" % (NET, NS))
    make = ["make", "--no-print-directory", "VENV=" + str(VENV), "BOARD=rp2040-ppp"]
    sh(make + ["build"], stdout=subprocess.DEVNULL)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "config.json"
        cfg.write_text(json.dumps(config))
        before = len(board_output())
        sh(make + ["deploy", "PORT=" + str(REPL), "CONFIG=" + str(cfg)],
           stdout=subprocess.DEVNULL)
    log("built and deployed with make build / make deploy (%.0f s)" % (time.monotonic() - t0))
    if not wait_for("coap: serving on", before, 120):
        raise RuntimeError("the firmware did not start serving; its console:\n"
                           + board_output()[before:])
    log("booted: " + " | ".join(line for line in board_output()[before:].splitlines()
                                if line.startswith(("ppp:", "coap: serving"))))


def stop():
    subprocess.run(["bash", str(NET / "net_board_down.sh")], env=env(), stdout=subprocess.DEVNULL)


def main():
    missing = needs()
    if missing:
        say("needs " + missing)
        return 2
    t0 = time.monotonic()
    try:
        boot(CONFIG)
        checks = subprocess.run(["ip", "netns", "exec", NS, str(VENV / "bin" / "python"),
                                 __file__, "--checks"], cwd=ROOT, env=env())
        say("%s in %.0f s" % ("passed" if checks.returncode == 0 else "FAILED",
                              time.monotonic() - t0))
        return checks.returncode
    except subprocess.CalledProcessError as e:
        say("FAIL %s exited with %d" % (" ".join(e.cmd), e.returncode))
        return 1
    except RuntimeError as e:
        say("FAIL %s" % e)
        return 1
    finally:
        if os.environ.get("KEEP") != "1":
            stop()


if __name__ == "__main__":
    if sys.argv[1:] == ["--checks"]:
        sys.path.insert(0, str(Path(__file__).parent))
        import checks
        sys.exit(checks.main(BOARD_IP, REPL, board_output, CONFIG, NET))
    sys.exit(main())
