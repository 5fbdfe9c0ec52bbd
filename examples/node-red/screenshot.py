"""Retake docs/img/dashboard.png: the simulated board (make run, on a free port),
this folder's flow.json in Node-RED (tools/node: make peers), and headless
Chromium's picture of the dashboard once it has charted for a while.

    python3 examples/node-red/screenshot.py [--seconds 60] [--out docs/img/dashboard.png]

Needs Debian's chromium and optipng. Chromium is driven over its DevTools pipe
(--remote-debugging-pipe), so the standard library is enough: the picture is
taken once the chart and the table are on the page, not after a guessed delay.
"""

import argparse
import base64
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RED = os.path.join(ROOT, "tools", "node", "node_modules", "node-red", "red.js")
FLOW = os.path.join(ROOT, "examples", "node-red", "flow.json")
DRAWN = "document.querySelector('canvas') !== null && document.querySelectorAll('td').length > 0"


class Refused(Exception):
    pass


def free_port(kind):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(what, check, timeout=120):
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise Refused(what)
        time.sleep(0.3)


def pinged(port):
    """A CoAP ping (RFC 7252 4.3): an empty CON, answered with an RST."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.2)
        s.sendto(b"\x40\x00\x12\x34", ("127.0.0.1", port))
        try:
            return s.recv(8) == b"\x70\x00\x12\x34"
        except OSError:
            return False


def answers(url):
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:
        return False


class Chromium:
    """Headless Chromium and its DevTools protocol over a pipe: Chromium reads
    commands on its fd 3 and writes answers on fd 4, each a JSON text and a NUL."""

    def __init__(self, log):
        theirs_r, self.w = os.pipe()
        self.r, theirs_w = os.pipe()

        def fds():  # above 4 first, so neither end overwrites the other on the way
            a = fcntl.fcntl(theirs_r, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(theirs_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)
        self.proc = subprocess.Popen(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--remote-debugging-pipe", "about:blank"],
            preexec_fn=fds, close_fds=False, stdout=log, stderr=subprocess.STDOUT)
        os.close(theirs_r)
        os.close(theirs_w)
        self.n, self.buf, self.session = 0, b"", None

    def call(self, method, **params):
        self.n += 1
        msg = {"id": self.n, "method": method, "params": params}
        if self.session:
            msg["sessionId"] = self.session
        os.write(self.w, json.dumps(msg).encode() + b"\0")
        while True:
            while b"\0" not in self.buf:
                chunk = os.read(self.r, 1 << 20)
                if not chunk:
                    raise Refused("chromium exited")
                self.buf += chunk
            raw, self.buf = self.buf.split(b"\0", 1)
            answer = json.loads(raw)
            if answer.get("id") == self.n:
                if "error" in answer:
                    raise Refused("chromium: %s: %s" % (method, answer["error"]["message"]))
                return answer["result"]

    def screenshot(self, url, width, height):
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target,
                                 flatten=True)["sessionId"]
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                  deviceScaleFactor=1, mobile=False)
        self.call("Page.navigate", url=url)
        wait("the dashboard did not draw its chart and table",
             lambda: self.call("Runtime.evaluate", expression=DRAWN)["result"]["value"], 30)
        time.sleep(1)  # the chart's last point slides in
        return base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])

    def close(self):
        self.proc.terminate()
        self.proc.wait(10)


def start(argv, log, env=None):
    return subprocess.Popen(argv, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            env=env, start_new_session=True)


def take(seconds, out, tmp):
    coap, http = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_STREAM)
    log = open(os.path.join(tmp, "log"), "w")
    procs = []
    try:
        print("screenshot: board on coap://127.0.0.1:%d (make run), Node-RED on "
              "http://127.0.0.1:%d/ui" % (coap, http), file=sys.stderr)
        procs.append(start(["make", "--no-print-directory", "run", "COAP_PORT=%d" % coap], log))
        wait("the board did not start", lambda: pinged(coap))
        env = dict(os.environ, BOARD="coap://127.0.0.1:%d" % coap)
        procs.append(start(["node", RED, "--userDir", tmp, "--port", str(http), FLOW], log, env))
        ui = "http://127.0.0.1:%d/ui/" % http
        wait("the dashboard did not start", lambda: answers(ui))
        print("screenshot: charting for %d s" % seconds, file=sys.stderr)
        time.sleep(seconds)
        chromium = Chromium(log)
        try:
            png = chromium.screenshot(ui, 900, 600)
        finally:
            chromium.close()
    except Refused as e:
        log.flush()
        raise Refused("%s; the last lines of its output:\n%s"
                      % (e, "".join(open(log.name).readlines()[-8:])))
    finally:
        for p in procs:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(10)
        log.close()
    shot = os.path.join(tmp, "shot.png")
    with open(shot, "wb") as f:
        f.write(png)
    subprocess.run(["optipng", "-quiet", "-o5", shot], check=True)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    shutil.copy(shot, out)
    print("screenshot: wrote %s (%d bytes)" % (out, os.path.getsize(out)), file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description="Retake the dashboard's screenshot.")
    ap.add_argument("--seconds", type=int, default=60, help="of readings before the picture")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "img", "dashboard.png"))
    args = ap.parse_args()
    try:
        for tool in ("chromium", "optipng"):
            if not shutil.which(tool):
                raise Refused("%s is missing (apt-get install %s)" % (tool, tool))
        if not os.path.exists(RED):
            raise Refused("Node-RED is missing from tools/node: run make peers")
        if args.seconds < 0:
            raise Refused("--seconds: expected 0 or more, got %d" % args.seconds)
        with tempfile.TemporaryDirectory() as tmp:
            take(args.seconds, args.out, tmp)
    except Refused as e:
        print("screenshot: %s" % e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("screenshot: stopped (Ctrl-C)", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
