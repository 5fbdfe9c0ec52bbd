"""Start the simulated board (firmware on the MicroPython unix port) for a test.

    with SimulatedBoard(config={"seed": 3}) as board:
        board.port, board.host, board.output()
"""

import json
import os
import signal
import socket
import subprocess
import tempfile
import time

from support import free_port, stop_process

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MICROPYTHON = os.path.join(ROOT, ".venv", "bin", "micropython")
BOARD_PATH = ":".join(os.path.join(ROOT, p)
                      for p in ("firmware", "boards/unix", "boards/common", "lib"))


def ping(host, port, timeout=0.2):
    """True when a CoAP ping (empty CON) gets an RST back."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(b"\x40\x00\x12\x34", (host, port))
        try:
            data, _ = s.recvfrom(64)
        except (socket.timeout, ConnectionRefusedError):
            return False
        return data == b"\x70\x00\x12\x34"


class SimulatedBoard:
    def __init__(self, config=None, port=None, main="main.py", cwd=None, start_timeout=10,
                 prefix=(), environ=None, tree=None):
        self.config = dict(config or {})
        self.port = port or self.config.get("port") or free_port()
        self.config.setdefault("port", self.port)
        self.host = "127.0.0.1"
        self.main = main
        self.cwd = cwd
        self.start_timeout = start_timeout
        self.prefix = list(prefix)  # e.g. ["ip", "netns", "exec", ns]: exec keeps the pid
        self.environ = os.environ if environ is None else environ
        #: a deployed board's folder (as tools.deploy lays it out) to run instead
        #: of the repository's firmware; it is also the working directory
        self.tree = tree
        self.proc = None
        self._dir = None
        self._log = None

    def start(self, wait=True):
        self._dir = tempfile.TemporaryDirectory()
        cfg = os.path.join(self._dir.name, "config.json")
        with open(cfg, "w") as f:
            json.dump(self.config, f)
        self._log = open(os.path.join(self._dir.name, "console.log"), "w+")
        env = dict(self.environ, MICROPYPATH=self.tree or BOARD_PATH)
        env.pop("COAP_PORT", None)  # the port is the config's: a developer's own would win
        self.proc = subprocess.Popen(
            self.prefix + [MICROPYTHON, os.path.join(self.tree or os.path.join(ROOT, "firmware"),
                                                     self.main), cfg],
            stdout=self._log, stderr=subprocess.STDOUT, env=env,
            cwd=self.tree or self.cwd or self._dir.name)
        if wait:
            self.wait_ready()
        return self

    @property
    def config_path(self):
        """The config file the board was started with (and that it reads again
        at a reboot)."""
        return os.path.join(self._dir.name, "config.json")

    def wait_ready(self):
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("board exited (%s):\n%s" % (self.proc.returncode, self.output()))
            if ping(self.host, self.port):
                return
            time.sleep(0.05)
        raise RuntimeError("board did not answer a ping in %ss:\n%s" % (self.start_timeout, self.output()))

    def observers(self):
        """How many observers /board counts, read with libcoap's coap-client."""
        out = subprocess.run(["coap-client-notls", "-B", "3", "-m", "get",
                              "coap://127.0.0.1:%d/board" % self.port], capture_output=True)
        return json.loads(out.stdout)["observers"]

    def output(self):
        self._log.flush()
        self._log.seek(0)
        return self._log.read()

    def stop(self):
        if self.proc:
            stop_process(self.proc, timeout=5)
        out = self.output() if self._log else ""
        if self._log:
            self._log.close()
            self._dir.cleanup()
            self._log = None
        return out

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def make_run(args, port):
    """`make run ARGS` started as a user starts it; the process once it answers
    CoAP on port (the first time it installs what it needs: up to minutes)."""
    proc = subprocess.Popen(["make", "--no-print-directory", "run"] + args, cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while not ping("127.0.0.1", port):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError("make run did not serve on %d:\n%s"
                                 % (port, stop_process(proc, group=True)))
        time.sleep(0.1)
    return proc


def stop_make_run(proc, sig=signal.SIGTERM, timeout=10):
    """Stop what make_run started (sig: SIGINT is Ctrl-C); its output."""
    return stop_process(proc, sig, timeout, group=True)
