# Finding a Resource Directory by multicast (RFC 9176 §4), driven like
# coap.client.Client: send(), then poll() between datagrams until it says how
# it went. coap.rd.Registration uses it when the config says "rd": "multicast".
#
#     f = Finder([(sock4, group4_sockaddr)], connect, wait_ms=6000)
#     f.send()
#     ...  r = f.poll()  # None: still listening; FOUND (f.found); or < 0
#
# Each socket is bound to one of the board's own unicast addresses (port 0) and
# not connected, so the RD's unicast answer from any address reaches it. A NON
# GET /.well-known/core?rt=core.rd* goes to the group through each; the first
# 2.05 with a link whose rt is core.rd wins. Its href is resolved against the
# answer's source (RFC 6690 §2.1: the context is the origin coap://host:port;
# RFC 3986 §5.2) and connect(uri) opens the socket to register through.
# Discovery happens once per registration or failure, so it may allocate.

from random import getrandbits

from . import clock as _clock
from .client import TIMEOUT, UNREACHABLE
from .linkformat import link_href, resolve
from .peeraddr import host_port
from .loops import options
from .write import Response

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

FOUND = const(0)
UNUSABLE = const(-4)  # an RD answered, but connect() could not use it (see `why`)

_NON = const(1)
_GET = const(1)
_CONTENT = const(69)
_URI_PATH = const(11)
_URI_QUERY = const(15)
_EAGAIN = const(11)
_TKL = const(4)
_WAIT_MS = const(6000)  # past the 5 s DEFAULT_LEISURE an RD may wait (RFC 7252 §8.2)


class Finder:
    """One multicast discovery at a time. targets: (socket, group sockaddr)
    pairs. connect(uri): the (socket, base, path) to register through, or None
    when it can't (then it has logged why)."""

    def __init__(self, targets, connect, wait_ms=_WAIT_MS, clock=_clock, log=print):
        self.targets = targets
        self.connect = connect
        self.wait_ms = wait_ms
        self.clock = clock
        self.log = log
        self.msg = Response(64, 64)
        self.busy = False
        self.found = None  # (socket, base, path, uri) after FOUND
        self._token = bytearray(getrandbits(8) for _ in range(_TKL))
        self._mid = getrandbits(16)
        self._due = 0
        self._unusable = False

    def send(self):
        """Ask the groups; None, or UNREACHABLE when no group could be sent to."""
        self._mid = (self._mid + 1) & 0xFFFF
        self._token[_TKL - 1] = (self._token[_TKL - 1] + 1) & 0xFF
        m = self.msg
        m.begin(_NON, _GET, self._mid, self._token, 0, _TKL)
        m.option(_URI_PATH, b".well-known")
        m.option(_URI_PATH, b"core")
        m.option(_URI_QUERY, b"rt=core.rd*")
        sent = 0
        for sock, group in self.targets:
            try:
                sock.sendto(m.buf, group)
                sent += 1
            except OSError as e:
                self.log("rd: multicast discovery: can't send: %s" % e)
        if not sent:
            return UNREACHABLE
        self.busy = True
        self._unusable = False
        self._due = self.clock.ticks_add(self.clock.ticks_ms(), self.wait_ms)
        return None

    def poll(self):
        """None while listening; then FOUND, TIMEOUT or UNUSABLE."""
        if not self.busy:
            return None
        for sock, _ in self.targets:
            for _ in range(4):
                try:
                    data, addr = sock.recvfrom(1152)
                except OSError as e:
                    if e.args[0] != _EAGAIN:  # e.g. an ICMP error: others may answer
                        continue
                    break
                uri = self._answer(data, addr)
                got = None if uri is None else self.connect(uri)
                self._unusable |= uri is not None and got is None  # another may do
                if got is not None:
                    self.busy = False
                    self.found = got + (uri,)
                    return FOUND
        if self.clock.ticks_diff(self.clock.ticks_ms(), self._due) >= 0:
            self.busy = False
            return UNUSABLE if self._unusable else TIMEOUT
        return None

    def _answer(self, d, addr):
        # The resolved URI of the RD's registration interface, or None
        if len(d) < 4 + _TKL or d[0] >> 6 != 1 or d[0] & 15 != _TKL or d[1] != _CONTENT:
            return None
        for i in range(_TKL):
            if d[4 + i] != self._token[i]:
                return None
        found = options(d, len(d))
        if found is None:  # malformed options (RFC 7252 §3.1): not a message
            return None
        try:
            href = link_href(d[found[1]:], b"core.rd")
            if href is None:
                return None
            host, port = host_port(addr)
            return resolve(href, host, port)
        except UnicodeError:  # a link that isn't UTF-8 (RFC 6690 §2): not an RD's
            return None
