# An app update's manifest (docs/updates.md), and the running app's own:
#     {"version": "1.2.0", "files": [{"path": "app.mpy", "size": 4210,
#                                     "sha256": "<64 hex digits>"}, ...]}
# Checked whole before anything is fetched, and read in pieces (scan()); the board keeps the one it runs
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
        return scan(INSTALLED)["version"]
    except (OSError, ValueError, KeyError, TypeError):
        from coap import __version__
        return __version__


def check_file(f):
    """One entry of the manifest's files; ValueError naming what is wrong."""
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


def _json(text):
    try:
        return json.loads(text)
    except ValueError:  # UnicodeError too
        raise ValueError("manifest is not JSON")


def scan(path, each=None):
    """The manifest at path, read in pieces and never held whole (a board's
    heap may have no 4 KB in one piece): each(f, off, n) for each object of
    its "files" array, parsed alone (its text is the file's bytes off..off+n),
    checked with check_file. Returns the rest as a dict whose "files" is the
    count of files. ValueError when it is not a manifest."""
    top = bytearray()   # the manifest without its files' objects
    item = bytearray()  # the file object being read
    key = bytearray()   # the last string at the top level: names what follows
    depth = 0
    quoted = escaped = in_files = False
    count = start = pos = 0
    buf = bytearray(256)
    with open(path, "rb") as f:
        while True:
            n = f.readinto(buf)
            if not n:
                break
            for i in range(n):
                c = buf[i]
                if quoted:
                    if escaped:
                        escaped = False
                    elif c == 0x5C:  # backslash
                        escaped = True
                    elif c == 0x22:
                        quoted = False
                    elif depth == 1 and len(key) < 8:
                        key.append(c)
                elif c == 0x22:
                    quoted = True
                    if depth == 1:
                        key[0:] = b""
                elif c == 0x7B or c == 0x5B:  # { [
                    depth += 1
                    if depth == 2 and c == 0x5B and key == b"files":
                        in_files = True
                        top.append(c)
                        continue
                    if in_files and depth == 3:
                        start = pos + i
                        item[0:] = b""
                elif c == 0x7D or c == 0x5D:  # } ]
                    depth -= 1
                    if in_files and depth == 2:  # the end of one file's object
                        item.append(c)
                        entry = _json(item)
                        check_file(entry)
                        count += 1
                        if each is not None:
                            each(entry, start, pos + i + 1 - start)
                        continue
                    if in_files and depth == 1:
                        in_files = False
                if in_files:
                    if depth >= 3:
                        if len(item) >= 512:
                            raise ValueError("manifest: a file's entry is over 512 bytes")
                        item.append(c)
                elif len(top) < 1024:
                    top.append(c)
                else:
                    raise ValueError("manifest: over 1 KB besides its files")
            pos += n
    m = _json(top)
    if not isinstance(m, dict) or not isinstance(m.get("files"), list):
        raise ValueError("manifest: expected {\"version\": ..., \"files\": [...]}")
    version(m.get("version"))
    if not 0 < count <= MAX_FILES:
        raise ValueError("manifest: 1 to %d files" % MAX_FILES)
    m["files"] = count
    return m


def entry(path, off, n):
    """The file object scan() found at off..off+n of the manifest at path."""
    with open(path, "rb") as f:
        f.seek(off)
        return json.loads(f.read(n))


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
