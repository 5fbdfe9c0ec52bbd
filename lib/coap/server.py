# The stateless server: one datagram in, at most one out.
#
# handle() turns a received datagram into a response in self.response.buf and
# returns its length (0: send nothing). poll() and serve() move datagrams between
# a UDP socket and handle(). Nothing is remembered between datagrams except the
# Message ID counter for NON responses (RFC 7252 §4.4), the Echo key (one for
# all peers, coap/echo.py) and, under the 3x rule, small fixed tables of proven
# peers (amplify.Verified) and of large reads held for a ping (pending.py); so
# a retransmitted CON is handled again: handlers must be idempotent.

import os

from . import aes, amplify
from .blockwise import Passes, block_size
from .dispatch import Dispatcher
from .echo import Echo
from .loops import copy_at, replay
from .parse import Request
from .pending import PROVEN
from .resource import check_table
from .serveloop import Heap, serve
from .write import Response, ResponseTooLarge

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

_EAGAIN = const(11)  # errno
_MSG_PEEK = const(1)  # lwIP's (extmod/modlwip.c); only lwIP ports peek
_OK = const(0)
_IGNORE = const(-1)
_FORMAT_ERROR = const(-2)
_CON = const(0)
_NON = const(1)
_ACK = const(2)
_RST = const(3)
_CONTENT = const(69)
_BAD_REQUEST = const(128)
_INTERNAL_ERROR = const(160)
_HEADROOM = const(128)  # bytes of a request kept for header, token and options
_ECHO_SIZE = const(12)  # echo.SIZE
_VERIFIED = const(0)  # echo.VERIFIED
_OSCORE = const(9)


def _discard(line):
    pass


class Server:
    """A CoAP server over a static resource table.

    buffer_size bounds both directions: a request datagram larger than it, or with
    a payload larger than max_payload, gets 4.13 with Size1 (RFC 7959 §2.9.3); a
    GET response larger than a block (1024 bytes) is served block-wise, and any
    other response that large becomes 5.00. log(str) gets one line per problem;
    None discards them.

    amplification_limit: answers to a peer not verified by an Echo are at most
    3x its request (coap/amplify.py, RFC 9175 §2.4); echo_lifetime_s: how long
    an Echo value verifies its peer (coap/echo.py), and for how long a peer that
    proved its address (an Echo, or the ACK of a CON on probation) is trusted
    without one: proven_peers entries remember them (amplify.Verified).
    held_requests: how many large GETs from unproven peers wait for the RST to
    a ping, to be answered whole (coap/pending.py); 0: small blocks at once.

    oscore: None (no security), or a list of oscorectx.Context: requests that
    carry an OSCORE option are verified and answered protected (RFC 8613,
    docs/security.md), and every resource except /.well-known/core and the
    paths in `open` refuses plain requests with 4.01. An empty list means a
    context was asked for but is unusable: the same resources are refused.

    uploads: how many block-wise uploads (RFC 7959 Block1) to resources with
    an `upload` size may be under way at a time, each in a buffer of the
    largest such size plus 128 bytes (coap/block1.py).

    separate: how many requests to `separate` resources may wait for their
    answer at a time (resp.defer(), answer_later(); coap/later.py).

    prepared: how many answers of `prepared` resources are kept and sent again
    for the same plain GET (coap/prepared.py); 0: none. Call forget() when the
    state behind them changes other than by a request.
    """

    def __init__(self, resources, buffer_size=1152, log=print, observers=4,
                 amplification_limit=True, echo_lifetime_s=300, oscore=None, open=(),
                 prepared=8, proven_peers=8, held_requests=0, uploads=2, separate=2,
                 **observe):
        self.resources = check_table(resources)
        self.log = log = log or _discard
        self.buffer_size = buffer_size
        self.max_payload = buffer_size - _HEADROOM
        self.request = Request()
        self.response = Response(buffer_size, block_size(self.max_payload))
        self.passes = Passes(log)
        self.dispatcher = d = Dispatcher(self.resources, self.passes, buffer_size,
                                         self.max_payload)
        #: Sockets bound to a multicast group: their requests never get an error
        #: or RST (§8.1), and their answers go to on_multicast(buf, addr) instead.
        self.multicast_socks = ()
        self.on_multicast = None
        #: on_answer(data, n, addr): offered each response, ACK and RST that came
        #: in; True when it was the answer to the board's own request (coap.client.Shared)
        self.on_answer = None
        #: Called between datagrams, at least every tick_ms, when set (observe
        #: notifications, multicast replies due, registration refreshes).
        self.tick = None
        self.tick_ms = 100
        #: serve()'s garbage collection (serveloop.Heap): heap.every, heap.free
        self.heap = Heap()
        #: serve() looks at the clock after this many datagrams of a flood, so
        #: that the tick is never held back for long
        self.burst = 64
        #: 0, or how many bytes drain() peeks at first (peek_receive)
        self.peek = 0
        self.amplification_limit = amplification_limit
        self.echo = self.proven = self.guesses = self.pending = None
        fresh = any(res.fresh for res in self.resources)
        if fresh and not aes.available():
            raise ValueError("fresh resources need AES for Echo values (cryptolib)")
        if (amplification_limit or fresh or oscore) and aes.available():
            # (without AES the limit still holds; only no peer can be verified;
            # OSCORE, which needs AES anyway, uses the same Echo values)
            self.echo = d.echo = Echo(echo_lifetime_s)
        if amplification_limit:
            self.proven = amplify.Verified(proven_peers, echo_lifetime_s)
            self.guesses = amplify.Guesses()
            if held_requests:
                from .pending import Pending

                self.pending = d.pending = Pending(held_requests)
                self._ping = bytearray(4)
        r = os.urandom(2)
        self._mid = (r[0] << 8) | r[1]
        #: The OSCORE layer (RFC 8613), when oscore lists security contexts.
        #: With oscore given (even empty: a context was asked for but is unusable)
        #: every resource but those whose paths are in `open` needs OSCORE.
        self.oscore = None
        self._secure(oscore, open, buffer_size)
        self.prepared = None
        self.observers = None
        self._observers_seen = 0
        if prepared and any(res.prepared for res in self.resources):
            from .prepared import Prepared  # only a table with prepared resources pays for it

            self.prepared = d.prepared = Prepared(prepared)
        upload = max([res.upload for res in self.resources] + [0])
        if uploads and upload:
            from .block1 import Uploads  # only a table with upload resources pays for it

            d.uploads = Uploads(upload, uploads)
        self.later = None
        if separate and any(res.separate for res in self.resources):
            from .later import Later  # only a table with separate resources pays for it

            self.later = self.response.later = Later(
                self.request, self.response, self.passes, d, self.next_mid, log, separate)
        if observers and any(res.obs for res in self.resources):
            from .notify import Notifier  # only a table with observable resources pays for them
            from .observe import Observers

            notifier = Notifier(self.response, self.passes, self.oscore)
            self.observers = d.observers = notifier.observers = Observers(
                notifier.send, observers, log=log,
                probation=amplify.RATIO if amplification_limit else 0, **observe)

    def _secure(self, contexts, open_paths, buffer_size):
        # Resource.secure is set here, for the table this server serves
        opened = set(p.strip("/") for p in open_paths)
        for res in self.resources:
            path = res.href.decode().strip("/")
            res.secure = contexts is not None and path not in opened
            opened.discard(path)
        for path in opened:  # a typo would leave the intended resource closed: say so
            self.log("coap: open path %s matches no resource" % path)
        if contexts:
            from .oscore import Oscore, OVERHEAD  # only a board with a context pays for it

            self.oscore = Oscore(contexts, buffer_size, self.echo)
            self.response.size = buffer_size - OVERHEAD  # room to protect any answer

    def only(self, resources, contexts):
        """Let only `contexts` (some of the server's) open `resources`, those
        of them that need OSCORE: a request under another of the server's
        contexts gets 4.03. No contexts: none may (every request refused)."""
        allowed = tuple(contexts) or (None,)  # never a request's context
        for res in resources:
            if res.secure:
                res.secure = allowed

    def forget(self, res=None):
        """The state behind prepared answers (of res only, when given) changed,
        e.g. a reading was refreshed: answer the next GETs by their handlers
        again. The server forgets every prepared answer itself after an unsafe
        request and when an observer comes or goes."""
        if self.prepared is not None:
            self.prepared.forget(res)

    def next_mid(self):
        """A fresh Message ID for a message the server starts (§4.4)."""
        self._mid = (self._mid + 1) & 0xFFFF
        return self._mid

    # --- protocol ------------------------------------------------------------

    def handle(self, data, n, multicast=False, sock=None, held=False):
        """Answer data[0:n] from self.request.peer; returns the response length
        (0: stay silent). multicast: it came in on a group address, so no RST
        and no error (§8.1); sock: the socket it came in on (an observer's
        notifications go out there); held: a request held for a ping
        (pending.py), answered now."""
        # One frame for the whole message layer: a bytecode frame this large
        # comes from the heap on each call, so fewer of them is faster.
        req = self.request
        status = req.parse(data, n)
        if status == _IGNORE:
            return 0
        t = req.type
        if multicast and t == _CON:
            return 0  # §8.1: a multicast message MUST be NON; no ACK, no RST, no answer
        code = req.code
        if status == _FORMAT_ERROR:
            if n > self.buffer_size and req.tkl <= 8 and 0 < code < 32 and t <= _NON:
                status = _OK  # cut off by the receive size: answered with 4.13 below
            else:
                return self._reset(data) if t == _CON and not multicast else 0  # §4.2, §4.3
        if code == 0 or code >> 5:
            if self.on_answer is not None and self.on_answer(data, n, req.peer):
                return 0  # the answer to the board's own request (client.Shared)
            if code == 0 and t >= _ACK:
                self._empty(t, req)
            # Empty (a CON is a ping, §4.3), or a response/reserved class we never
            # asked for: a CON lacks context and is rejected (§4.2), the rest is silence.
            return self._reset(data) if t == _CON and not multicast else 0
        if t == _ACK or t == _RST:
            return 0  # §4.2/§4.3: ACK and RST never carry a request
        if (self.later is not None and self.later.active and t == _CON
                and self.later.find(req.mid, req.peer) >= 0):
            self.response.begin(_ACK, 0, req.mid, data, 4, 0)  # §4.5: its answer comes later
            return 4
        # RFC 9175 §2.4: budget, what any peer may get for this request; limit,
        # what this one may (0: no limit), once it showed an Echo this server
        # made for its address and port recently, or proved it otherwise
        budget = amplify.RATIO * n if self.amplification_limit else 0
        oscore = req.oscore_off >= 0
        if oscore and (self.oscore is None or multicast or req.bad_option):
            req.unrecognised(_OSCORE)  # no context here: the option is not understood
            oscore = False
        if req.bad_option and t == _NON:
            return 0  # §5.4.1: a NON with an unrecognised critical option is rejected
        resp = self.response
        if t == _CON:
            resp.begin(_ACK, _CONTENT, req.mid, data, 4, req.tkl)  # piggybacked, §5.2.1
        else:
            resp.begin(_NON, _CONTENT, self.next_mid(), data, 4, req.tkl)  # §5.2.3
        if oscore:
            return self._protected(req, resp, data, n, budget, sock)
        echo = self.echo
        req.verified = (echo is not None and req.echo_len > 0 and echo.check(
            req.peer, data, req.echo_off, req.echo_len) == _VERIFIED)
        limit = 0
        if budget:
            if req.verified:
                self.proven.add(req.peer)
            elif not self.proven.has(req.peer):
                limit = budget - 4 if held else budget  # the ping went out already
        keep = None
        try:
            keep = self.dispatcher.answer(req, resp, n, limit, sock, multicast, held)
        except ResponseTooLarge:
            resp.error(_INTERNAL_ERROR, b"response too large")
        if self.later is not None and self.later.taken >= 0:
            keep = None
            self.later.acknowledge(req, resp, data, sock, limit, multicast)
        if limit and limit < len(resp.buf):
            amplify.shorten(echo, req, resp, limit)  # RFC 9175 §2.4
        if multicast and (resp.buf[1] >= _BAD_REQUEST
                          or resp.buf[1] == _CONTENT and not resp.total):
            return 0  # no error to a group (§8.1), nor an empty answer: nothing to say
        if keep is not None and not multicast and self.prepared is not None:
            # the next such GET: drain() answers it, to any peer, so only an
            # answer any peer would get (one within 3x when the limit is on)
            self.prepared.keep(data, n, resp.buf, budget or -1, keep)
        return len(resp.buf)

    def answer_later(self, slot, handler):
        """Answer the request that resp.defer() kept in slot: handler(req,
        resp) writes the answer as any handler would, for that request, and
        it goes out at once as a separate response (RFC 7252 §5.2.2): a CON
        retransmitted until acknowledged, or a NON to a NON request. Call it
        between requests (Server.tick, a timer), not from a handler. The
        bytes sent (0 when the peer's socket is gone). coap/later.py."""
        if self.later is None:
            raise ValueError("slot %d waits for no answer" % slot)
        return self.later.answer(slot, handler)

    def _protected(self, req, resp, data, n, budget, sock):
        # RFC 8613 §8.2-8.3: unprotect, answer as any request, protect
        oscore = self.oscore
        m = oscore.unprotect(req, resp, data, n, budget)
        if m > 0:
            try:
                self.dispatcher.answer(req, resp, m, 0, sock)
            except ResponseTooLarge:
                resp.error(_INTERNAL_ERROR, b"response too large")
            finally:
                oscore.seal(req, resp, data, n, budget, self.observers)
        elif m < 0 and budget and budget < len(resp.buf):  # a plain error, to anyone
            amplify.shorten(self.echo, req, resp, budget)
        return len(resp.buf)

    def _reset(self, data):
        self.response.begin(_RST, 0, self.request.mid, data, 4, 0)
        return 4

    # --- transport -----------------------------------------------------------

    def poll(self, sock):
        """Receive one datagram from sock, answer it. False when none was waiting
        (a non-blocking socket); socket errors other than that propagate."""
        return self.drain(sock, 1) == 1

    def peek_receive(self, n):
        """Receive as lwIP ports should. Their recvfrom(size) allocates size
        bytes for every datagram, however short, and the search for that much
        free heap costs a quarter of a GET on the RP2040. With n set, drain()
        peeks at n bytes with the sender's address (MSG_PEEK), and takes a
        datagram that fit off the queue with readinto() into a buffer of its
        own: the garbage is then the datagram's size. A longer one is read
        again with recvfrom(size). 0: recvfrom(size) alone (one call)."""
        self.peek = n
        self._peeked = bytearray(n)

    def drain(self, sock, limit):
        """Answer datagrams waiting on non-blocking sock until it has none left
        (EAGAIN) or `limit` have come in; returns how many came in. Socket errors
        other than EAGAIN propagate. The loop serve() runs per readable socket:
        one call per burst, not per datagram (a call is a frame, often from the heap)."""
        size = self.buffer_size + 1  # +1 tells "too large" apart
        group = self.multicast_socks and sock in self.multicast_socks
        # Prepared answers (coap/prepared.py): a repeated plain GET is answered
        # here, from the kept answer, before anything else looks at it
        table = answers = echo_at = None
        if self.prepared is not None and not group:
            table = self.prepared.table
            answers = self.prepared.answers
            echo_at = self.prepared.echo_at
        obs = self.observers
        peek = self.peek
        # builtins as locals: a global miss and a builtins lookup each, per
        # datagram otherwise
        is_a, pair, length = isinstance, tuple, len
        n = 0
        while n < limit:
            try:
                if peek:
                    data, addr = sock.recvfrom(peek, _MSG_PEEK)
                    if len(data) < peek:
                        # All of it: off the queue, exactly its length (readinto
                        # goes on into the next datagram); an empty one too
                        sock.readinto(self._peeked, len(data) or 1)
                    else:
                        data, addr = sock.recvfrom(size)
                else:
                    data, addr = sock.recvfrom(size)
            except OSError as e:
                if e.args[0] == _EAGAIN:  # nothing (more) to read
                    return n
                raise
            n += 1
            # Port 0: nothing can answer it, a send would only fail (and log).
            # Tested inline (echo.port_of's shapes): MicroPython gives a sockaddr
            # (port at bytes 2-3, network order), CPython a tuple.
            if is_a(addr, pair):
                if addr[1] == 0:
                    continue
            elif length(addr) >= 4 and addr[2] == 0 and addr[3] == 0:
                continue
            if table is not None:
                k = replay(table, answers, data, len(data))
                # ... unless the GET would end an observation (RFC 7641 §3.6):
                # that needs the full path
                if k >= 0 and (obs is None or not obs.active
                               or obs.find(addr, data, 4, data[0] & 15) < 0):
                    # an Echo offered: an answer the limit cut (RFC 9175 §2.4),
                    # which a proven peer gets whole from the full path
                    if echo_at[k] == 0:
                        sock.sendto(answers[k], addr)
                        continue
                    if self.proven is None or not self.proven.has(addr):
                        self.echo.make(addr)  # the Echo: this peer's own
                        copy_at(answers[k], echo_at[k], self.echo.value, _ECHO_SIZE)
                        sock.sendto(answers[k], addr)
                        continue
            self.request.peer = addr
            if group:
                if self.handle(data, len(data), True, sock) and self.on_multicast:
                    self.on_multicast(self.response.buf, addr)
            elif self.handle(data, len(data), False, sock):
                sock.sendto(self.response.buf, addr)
            if self.pending is not None:
                if self.pending.ping >= 0:
                    self._send_ping(sock, addr)
                if self.pending.active:
                    self.answer_held()
            if obs is not None and obs.version != self._observers_seen:
                self._observers_changed()
        return n

    def _empty(self, t, req):
        # An empty ACK or RST: it may answer a ping or a notification, and
        # prove the peer's address (RFC 9175 §2.4) unless guesses closed that.
        guesses = self.guesses
        prove = guesses is None or guesses.open()
        if t == _RST and self.pending is not None and self.pending.active:
            if self.pending.on_rst(req.mid, req.peer, prove):
                return  # the answer to a ping: drain() sends the held answer
        later = self.later
        if later is not None and later.active and later.on_empty(req.mid, req.peer):
            if t == _ACK and prove and self.proven is not None:
                self.proven.add(req.peer)  # it acknowledged an unpredictable MID
            return
        got = -1
        if self.observers is not None:
            got = self.observers.on_empty(t, req.mid, req.peer, prove)
            if got > 0 and self.proven is not None:
                self.proven.add(req.peer)
        if got < 0 and guesses is not None:
            guesses.miss()

    def _send_ping(self, sock, addr):
        # RFC 7252 §4.3: an empty CON, whose RST proves the address (pending.py)
        mid = self.pending.mid[self.pending.ping]
        self.pending.ping = -1
        p = self._ping
        p[0] = 0x40
        p[1] = 0
        p[2] = mid >> 8
        p[3] = mid & 0xFF
        sock.sendto(p, addr)

    def answer_held(self):
        """Answer the held requests that are due (pending.py): whole to a peer
        that answered the ping, within 3x to one whose ping timed out."""
        p = self.pending
        i = p.due()
        while i >= 0:
            peer = p.peer[i]
            sock = p.sock[i]
            if p.state[i] == PROVEN:
                self.proven.add(peer)
            self.request.peer = peer
            n = self.handle(p.request[i], p.request_len[i], False, sock, True)
            p.release(i)
            if n:
                try:
                    sock.sendto(self.response.buf, peer)
                except OSError as e:
                    self.log("coap: answer not sent: %s" % e)
            i = p.due()

    def _observers_changed(self):
        # An observer came or went (a registration, a cancel, an RST, a timeout):
        # server state a prepared handler may show (the board's /board does)
        self._observers_seen = self.observers.version
        self.forget()

    def serve(self, *socks):
        """Answer datagrams on the sockets until interrupted (serveloop.py). A
        failed send (the peer's network went away) is logged and serving goes
        on; so is an Exception from a tick (only a BaseException, e.g. a signal
        to sleep, ends serve()). Garbage is collected as self.heap says."""
        serve(self, socks)

    def timed(self):
        """True when on_tick() has work: the tick, observers, separate
        responses."""
        return self.tick is not None or self.observers is not None or self.later is not None

    def on_tick(self):
        """The timed work, at least every tick_ms between datagrams: observer
        notifications and retransmissions, held answers whose ping timed out,
        self.tick, and the rate-limited reports. An Exception is contained: a
        bad tick must not stop serving."""
        try:
            if self.observers is not None:
                self.observers.tick()
                if self.observers.version != self._observers_seen:
                    self._observers_changed()
            if self.pending is not None and self.pending.active:
                self.answer_held()  # those whose ping timed out
            if self.later is not None and self.later.active:
                self.later.tick()
            if self.tick is not None:
                self.tick()
        except Exception as e:
            self.log("coap: tick error %s: %s; serving on" % (type(e).__name__, e))
        if self.echo is not None:
            self.echo.seconds()  # keeps the Echo clock exact through idle days
        if self.oscore is not None:
            self.oscore.recent.report(self.log)  # refused requests, rate-limited
        if self.guesses is not None:
            self.guesses.report(self.log)

    def largest_response(self):
        """Bytes of the longest answer the table itself produces: the unfiltered
        /.well-known/core (a handler's own responses add to this)."""
        links = [len(r.link) for r in self.resources if r.link is not None]
        n = sum(links) + max(0, len(links) - 1)
        return 4 + 8 + 2 + 1 + n  # header, token, Content-Format, marker, links
