"""Publish a build as an app update, and tell a board to take it (docs/updates.md).

    python -m tools.publish --board unix --version 0.2.0 --out DIR [--source]
        [--files coap://HOST[:PORT][/PATH] --trigger coap://BOARD[:PORT]
         --credentials DIR [--force] [--wait S]]

Writes the board's files (built .mpy, or with --source the .py files) and
DIR/manifest.json (version; per file path, size, SHA-256) into DIR, for
`aiocoap-fileserver DIR` to serve. main.py, boot.py and bootguard.py are left
out: a board never replaces them over the air.

With --trigger, POSTs the manifest's URI (--files, where DIR is served, plus
/manifest.json) to the board's /board/update over OSCORE (--credentials: an
aiocoap credentials directory, as docs/security.md makes one), then with
--wait follows the update in /board for up to S seconds.
"""

import argparse
import asyncio
import gc
import hashlib
import json
import re
import tempfile
import time
from pathlib import Path

from .build import MARKER, build
from .common import ROOT, Refused, run_cli
from .layout import check_board, files_for

#: what a board never takes over the air (firmware/bootguard.py FIXED)
FIXED = ("main.py", "boot.py", "bootguard.py", "bootguard.mpy")
MANIFEST = "manifest.json"


def check_version(v):
    if not re.fullmatch(r"\d{1,5}\.\d{1,5}\.\d{1,5}", v or ""):
        raise Refused("version %r is not major.minor.patch (e.g. 0.2.0)" % (v,))
    return v


def publish(board, version, out, source=False, src=ROOT, mpy_cross=None):
    """Write the files and the manifest into out; returns the manifest."""
    check_board(board)
    check_version(version)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise Refused("%s is not a folder" % out)
    with tempfile.TemporaryDirectory() as tmp:
        if source:
            pairs = [(p, dest) for p, dest in files_for(board, src)]
        else:
            built = Path(tmp) / board
            build(board, src=src, out=built, mpy_cross=mpy_cross)
            pairs = sorted((p, str(p.relative_to(built))) for p in built.rglob("*")
                           if p.is_file() and p.name != MARKER)
        files = []
        out.mkdir(parents=True, exist_ok=True)
        for path, dest in pairs:
            if dest in FIXED:
                continue
            data = Path(path).read_bytes()
            target = out / dest
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            files.append({"path": dest, "size": len(data),
                          "sha256": hashlib.sha256(data).hexdigest()})
    manifest = {"version": version, "files": sorted(files, key=lambda f: f["path"])}
    # The manifest last, by a rename: a board never reads one naming missing files
    part = out / (MANIFEST + ".part")
    part.write_text(json.dumps(manifest, separators=(",", ":")) + "\n")
    part.replace(out / MANIFEST)
    return manifest


async def _trigger(board, manifest_uri, credentials, force, wait, say, plain=False):
    import aiocoap

    ctx = await aiocoap.Context.create_client_context()
    try:
        base = board.rstrip("/") + "/"
        ctx.client_credentials.load_from_dict({base + "*": {"oscore": {"basedir": credentials}}})
        query = [q for q, on in (("force", force), ("plain", plain)) if on]
        uri = base + "board/update" + ("?" + "&".join(query) if query else "")
        msg = aiocoap.Message(code=aiocoap.POST, uri=uri, payload=manifest_uri.encode())
        try:
            resp = await asyncio.wait_for(ctx.request(msg).response, 30)
        except (asyncio.TimeoutError, OSError, aiocoap.error.Error) as e:
            raise Refused("%s: %s" % (uri, str(e) or "no answer in 30 s"))
        if not resp.code.is_successful():
            raise Refused("%s answered %s: %s" % (uri, resp.code.dotted,
                                                  resp.payload.decode(errors="replace")))
        say("%s: %s, updating from %s" % (board, resp.code.dotted, manifest_uri))
        deadline = time.monotonic() + wait
        last = None
        while time.monotonic() < deadline:
            await asyncio.sleep(1)
            try:
                get = aiocoap.Message(code=aiocoap.GET, uri=base + "board")
                info = await asyncio.wait_for(ctx.request(get).response, 10)
                state = json.loads(info.payload)
            except (asyncio.TimeoutError, OSError, ValueError, aiocoap.error.Error):
                continue  # rebooting
            shown = "app %s, update %s" % (state.get("app"), json.dumps(state.get("update")))
            if shown != last:
                say("%s: %s" % (board, shown))
                last = shown
            if (state.get("update") or {}).get("state") in ("done", "failed", "rolledback"):
                return state
        return None
    finally:
        await ctx.shutdown()


def check_trigger(board, credentials):
    if not board.startswith("coap://"):
        raise Refused("--trigger %s: expected coap://host[:port]" % board)
    if not credentials or not (Path(credentials) / "settings.json").is_file():
        raise Refused("--credentials %s: no settings.json there (docs/security.md)"
                      % credentials)


def trigger(board, manifest_uri, credentials, force=False, wait=0, say=print, plain=False):
    """POST the manifest's URI to the board; with wait, its /board once the
    update is done, failed or rolled back (None: not within wait seconds).
    plain: the board fetches without OSCORE (one without an update context)."""
    check_trigger(board, credentials)
    try:
        return asyncio.run(_trigger(board, manifest_uri, credentials, force, wait, say, plain))
    finally:
        # aiocoap releases the credentials' lock file (and saves the sequence
        # number) only when its context is collected: now, for the next use
        gc.collect()


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m tools.publish",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--board", required=True)
    ap.add_argument("--version", required=True, help="major.minor.patch, newer than the board's")
    ap.add_argument("--out", required=True, help="the folder aiocoap-fileserver serves")
    ap.add_argument("--source", action="store_true", help=".py files instead of .mpy")
    ap.add_argument("--src", default=str(ROOT), help=argparse.SUPPRESS)
    ap.add_argument("--files", help="coap:// URI where --out is served")
    ap.add_argument("--trigger", help="coap:// URI of the board to update")
    ap.add_argument("--credentials", help="aiocoap OSCORE credentials directory")
    ap.add_argument("--force", action="store_true", help="an older version too")
    ap.add_argument("--plain", action="store_true",
                    help="the board fetches without OSCORE (it has no update_oscore)")
    ap.add_argument("--wait", type=float, default=0, help="follow /board for S seconds")
    a = ap.parse_args(argv)
    if a.trigger:
        if not a.files:
            raise Refused("--trigger needs --files: where the board finds the manifest")
        check_trigger(a.trigger, a.credentials)
    m = publish(a.board, a.version, a.out, a.source, a.src)
    print("publish: %s %s: %d files and %s in %s"
          % (a.board, a.version, len(m["files"]), MANIFEST, a.out))
    if a.trigger:
        state = trigger(a.trigger, a.files.rstrip("/") + "/" + MANIFEST, a.credentials,
                        a.force, a.wait, plain=a.plain)
        if a.wait and (state is None or state["update"]["state"] != "done"):
            raise Refused("the board did not report %s done" % a.version)
    return 0


if __name__ == "__main__":
    import sys
    sys.exit(run_cli("publish", main, sys.argv[1:]))
