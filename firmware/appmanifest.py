# An app update's manifest (docs/updates.md), and the running app's own:
#     {"version": "1.2.0", "files": [{"path": "app.mpy", "size": 4210,
#                                     "sha256": "<64 hex digits>"}, ...]}
# Checked whole before anything is fetched; the board keeps the one it runs
# as app.json, swapped in with the files.

import hashlib
import json
import os
from binascii import hexlify

from bootguard import FIXED

#: installed with the files: the version and files of the running app
INSTALLED = "app.json"
MAX_FILE = 1 << 20
MAX_FILES = 128
_PATH_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/"


def version(v):
    """(major, minor, patch) of "1.2.0"; ValueError when it is not one."""
    parts = v.split(".") if isinstance(v, str) else ()
    if len(parts) != 3 or not all(p.isdigit() and len(p) < 6 for p in parts):
        raise ValueError("version %r is not major.minor.patch" % (v,))
    return tuple(int(p) for p in parts)


def running():
    """The running app's version: its app.json's, else the library's."""
    try:
        with open(INSTALLED) as f:
            return json.load(f)["version"]
    except (OSError, ValueError, KeyError, TypeError):
        from coap import __version__
        return __version__


def check_manifest(m):
    """The manifest's files, each checked; ValueError naming the first bad one."""
    if not isinstance(m, dict) or not isinstance(m.get("files"), list):
        raise ValueError("manifest: expected {\"version\": ..., \"files\": [...]}")
    version(m.get("version"))
    files = m["files"]
    if not 0 < len(files) <= MAX_FILES:
        raise ValueError("manifest: 1 to %d files" % MAX_FILES)
    for f in files:
        p = f.get("path") if isinstance(f, dict) else None
        # relative, no "..", no hidden parts (.update/), no folder
        if (not isinstance(p, str) or not p or len(p) > 64 or p[0] in "./" or p[-1] == "/"
                or "//" in p or "/." in p or any(c not in _PATH_CHARS for c in p)):
            raise ValueError("manifest: bad path %r" % (p,))
        if p in FIXED or p == INSTALLED:
            raise ValueError("manifest: %s is not updated over the air" % p)
        size, digest = f.get("size"), f.get("sha256")
        if not isinstance(size, int) or not 0 <= size <= MAX_FILE:
            raise ValueError("manifest: %s: bad size" % p)
        if (not isinstance(digest, str) or len(digest) != 64
                or any(c not in "0123456789abcdef" for c in digest)):
            raise ValueError("manifest: %s: bad sha256" % p)
    return files


def file_sha256(path):
    h = hashlib.sha256()
    buf = bytearray(512)
    with open(path, "rb") as f:
        while True:
            n = f.readinto(buf)
            if not n:
                break
            h.update(memoryview(buf)[:n])
    return hexlify(h.digest()).decode()


def changed(f):
    """Whether the board's copy of manifest entry f differs from it."""
    try:
        if os.stat(f["path"])[6] != f["size"]:
            return True
        return file_sha256(f["path"]) != f["sha256"]
    except OSError:
        return True
