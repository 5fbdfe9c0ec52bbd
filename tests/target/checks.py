"""The checks of make test-target, run inside the board's network namespace by
run.py: libcoap (coap-client-notls) and aiocoap against the firmware on the
emulated RP2040, one line per check. Exits non-zero when one failed."""

import asyncio
import os
import shutil
import signal
import struct
import json
import subprocess
import sys
import time
import tty
from pathlib import Path

import aiocoap
import cbor2
from aiocoap import GET, PUT, Message
from aiocoap.numbers import codes
from aiocoap.optiontypes import BlockOption

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from tools.remote import soft_reset  # noqa: E402

import update_check  # noqa: E402

#: Content-Formats (RFC 7252 §12.3, RFC 8428 §12.3) and how to read each
FORMATS = {0: ("text", lambda b: b.decode()), 50: ("JSON", json.loads),
           110: ("SenML JSON", json.loads), 112: ("SenML CBOR", cbor2.loads),
           60: ("CBOR", cbor2.loads)}
#: the PPP peer's end of the link, in the namespace (ppp_peer.py)
PEER_IP = "10.77.0.1"
#: The one resource left protected by OSCORE in run.py's config
PROTECTED = "sensors"


class Checks:
    def __init__(self):
        self.failed = 0
        self.passed = 0

    def __call__(self, name, ok, detail=""):
        more = (": " + detail) if detail and not ok else ""
        print("  %s  %s%s" % ("ok  " if ok else "FAIL", name, more), flush=True)
        self.failed += not ok
        self.passed += ok
        return ok


def libcoap(*args):
    out = subprocess.run(["coap-client-notls", "-B", "20", *args], capture_output=True,
                         timeout=60)
    return out.stdout.decode("utf-8", "replace").strip()


def links(text):
    """[(path, [content formats], observable)] of a link-format document: the
    resources with a representation to read (a ct= attribute); one without,
    such as POST /board/update, has nothing to GET."""
    found = []
    for link in text.split(",<"):
        path = link.lstrip("<").split(">")[0].lstrip("/")
        attrs = link.split(";")[1:]
        ct = [a[3:].strip('"') for a in attrs if a.startswith("ct=")]
        if ct:
            found.append((path, [int(c) for c in ct[0].split()], "obs" in attrs))
    return found


def drop_link(net, run):
    """The peer hangs up as a modem does when its carrier goes: it sends the
    board an LCP Terminate-Request (RFC 1661 §5.5) and goes away; then a peer
    comes back on the line and waits for the board's LCP requests."""
    pid = int((run / "ppp_peer.pid").read_text())
    os.kill(pid, signal.SIGTERM)
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    sys.path.insert(0, str(net))
    from ppp_peer import fcs16
    frame = b"\xff\x03" + struct.pack(">HBBH", 0xC021, 5, 77, 4)  # LCP Terminate-Request
    fcs = fcs16(frame) ^ 0xFFFF
    frame += bytes((fcs & 0xFF, fcs >> 8))
    out = bytearray(b"\x7e")  # RFC 1662 framing, every control character escaped
    for b in frame:
        out += bytes((0x7D, b ^ 0x20)) if b in (0x7E, 0x7D) or b < 0x20 else bytes((b,))
    fd = os.open(str(run / "uart0"), os.O_RDWR | os.O_NOCTTY)
    try:
        tty.setraw(fd)
        os.write(fd, bytes(out + b"\x7e"))
        time.sleep(1)
    finally:
        os.close(fd)
    with open(run / "ppp_peer.log", "ab") as log:
        subprocess.Popen(["python3", str(net / "ppp_peer.py"), str(run / "uart0"),
                          "10.77.0.1:10.77.0.2", "--pidfile", str(run / "ppp_peer.pid")],
                         stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                         start_new_session=True)


async def run(ip, repl, console, config, net):
    check = Checks()
    base = "coap://%s/" % ip
    ctx = await aiocoap.Context.create_client_context()
    # aiocoap keeps its sequence numbers here, and saves them as late as its exit
    tmp = str(Path(repl).parent / "oscore-client")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    oscore = config["oscore"]
    (Path(tmp) / "settings.json").write_text(json.dumps({
        "sender-id_hex": oscore["recipient_id"], "recipient-id_hex": oscore["sender_id"],
        "secret_hex": oscore["secret"], "salt_hex": oscore["salt"]}))
    secure = await aiocoap.Context.create_client_context()
    secure.client_credentials.load_from_dict({base + "*": {"oscore": {"basedir": tmp + "/"}}})

    async def ask(msg, via=ctx, timeout=30):
        return await asyncio.wait_for(via.request(msg).response, timeout)

    # The first answer after boot: on a loaded machine the emulator runs far
    # below its usual 0.4x of a chip, so allow a few tries, and say how many
    for tries in range(1, 5):
        try:
            info = await ask(Message(code=GET, uri=base + "board"))
            break
        except asyncio.TimeoutError:
            if tries == 4:
                raise
    heap = json.loads(info.payload)["free_heap"]
    check("free heap after boot (GET /board, %d tr%s): %d bytes"
          % (tries, "y" if tries == 1 else "ies", heap), heap > 0)

    wk = libcoap("-m", "get", base + ".well-known/core")
    found = links(wk)
    check("libcoap GET /.well-known/core: %d resources" % len(found), len(found) >= 5, wk)
    for path, cts, _ in found:
        opened = path in config["open"]  # the rest, /board/config too, only under OSCORE
        via = ctx if opened else secure
        for ct in cts:
            name, read = FORMATS[ct]
            resp = None
            try:
                resp = await ask(Message(code=GET, uri=base + path, accept=ct), via)
                ok = resp.code == codes.CONTENT and resp.opt.content_format == ct
                read(resp.payload)
                detail = "" if ok else "%s, Content-Format %s" % (resp.code,
                                                                  resp.opt.content_format)
            except Exception as e:  # the check's line says what went wrong
                ok, detail = False, repr(e)
                if resp is not None:
                    detail += ", the answer: %s %r" % (resp.code, resp.payload[:80])
            check("aiocoap%s GET /%s as %s" % (" (OSCORE)" if via is secure else "", path,
                                               name), ok, detail)
        if opened:
            got = libcoap("-m", "get", base + path)
            check("libcoap GET /%s" % path, bool(got), got)
    plain = await ask(Message(code=GET, uri=base + PROTECTED))
    check("plain GET /%s without OSCORE: 4.01" % PROTECTED, plain.code == codes.UNAUTHORIZED,
          str(plain.code))

    # Remote config (docs/remote-config.md): what GET showed, sent back as it
    # is (the masked keys stand for the board's own), in Block1 blocks inside
    # OSCORE; taken for the next boot. The buffer is allocated as it begins
    shown = b""
    try:
        shown = (await ask(Message(code=GET, uri=base + "board/config"), secure)).payload
        msg = Message(code=PUT, uri=base + "board/config", payload=shown + b" " * 1200,
                      content_format=50)
        put = await ask(msg, secure)
        ok, detail = put.code == codes.CHANGED, "%s %r" % (put.code, put.payload[:80])
    except Exception as e:
        ok, detail = False, repr(e)
    check("aiocoap (OSCORE) Block1 PUT /board/config of %d bytes, as GET showed it: 2.04"
          % (len(shown) + 1200), ok, detail)

    for state in ("on", "off"):
        libcoap("-m", "put", "-e", state, base + "actuators/led")
        got = (await ask(Message(code=GET, uri=base + "actuators/led"))).payload
        check("libcoap PUT /actuators/led %s, then GET: %s" % (state, got.decode()),
              got == state.encode())

    whole = libcoap("-m", "get", "-b", "16", base + "board/log")
    check("libcoap Block2 GET /board/log in 16-byte blocks: %d bytes" % len(whole),
          len(whole) > 64 and "coap: serving" in whole, whole[-200:])
    msg = Message(code=GET, uri=base + "board/log")
    msg.opt.block2 = BlockOption.BlockwiseTuple(0, False, 0)
    resp = await ask(msg)
    check("aiocoap Block2 GET /board/log: %d bytes" % len(resp.payload),
          b"coap: serving" in resp.payload)

    # Observe (RFC 7641): Max-Age 2 s, so a fresh notification every 1.8 s
    seen = []
    obs_req = ctx.request(Message(code=GET, uri=base + "sensors/temp", observe=0))
    first = await asyncio.wait_for(obs_req.response, 30)

    async def follow():
        async for n in obs_req.observation:
            seen.append((time.monotonic(), n.payload))
    task = asyncio.ensure_future(follow())
    registered = time.monotonic()
    for _ in range(60):
        if len(seen) >= 3:
            break
        await asyncio.sleep(0.5)
    check("aiocoap Observe /sensors/temp: %d notifications after %s" % (
        len(seen), first.payload.decode()), first.opt.observe is not None and len(seen) >= 3)

    # A reboot: Ctrl-C (the firmware closes PPP), a soft reset, main.py again.
    # The table is saved at most every 10 s (flash wear: observestore.py)
    await asyncio.sleep(max(0, registered + 12 - time.monotonic()))
    before = len(console())
    rebooted = soft_reset(str(repl))
    t_boot = time.monotonic()
    restored = False
    for _ in range(120):
        out = console()[before:]
        restored = "observer(s) restored" in out
        if restored and any(t > t_boot for t, _ in seen):
            break
        await asyncio.sleep(0.5)
    line = [ln for ln in console()[before:].splitlines() if "restored" in ln]
    after = sum(1 for t, _ in seen if t > t_boot)
    check("reboot: observers resumed (%s), %d notifications since" % (
        line[0] if line else "no restore line", after), rebooted and restored and after >= 1)
    task.cancel()

    before = len(console())
    drop_link(net, Path(repl).parent)
    for _ in range(120):
        if "ppp: reconnected as" in console()[before:]:
            break
        await asyncio.sleep(0.5)
    lines = [ln for ln in console()[before:].splitlines() if ln.startswith("ppp:")]
    try:
        got = (await ask(Message(code=GET, uri=base + "sensors/temp"))).code
    except Exception as e:  # the check's line says what went wrong
        got = repr(e)
    check("link ended by the peer: %s; then GET /sensors/temp: %s" % (" | ".join(lines), got),
          any("reconnected" in ln for ln in lines) and got == codes.CONTENT)
    info = await ask(Message(code=GET, uri=base + "board"))
    check("after all that: free heap %d bytes, uptime %d ms" % (
        json.loads(info.payload)["free_heap"], json.loads(info.payload)["uptime_ms"]),
        info.code == codes.CONTENT)
    await update_check.run(check, ask, base, ctx, secure, console, PEER_IP,
                           config["update_oscore"])
    await secure.shutdown()
    await ctx.shutdown()
    print("target: %d passed, %d failed" % (check.passed, check.failed), flush=True)
    return check.failed


def main(ip, repl, console, config, net):
    failed = asyncio.run(run(ip, repl, console, config, net))
    return 1 if failed else 0
