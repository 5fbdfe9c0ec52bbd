# The client's half of OSCORE (RFC 8613) for a board's own requests through
# coap.client: protect() turns the plain request the Client has written into
# its protected form in place (§8.1), unprotect() verifies and decrypts the
# response to it (§8.4) into a buffer laid out like a plain message, which
# the Client reads as it reads any response.
#
#     c = Client(sock, 256)
#     c.oscore = Protector(ctx, 256)   # ctx: an oscorectx.Context of the board's
#
# The context is the board's for one peer: its Sender ID is the kid of every
# request, each request takes a fresh Partial IV from ctx.next_ssn(), and a
# retransmission resends the same protected bytes (the same Partial IV:
# RFC 7252 deduplication at the peer, §7.5 of 8613). Every buffer is made in
# __init__; nothing here allocates per request.

from .cose import AAD_HEAD, aad, nonce, piv_bytes

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

# Results besides an inner message's length (Client.poll passes them on, next
# to the client's TIMEOUT -1, RESET -2, UNREACHABLE -3 and blockget's -4..-6)
UNPROTECTED = const(-7)  # a response without OSCORE: refused (plain_code has its code)
FORGED = const(-8)       # a response that fails verification (wrong key, altered)
NO_SSN = const(-9)       # no sequence number to protect a request with (§7.2.1)
TOO_LONG = const(-10)    # the protected request does not fit the buffer

_POST = const(2)
_FETCH = const(5)
_URI_HOST = const(3)
_OBSERVE = const(6)
_URI_PORT = const(7)
_OSCORE = const(9)
_PROXY_URI = const(35)
_PROXY_SCHEME = const(39)
_TAG = const(8)
_DATAGRAM = const(1152)  # the most a response can be (what Client.poll reads)
#: bytes protection may add to a plain request: the OSCORE option (header 2,
#: flags 1, Partial IV 5, kid 7), payload marker, tag; a kid context adds its own
OVERHEAD = const(24)
_EMPTY = b""


def _outer(num):
    # §4.1: Class U options of a request stay outside; Observe is both (§4.1.3.5)
    return (num == _URI_HOST or num == _URI_PORT or num == _PROXY_URI
            or num == _PROXY_SCHEME or num == _OBSERVE)


def _ext(dst, v):
    if v >= 269:
        dst.append((v - 269) >> 8)
        dst.append((v - 269) & 0xFF)
    elif v >= 13:
        dst.append(v - 13)


def _nib(v):
    return 14 if v >= 269 else (13 if v >= 13 else v)


def _option(dst, delta, src, off, n):
    # one option (RFC 7252 §3.1) appended to dst, its value src[off:off+n]
    dst.append((_nib(delta) << 4) | _nib(n))
    _ext(dst, delta)
    _ext(dst, n)
    for i in range(off, off + n):
        dst.append(src[i])


def _next(b, p, end, st):
    # The option at b[p] (a message already checked, or our own): st = [number
    # so far, value offset, value length]; returns the next position, or -1 at
    # the payload marker or the end
    if p >= end or b[p] == 0xFF:
        return -1
    h = b[p]
    p += 1
    d = h >> 4
    n = h & 15
    if d == 13:
        d = b[p] + 13
        p += 1
    elif d == 14:
        d = ((b[p] << 8) | b[p + 1]) + 269
        p += 2
    if n == 13:
        n = b[p] + 13
        p += 1
    elif n == 14:
        n = ((b[p] << 8) | b[p + 1]) + 269
        p += 2
    st[0] += d
    st[1] = p
    st[2] = n
    return p + n


class Protector:
    """OSCORE for the requests of one coap.client.Client, under one context."""

    def __init__(self, ctx, size):
        self.ctx = ctx
        self.size = size  # the Client's buffer: a protected request must fit it
        self.out = bytearray(size)
        self.out[0:] = _EMPTY
        self.plain = bytearray(size)
        self.plain[0:] = _EMPTY
        self.inner = bytearray(_DATAGRAM)  # the decrypted response, as a message
        self.inner[0:] = _EMPTY
        self.nonce = bytearray(13)
        self.aad = bytearray(48)  # the request's AAD: its answer's too (§5.4)
        self.aad[0:] = AAD_HEAD
        self.piv = bytearray(5)   # the request's Partial IV
        self.pn = 0
        self.rpiv = bytearray(5)  # a response's own Partial IV
        self.st = [0, 0, 0]
        self.plain_code = 0       # the code of the last UNPROTECTED response

    # --- request (§8.1) ------------------------------------------------------

    def protect(self, b):
        """Protect the plain request in bytearray b (header, token, options,
        payload) in place; its new length, or NO_SSN or TOO_LONG (b unchanged)."""
        ctx = self.ctx
        kid = ctx.sender_id
        idc = ctx.id_context
        if len(b) + OVERHEAD + (0 if idc is None else 1 + len(idc)) > self.size:
            return TOO_LONG
        try:
            ssn = ctx.next_ssn()
        except OSError:  # the sequence file can't be written: no number is safe
            ssn = -1
        if ssn < 0:
            return NO_SSN
        pn = piv_bytes(ssn, self.piv)
        self.pn = pn
        end = len(b)
        hdr = 4 + (b[0] & 15)
        st = self.st
        # the plaintext (§5.3): code, Class E options, payload
        plain = self.plain
        plain[0:] = _EMPTY
        plain.append(b[1])
        observe = False
        last = 0
        st[0] = 0
        p = hdr
        while True:
            q = _next(b, p, end, st)
            if q < 0:
                break
            num = st[0]
            if num == _OBSERVE:
                observe = True
            if not _outer(num) or num == _OBSERVE:
                _option(plain, num - last, b, st[1], st[2])
                last = num
            p = q
        if p < end:  # the payload marker and the payload
            for i in range(p, end):
                plain.append(b[i])
        # the outer message: header, token, Class U options and OSCORE, the ciphertext
        out = self.out
        out[0:] = _EMPTY
        for i in range(hdr):
            out.append(b[i])
        out[1] = _FETCH if observe else _POST  # §4.2
        last = 0
        oscore = False
        st[0] = 0
        p = hdr
        while True:
            q = _next(b, p, end, st)
            num = st[0] if q >= 0 else 0xFFFF
            if not oscore and num > _OSCORE:
                oscore = True
                flags = pn | 8 | (0 if idc is None else 16)  # Partial IV, kid (§6.1)
                out.append(((_OSCORE - last) << 4)
                           | (1 + pn + len(kid) + (0 if idc is None else 1 + len(idc))))
                out.append(flags)
                for i in range(pn):
                    out.append(self.piv[i])
                if idc is not None:
                    out.append(len(idc))
                    out.extend(idc)
                out.extend(kid)
                last = _OSCORE
            if q < 0:
                break
            if _outer(num):
                _option(out, num - last, b, st[1], st[2])
                last = num
            p = q
        out.append(0xFF)
        aad(self.aad, kid, self.piv, pn)
        nonce(self.nonce, ctx.sender_nonce, self.piv, pn)
        ctx.sender.encrypt(self.nonce, self.aad, len(self.aad), plain, 0, len(plain), out)
        b[0:] = out
        return len(b)

    # --- response (§8.4) -----------------------------------------------------

    def unprotect(self, d, n):
        """Verify and decrypt the response d[0:n] (well-formed, and matched to
        the request protect() made by its token). The inner message's length
        in self.inner (outer header and token, inner code, options, payload),
        or UNPROTECTED or FORGED."""
        tkl = d[0] & 15
        st = self.st
        st[0] = 0
        p = 4 + tkl
        found = -1
        while True:
            q = _next(d, p, n, st)
            if q < 0:
                break
            if st[0] == _OSCORE:
                found = st[1]
                k = st[2]
            p = q
        if found < 0:
            # §8.2's errors come unprotected: a refusal, never the answer
            self.plain_code = d[1]
            return UNPROTECTED
        ctx = self.ctx
        if k:  # flags, then the server's own Partial IV when it chose one (§8.3)
            flags = d[found]
            rn = flags & 7
            if flags & 0xE0 or rn > 5 or 1 + rn > k:
                return FORGED
            for i in range(rn):
                self.rpiv[i] = d[found + 1 + i]
        else:
            rn = 0
        if rn:
            nonce(self.nonce, ctx.recipient_nonce, self.rpiv, rn)
        else:
            nonce(self.nonce, ctx.sender_nonce, self.piv, self.pn)
        if p >= n:
            return FORGED  # no ciphertext
        p += 1  # past the payload marker
        m = n - p - _TAG
        start = 3 + tkl  # the inner code lands on the token's last byte, moved after
        if m < 1 or start + m > _DATAGRAM:
            return FORGED
        inner = self.inner
        inner[0:] = _EMPTY
        for i in range(start + m):
            inner.append(0)
        if not ctx.recipient.decrypt(self.nonce, self.aad, len(self.aad), d, p, n - p,
                                     inner, start):
            return FORGED
        code = inner[start]
        for i in range(start + 1):
            inner[i] = d[i]
        inner[1] = code
        if code < 64:  # a request code, or empty, inside a response (§5.3)
            return FORGED
        return start + m
