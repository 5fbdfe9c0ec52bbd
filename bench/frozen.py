"""Free heap of the firmware frozen into MicroPython against the same firmware
deployed as .mpy files, on the emulated RP2040 over PPP (as make test-target
runs it; needs root and the same tools, ../shared/targets/rp2040-net).

    .venv/bin/python bench/frozen.py --micropython <source tree> [--gets 1000] [--rounds 1]
    .venv/bin/python bench/frozen.py --image <frozen firmware.uf2> [--gets 1000]

1. Builds the frozen image: make firmware BOARD=rp2040-ppp, with the board
   definition RPI_PICO_PPP of rp2040-net (MicroPython v1.28.0 + network.PPP).
2. .mpy: boots rp2040-net's stock v1.28.0 image of that board and deploys
   with make build / make deploy, as tests/target/run.py does.
3. frozen: boots the frozen image and copies config.json only.
Each time it checks GET /sensors/temp and /board, then reads /board's
free_heap after boot and after each round of N GETs of /sensors/temp, and
prints a table.
Not part of make test: it takes about 5 minutes, and only one emulator may
run on a machine at a time.
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "target"))
import run  # noqa: E402  (tests/target/run.py: the board's config, boot and stop)
from run import CONFIG, NET, NS, REPL, RUN, ROOT, VENV, board_output, sh  # noqa: E402

sys.path.insert(0, str(ROOT))
from tools.remote import soft_reset  # noqa: E402

PPP_BOARD = NET / "RPI_PICO_PPP"
STOCK = NET / "firmware-RPI_PICO_PPP-v1.28.0.bin"
#: Seconds to let the serve loop make its next regular collection (at most
#: one a second, on a quiet tick) before /board is read.
SETTLE_S = 3


def say(line):
    print("frozen: " + line, flush=True)


def build(tree):
    sh(["make", "--no-print-directory", "VENV=" + str(VENV), "firmware", "BOARD=rp2040-ppp",
        "MICROPYTHON=" + str(tree), "BOARD_DIR=" + str(PPP_BOARD)])
    return Path(tree) / "ports" / "rp2" / "build-RPI_PICO_PPP-coap" / "firmware.uf2"


def interrupt_until_prompt(stop, timeout=60):
    """Ctrl-C on the REPL until it prompts: the frozen main.py starts at power-on
    and, with no config.json yet, retries the network for ever; net_board.sh
    waits for a prompt."""
    t0 = time.monotonic()
    while not stop.is_set() and time.monotonic() - t0 < timeout:
        if (RUN / "repl.log").exists() and ">>>" in board_output():
            return
        try:
            fd = os.open(str(REPL), os.O_WRONLY | os.O_NOCTTY | os.O_NONBLOCK)
            os.write(fd, b"\x03")
            os.close(fd)
        except OSError:
            pass  # not there yet
        time.sleep(0.5)


def boot_frozen(image, config):
    """The frozen image booted, config.json copied, the board reset into serving."""
    if (RUN / "repl.pid").exists() or NS in subprocess.run(
            ["ip", "netns", "list"], capture_output=True, text=True).stdout.split():
        run.stop()  # a run stopped half-way
    # The last run's console shows a prompt: wait for this one's
    (RUN / "repl.log").unlink(missing_ok=True)
    stop = threading.Event()
    ctrl_c = threading.Thread(target=interrupt_until_prompt, args=(stop,))
    ctrl_c.start()
    try:
        sh(["bash", str(NET / "net_board.sh"), str(image)], env=run.env(),
           stdout=subprocess.DEVNULL)
    finally:
        stop.set()
        ctrl_c.join()
    say("emulated board up with %s" % image)
    cfg = RUN / "config.json"
    cfg.write_text(json.dumps(config))
    before = len(board_output())
    # resume: mpremote's own soft reset would start the frozen main.py again
    sh([str(VENV / "bin" / "mpremote"), "connect", str(REPL), "resume",
        "fs", "cp", str(cfg), ":config.json"], stdout=subprocess.DEVNULL)
    if not soft_reset(str(REPL)):
        raise RuntimeError("the board did not confirm its soft reset")
    if not run.wait_for("coap: serving on", before, 120):
        raise RuntimeError("the frozen firmware did not start serving; its console:\n"
                           + board_output()[before:])
    say("config.json copied, board reset: " + " | ".join(
        line for line in board_output()[before:].splitlines()
        if line.startswith(("ppp:", "coap: serving"))))


def measure(gets, rounds):
    """In the namespace: [(what, free heap)], printed as JSON on the last line."""
    import aiocoap
    from aiocoap import GET, Message
    from aiocoap.numbers import codes

    async def main():
        ctx = await aiocoap.Context.create_client_context()
        base = "coap://%s/" % run.BOARD_IP

        async def get(path, tries=4):
            for n in range(tries):
                try:
                    resp = await asyncio.wait_for(
                        ctx.request(Message(code=GET, uri=base + path)).response, 30)
                    if resp.code != codes.CONTENT:
                        raise RuntimeError("GET /%s: %s" % (path, resp.code))
                    return resp.payload
                except asyncio.TimeoutError:
                    if n == tries - 1:
                        raise

        async def heap():
            await asyncio.sleep(SETTLE_S)
            return json.loads(await get("board"))["free_heap"]

        temp = float(await get("sensors/temp"))
        print("GET /sensors/temp: %s" % temp, file=sys.stderr)
        figures = [("after boot", await heap())]
        for n in range(1, rounds + 1):
            t0 = time.monotonic()
            for _ in range(gets):
                float(await get("sensors/temp"))  # a reading every time, or it raises
            print("%d GETs in %.0f s" % (gets, time.monotonic() - t0), file=sys.stderr)
            figures.append(("after %d GETs" % (n * gets), await heap()))
        await ctx.shutdown()
        return figures

    print(json.dumps(asyncio.run(main())))


def measured(gets, rounds):
    out = subprocess.run(["ip", "netns", "exec", NS, str(VENV / "bin" / "python"), __file__,
                          "--measure", str(gets), str(rounds)], cwd=ROOT, env=run.env(),
                         stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--micropython", help="MicroPython v1.28.0 source tree, with submodules")
    src.add_argument("--image", help="a frozen image already built (firmware.uf2)")
    ap.add_argument("--gets", type=int, default=1000, help="GETs per round (default 1000)")
    ap.add_argument("--rounds", type=int, default=1, help="rounds of GETs (default 1)")
    args = ap.parse_args()
    missing = run.needs()
    if missing:
        say("needs " + missing)
        return 2
    image = Path(args.image) if args.image else build(args.micropython)
    rows = []
    try:
        run.boot(CONFIG, log=say)
        rows.append(("deployed as .mpy (%s)" % STOCK.name, measured(args.gets, args.rounds)))
        say("%s: %s" % rows[-1])
        run.stop()
        boot_frozen(image, CONFIG)
        rows.append(("frozen (%s)" % image, measured(args.gets, args.rounds)))
        say("%s: %s" % rows[-1])
    except (subprocess.CalledProcessError, RuntimeError) as e:
        say("FAIL %s" % e)
        return 1
    finally:
        run.stop()
    # The table, as docs/memory.md shows it
    print("\n| free heap, bytes (GET /board) | %s |" % " | ".join(w for w, _ in rows[0][1]))
    print("|---|%s" % ("---:|" * len(rows[0][1])))
    for name, figures in rows:
        print("| %s | %s |" % (name, " | ".join("%d" % h for _, h in figures)))
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--measure"]:
        measure(int(sys.argv[2]), int(sys.argv[3]))
        sys.exit(0)
    sys.exit(main())
