# Zero-allocation writer for one CoAP response.
#
# The buffer is a bytearray allocated once; its len() is always the length of the
# message written so far, so the transport can hand it to sendto() as it is (a
# memoryview slice would allocate). Shrinking it to zero and appending within its
# capacity never reallocates in MicroPython. Every write checks the capacity first.

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

_CONTENT_FORMAT = const(12)
_PAYLOAD_MARKER = const(0xFF)
_EMPTY = b""


class ResponseTooLarge(Exception):
    """The response does not fit the preallocated buffer."""


def _nibble(v):
    # §3.1: values 0-12 in the nibble, 13: one extra byte, 14: two extra bytes
    return v if v < 13 else (13 if v < 269 else 14)


def _uint_len(v):
    n = 0
    while v:
        n += 1
        v >>= 8
    return n


class Response:
    """Writes header, token, options (ascending) and payload into one buffer."""

    def __init__(self, size=1152):
        self.size = size
        self.buf = bytearray(size)
        self.buf[0:] = _EMPTY  # keep the capacity, start empty
        self.format = -1      # Content-Format the server negotiated for this request
        self._header_end = 0
        self._last = 0
        self._pending_format = -1
        self._in_payload = False

    def __len__(self):
        return len(self.buf)

    def begin(self, mtype, code, mid, token_src, token_off, tkl):
        """Start a message; the token is copied from token_src[token_off:+tkl]."""
        b = self.buf
        b[0:] = _EMPTY
        b.append(0x40 | (mtype << 4) | tkl)
        b.append(code)
        b.append((mid >> 8) & 0xFF)
        b.append(mid & 0xFF)
        for i in range(token_off, token_off + tkl):
            b.append(token_src[i])
        self._header_end = 4 + tkl
        self._restart()

    def _restart(self):
        self._last = 0
        self._pending_format = -1
        self._in_payload = False

    def code(self):
        return self.buf[1]

    def set_code(self, code):
        self.buf[1] = code

    def reset(self, code):
        """Drop options and payload written so far and answer with `code` instead."""
        self.buf[self._header_end:] = _EMPTY
        self.buf[1] = code
        self._restart()

    def error(self, code, diagnostic=_EMPTY):
        """Answer with an error code and a short diagnostic payload (§5.5.2)."""
        self.reset(code)
        self.payload(diagnostic)

    def content_format(self, fmt):
        """Content-Format to send with the payload; written when its turn comes."""
        self._pending_format = fmt

    # --- options -------------------------------------------------------------

    def _option_header(self, num, length):
        if self._in_payload:
            raise ValueError("option after payload")
        if num < self._last:
            raise ValueError("options must be written in ascending order")
        if self._pending_format >= 0 and num >= _CONTENT_FORMAT:
            fmt = self._pending_format
            self._pending_format = -1
            if num != _CONTENT_FORMAT:  # an explicit Content-Format replaces the pending one
                self.option_uint(_CONTENT_FORMAT, fmt)
        self._room(5 + length)
        delta = num - self._last
        self._last = num
        b = self.buf
        dn = _nibble(delta)
        ln = _nibble(length)
        b.append((dn << 4) | ln)
        self._extended(dn, delta)
        self._extended(ln, length)

    def _extended(self, nibble, v):
        if nibble == 13:
            self.buf.append(v - 13)
        elif nibble == 14:
            v -= 269
            self.buf.append(v >> 8)
            self.buf.append(v & 0xFF)

    def option_uint(self, num, v):
        """An option with an unsigned integer value, minimally encoded (§3.2)."""
        n = _uint_len(v)
        self._option_header(num, n)
        b = self.buf
        while n:
            n -= 1
            b.append((v >> (8 * n)) & 0xFF)

    def option(self, num, value=_EMPTY):
        """An option with an opaque or string value given as bytes."""
        self._option_header(num, len(value))
        self.buf.extend(value)

    def option_from(self, num, src, off, n):
        """An option whose value is src[off:off+n], copied without slicing."""
        self._option_header(num, n)
        b = self.buf
        for i in range(off, off + n):
            b.append(src[i])

    # --- payload -------------------------------------------------------------

    def _start_payload(self, n):
        if n <= 0:
            return
        if not self._in_payload:
            if self._pending_format >= 0:
                self.option_uint(_CONTENT_FORMAT, self._pending_format)
                self._pending_format = -1
            self._room(1 + n)
            self.buf.append(_PAYLOAD_MARKER)
            self._in_payload = True
        else:
            self._room(n)

    def payload(self, data):
        """Append bytes to the payload."""
        n = len(data)
        self._start_payload(n)
        if n:
            self.buf.extend(data)

    def payload_from(self, src, off, n):
        """Append src[off:off+n] to the payload, copied without slicing."""
        self._start_payload(n)
        b = self.buf
        for i in range(off, off + n):
            b.append(src[i])

    def payload_int(self, v):
        """Append an integer as decimal text, without building a str."""
        self.payload_fixed(v, 0)

    def payload_fixed(self, v, places):
        """Append v / 10**places as text: payload_fixed(-205, 2) writes "-2.05"."""
        self._start_payload(12 + places)
        b = self.buf
        if v < 0:
            b.append(45)  # '-'
            v = -v
        start = len(b)
        digits = 0
        while v or digits <= places:  # least significant digit first
            if digits == places and places:
                b.append(46)  # '.'
            b.append(48 + v % 10)
            v //= 10
            digits += 1
        end = len(b) - 1
        while start < end:  # reverse in place
            t = b[start]
            b[start] = b[end]
            b[end] = t
            start += 1
            end -= 1

    def _room(self, n):
        if len(self.buf) + n > self.size:
            raise ResponseTooLarge
