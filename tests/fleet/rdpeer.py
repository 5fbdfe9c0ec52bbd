"""aiocoap-rd, the Resource Directory the fleet tests register with, and a
small CoAP GET to read its lookup interfaces (RFC 9176 §7)."""

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

import coapmsg as m

HERE = os.path.dirname(os.path.abspath(__file__))
AIOCOAP_RD = os.path.join(os.path.dirname(sys.executable), "aiocoap-rd")


def get(host, port, segments, query=(), timeout=1.0):
    """(code, payload text) of a CON GET, or None without an answer. segments are
    the Uri-Path options as they are: aiocoap-rd's paths end in an empty one."""
    opts = [(11, s.encode()) for s in segments] + [(15, q.encode()) for q in query]
    msg = m.encode(m.CON, 1, int.from_bytes(os.urandom(2), "big"), os.urandom(4), opts)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(msg, (host, port))
        try:
            data, _ = s.recvfrom(4096)
        except (socket.timeout, ConnectionRefusedError):
            return None
    t, code, mid, token, opts, payload = m.decode(data)
    return code, payload.decode()


def endpoints(host, port):
    """The endpoint lookup's links (§7.3), as text; "" when there are none."""
    r = get(host, port, ["endpoint-lookup", ""])
    assert r and r[0] == 69, r
    return r[1]


def resources(host, port, *query):
    r = get(host, port, ["resource-lookup", ""], query)
    assert r and r[0] == 69, r
    return r[1]


class ResourceDirectory:
    """aiocoap-rd bound to host:port, started and stopped by a test."""

    #: what runs it (the bind and args follow)
    command = [AIOCOAP_RD]

    def __init__(self, host, port, args=()):
        self.host = host
        self.port = port
        self.uri = "coap://%s:%d" % ("[%s]" % host if ":" in host else host, port)
        self.args = list(args)  # e.g. ["--lwm2m-compat"]
        self.proc = None

    def start(self, timeout=20):
        bind = "[%s]:%d" % (self.host, self.port) if ":" in self.host else "%s:%d" % (
            self.host, self.port)
        self._log = tempfile.TemporaryFile("w+")  # a file, not a pipe: it never fills up
        self.proc = subprocess.Popen(self.command + ["--bind", bind] + self.args, stdout=self._log,
                                     stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + timeout
        while get(self.host, self.port, [".well-known", "core"], timeout=0.2) is None:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("aiocoap-rd did not start:\n" + self.output)
            time.sleep(0.1)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.output = ""
        if self.proc:
            self._log.seek(0)
            self.output = self._log.read()
            self._log.close()
            self.proc = None
        return self.output

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class HostileResourceDirectory:
    """An RD that lists its interface and answers every registration with a
    2.01 whose Location-Path is not UTF-8 (red team, #21 finding 5); counts
    the registrations it gets."""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.uri = "coap://%s:%d" % (host, port)
        self.posts = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, port))
        self.sock.settimeout(0.1)
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        while not self._stop:
            try:
                data, addr = self.sock.recvfrom(2048)
            except socket.timeout:
                continue
            t, code, mid, token, opts, payload = m.decode(data)
            if t != m.CON:
                continue
            if code == 1:  # discovery
                answer = m.encode(m.ACK, 69, mid, token, [(12, b"\x28")], b"</rd>;rt=core.rd")
            else:
                self.posts += 1
                answer = m.encode(m.ACK, 65, mid, token, [(8, b"reg"), (8, b"\xff\xfe")])
            self.sock.sendto(answer, addr)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop = True
        self._thread.join()
        self.sock.close()


def wait_for(predicate, timeout, step=0.2):
    """Poll predicate() until it is true or timeout seconds pass; its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(step)


class MulticastResourceDirectory(ResourceDirectory):
    """The same RD listening on the All-CoAP-Nodes groups too (rd_multicast.py),
    on [::]:port of namespace ns (None: here), joined on `interface`. Its
    lookups are read from inside ns, by this file run as a script."""

    def __init__(self, net, ns, host, port, interface):
        super().__init__(host, port)
        self.net, self.ns, self.interface = net, ns, interface

    def start(self, timeout=20):
        self._log = tempfile.TemporaryFile("w+")
        prefix = ["ip", "netns", "exec", self.ns] if self.ns else []
        self.proc = subprocess.Popen(
            prefix + [sys.executable, os.path.join(HERE, "rd_multicast.py"), str(self.port),
                      self.interface], stdout=self._log, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + timeout
        while "ready" not in self._read():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the multicast RD did not start:\n" + self.output)
            time.sleep(0.1)
        return self

    def _read(self):
        self._log.seek(0)
        return self._log.read()

    def endpoints(self):
        """The endpoint lookup's links, as text ("" if none; None: no answer)."""
        r = self.net.run(self.ns, [sys.executable, os.path.abspath(__file__), self.host,
                                   str(self.port), "endpoint-lookup", ""],
                         env=dict(os.environ, PYTHONPATH=os.pathsep.join(
                             [HERE, os.path.join(HERE, "..", "unit")])))
        return r.stdout if r.returncode == 0 else None


if __name__ == "__main__":  # rdpeer.py HOST PORT SEGMENT...: print a GET's payload
    r = get(sys.argv[1], int(sys.argv[2]), sys.argv[3:])
    if r is None or r[0] != 69:
        sys.exit("no 2.05: %r" % (r,))
    sys.stdout.write(r[1])
