"""Every shell and Python block in README.md and docs/*.md runs as written, on a
fresh copy of the repository (its tracked files; .venv and tools/node shared),
each file in a network namespace of its own, where `make run` has port 5683.

How a command runs (`pytest -v` lists each block, `-s` prints each command's fate):
- as written, expecting exit status 0; a comment naming a CoAP error (`# 4.01
  Unauthorized`) means the command shows that error instead;
- `make run ...` and the README's setpoint.py serve until stopped: the next
  command runs once a CoAP ping is answered (a later server replaces the
  earlier one, as Ctrl-C in its terminal would);
- `make flash`, and `make deploy` to a serial device: with DRY_RUN=1 (no board
  here: the dry run says what is missing);
- `mpremote connect /dev/tty...`: with a simulated board (tools/pty_board) in the
  device's place;
- `make test`, `make bench`: `make -n` (this test runs inside the first; the
  second takes 18 minutes);
- a command with a <placeholder> is not run: the reader fills it in;
- a block whose first line is "# not run by the docs test: <why>" is not run.
A Python block whose first line names a file (`# setpoint.py ...`) is saved under
that name, for the commands after it; any other Python block needs the marker.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings

import pytest

from boardsim import ROOT

DOCS = ["README.md"] + sorted("docs/" + f for f in os.listdir(os.path.join(ROOT, "docs"))
                               if f.endswith(".md"))
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
MARKER = "# not run by the docs test: "
SERVERS = (re.compile(r"\bmake run\b"), re.compile(r"micropython setpoint\.py"))
PLACEHOLDER = re.compile(r"<[a-z][a-z ]*>")
SERIAL = re.compile(r"/dev/tty(USB|ACM)\d")
ERROR_CODE = re.compile(r"\b[45]\.\d\d\b")
PING = """
import socket, sys, time
deadline = time.monotonic() + float(sys.argv[1])
while time.monotonic() < deadline:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.2)
        s.sendto(b"\\x40\\x00\\x12\\x34", ("127.0.0.1", 5683))
        try:
            if s.recv(64) == b"\\x70\\x00\\x12\\x34":
                sys.exit(0)
        except OSError:
            time.sleep(0.2)
sys.exit(1)
"""


def _blocks():
    found = []
    for name in DOCS:
        text = open(os.path.join(ROOT, name)).read()
        for m in FENCE.finditer(text):
            if m.group(1) in ("sh", "python"):
                found.append((name, text.count("\n", 0, m.start()) + 1, m.group(1), m.group(2)))
    return found


BLOCKS = _blocks()


def _config_json():
    """The config.json docs/flashing.md has the reader write (step 3)."""
    text = open(os.path.join(ROOT, "docs", "flashing.md")).read()
    section = text.split("Write its config.json", 1)[1]
    return re.search(r"```json\n(.*?)```", section, re.S).group(1)


class Sandbox:
    """A fresh copy of the repository, its own network namespace, and what runs there."""

    def __init__(self, doc):
        self.dir = tempfile.mkdtemp(prefix="docs-")
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                             check=True).stdout
        for path in out.decode().split("\0"):
            src = os.path.join(ROOT, path)
            if path and os.path.isfile(src):
                os.makedirs(os.path.dirname(os.path.join(self.dir, path)), exist_ok=True)
                shutil.copy2(src, os.path.join(self.dir, path))
        os.symlink(os.path.realpath(os.path.join(ROOT, ".venv")), os.path.join(self.dir, ".venv"))
        node = os.path.join(ROOT, "tools", "node", "node_modules")
        if os.path.isdir(node):
            os.symlink(os.path.realpath(node),
                       os.path.join(self.dir, "tools", "node", "node_modules"))
        with open(os.path.join(self.dir, "config.json"), "w") as f:
            f.write(_config_json())
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("VENV", "COAP_PORT", "COAP_RD", "MICROPYPATH", "MAKEFLAGS",
                                 "MAKELEVEL", "MFLAGS")}
        self.ns = "docs%d-%s" % (os.getpid(), re.sub(r"\W", "", doc)[:12])
        try:
            subprocess.run(["ip", "netns", "add", self.ns], check=True, capture_output=True)
            subprocess.run(["ip", "netns", "exec", self.ns, "ip", "link", "set", "lo", "up"],
                           check=True, capture_output=True)
        except (OSError, subprocess.CalledProcessError) as e:
            warnings.warn("docs: no network namespace (%s): on this host's loopback" % e)
            self.ns = None
        self.groups = []   # process groups to end at the end
        self.servers = []
        self.pty_port = None
        self.n = 0

    def argv(self, cmd):
        return (["ip", "netns", "exec", self.ns] if self.ns else []) + ["bash", "-c", cmd]

    def start(self, cmd):
        self.n += 1
        log = open(os.path.join(self.dir, ".cmd%d.log" % self.n), "w+")
        proc = subprocess.Popen(self.argv(cmd), cwd=self.dir, env=self.env, stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        self.groups.append(proc.pid)
        return proc, log

    def run(self, cmd, timeout=300):
        proc, log = self.start(cmd)
        try:
            status = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.end(proc.pid)
            status = "timed out after %d s" % timeout
        log.seek(0)
        return status, log.read()

    def serve(self, cmd):
        for pid in self.servers:  # Ctrl-C in the other terminal
            self.end(pid)
        proc, log = self.start(cmd)
        self.servers.append(proc.pid)
        ping = subprocess.run(self.argv("%s -c '%s' 120" % (sys.executable, PING)))
        log.seek(0)
        assert proc.poll() is None and ping.returncode == 0, \
            "%s did not serve:\n%s" % (cmd, log.read())

    def serial_stand_in(self):
        if self.pty_port is None:
            os.makedirs(os.path.join(self.dir, ".pty-board"))
            proc, log = self.start("exec .venv/bin/python -m tools.pty_board .pty-board")
            for _ in range(200):
                log.seek(0)
                self.pty_port = log.readline().strip() or None
                if self.pty_port:
                    break
                time.sleep(0.05)
            assert self.pty_port, "tools.pty_board gave no port"
        return self.pty_port

    def end(self, pgid):
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                return
            for _ in range(30):
                try:
                    os.killpg(pgid, 0)
                except ProcessLookupError:
                    return
                time.sleep(0.1)

    def close(self):
        for pgid in self.groups:
            self.end(pgid)
        if self.ns:
            subprocess.run(["ip", "netns", "del", self.ns], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="module")
def sandboxes():
    opened = {}

    def get(doc):
        if doc not in opened:
            for other in opened.values():  # one file at a time
                other.close()
            opened.clear()
            opened[doc] = Sandbox(doc)
        return opened[doc]

    yield get
    for sb in opened.values():
        sb.close()


def _commands(body):
    """The block's commands: continuation lines joined, blank and comment lines left out."""
    cmds, cur = [], ""
    for line in body.splitlines():
        cur += line
        if cur.endswith("\\"):
            cur = cur[:-1]
            continue
        if cur.strip() and not cur.lstrip().startswith("#"):
            cmds.append(cur.strip())
        cur = ""
    return cmds


def _run_command(sb, cmd):
    """What became of cmd: one line for the listing."""
    code, _, comment = cmd.partition(" #")
    code = code.strip()
    if PLACEHOLDER.search(code):
        return "not run (a placeholder to fill in): " + code
    if any(s.search(code) for s in SERVERS):
        sb.serve(code)
        return "serving: " + code
    if re.match(r"make (test|bench)\b", code):
        code = "make -n " + code[len("make "):]
    elif code.startswith("make flash") or (code.startswith("make deploy") and SERIAL.search(code)):
        code += " DRY_RUN=1"
    elif "mpremote" in code and SERIAL.search(code):
        code = SERIAL.sub(sb.serial_stand_in(), code)
    status, out = sb.run(code)
    error = ERROR_CODE.search(comment)
    if error:
        assert error.group(0) in out, "%s: expected %s:\n%s" % (code, error.group(0), out)
        return "ran, showed %s as documented: %s" % (error.group(0), code)
    assert status == 0, "%s: exit status %s:\n%s" % (code, status, out)
    return "ran: " + code


@pytest.mark.parametrize("doc, line, lang, body", BLOCKS,
                         ids=["%s:%d" % (b[0], b[1]) for b in BLOCKS])
def test_doc_block_runs_as_written(sandboxes, doc, line, lang, body):
    first = body.splitlines()[0] if body.strip() else ""
    where = "%s:%d %s" % (doc, line, lang)
    if first.startswith(MARKER):
        print("\n%s not run: %s" % (where, first[len(MARKER):]))
        return
    sb = sandboxes(doc)
    if lang == "python":
        m = re.match(r"# ([\w.-]+\.py)\b", first)
        assert m, "%s: name the file in the first line (# name.py) or mark it (%s...)" % (
            where, MARKER)
        with open(os.path.join(sb.dir, m.group(1)), "w") as f:
            f.write(body)
        print("\n%s saved as %s" % (where, m.group(1)))
        return
    for cmd in _commands(body):
        print("\n%s %s" % (where, _run_command(sb, cmd)))
