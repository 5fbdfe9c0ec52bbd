"""Talking to a board's REPL over its serial port: mpremote runs, hashes, soft reset.

Every mpremote run uses `resume`: mpremote then interrupts the running program with
Ctrl-C and enters the raw REPL without a soft reset. That keeps boot.py (Wi-Fi) out
of a deploy on real boards.
"""

import errno
import fcntl
import os
import re
import subprocess

from .common import Refused, venv_tool

# Run on the board: "<sha256 hex> <path>", "- <path>" (absent) or "? <path>" (not a
# regular file). Reads in small chunks: a board has little RAM to spare.
_HASHES = """\
import os, hashlib, binascii
def _h(p):
    try:
        if os.stat(p)[0] & 0xF000 != 0x8000:
            return '?'
    except OSError:
        return '-'
    d = hashlib.sha256()
    with open(p, 'rb') as f:
        while True:
            b = f.read(512)
            if not b:
                break
            d.update(b)
    return binascii.hexlify(d.digest()).decode()
for _p in %r:
    print(_h(_p), _p)
"""

_MKDIRS = """\
import os
for _d in %r:
    try:
        os.mkdir(_d)
    except OSError:
        pass
"""

#: Files are copied under this suffix, checked, then renamed into place: a copy
#: cut short leaves only a temporary file the board never imports.
PART = ".part"

# Run on the board after the copies: check every temporary file's sha256, then
# rename them all into place and delete what is to go; or, if one differs,
# delete the temporary files and touch nothing else.
_COMMIT = """\
import os, hashlib, binascii
def _h(p):
    d = hashlib.sha256()
    with open(p, 'rb') as f:
        while True:
            b = f.read(512)
            if not b:
                break
            d.update(b)
    return binascii.hexlify(d.digest()).decode()
_bad = [_t for _t, _d, _s in %r if _h(_t) != _s]
if _bad:
    for _t, _d, _s in %r:
        os.remove(_t)
    print('deploy-bad', _bad[0])
else:
    for _t, _d, _s in %r:
        try:
            os.rename(_t, _d)
        except OSError:  # FAT renames onto no existing file
            os.remove(_d)
            os.rename(_t, _d)
    for _d in %r:
        os.remove(_d)
    print('deploy-ok')
"""


def check_port(port):
    """Refuse a port that is missing, not a terminal, or held by another program."""
    try:
        fd = os.open(port, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise Refused("no such port %s (is the board plugged in? `mpremote devs` lists ports)"
                      % port)
    except PermissionError:
        raise Refused("no permission to open %s (add yourself to the dialout group)" % port)
    except OSError as e:
        if e.errno == errno.EBUSY:
            raise Refused("port %s is busy: another program has it open" % port)
        raise Refused("cannot open %s: %s" % (port, e.strerror))
    try:
        if not os.isatty(fd):
            raise Refused("%s is not a serial port" % port)
        # pyserial (so mpremote, esptool, miniterm) holds an exclusive flock on a
        # port it has open; mpremote itself would only say "failed to access".
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Refused("port %s is busy: another program has it open "
                          "(a serial terminal, mpremote, Thonny?)" % port)
    finally:
        os.close(fd)


class Mpremote:
    def __init__(self, port, timeout):
        self.port = port
        self.timeout = timeout
        self.exe = venv_tool("mpremote")
        if not self.exe:
            raise Refused("mpremote not found; run `make setup`")

    def run(self, args, timeout=None):
        """`mpremote connect PORT resume ARGS...`; its stdout, or a Refused saying why not."""
        timeout = timeout or self.timeout
        cmd = [self.exe, "connect", self.port, "resume"] + list(args)
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Refused(self._no_answer(timeout))
        if out.returncode != 0:
            raise Refused(self._failure(out.stdout + out.stderr))
        return out.stdout

    def _no_answer(self, timeout):
        return ("board on %s did not answer the raw REPL within %g s "
                "(is MicroPython running on it? press its reset button and try again)"
                % (self.port, timeout))

    def _failure(self, text):
        full = re.search(r"cp: (\S+): No space left on device", text)
        if full:
            name = full.group(1)
            name = name[:-len(PART)] if name.endswith(PART) else name
            return ("board on %s is full: no space left writing %s (ENOSPC); "
                    "nothing was replaced, free some space and deploy again"
                    % (self.port, name))
        if "could not enter raw repl" in text:
            return self._no_answer(self.timeout)
        if "failed to access" in text:
            return "port %s is busy: another program has it open" % self.port
        lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
        return "mpremote failed on %s: %s" % (self.port, lines[-1] if lines else "no output")

    def hashes(self, paths):
        """{path: sha256 hex, "-" absent, "?" not a regular file} for paths on the board."""
        out = self.run(["exec", _HASHES % (list(paths),)])
        found = {}
        for line in out.splitlines():
            parts = line.split(" ", 1)
            if len(parts) == 2 and parts[1] in paths:
                found[parts[1]] = parts[0]
        missing = [p for p in paths if p not in found]
        if missing:
            raise Refused("board on %s gave no hash for %s; it said: %r"
                          % (self.port, missing[0], out[-200:]))
        return found

    def copy(self, copies, removals, timeout, hashes):
        """Copy [(local, dest)] and delete [dest] in one mpremote run: each file
        under a temporary name first, its sha256 (hashes[dest]) checked on the
        board, then all renamed into place. Killed at any point, every file on
        the board is the old one or the new one."""
        dirs = sorted({d for _, dest in copies for d in _parents(dest)}, key=len)
        args = ["exec", _MKDIRS % (dirs,)]
        for local, dest in copies:
            args += ["+", "fs", "cp", "-f", str(local), ":" + dest + PART]
        commit = [(dest + PART, dest, hashes[dest]) for _, dest in copies]
        args += ["+", "exec", _COMMIT % (commit, commit, commit, list(removals))]
        out = self.run(args, timeout)
        if "deploy-ok" not in out:
            bad = re.search(r"deploy-bad (\S+)", out)
            raise Refused("board on %s holds a different %s than was sent; nothing was "
                          "replaced, deploy again" % (self.port, bad.group(1)[:-len(PART)])
                          if bad else "board on %s did not confirm the copy: %r"
                          % (self.port, out[-200:]))


def _parents(dest):
    parts = dest.split("/")[:-1]
    return ["/".join(parts[:i + 1]) for i in range(len(parts))]


def soft_reset(port, timeout=3.0):
    """Ctrl-D at the friendly REPL: the board restarts and runs boot.py and main.py.

    Not mpremote's soft-reset: that one resets from the raw REPL, after which
    MicroPython skips main.py. True when the board confirmed the reboot."""
    import serial  # pyserial: only needed here, and mpremote already depends on it

    with serial.Serial(port, 115200, timeout=timeout, exclusive=True) as s:
        # Ctrl-C twice stops a program and clears the line, Ctrl-B leaves the
        # raw REPL if the board is still in it, Ctrl-D on an empty line resets.
        s.write(b"\r\x03\x03\r\x02")
        s.write(b"\x04")
        return b"soft reboot" in s.read_until(b"soft reboot", 4096)
