# Observe (RFC 7641) with a fixed table of observers, allocated at start-up.
#
# Per entry: the peer's address (the object recvfrom returned, kept by
# reference), its socket, the resource, the negotiated Content-Format, a copy
# of the registering request (header, token, options; at most request_bytes)
# and bookkeeping. A notification is that copy parsed in place by the normal
# parser, so the handler answers the observer's own request (§3.2), whatever
# came in since; a registration that does not fit is a plain GET (§4.1).
# The server renders and sends it through one callback, notify(sock, addr,
# res, req, mtype, mid, fmt, seq, limit) -> bytes sent (negative: a ping went
# instead), 0 when the observation ends: nothing here allocates.

from random import getrandbits

from .clock import retransmit_timeout, ticks_add, ticks_diff, ticks_ms
from .parse import Request

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

_CON = const(0)
_NON = const(1)
_RST = const(3)
_SEQ_MASK = const(0xFFFFFF)  # §3.2: a 24-bit sequence number
_DAY_MS = const(86400000)
#: Empty ACKs or RSTs from an observer's address that match none of its MIDs
#: while its CON waits: guesses at a 16-bit MID. The last one ends it.
_WRONG_ACKS = const(3)
#: on_get: the table is full of verified observers and the newcomer is not
FULL = const(-2)


class Observers:
    """The observer table of one server.

    notify: the server's callback that renders and sends one notification.
    size: entries; con_every: every Nth notification is CON (the first one after
    a registration too), 0: NON only; at least one a day is CON whatever it
    says (§4.5: a MUST), and so are those to an observer on probation (an
    ACK is how it proves its address); ack_timeout_ms and
    max_retransmit: retransmission of CON notifications (RFC 7252 §4.2, §4.8),
    after which the observer is removed (§4.5); request_bytes: room for the
    registering request per entry; probation: the factor of its request an
    observer whose address is not verified may get (RFC 9175 §2.4: 3), 0 when
    there is no limit.
    """

    def __init__(self, notify, size=4, con_every=20, ack_timeout_ms=2000, max_retransmit=4,
                 request_bytes=64, log=None, probation=0):
        self.notify = notify
        self.log = log
        self.size = size
        self.probation = probation
        self.con_every = con_every
        self.ack_timeout_ms = ack_timeout_ms
        self.max_retransmit = max_retransmit
        self.req = Request()           # a stored request, parsed for a notification
        self.addr = [None] * size      # None: a free entry
        self.sock = [None] * size
        self.tkl = [0] * size
        self.request = [bytearray(request_bytes) for _ in range(size)]  # token at 4
        self.request_len = [0] * size
        self.res = [None] * size
        self.fmt = [-1] * size
        self.mid = [0] * size          # MID of the last notification sent
        self.last_seq = [0] * size     # its Observe number
        self.tries = [0] * size        # transmissions of a pending CON; 0: none pending
        self.timeout = [0] * size      # its current retransmission timeout
        self.retry_at = [0] * size
        self.sent_at = [0] * size
        self.con_at = [0] * size
        self.since_con = [0] * size
        self.alive_at = [0] * size     # registered, or a CON acknowledged: the peer is there
        self.dirty = [False] * size
        #: bytes the observer's address may still get before it proves it is there
        #: (RFC 9175 §2.4); -1: verified (an Echo, or it acknowledged a notification)
        self.budget = [-1] * size
        #: the address was verified once: worth keeping across a reboot
        self.proven = [False] * size
        self.wrong = [0] * size        # guesses at the MID of its pending CON
        self.secured = [None] * size   # OSCORE context of a protected registration
        self.piv = [0] * size          # ... and its Partial IV, bound into every notification
        self.misses = [0] * size       # deep sleeps begun with a CON unacknowledged
        self.pinged = bytearray(size)  # 1: the pending CON is a ping (an answer too large)
        self.seq = 0
        #: bumped whenever an entry is added or removed: a store saves the table then
        self.version = 0
        #: entries in use (Server.drain reads it before it looks for an observer)
        self.active = 0

    def count(self):
        return self.active

    # --- requests ------------------------------------------------------------

    def find(self, peer, buf, off, tkl, secured=None):
        """The entry observing with this peer, the token buf[off:off+tkl] and
        the security context secured (None: plain), or -1. A plain request
        never touches a protected observation (RFC 8613 §8.3)."""
        for i in range(self.size):
            if (self.addr[i] is not None and self.tkl[i] == tkl and self.secured[i] is secured
                    and self.addr[i] == peer):
                t = self.request[i]
                for k in range(tkl):
                    if t[4 + k] != buf[off + k]:
                        break
                else:
                    return i
        return -1

    def _free_or_evict(self, now, unverified):
        # A full table gives up the entry that showed life longest ago: clients
        # that vanish without deregistering (most do) never lock a live one out.
        # Unverified entries go first, and an unverified newcomer takes only
        # theirs: forged registrations never push out a verified observer.
        oldest = spare = -1
        age = spare_age = -1
        for i in range(self.size):
            if self.addr[i] is None:
                return i
            d = ticks_diff(now, self.alive_at[i])
            if self.budget[i] >= 0:
                if d > spare_age:
                    spare_age = d
                    spare = i
            elif d > age:
                age = d
                oldest = i
        if spare >= 0:
            oldest = spare
        elif unverified:
            return -1
        self.remove(oldest)
        return oldest

    def on_get(self, req, res, fmt, sock, unverified=False):
        """A GET of an observable resource: the Observe value to answer with, -1
        (answer it as a plain GET), or FULL: a registration from a peer whose
        address is not verified (unverified) finds only verified observers,
        and takes none's place until it proves its address."""
        if req.observe != 0 and not self.active:
            return -1  # a plain GET while nobody observes (the common case): no lookup
        if req.block2 > 15:
            return -1  # a later block of a notification (RFC 7959 §3.4): not a cancel
        i = self.find(req.peer, req.buf, 4, req.tkl, req.secured)
        if req.observe != 0 or req.length > len(self.request[0]):
            if i >= 0:
                self.remove(i)  # deregistration, or a plain GET with the same token (§3.6)
            return -1  # not a registration, or one too large to keep: a plain GET (§4.1)
        now = ticks_ms()
        unverified = self.probation and unverified  # limit_request follows
        if i < 0:
            i = self._free_or_evict(now, unverified)
            if i < 0:
                return FULL
            self.mid[i] = getrandbits(16)  # unguessable: an RST must not be easy to spoof
            self.misses[i] = 0
            self.wrong[i] = 0
            self.version += 1
            self.active += 1
        self._fill(i, req.peer, sock, res, fmt, now)
        self._keep(i, req.buf, req.length, req.tkl)
        self.secured[i] = req.secured  # OSCORE (RFC 8613 §8.3): notifications protected too
        self.piv[i] = req.piv
        self.dirty[i] = False
        self.budget[i] = -1
        self.proven[i] = not unverified
        self.last_seq[i] = self.next_seq()
        return self.last_seq[i]

    def _fill(self, i, addr, sock, res, fmt, now):
        self.addr[i] = addr
        self.sock[i] = sock
        self.res[i] = res
        self.fmt[i] = fmt
        self.tries[i] = 0
        self.pinged[i] = 0
        self.sent_at[i] = now
        self.con_at[i] = now
        self.alive_at[i] = now
        self.since_con[i] = self.con_every - 1  # the first notification is CON (§4.5)

    def restore(self, i, addr, sock, res, fmt, misses, secured=None, piv=0):
        """Fill the free entry i, whose request keep() put back, with an
        observer saved before a reboot (coap/observestore.py). It is notified
        at the next tick with a CON, so one gone meanwhile is found out (RFC
        7641 §4.5), and it is on probation until it acknowledges: whatever
        proved its address before, no spoofed entry streams after a reboot."""
        if self.addr[i] is None:
            self.active += 1
        self._fill(i, addr, sock, res, fmt, ticks_ms())
        self.secured[i] = secured  # OSCORE: its context and the registration's
        self.piv[i] = piv          # Partial IV, bound into every notification (§8.3)
        self.mid[i] = getrandbits(16)
        self.budget[i] = self.probation * self.request_len[i] if self.probation else -1
        self.proven[i] = True
        self.wrong[i] = 0
        self.misses[i] = misses
        self.dirty[i] = True

    def keep(self, i, buf, off, n):
        """Copy a request buf[off:off+n] into entry i."""
        self._keep(i, buf, n, buf[off] & 15, off)

    def _keep(self, i, buf, n, tkl, off=0):
        self.tkl[i] = tkl
        r = self.request[i]
        for k in range(n):
            r[k] = buf[off + k]
        self.request_len[i] = n

    def limit_request(self, req, budget):
        """The observer registered by req is not verified: its notifications must
        fit in budget bytes in all until it acknowledges one (see _send). The
        first, a CON, goes out at the next tick: it is the registration's answer
        (Server._request sent only an empty ACK)."""
        i = self.find(req.peer, req.buf, 4, req.tkl, req.secured)
        if i >= 0:
            self.budget[i] = budget if budget > 0 else 0
            self.dirty[i] = True

    def remove_request(self, req):
        self.remove(self.find(req.peer, req.buf, 4, req.tkl, req.secured))

    def remove(self, i):
        if i < 0:
            return
        if self.addr[i] is not None:
            self.version += 1
            self.active -= 1
        self.addr[i] = None
        self.sock[i] = None
        self.res[i] = None
        self.secured[i] = None

    def next_seq(self):
        self.seq = (self.seq + 1) & _SEQ_MASK
        return self.seq

    def on_empty(self, mtype, mid, peer, prove=True):
        """An empty ACK or RST reached the server: it may answer a notification.
        1 when it proved the peer's address (an observer on probation), 0 when
        it answered one of ours, -1 when it matched nothing (a guess, for
        amplify.Guesses). With prove False (guesses closed proofs) an answer
        that would prove an address is taken as not come: the CON is sent again
        and its next answer may prove it."""
        for i in range(self.size):
            if self.addr[i] is not None and self.mid[i] == mid and self.addr[i] == peer:
                probation = self.budget[i] >= 0 or self.pinged[i]
                if not prove and probation and self.tries[i]:
                    return 0
                if mtype == _RST and self.pinged[i] and self.tries[i]:
                    # the RST a ping asks for (RFC 7252 §4.3): the address is
                    # proven, the answer goes out whole, as a CON, next tick
                    self.pinged[i] = 0
                    self.tries[i] = 0
                    self.wrong[i] = 0
                    self.budget[i] = -1
                    self.proven[i] = True
                    self.dirty[i] = True
                    self.since_con[i] = self.con_every - 1
                    self.alive_at[i] = ticks_ms()
                    self.version += 1
                    return 1
                if mtype == _RST:
                    self.remove(i)  # the client rejected the notification (§3.6)
                elif self.tries[i]:
                    self.tries[i] = 0  # the CON notification arrived
                    self.wrong[i] = 0
                    self.alive_at[i] = ticks_ms()
                    if self.budget[i] >= 0:
                        self.budget[i] = -1  # its unguessable MID came back: verified
                        self.proven[i] = True
                        self.version += 1  # worth keeping across a reboot now
                        return 1
                return 0
        # A MID none of the peer's notifications has: to an observer on
        # probation waiting for its ACK, a guess at the 16-bit ID (a forged ACK
        # per MID from its address), so a few end it; a client's own late ACK
        # of a replaced CON (§4.5.2) stays below that. A verified observer is
        # not ended by them: anyone can forge them from its address.
        for i in range(self.size):
            if (self.addr[i] is not None and self.tries[i] and self.budget[i] >= 0
                    and self.addr[i] == peer):
                self.wrong[i] += 1
                if self.wrong[i] >= _WRONG_ACKS:
                    self.remove(i)
        return -1

    # --- notifications -------------------------------------------------------

    def changed(self, res):
        """The resource's state changed: notify its observers at the next tick."""
        for i in range(self.size):
            if self.res[i] is res:
                self.dirty[i] = True

    def changed_entry(self, i):
        """Entry i's state changed (its resource's other observers' did not):
        notify it at the next tick."""
        if self.addr[i] is not None:
            self.dirty[i] = True

    def tick(self):
        now = ticks_ms()
        for i in range(self.size):
            if self.addr[i] is None:
                continue
            if self.tries[i]:
                if ticks_diff(now, self.retry_at[i]) >= 0:
                    if self.tries[i] > self.max_retransmit:
                        self.remove(i)  # the observer went silent (§4.5)
                    else:
                        # A state that changed meanwhile goes out in place of the
                        # retransmission, as a new message: fresh MID and Observe
                        # number, same retransmission count and timer (§4.5.2).
                        self._send(i, now, True, self.dirty[i])
            elif self.dirty[i] or self._stale(i, now):
                every = self.con_every  # 0: NON only, but for the two below
                con = (every and self.since_con[i] + 1 >= every or self.budget[i] >= 0
                       or ticks_diff(now, self.con_at[i]) >= _DAY_MS)
                self._send(i, now, con, True)

    def _stale(self, i, now):
        # §4.3.1: a fresh representation before the last one's Max-Age runs out
        age = self.res[i].max_age
        return age > 0 and ticks_diff(now, self.sent_at[i]) >= age * 900  # 90 % of it

    def _send(self, i, now, con, fresh):
        if fresh:
            if self.budget[i] >= 0:
                # an unverified observer (RFC 9175 §2.4): a MID that earlier
                # notifications don't predict, so only the real address can ACK it
                self.mid[i] = getrandbits(16)
            elif con:
                # forward (unique for RFC 7252 §4.4), by a random step: a MID a
                # spoofer once guessed doesn't predict the next one to ACK
                self.mid[i] = (self.mid[i] + 1 + getrandbits(5)) & 0xFFFF
            else:
                self.mid[i] = (self.mid[i] + 1) & 0xFFFF
            self.last_seq[i] = self.next_seq()
        req = self.req
        req.parse(self.request[i], self.request_len[i])
        req.peer = self.addr[i]
        sock = self.sock[i]
        req.secured = self.secured[i]  # the handler sees the registration's protection
        req.piv = self.piv[i]
        self.dirty[i] = False
        self.sent_at[i] = now
        if con:
            tries = self.tries[i]
            self.timeout[i] = retransmit_timeout(self.ack_timeout_ms,
                                                 self.timeout[i] if tries else 0)
            self.retry_at[i] = ticks_add(now, self.timeout[i])
            self.tries[i] = tries + 1
            self.con_at[i] = now
            self.since_con[i] = 0
        else:
            self.since_con[i] += 1
        try:
            n = self.notify(sock, self.addr[i], self.res[i], req, _CON if con else _NON,
                            self.mid[i], self.fmt[i], self.last_seq[i], self.budget[i])
        except OSError as e:
            if self.log:
                self.log("coap: notification not sent: %s" % e)
            self.remove(i)
            return
        self.pinged[i] = 1 if n < 0 else 0  # a ping went in place of the answer
        if n < 0:
            n = -n
        if n == 0:
            # an error, which ends the observation (§4.2); or not sent: over what
            # RFC 9175 §2.4 still allows an unverified address
            self.remove(i)
        elif self.budget[i] >= 0:
            # retransmissions of a lost first ACK come out of the same budget:
            # a spoofed registration never gets the victim more than 3x
            self.budget[i] -= n
