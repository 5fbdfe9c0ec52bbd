# Observe (RFC 7641) with a fixed table of observers, allocated at start-up.
#
# This is the one piece of state the server keeps, and it is bounded: per entry
# the peer's address (the object recvfrom returned, kept by reference), the
# socket it came in on, its token (copied into 8 preallocated bytes), the
# resource, the negotiated Content-Format, and the bookkeeping for the last
# notification. A full table serves the GET as a plain GET (§4.1). Nothing
# survives a reboot: clients must register again.
#
# Notifications are written with the same handler and response buffer as any
# response, from Server.tick between datagrams, so they allocate nothing either.

from .clock import ticks_add, ticks_diff, ticks_ms

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

_CON = const(0)
_NON = const(1)
_ACK = const(2)
_RST = const(3)
_GET = const(1)
_CONTENT = const(69)
_BAD_REQUEST = const(128)
_SEQ_MASK = const(0xFFFFFF)  # §3.2: a 24-bit sequence number
_DAY_MS = const(86400000)


class Observers:
    """The observer table of one server.

    size: entries; con_every: every Nth notification is CON (and at least one a
    day, §4.5); max_age_ms: a notification at least this often even when nothing
    changed (Max-Age is 60 s by default, §4.3.1); ack_timeout_ms and
    max_retransmit: retransmission of CON notifications (RFC 7252 §4.8), after
    which the observer is removed (§4.5).
    """

    def __init__(self, server, size=4, con_every=20, max_age_ms=60000,
                 ack_timeout_ms=2000, max_retransmit=4):
        self.server = server
        self.size = size
        self.con_every = con_every
        self.refresh_ms = max_age_ms * 9 // 10
        self.ack_timeout_ms = ack_timeout_ms
        self.max_retransmit = max_retransmit
        self.addr = [None] * size      # None: a free entry
        self.sock = [None] * size
        self.token = [bytearray(8) for _ in range(size)]
        self.tkl = [0] * size
        self.res = [None] * size
        self.fmt = [-1] * size
        self.mid = [-1] * size         # MID of the last notification sent
        self.tries = [0] * size        # transmissions of a pending CON; 0: none pending
        self.retry_at = [0] * size
        self.sent_at = [0] * size
        self.con_at = [0] * size
        self.since_con = [0] * size
        self.dirty = [False] * size
        #: bytes the observer's address may still get before it proves it is there
        #: (RFC 9175 §2.4); -1: verified (an Echo, or it acknowledged a notification)
        self.budget = [-1] * size
        self.secured = [None] * size   # OSCORE context of a protected registration
        self.piv = [0] * size          # ... and its Partial IV, bound into every notification
        self.seq = 0

    def count(self):
        n = 0
        for a in self.addr:
            if a is not None:
                n += 1
        return n

    # --- requests ------------------------------------------------------------

    def _find(self, peer, buf, off, tkl):
        for i in range(self.size):
            if self.addr[i] is not None and self.tkl[i] == tkl and self.addr[i] == peer:
                t = self.token[i]
                for k in range(tkl):
                    if t[k] != buf[off + k]:
                        break
                else:
                    return i
        return -1

    def on_get(self, req, res, fmt):
        """A GET of an observable resource: the Observe value to answer with, or -1."""
        if req.observe != 0 and self.addr.count(None) == self.size:
            return -1  # a plain GET while nobody observes (the common case): no lookup
        i = self._find(req.peer, req.buf, 4, req.tkl)
        if req.observe != 0:
            if i >= 0:
                self.remove(i)  # deregistration, or a plain GET with the same token (§3.6)
            return -1
        if i < 0:
            for j in range(self.size):
                if self.addr[j] is None:
                    i = j
                    break
            else:
                return -1  # table full: a plain GET (§4.1)
        self.addr[i] = req.peer
        self.sock[i] = self.server.sock
        t = self.token[i]
        for k in range(req.tkl):
            t[k] = req.buf[4 + k]
        self.tkl[i] = req.tkl
        self.secured[i] = req.secured
        if req.secured is not None:
            self.piv[i] = self.server.oscore.piv_value
        self.res[i] = res
        self.fmt[i] = fmt
        self.tries[i] = 0
        self.dirty[i] = False
        self.budget[i] = -1
        now = ticks_ms()
        self.sent_at[i] = now
        self.con_at[i] = now
        self.since_con[i] = 0
        return self.next_seq()

    def limit_request(self, req, budget):
        """The observer registered by req is not verified: its notifications must
        fit in budget bytes in all until it acknowledges one (see _send)."""
        i = self._find(req.peer, req.buf, 4, req.tkl)
        if i >= 0:
            self.budget[i] = budget if budget > 0 else 0

    def remove_request(self, req):
        i = self._find(req.peer, req.buf, 4, req.tkl)
        if i >= 0:
            self.remove(i)

    def remove(self, i):
        self.addr[i] = None
        self.sock[i] = None
        self.res[i] = None
        self.secured[i] = None

    def next_seq(self):
        self.seq = (self.seq + 1) & _SEQ_MASK
        return self.seq

    def on_empty(self, mtype, mid, peer):
        """An empty ACK or RST reached the server: it may answer a notification."""
        for i in range(self.size):
            if self.addr[i] is not None and self.mid[i] == mid and self.addr[i] == peer:
                if mtype == _RST:
                    self.remove(i)  # the client rejected the notification (§3.6)
                else:
                    self.tries[i] = 0  # the CON notification arrived
                    self.budget[i] = -1  # and its unguessable MID came back: verified
                return

    # --- notifications -------------------------------------------------------

    def changed(self, res):
        """The resource's state changed: notify its observers at the next tick."""
        for i in range(self.size):
            if self.res[i] is res:
                self.dirty[i] = True

    def tick(self):
        now = ticks_ms()
        for i in range(self.size):
            if self.addr[i] is None:
                continue
            if self.tries[i]:
                if ticks_diff(now, self.retry_at[i]) >= 0:
                    if self.tries[i] > self.max_retransmit or self.budget[i] >= 0:
                        self.remove(i)  # the observer went silent (§4.5)
                    else:
                        self._send(i, now, True, False)
            elif self.dirty[i] or ticks_diff(now, self.sent_at[i]) >= self.refresh_ms:
                con = (self.since_con[i] + 1 >= self.con_every or self.budget[i] >= 0
                       or ticks_diff(now, self.con_at[i]) >= _DAY_MS)
                self._send(i, now, con, True)

    def _send(self, i, now, con, fresh):
        srv = self.server
        resp = srv.response
        res = self.res[i]
        if fresh:
            self.mid[i] = srv.next_mid()
            if self.budget[i] >= 0 and srv.echo is not None:
                # an unverified observer: a MID the registering peer can't predict
                # from its own notifications, so only the real address can ACK it
                srv.echo.make(self.addr[i])
                self.mid[i] = (srv.echo.value[4] << 8) | srv.echo.value[5]
        resp.begin(_CON if con else _NON, _CONTENT, self.mid[i], self.token[i], 0, self.tkl[i])
        req = srv.request
        req.secured = self.secured[i]  # the handler sees the registration's protection
        srv.respond(res, res.handlers[_GET], req, resp, _GET, self.fmt[i], -1, self.next_seq())
        if self.secured[i] is not None:  # RFC 8613 §8.3: under the board's own Partial IV
            srv.oscore.notification(resp, self.secured[i], self.piv[i])
        if self.budget[i] >= 0:
            if len(resp.buf) > self.budget[i]:
                self.remove(i)  # over what the rule allows an unverified address
                return
            self.budget[i] = 0  # one notification, one chance to acknowledge it
        self.dirty[i] = False
        self.sent_at[i] = now
        if con:
            # RFC 7252 §4.2: ACK_TIMEOUT doubled for each retransmission
            self.retry_at[i] = ticks_add(now, self.ack_timeout_ms << self.tries[i])
            self.tries[i] += 1
            self.con_at[i] = now
            self.since_con[i] = 0
        else:
            self.since_con[i] += 1
        sock = self.sock[i]
        addr = self.addr[i]
        if resp.code() >= _BAD_REQUEST:
            self.remove(i)  # an error ends the observation (§4.2)
        try:
            sock.sendto(resp.buf, addr)
        except OSError as e:
            srv.log("coap: notification not sent: %s" % e)
            self.remove(i)
