# OSCORE (RFC 8613) on the server's request path: verify a protected request
# (§8.2), run it through the normal parser and dispatcher, protect the answer
# (§8.3). Imported only when the board has a security context.
#
# The request is decrypted into a scratch datagram laid out like a plain one
# (outer header + token, then the inner code's options and payload), so the
# unchanged parser reads it in place; the handler writes the plaintext
# response through the normal writer, and that is encrypted into a second
# buffer and copied back. Every buffer is allocated in __init__.
#
# A stateless server answers a retransmitted CON again. That request's
# Partial IV was seen, and its first answer used the request's nonce, so the
# second answer carries a fresh Partial IV of the board's own (§7.4): the
# board never encrypts two plaintexts under one nonce. The same Partial IV
# under another Message ID is a replay.

from .cose import AAD_HEAD, aad, nonce, observe_value, read_option
from .oscorectx import MAX_ID
from .parse import OK, equals
from .write import ResponseTooLarge

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

_GET = const(1)
_FETCH = const(5)
_CON = const(0)
_ACK = const(2)
_NON = const(1)
_OBSERVE = const(6)
_OSCORE = const(9)
_MAX_AGE = const(14)
_ECHO = const(252)
_CHANGED = const(68)
_CONTENT = const(69)
_BAD_REQUEST = const(128)
_UNAUTHORIZED = const(129)
_BAD_OPTION = const(130)
_INTERNAL_ERROR = const(160)
_UNAVAILABLE = const(163)
_FRESH = const(0)
_SEEN = const(1)
_UNKNOWN = const(3)
#: bytes a protected answer adds to a plain one: OSCORE option (<= 7),
#: Outer Observe (<= 4), the tag (8)
OVERHEAD = const(24)
_EMPTY = b""


class Oscore:
    """The OSCORE layer of one Server, over a tuple of oscorectx.Contexts."""

    def __init__(self, contexts, buffer_size):
        self.contexts = tuple(contexts)
        self.inner = bytearray(buffer_size + 1)  # the decrypted request, indexed
        self.out = bytearray(buffer_size + OVERHEAD)
        self.out[0:] = _EMPTY  # appended to within its capacity
        self.nonce = bytearray(13)
        self.aad = bytearray(48)
        self.aad[0:] = AAD_HEAD
        self.piv = bytearray(5)      # the request's Partial IV (AAD of every answer)
        self.piv_len = 0
        self.piv_value = -1          # ... as an int
        self.fields = [0] * 6        # what read_option found
        self.own = bytearray(5)      # the board's Partial IV for this answer
        self.ctx = None

    # --- request (§8.2) ----------------------------------------------------------

    def handle(self, srv, req, data, n):
        """Answer the protected request data[0:n] (parsed in req) into
        srv.response; returns its length."""
        resp = srv.response
        tkl = req.tkl
        mid = req.mid
        if req.type == _CON:
            resp.begin(_ACK, _CONTENT, mid, data, 4, tkl)
        else:
            resp.begin(_NON, _CONTENT, srv.next_mid(), data, 4, tkl)
        status = self._decode(data, req.oscore_off, req.oscore_len)
        if status == _BAD_OPTION:
            return self._plain_error(resp, _BAD_OPTION, b"Malformed OSCORE option")
        if status:
            return self._plain_error(resp, _UNAUTHORIZED, b"Security context not found")
        ctx = self.ctx
        m = req.payload_len - 8  # plaintext: code, options, payload
        start = 3 + tkl          # where the inner code lands, later the last header byte
        if m < 1 or start + m > len(self.inner):
            return self._plain_error(resp, _BAD_REQUEST, b"Decryption failed")
        nonce(self.nonce, ctx.recipient_nonce, self.piv, self.piv_len)
        aad(self.aad, ctx.recipient_id, self.piv, self.piv_len)
        inner = self.inner
        if not ctx.recipient.decrypt(self.nonce, self.aad, len(self.aad), data,
                                     req.payload_off, req.payload_len, inner, start):
            return self._plain_error(resp, _BAD_REQUEST, b"Decryption failed")
        piv = self.piv_value
        seen = ctx.check(piv) if piv >= 0 else _SEEN
        own = False
        if seen == _FRESH:
            ctx.accept(piv, mid, req.peer)
        elif seen == _SEEN and piv >= 0 and ctx.retransmission(piv, mid, req.peer):
            own = True  # a retransmission: answered again, under a fresh nonce
        elif seen != _UNKNOWN:
            return self._plain_error(resp, _UNAUTHORIZED, b"Replay detected")
        code = inner[start]
        for i in range(start + 1):
            inner[i] = data[i]
        inner[1] = code
        status = req.parse(inner, start + m)
        req.secured = ctx
        req.piv = piv
        echoed = req.echo_len > 0 and ctx.echo_ok(inner, req.echo_off, req.echo_len)
        if seen == _UNKNOWN:
            # Appendix B.1.2: after a reboot the window is re-established by a
            # request that returns an Echo value of this boot
            if not echoed:
                return self._ask_echo(resp, ctx)
            ctx.accept(piv, mid, req.peer)
        if status != OK or code == 0 or code >> 5:
            resp.error(_BAD_REQUEST, b"malformed inner message")
        elif code != _GET and code != _FETCH and not echoed:
            # RFC 9175 §2.4: an actuator acts only on a request made just now, so
            # a PUT held back by someone on the path and delivered later fails
            return self._ask_echo(resp, ctx)
        else:
            try:
                srv._request(req, resp, code, start + m)
            except ResponseTooLarge:
                resp.error(_INTERNAL_ERROR, b"response too large")
        return self.protect(resp, ctx, own, True)

    def _ask_echo(self, resp, ctx):
        # a protected 4.01 with a fresh Echo, under the board's own Partial IV
        resp.reset(_UNAUTHORIZED)
        resp.option(_ECHO, ctx.new_echo())
        return self.protect(resp, ctx, True, True)

    def _decode(self, buf, off, n):
        # A request needs a Partial IV and a kid (§6.1, §8.2 step 2); the kid
        # (and kid context, when sent) pick the context
        f = self.fields
        if not read_option(buf, off, n, self.piv, f):
            return _BAD_OPTION
        self.piv_len = f[0]
        self.piv_value = f[1]
        ctx_off = f[2]
        ctx_len = f[3]
        p = f[4]
        kid_len = f[5]
        if kid_len > MAX_ID:
            return _UNAUTHORIZED
        for ctx in self.contexts:
            if not equals(buf, p, kid_len, ctx.recipient_id):
                continue
            if ctx_off >= 0 and (ctx.id_context is None
                                 or not equals(buf, ctx_off, ctx_len, ctx.id_context)):
                continue
            self.ctx = ctx
            return 0
        return _UNAUTHORIZED

    def _plain_error(self, resp, code, diagnostic):
        # §8.2: these errors are not protected; Max-Age 0 keeps proxies from caching
        resp.reset(code)
        resp.option_uint(_MAX_AGE, 0)
        resp.payload(diagnostic)
        return len(resp.buf)

    # --- response (§8.3) -----------------------------------------------------

    def protect(self, resp, ctx, own, aad_ready=False):
        """Encrypt the plain response in resp.buf in place, bound to the request
        whose Partial IV is in self.piv. own: with a fresh Partial IV of the
        board's (a notification, or a second answer to one request). aad_ready:
        self.aad holds the request's AAD already, which is the answer's (§5.4)."""
        b = resp.buf
        tkl = b[0] & 15
        start = 3 + tkl
        out = self.out
        out[0:] = _EMPTY
        for i in range(start + 1):
            out.append(b[i])
        code = b[1]
        observe = observe_value(b, start + 1, len(b))
        if observe >= 0:
            own = True  # §8.3 step 3: with Observe, the nonce is the server's own
        pn = 0
        if own:
            try:
                ssn = ctx.next_ssn()
            except OSError:  # the sequence file can't be written: no number is safe
                ssn = -1
            if ssn < 0:
                return self._plain_error(resp, _UNAVAILABLE, b"no sequence number")
            pn = 1
            while ssn >> (8 * pn):
                pn += 1
            for i in range(pn):
                self.own[i] = (ssn >> (8 * (pn - 1 - i))) & 0xFF
        last = 0
        if observe >= 0:
            out[1] = _CONTENT  # a notification's outer code (§4.2) and Observe (§4.1.3.5.2)
            k = 0 if observe == 0 else (1 if observe < 256 else (2 if observe < 65536 else 3))
            out.append((_OBSERVE << 4) | k)
            while k:
                k -= 1
                out.append((observe >> (8 * k)) & 0xFF)
            last = _OBSERVE
        else:
            out[1] = _CHANGED
        if own:
            out.append(((_OSCORE - last) << 4) | (pn + 1))
            out.append(pn)  # flags: n = pn, no kid, no kid context
            for i in range(pn):
                out.append(self.own[i])
            nonce(self.nonce, ctx.sender_nonce, self.own, pn)
        else:
            out.append((_OSCORE - last) << 4)  # empty value: the request's nonce
            nonce(self.nonce, ctx.recipient_nonce, self.piv, self.piv_len)
        out.append(0xFF)
        if not aad_ready:
            aad(self.aad, ctx.recipient_id, self.piv, self.piv_len)
        b[start] = code  # the plaintext is code, options, payload (§5.3)
        ctx.sender.encrypt(self.nonce, self.aad, len(self.aad), b, start, len(b) - start, out)
        b[0:] = out
        return len(b)

    def notification(self, resp, ctx, piv):
        """Protect a notification (in resp.buf) for the registration that came
        with Partial IV piv: always under the board's own Partial IV (§8.3)."""
        pn = 1
        while piv >> (8 * pn):
            pn += 1
        for i in range(pn):
            self.piv[i] = (piv >> (8 * (pn - 1 - i))) & 0xFF
        self.piv_len = pn
        return self.protect(resp, ctx, True)

