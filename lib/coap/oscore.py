# OSCORE (RFC 8613) on the server's request path, around the answer to any
# request: unprotect() verifies a protected request (§8.2) and parses its
# inner message in place of it, the server answers that as it answers every
# request, and seal() protects the answer (§8.3). Imported only when the
# board has a security context.
#
# The request is decrypted into a scratch datagram laid out like a plain one
# (outer header + token, then the inner code's options and payload), so the
# unchanged parser reads it in place; the handler writes the plaintext
# response through the normal writer, and that is encrypted into a second
# buffer and copied back. Every buffer is allocated in __init__.
#
# A Partial IV already received is not processed again (§7.4): a duplicate
# gets its kept answer (coap/oscorekept.py, RFC 7252 §4.5); any other is a
# replay, refused before the AEAD runs (§8.2 step 3).
#
# One Echo for plain and protected requests (coap/echo.py): bound to the
# address and port, the value a client returns for the replay window (B.1.2)
# or an unsafe request (RFC 9175 §2.4) also proves its address; only to a
# proved address is a protected answer over 3x its request.

from . import amplify
from .cose import AAD_HEAD, aad, nonce, observe_value, piv_bytes, read_option
from .oscorectx import find
from .oscorekept import Kept
from .parse import OK

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

_GET = const(1)
_FETCH = const(5)
_OBSERVE = const(6)
_OSCORE = const(9)
_MAX_AGE = const(14)
_CHANGED = const(68)
_CONTENT = const(69)
_BAD_REQUEST = const(128)
_UNAUTHORIZED = const(129)
_BAD_OPTION = const(130)
_INTERNAL_ERROR = const(160)
_UNAVAILABLE = const(163)
_FRESH = const(0)
_UNKNOWN = const(3)
_VERIFIED = const(0)  # echo.VERIFIED
_TAG = const(8)
#: bytes a protected answer adds to a plain one: OSCORE option (<= 7),
#: Outer Observe (<= 4), the tag (8)
OVERHEAD = const(24)
# unprotect() results besides an inner message's length
ANSWERED = const(0)   # resp holds the protected answer (or nothing to send)
REFUSED = const(-1)   # resp holds a plain error (§8.2)
_EMPTY = b""


class Oscore:
    """The OSCORE layer of one Server, over a tuple of oscorectx.Contexts."""

    #: protected answers kept for duplicates of their requests (oscorekept.py)
    kept = 2

    def __init__(self, contexts, buffer_size, echo):
        self.contexts = tuple(contexts)
        self.echo = echo  # the server's echo.Echo
        self.recent = Kept(self.kept, buffer_size + OVERHEAD, len(self.contexts))
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
        self.ctx_index = 0

    # --- request (§8.2) ----------------------------------------------------------

    def unprotect(self, req, resp, data, n, limit):
        """Verify and decrypt the protected request data[0:n], parsed in req,
        whose answer resp is begun. limit: 0, or the 3x budget of an answer to
        an unproven peer (RFC 9175 §2.4). Returns the inner message's length,
        parsed in req and marked secured, for the server to answer and then
        seal(); or ANSWERED when resp holds the protected answer already (a
        duplicate's, or a request for a fresh Echo: empty, nothing is sent),
        or REFUSED when it holds a plain error (§8.2)."""
        tkl = req.tkl
        mid = req.mid
        status = self._decode(data, req.oscore_off, req.oscore_len)
        if status == _BAD_OPTION:
            return self._refuse(resp, 0, _BAD_OPTION, b"Malformed OSCORE option")
        if status:
            return self._refuse(resp, 1, _UNAUTHORIZED, b"Security context not found")
        ctx = self.ctx
        m = req.payload_len - 8  # plaintext: code, options, payload
        start = 3 + tkl          # where the inner code lands, later the last header byte
        if m < 1 or start + m > len(self.inner):
            return self._refuse(resp, 3, _BAD_REQUEST, b"Decryption failed")
        piv = self.piv_value
        echo = self.echo
        recent = self.recent
        k = recent.find(ctx, piv, mid, req.peer, data, n, n - _TAG)
        if k >= 0:  # a duplicate (RFC 7252 §4.5)
            if recent.again(k, req, self.ctx_index, limit or -1, echo.lifetime_s):
                resp.buf[0:] = recent.answer[k]
            else:
                resp.buf[0:] = _EMPTY
            return ANSWERED
        seen = ctx.replay.check(piv) if piv >= 0 else _UNKNOWN + 1
        if seen != _FRESH and seen != _UNKNOWN:
            return self._refuse(resp, 2, _UNAUTHORIZED, b"Replay detected")
        nonce(self.nonce, ctx.recipient_nonce, self.piv, self.piv_len)
        aad(self.aad, ctx.recipient_id, self.piv, self.piv_len)
        inner = self.inner
        if not ctx.recipient.decrypt(self.nonce, self.aad, len(self.aad), data,
                                     req.payload_off, req.payload_len, inner, start):
            return self._refuse(resp, 3, _BAD_REQUEST, b"Decryption failed")
        if seen == _FRESH:
            ctx.replay.accept(piv)
        code = inner[start]
        for i in range(start + 1):
            inner[i] = data[i]
        inner[1] = code
        status = req.parse(inner, start + m)
        req.secured = ctx  # reset by seal(), or below when answered here
        req.piv = piv
        echo.age = -1
        if req.echo_len > 0 and echo.check(req.peer, inner, req.echo_off,
                                           req.echo_len) == _VERIFIED:
            recent.verify(self.ctx_index, req.peer, echo.age)
        req.verified = recent.verified(self.ctx_index, req.peer, echo.lifetime_s)
        fresh = 0 <= echo.age and echo.age * 1000 <= ctx.echo_max_age_ms
        if seen == _UNKNOWN:
            # Appendix B.1.2: after a reboot the window is re-established by a
            # request that returns an Echo value of this boot
            if not fresh:
                return self._ask_echo(resp, req, data, n)
            ctx.replay.accept(piv)
        if status != OK or code == 0 or code >> 5:
            resp.error(_BAD_REQUEST, b"malformed inner message")
            self._close(req)
            self.protect(resp, ctx, False, True)
            self._keep(resp, req, data, n)
            return ANSWERED
        if code != _GET and code != _FETCH and not fresh:
            # RFC 9175 §2.4: an actuator acts only on a request made just now, so
            # a PUT held back by someone on the path and delivered later fails
            return self._ask_echo(resp, req, data, n)
        return start + m

    def seal(self, req, resp, data, n, limit, observers):
        """Protect the server's answer (in resp) to the request unprotect()
        gave it, and keep it for duplicates; req is plain again after."""
        verified = req.verified
        if not verified and limit and limit < len(resp.buf) + OVERHEAD:
            # RFC 9175 §2.4 (a recorded request, delivered first from another
            # address, is fresh here): 4.01 with an Echo for this address,
            # which aiocoap returns at once, as after a reboot
            if observers is not None:
                observers.remove_request(req)  # not answered with Observe
            amplify.shorten(self.echo, req, resp, limit - OVERHEAD)
        self.protect(resp, self.ctx, False, True)
        if not verified and limit and observers is not None:
            # notifications to an unproved observer: within 3x of its registration,
            # with this answer, until it acknowledges one (RFC 9175 §2.4)
            observers.limit_request(req, limit - len(resp.buf))
        self._close(req)
        self._keep(resp, req, data, n)

    def _close(self, req):
        # The request's security fields are this layer's: set by unprotect()
        # for the answer, reset once it is made
        req.secured = None
        req.piv = -1

    def _keep(self, resp, req, data, n):
        # the request (its tag: the datagram's last 8 bytes) and its answer
        self.recent.keep(self.ctx, self.piv_value, req.mid, req.peer, data, n, n - _TAG,
                         resp.buf)

    def _ask_echo(self, resp, req, data, n):
        # a protected 4.01 with a fresh Echo for this address, under the
        # board's own Partial IV (the request's may be a replay, B.1.2)
        self._close(req)
        amplify.unauthorized(self.echo, req, resp, 0xFFFF)
        self.protect(resp, self.ctx, True, True)
        self._keep(resp, req, data, n)
        return ANSWERED

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
        i = find(self.contexts, buf, p, kid_len, ctx_off, ctx_len)
        if i < 0:
            return _UNAUTHORIZED
        self.ctx = self.contexts[i]
        self.ctx_index = i
        return 0

    def _refuse(self, resp, reason, code, diagnostic):
        self.recent.refused[reason] += 1  # logged between datagrams (Kept.report)
        self._plain_error(resp, code, diagnostic)
        return REFUSED

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
            pn = piv_bytes(ssn, self.own)
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
        self.piv_len = piv_bytes(piv, self.piv)
        return self.protect(resp, ctx, True)

