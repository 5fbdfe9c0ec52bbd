"""A small network of simulated boards for the fleet tests.

With network namespaces (root): a client namespace holding a bridge, and one
namespace per board on a veth into it. The private addresses below exist only
inside those namespaces, which are deleted afterwards. Without them: every
board on its own loopback address (127.0.0.2, .3, ...) and one shared port,
IPv4 only (IPv6 multicast needs a route on lo, which would change the host).
COAP_FLEET_LOOPBACK=1 chooses the loopback form even where namespaces work.
"""

import json
import os
import subprocess
import sys
import time

from boardsim import SimulatedBoard
from support import free_port

HERE = os.path.dirname(os.path.abspath(__file__))
PY = sys.executable
NET4 = "10.213.0."        # /24, inside the namespaces only
NET6 = "fd00:c0a9:213::"  # /64, a unique local prefix, inside the namespaces only
BRIDGE = "br0"


def _ip(*args, ns=None):
    cmd = ["ip"] + (["-n", ns] if ns else []) + list(args)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    if r.returncode:
        raise OSError("%s: %s" % (" ".join(cmd), r.stderr.strip()))


class Net:
    """Namespaces for n boards, or loopback addresses when namespaces fail
    (then `why` says what failed)."""

    def __init__(self, n):
        tag = "coapfleet%d" % os.getpid()
        self.client_ns = tag + "c"
        self.board_ns = [tag + "b%d" % i for i in range(n)]
        self.n = n
        self.why = None
        self.port = 5683
        self.created = []

    def up(self):
        try:
            if os.environ.get("COAP_FLEET_LOOPBACK"):  # to run the fallback where root
                raise OSError("COAP_FLEET_LOOPBACK is set")
            self._namespaces()
        except (OSError, subprocess.SubprocessError) as e:
            self.down()
            self.why = str(e)
            self.port = free_port()
        return self

    @property
    def namespaces(self):
        return self.why is None

    def _namespaces(self):
        for ns in [self.client_ns] + self.board_ns:
            _ip("netns", "add", ns)
            self.created.append(ns)
            # no duplicate address detection: addresses are usable at once
            self.run(ns, ["sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0",
                          "net.ipv6.conf.default.accept_dad=0"], check=True)
            _ip("link", "set", "lo", "up", ns=ns)
        c = self.client_ns
        _ip("link", "add", BRIDGE, "type", "bridge", "mcast_snooping", "0", ns=c)
        _ip("link", "set", BRIDGE, "up", ns=c)
        _ip("addr", "add", NET4 + "1/24", "dev", BRIDGE, ns=c)
        _ip("addr", "add", NET6 + "1/64", "dev", BRIDGE, "nodad", ns=c)
        _ip("route", "add", "224.0.0.0/4", "dev", BRIDGE, ns=c)  # where multicast goes
        for i, ns in enumerate(self.board_ns):
            port = "p%d" % i
            _ip("link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns, ns=c)
            _ip("link", "set", port, "master", BRIDGE, "up", ns=c)
            _ip("link", "set", "eth0", "up", ns=ns)
            v4, v6 = self.board_addresses(i)
            _ip("addr", "add", v4 + "/24", "dev", "eth0", ns=ns)
            _ip("addr", "add", v6 + "/64", "dev", "eth0", "nodad", ns=ns)

    def down(self):
        for ns in reversed(self.created):
            try:
                _ip("netns", "del", ns)
            except (OSError, subprocess.SubprocessError):
                pass
        self.created = []

    def board_addresses(self, i):
        """(IPv4, IPv6 or None) of board i."""
        if self.namespaces:
            return NET4 + str(11 + i), NET6 + "%x" % (0x11 + i)
        return "127.0.0.%d" % (2 + i), None

    def client_address(self):
        return NET4 + "1" if self.namespaces else "127.0.0.1"

    def run(self, ns, args, **kw):
        kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
        kw.setdefault("timeout", 30)
        prefix = ["ip", "netns", "exec", ns] if ns else []
        return subprocess.run(prefix + list(args), **kw)

    def multicast_get(self, path, query="", v6=False, mtype="NON", wait=2.0):
        """Send one multicast GET from the client side; every answer heard
        within `wait` seconds as (source address, code, payload) tuples."""
        ns = self.client_ns if self.namespaces else None
        group = "ff02::fd" if v6 else "224.0.1.187"
        via = BRIDGE if v6 else self.client_address()
        r = self.run(ns, [PY, os.path.join(HERE, "mcast_get.py"), group, str(self.port), via,
                          path, query, mtype, str(wait)], check=True)
        return [tuple(a) for a in json.loads(r.stdout)]


class Board(SimulatedBoard):
    """One simulated board, in a namespace (ns) or not (ns None)."""

    def __init__(self, net, i, config):
        self.ns = net.board_ns[i] if net.namespaces else None
        v4, v6 = net.board_addresses(i)
        self.address = v4
        super().__init__(config=dict(config, bind=[v4] + ([v6] if v6 else [])), port=net.port,
                         prefix=["ip", "netns", "exec", self.ns] if self.ns else (),
                         # only what the config says: no COAP_RD from whoever runs the tests
                         environ={k: v for k, v in os.environ.items() if k != "COAP_RD"})

    def start(self, timeout=10):
        self.start_timeout = timeout
        return super().start()

    def wait_ready(self):
        # A ping from here can't reach a namespace: wait for start-up's last line instead
        deadline = time.monotonic() + self.start_timeout
        while "coap: try" not in self.output():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("board did not start:\n" + self.output())
            time.sleep(0.05)
