"""docs/updates.md on the target: a release in which every file differs
(tools.publish), served by aiocoap-fileserver from the PPP peer's address
under the board's update context, triggered over OSCORE. The board fetches
it over OSCORE while it serves, swaps it in,
restarts (a soft reset, with the PPP link closed first) and confirms the new
version once it serves; /board says so. Its lowest free heap while fetching
(the update collects and measures it at each file's start) is the figure of
a whole-app update on a 264 KB board."""

import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from aiocoap import GET, POST, Message
from aiocoap.numbers import codes

ROOT = Path(__file__).resolve().parents[2]
VERSION = "9.9.9"
FILES_PORT = 5690


def release(work):
    """The board's build with every module changed, published into work/files."""
    from tools.publish import publish

    src = work / "src"
    for d in ("firmware", "boards", "lib"):
        shutil.copytree(ROOT / d, src / d, ignore=shutil.ignore_patterns("__pycache__"))
    for p in src.rglob("*.py"):
        p.write_text(p.read_text() + "\n_RELEASE = 2  # every module of this release differs\n")
    return publish("rp2040-ppp", VERSION, work / "files", src=src)


def credentials(work, context):
    """aiocoap-fileserver's side of the board's update context."""
    keys = work / "keys"
    keys.mkdir()
    (keys / "settings.json").write_text(json.dumps({
        "sender-id_hex": context["recipient_id"], "recipient-id_hex": context["sender_id"],
        "secret_hex": context["secret"], "salt_hex": context["salt"]}))
    creds = work / "credentials.json"
    creds.write_text(json.dumps({":board": {"oscore": {"basedir": str(keys) + "/"}}}))
    return creds


async def run(check, ask, base, plain, secure, console, peer_ip, context):
    work = Path(tempfile.mkdtemp(prefix="target-update-"))
    t0 = time.monotonic()
    manifest = release(work)
    size = sum(f["size"] for f in manifest["files"])
    # the namespace's own address is reached over its loopback
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    server = subprocess.Popen([str(Path(sys.executable).parent / "aiocoap-fileserver"),
                               "--bind", "%s:%d" % (peer_ip, FILES_PORT),
                               "--credentials", str(credentials(work, context)),
                               str(work / "files")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        uri = "coap://%s:%d/manifest.json" % (peer_ip, FILES_PORT)
        for _ in range(40):  # up once it answers (4.01: the manifest is OSCORE-only)
            try:
                await ask(Message(code=GET, uri=uri), plain, 2)
                break
            except Exception:  # not yet listening
                await asyncio.sleep(0.5)
        before = len(console())
        was = json.loads((await ask(Message(code=GET, uri=base + "board"), plain)).payload)
        resp = await ask(Message(code=POST, uri=base + "board/update", payload=uri.encode()),
                         secure)
        check("POST /board/update over OSCORE (%d files, %d bytes, published in %.0f s): %s"
              % (len(manifest["files"]), size, time.monotonic() - t0, resp.code),
              resp.code == codes.CHANGED, resp.payload.decode(errors="replace"))
        if resp.code != codes.CHANGED:
            return
        t1 = time.monotonic()
        lowest, state, info = None, {}, {}
        while time.monotonic() - t1 < 900 and state.get("state") not in (
                "done", "failed", "rolledback"):
            await asyncio.sleep(2)
            try:
                info = json.loads((await ask(Message(code=GET, uri=base + "board"), plain,
                                             10)).payload)
            except Exception:  # restarting
                continue
            state = info.get("update") or {}
            if "free_min" in state:  # collected by the update at each file's start
                lowest = state["free_min"]
        lines = [ln for ln in console()[before:].splitlines() if ln.startswith("update:")]
        check("update %s -> %s in %.0f s: %s; lowest free heap while fetching %s bytes "
              "(%d before)" % (was.get("app"), info.get("app"), time.monotonic() - t1,
                               " | ".join(lines), lowest, was["free_heap"]),
              state.get("state") == "done" and info.get("app") == VERSION, json.dumps(state))
        served = await ask(Message(code=GET, uri=base + "sensors/temp"), plain)
        check("the new version serves: GET /sensors/temp %s, free heap %d bytes"
              % (served.payload.decode(), info.get("free_heap", -1)),
              served.code == codes.CONTENT)
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(work, ignore_errors=True)
