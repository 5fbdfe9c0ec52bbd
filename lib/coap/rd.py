# Registration with a CoAP Resource Directory (RFC 9176), driven by tick().
#
#     reg = Registration(sock, b"board-1", links, lifetime_s=3600,
#                        base=b"coap://192.0.2.7")
#     server.tick = reg.tick    # sock: UDP, connect()ed to the RD, non-blocking
#
# The exchanges: find the registration interface (GET /.well-known/core?rt=core.rd
# on the RD, §4.3; /rd if the RD lists none), POST the links there with ep, lt
# and base (§5.3), keep the Location-Path of the 2.01, and POST to it again with
# nothing in it (a refresh, §5.3.1) every half lifetime. An RD that does not
# answer is tried again with back-off; a refresh answered with 4.04 (the RD
# forgot the board) registers anew; a 4.01 with an Echo (RFC 9175 §2.4) is
# answered by the same request with it, once.
#
# Allocation: requests are written into the client's preallocated buffer and
# the paths are kept in fixed bytearrays (coap.client.Path), so a refresh
# allocates only what sock.recv returns. Discovery slices the RD's link payload
# and log lines are formatted: once per registration or failure, not per refresh.
#
# The same exchanges are LwM2M's registration interface (LwM2M 1.1 Core
# §6.2, shaped on RFC 9176): Register with the extra queries lwm2m= and b=,
# Update as the refresh, De-register as deregister(). An LwM2M server reaches
# the board back at the registration's source address, so its socket is the
# server's own (coap.client.Shared) and there is no base.
#
# With a finder (coap.rddiscover.Finder, for "rd": "multicast") there is no RD
# socket at first: the RD is found by multicast (RFC 9176 §4), and found again
# after any failed exchange, with the same back-off.

from . import clock as _clock
from .client import RESET, TIMEOUT, Client, Path, parse_uri
from .linkformat import link_href, resolve

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

_GET = const(1)
_POST = const(2)
_DELETE = const(4)
_CREATED = const(65)
_CHANGED = const(68)
_CONTENT = const(69)
_UNAUTHORIZED = const(129)
_NOT_FOUND = const(132)
_METHOD_NOT_ALLOWED = const(133)
_LOCATION_PATH = const(8)
_URI_PATH = const(11)
_URI_QUERY = const(15)
_LINK_FORMAT = const(40)
_ECHO = const(252)
_DISCOVER = const(0)
_REGISTER = const(1)
_REFRESH = const(2)
_FIND = const(3)
_UNUSABLE = const(-4)  # coap.rddiscover.UNUSABLE: found, but can't be reached
_UNPROTECTED = const(-7)  # coap.oscoreclient.UNPROTECTED, then FORGED, NO_SSN, TOO_LONG
_OSCORE_WHY = ("an answer that fails OSCORE verification", "no OSCORE sequence number left",
               "the protected request does not fit the buffer")
_STEP = ("discovery", "registration", "refresh", "multicast discovery")
_UNKNOWN = ("rd.invalid", 5683)  # the RD's origin when not given (RFC 6761 §6.4)


def _text(diagnostic):
    try:
        return bytes(diagnostic).decode()
    except UnicodeError:  # not UTF-8 (§5.5.2 says it should be)
        return "(%d bytes)" % len(diagnostic)


def _utf8(path):
    try:
        path.text()
        return True
    except UnicodeError:
        return False


class Registration:
    """Keeps one endpoint registered with one RD.

    sock: a non-blocking UDP socket connect()ed to the RD. ep: the endpoint name
    (bytes). links: the board's link-format (bytes, as /.well-known/core has it).
    base: the board's own URI, needed because sock is not the server's socket
    (§5.3: without it the RD would use this socket's port). path: the
    registration interface's segments, to skip discovery. finder: a
    coap.rddiscover.Finder that finds the RD (then sock, base and path are None).
    origin: the RD's (host, port), against which discovered links resolve.
    queries: more Uri-Query options of the registration (bytes, e.g.
    b"lwm2m=1.1"). name: what log lines start with.
    """

    #: Back-off after a failed exchange: first delay, doubled up to the maximum.
    retry_first_ms = 5000
    retry_max_ms = 300000
    #: How long deregister(pump) waits for the answer to its DELETE.
    deregister_wait_ms = 5000
    #: How often tick() asks `whereami` for the board's address.
    address_every_ms = 5000

    def __init__(self, sock, ep, links, lifetime_s=3600, base=None, path=None,
                 clock=_clock, log=print, finder=None, origin=None, queries=(), name="rd"):
        self.clock = clock
        self.name = name
        self.extra = tuple(queries)
        self.origin = origin
        self.log = log
        self.lifetime_s = lifetime_s
        self.ep = ep
        self.base = base
        self._base(base)
        self.links = links
        self.finder = finder
        # room for the links, the queries and a base of up to 64 bytes
        size = 576 + len(links) + sum(len(q) + 3 for q in self.queries)
        self.client = Client(sock, size, clock)
        self.dir = Path()       # the registration interface
        self.location = Path()  # this board's registration resource
        self.echo = Path(1)     # an Echo the server asked the next request to carry
        self.echoed = False     # the request out carries one
        self._step = _DISCOVER
        if path is not None:
            for s in path:
                self.dir.add(s, 0, len(s))
            self._step = _REGISTER
        if finder is not None:
            self._step = _FIND
        self.registered = False
        self.refreshes = 0
        #: what the next Update carries (LwM2M §6.2.2): lt=, the links
        self.new_lifetime = False
        self.new_links = False
        self.sent_lifetime = self.sent_links = False  # what the Update out carries
        self.asked = False  # update() called: one more Update once this exchange ends
        #: whereami() -> the address the board is reached at, or None: a
        #: change sends an Update (LwM2M §6.2.2), so the server sees the new one
        self.whereami = None
        self.address = None
        self._looked = clock.ticks_ms()
        self._retry = self.retry_first_ms
        self._due = clock.ticks_ms()  # the first tick starts

    def _base(self, base):
        self.queries = [b"ep=" + self.ep, b"lt=%d" % self.lifetime_s] + (
            [b"base=" + base] if base else []) + list(self.extra)

    def tick(self):
        """Call between datagrams: sends, retransmits and reads the answers.
        Raises nothing: whatever an RD (or a stranger answering discovery)
        sends, an error ends the exchange and backs off like a failure."""
        try:
            self._tick()
        except Exception as e:
            step = self._step
            self.client.busy = False
            if self.finder is not None:
                self.finder.busy = False
            now = self.clock.ticks_ms()
            self._forget(now)
            self._failed("%s: %s" % (type(e).__name__, e), now, step)

    def _tick(self):
        c = self.finder if self._step == _FIND else self.client
        if c.busy:
            r = c.poll()
            if r is not None:
                self._answered(r)
            return
        now = self.clock.ticks_ms()
        if self.whereami is not None and self.clock.ticks_diff(now, self._looked) >= 0:
            self._look(now)
        if self.clock.ticks_diff(now, self._due) >= 0:
            self._start()

    def _look(self, now):
        self._looked = self.clock.ticks_add(now, self.address_every_ms)
        a = self.whereami()
        if a is None or a == self.address:
            return
        if self.address is not None and self.registered:
            self.log("%s: the board's address is now %s; updating" % (self.name, a))
            self.update()
        self.address = a

    def _start(self):
        step = self._step
        if step == _FIND:
            r = self.finder.send()
            if r is not None:
                self._answered(r)
            return
        msg = self.client.begin(_GET if step == _DISCOVER else _POST)
        if step == _DISCOVER:
            msg.option(_URI_PATH, b".well-known")
            msg.option(_URI_PATH, b"core")
            msg.option(_URI_QUERY, b"rt=core.rd")
            self._with_echo(msg)
        elif step == _REGISTER:
            self.new_lifetime = self.new_links = self.asked = False  # it carries them all
            self.dir.write(msg, _URI_PATH)
            msg.content_format(_LINK_FORMAT)
            for q in self.queries:
                msg.option(_URI_QUERY, q)
            self._with_echo(msg)
            msg.payload(self.links)
        else:
            self.location.write(msg, _URI_PATH)  # an empty POST: a refresh
            if self.new_links:
                msg.content_format(_LINK_FORMAT)
            if self.new_lifetime:
                msg.option(_URI_QUERY, self.queries[1])
            self._with_echo(msg)
            if self.new_links:
                msg.payload(self.links)
            # from now: the next one (kept, should the server ask for an Echo)
            self.sent_lifetime = self.new_lifetime
            self.sent_links = self.new_links
            self.new_lifetime = self.new_links = self.asked = False
        r = self.client.send()
        if r is not None:
            self._answered(r)

    def _answered(self, code):
        step = self._step
        now = self.clock.ticks_ms()
        if code < 0:
            self._failed(self._why(code), now)
            return
        if step == _FIND:
            self._found(now)
            return
        c = self.client
        if step == _REGISTER:
            c.collect(_LOCATION_PATH, self.location)
        if step == _DISCOVER:
            self._discovered(c.data[c.payload_off:] if code == _CONTENT else b"")
            self._step = _REGISTER
            self._due = now
        elif step == _REGISTER and code == _CREATED and not _utf8(self.location):
            self._forget(now)  # §3.2, §5.10.7: a string option; not one to log or to use
            self._failed("refused with 2.01 and a Location-Path that is not UTF-8", now, step)
        elif step == _REGISTER and code == _CREATED and len(self.location):
            self.registered = True
            self.log("%s: registered as %s, lifetime %d s"
                     % (self.name, self.location.text(), self.lifetime_s))
            self._renew(now)
        elif step == _REFRESH and code == _CHANGED:
            self.refreshes += 1
            self._renew(now)
        elif step == _REFRESH and code == _NOT_FOUND:
            self.log("%s: the %s no longer knows this board; registering again"
                     % (self.name, "RD" if self.name == "rd" else "server"))
            self._forget(now)
        elif code == _UNAUTHORIZED and not self.echoed and self._asks_echo(c):
            # RFC 9175 §2.4 (and RFC 8613 B.1.2: a server that lost its replay
            # window): the same request again at once, with the server's Echo
            if step == _REFRESH:
                self.new_lifetime |= self.sent_lifetime
                self.new_links |= self.sent_links
            self._due = now
        else:
            if code == _NOT_FOUND or code == _METHOD_NOT_ALLOWED:
                self.dir.clear()  # the interface moved: discover it again
            self._forget(now)
            self._failed("refused with %d.%02d %s" % (
                code >> 5, code & 31, _text(c.data[c.payload_off:])), now, step)

    def _with_echo(self, msg):
        self.echoed = len(self.echo) > 0
        if self.echoed:
            self.echo.write(msg, _ECHO)
            self.echo.clear()

    def _asks_echo(self, c):
        c.collect(_ECHO, self.echo)
        return len(self.echo) > 0

    def _why(self, code):
        if code <= _UNPROTECTED:  # coap.oscoreclient's results, -7 to -10
            if code == _UNPROTECTED:
                c = self.client.oscore.plain_code
                return "a plain %d.%02d to a protected request" % (c >> 5, c & 31)
            return _OSCORE_WHY[_UNPROTECTED - code - 1] if code >= -10 else "error %d" % code
        return "no answer" if code == TIMEOUT else "reset" if code == RESET else (
            "not usable" if code == _UNUSABLE else "unreachable")

    def update(self, lifetime_s=None, links=None):
        """Update now (LwM2M §6.2.2: Registration Update Trigger, Server
        1/0/8), with a new lifetime (lt=) or links (the payload) if given.
        Unregistered, they go into the next Register instead."""
        if lifetime_s is not None and lifetime_s != self.lifetime_s:
            self.lifetime_s = lifetime_s
            self._base(self.base)
            self.new_lifetime = True
        if links is not None and links != self.links:
            if len(links) > len(self.links) + 256:
                raise ValueError("links too long for the registration's buffer")
            self.links = links
            self.new_links = True
        self.asked = True
        if self.registered and self._step == _REFRESH:
            self._due = self.clock.ticks_ms()

    def deregister(self, pump=None):
        """On a clean stop: a DELETE of the registration (RFC 9176 §5.3.3,
        LwM2M's De-register). With pump (a call that hands the server's
        datagrams over, waiting a little), its answer is waited for, at most
        deregister_wait_ms; either way the lifetime ends it otherwise."""
        if not self.registered:
            return None
        c = self.client
        msg = c.begin(_DELETE)
        self.location.write(msg, _URI_PATH)
        r = c.send()
        self.registered = False
        start = self.clock.ticks_ms()
        while pump is not None and r is None and c.busy and self.clock.ticks_diff(
                self.clock.ticks_ms(), start) < self.deregister_wait_ms:
            pump()
            r = c.poll()
        c.busy = False
        where = self.location.text()
        if pump is None:
            self.log("%s: de-registered %s" % (self.name, where))
        elif r is None or r == TIMEOUT:
            self.log("%s: de-register %s: no answer in %d s; the lifetime ends it"
                     % (self.name, where, self.deregister_wait_ms // 1000))
        elif r < 0:
            self.log("%s: de-register %s: %s; the lifetime ends it"
                     % (self.name, where, self._why(r)))
        else:
            self.log("%s: de-registered %s (%d.%02d)" % (self.name, where, r >> 5, r & 31))
        return r

    def _renew(self, now):
        self._retry = self.retry_first_ms
        self._step = _REFRESH
        # half the lifetime: room for a full retransmission series and a retry;
        # at once when update() was called during the exchange
        self._due = now if self.asked else self.clock.ticks_add(now, self.lifetime_s * 500)

    def _forget(self, now):
        self.registered = False
        self.location.clear()
        self._step = _REGISTER if len(self.dir) else _DISCOVER
        self._due = now

    def _failed(self, why, now, step=None):
        self.log("%s: %s: %s; retrying in %d s" % (
            self.name, _STEP[self._step if step is None else step], why, self._retry // 1000))
        if self.finder is not None:  # the RD may have gone: find one again
            self.registered = False
            self._step = _FIND
        self._due = self.clock.ticks_add(now, self._retry)
        self._retry = min(self._retry * 2, self.retry_max_ms)

    def _found(self, now):
        sock, base, path, uri = self.finder.found
        old = self.client.sock
        if old is not None:
            old.close()
        self.client.sock = sock
        self.base = base
        self._base(base)
        self.log("rd: found %s by multicast" % uri)
        self.origin = parse_uri(uri)[:2]
        self.dir.clear()
        for s in path or ():
            self.dir.add(s, 0, len(s))
        self._forget(now)

    def _discovered(self, payload):
        # The first link of the filtered answer, e.g. </resourcedirectory/>;rt=core.rd,
        # resolved against the RD's origin (coap.linkformat). A link to another
        # host can't be followed: the socket reaches the RD only.
        host, port = self.origin or _UNKNOWN
        href = link_href(payload)
        path = None
        try:
            uri = None if href is None else resolve(href, host, port)
            there = None if uri is None else parse_uri(uri)
        except (ValueError, UnicodeError):  # not a URI this board can use
            there = None
        if there and (there[0].lower(), there[1]) == (host.lower(), port):
            path = there[2]
        elif there:
            self.log("rd: the RD lists its registration interface on another host (%s)" % uri)
        self.dir.clear()
        if not path:
            path = [b"rd"]
            self.log("rd: the RD lists no registration interface; trying /rd")
        for s in path:
            self.dir.add(s, 0, len(s))
