# Zero-allocation writer for one CoAP response.
#
# The buffer is a bytearray allocated once; its len() is always the length of the
# message written so far, so the transport can hand it to sendto() as it is (a
# memoryview slice would allocate). Shrinking it to zero and appending within its
# capacity never reallocates in MicroPython. Every write checks the capacity first.
#
# Options the server adds (ETag, Observe, Content-Format, Block2, Size2) are kept
# pending and written when their turn comes, so a handler can still add its own
# options around them in ascending order.
#
# The payload passes through a window: only representation bytes
# [window_start, window_end) are kept, the rest are counted (and hashed for the
# ETag when asked). That is how Block2 is served statelessly: the handler writes
# the whole representation and the server keeps the block that was asked for.

from .loops import copy_tail, digits, hash31

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

_ETAG = const(4)
_OBSERVE = const(6)
_CONTENT_FORMAT = const(12)
_MAX_AGE = const(14)
_BLOCK2 = const(23)
_BLOCK1 = const(27)
_SIZE2 = const(28)
_PENDING_NUMBERS = (_ETAG, _OBSERVE, _CONTENT_FORMAT, _MAX_AGE, _BLOCK2, _BLOCK1, _SIZE2)
_P_ETAG = const(0)
_P_OBSERVE = const(1)
_P_FORMAT = const(2)
_P_MAX_AGE = const(3)
_P_BLOCK2 = const(4)
_P_BLOCK1 = const(5)
_P_SIZE2 = const(6)
_DEFAULT_MAX_AGE = const(60)  # RFC 7252 §5.10.5: what an absent Max-Age means
_PAYLOAD_MARKER = const(0xFF)
_EMPTY = b""
_HASH_MASK = const(0xFFFFFF)  # 24 bits: h * 31 + b stays a small int on 32-bit ports
_DIGITS_ROOM = const(24)  # loops.digits writes at most 13 + places bytes
_PAD = bytes(_DIGITS_ROOM)
# Zero runs of 1, 2, 4 ... 512 bytes: _copy grows the buffer by any n < 1024 with
# at most ten extends of these (nothing allocated), then fills in the bytes.
_ZEROS = tuple(bytes(1 << k) for k in range(10))
_DIGITS_LIMIT = const(1000000000)  # |v| below this is a small int on every port


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

    #: the server's table of separate responses (later.Later), set on the
    #: instance only when there is one (each attribute more slows lookups)
    later = None

    def __init__(self, size=1152, block_size=1024):
        self.size = size
        self.block_size = block_size
        self.buf = bytearray(size)
        self.buf[0:] = _EMPTY  # keep the capacity, start empty
        self.format = -1      # Content-Format the server negotiated for this request
        #: seconds the representation stays fresh (§5.10.5), written by start()
        #: when not the default; the dispatcher sets it from the resource
        self.max_age = _DEFAULT_MAX_AGE
        #: the entity-tag conditional.py found for the request being answered
        #: (0: none); only for a resource with a version is it always current
        self.tag = 0
        self._scratch = bytearray(_DIGITS_ROOM)
        self._late = bytearray(48)  # one option inserted late: header and value
        self._pending = [-1] * len(_PENDING_NUMBERS)
        self._n_pending = 0
        self._header_end = 0
        self._heads = [bytes(4 + k) for k in range(9)]  # begin()'s lengths, per token length
        self._plain = False  # the window state is not at its defaults (_restart)
        self._restart()

    def __len__(self):
        return len(self.buf)

    def begin(self, mtype, code, mid, token_src, token_off, tkl):
        """Start a message; the token (0-8 bytes) is copied from
        token_src[token_off:+tkl]."""
        b = self.buf
        # The header's length in one slice assignment (within the capacity:
        # nothing allocated), its bytes by index, the token in machine code
        b[0:] = self._heads[tkl]
        b[0] = 0x40 | (mtype << 4) | tkl
        b[1] = code
        b[2] = (mid >> 8) & 0xFF
        b[3] = mid & 0xFF
        if tkl:
            copy_tail(b, token_src, token_off, tkl)
        self._header_end = 4 + tkl
        self.max_age = _DEFAULT_MAX_AGE
        self._restart()

    def _restart(self):
        self._last = 0
        if self._n_pending:
            p = self._pending
            for i in range(len(p)):
                p[i] = -1
            self._n_pending = 0
        self._in_payload = False
        self._payload_start = 0
        self.total = 0               # representation bytes written, kept or not
        if not self._plain:
            # only window(), sized() and a payload outgrowing its window change
            # these: most answers skip five stores here
            self.window_start = 0
            self.window_end = self.block_size
            self.hashing = False
            self.hash = 0
            self.version = -1        # set by sized(): the ETag comes from it, not a hash
            self._plain = True

    def code(self):
        return self.buf[1]

    def set_code(self, code):
        self.buf[1] = code

    def reset(self, code):
        """Drop options and payload written so far and answer with `code` instead."""
        self.buf[1] = code
        if len(self.buf) == self._header_end and not self._n_pending and not self.total:
            return  # nothing written since begin(): the common first pass
        self.buf[self._header_end:] = _EMPTY
        self._restart()

    def start(self, code, fmt, seq):
        """Begin a handler's pass: its default code, the negotiated Content-Format
        (written with the payload) and, for an observation, the Observe value."""
        b = self.buf
        n_pending = self._n_pending
        if len(b) == self._header_end and not n_pending and not self.total:
            b[1] = code  # nothing written since begin(): all reset() would do
        else:
            self.reset(code)
            n_pending = 0
        self.format = fmt
        if fmt >= 0:  # _set_pending inline: one call less per request
            p = self._pending
            if p[_P_FORMAT] < 0:
                self._n_pending = n_pending + 1
            p[_P_FORMAT] = fmt
        if seq >= 0:
            self._set_pending(_P_OBSERVE, seq)
        if self.max_age != _DEFAULT_MAX_AGE:
            self._set_pending(_P_MAX_AGE, self.max_age)

    def error(self, code, diagnostic=_EMPTY, fmt=-1):
        """Answer with an error code and a short diagnostic payload (§5.5.2).
        With fmt, the payload is instead a representation of the error in
        that Content-Format, which is written with it; an error never keeps
        the Observe, ETag or Block2 of the answer it replaces (RFC 7641 §4.2)."""
        self.reset(code)
        if fmt >= 0:
            self._set_pending(_P_FORMAT, fmt)
        self.payload(diagnostic)

    def window(self, start, end, hashing):
        """Keep only representation bytes [start, end); hash all of them if asked."""
        self._plain = False
        self.window_start = start
        self.window_end = end
        self.hashing = hashing

    def sized(self, n, version):
        """For a handler that knows its representation is n bytes and has a
        version number that changes whenever its content does (RFC 7252 §5.10.6:
        an ETag only has to tell representations apart). Returns True when the
        writer needs nothing more: the counting pass of Block2, where n and the
        version stand for the bytes. Otherwise the handler writes its payload as
        usual and only the window asked for is kept, without hashing it."""
        self._plain = False
        self.version = version & _HASH_MASK
        self.hash = self.version
        if self.hashing and self.window_end == 0:  # nothing kept: counting only
            self.total += n
            return True
        return False

    def defer(self):
        """Answer later (RFC 7252 §5.2.2): the server acknowledges the request
        now and the board answers it with Server.answer_later(slot, handler).
        Returns the slot, or -1 when the request can't wait (this response
        is then the answer: 5.03 with Max-Age when every slot is busy). Write
        nothing more after it. Needs Resource(..., separate=True)."""
        if self.later is None:
            raise ValueError("defer() needs Resource(..., separate=True)")
        return self.later.take(self)

    # --- pending server options ----------------------------------------------

    def _set_pending(self, i, v):
        if self._pending[i] < 0:
            self._n_pending += 1
        self._pending[i] = v

    def content_format(self, fmt):
        """Content-Format to send with the payload; written when its turn comes."""
        if fmt >= 0:
            self._set_pending(_P_FORMAT, fmt)

    def etag(self, v):
        self._set_pending(_P_ETAG, v)

    def block2(self, v):
        self._set_pending(_P_BLOCK2, v)

    def size2(self, v):
        self._set_pending(_P_SIZE2, v)

    def block1(self, v):
        """Block1 of an upload's last answer (RFC 7959 §2.3)."""
        self._set_pending(_P_BLOCK1, v)

    def _flush(self, below):
        # write pending options numbered below `below`; one numbered `below`
        # is dropped, since the handler writes that option itself
        p = self._pending
        for i in range(len(p)):
            v = p[i]
            if v >= 0:
                num = _PENDING_NUMBERS[i]
                if num > below:
                    return
                p[i] = -1
                self._n_pending -= 1
                if num < below:
                    self._write_uint(num, v)

    def flush(self):
        """Write the pending options now: an answer without a payload (2.03)."""
        if self._n_pending:
            self._flush(0xFFFF)

    def finish(self):
        """Write the pending options of an answer without a payload (the
        Block1 of an upload's last answer); not a Content-Format, which
        would describe nothing."""
        if self._n_pending and not self._in_payload:
            if self._pending[_P_FORMAT] >= 0:
                self._pending[_P_FORMAT] = -1
                self._n_pending -= 1
            self._flush(0xFFFF)

    # --- options -------------------------------------------------------------

    def _option_header(self, num, length):
        if self._in_payload:
            raise ValueError("option after payload")
        if num < self._last:
            raise ValueError("options must be written in ascending order")
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

    def _write_uint(self, num, v):
        n = _uint_len(v)
        self._option_header(num, n)
        b = self.buf
        while n:
            n -= 1
            b.append((v >> (8 * n)) & 0xFF)

    def option_uint(self, num, v):
        """An option with an unsigned integer value, minimally encoded (§3.2)."""
        if self._n_pending:
            self._flush(num)
        self._write_uint(num, v)

    def option(self, num, value=_EMPTY):
        """An option with an opaque or string value given as bytes."""
        if self._n_pending:
            self._flush(num)
        self._option_header(num, len(value))
        self.buf.extend(value)

    def option_from(self, num, src, off, n):
        """An option whose value is src[off:off+n], e.g. from the request, copied
        without slicing."""
        if self._n_pending:
            self._flush(num)
        self._option_header(num, n)
        self._copy(src, off, off + n)

    def last_option(self):
        """Number of the last option written (0: none)."""
        return self._last

    def option_late(self, num, value):
        """Insert an option numbered above every one written, before a payload
        already written (how the server offers an Echo after a handler ran)."""
        if num < self._last or len(value) > 40:
            raise ValueError("a late option goes last and has at most 40 bytes")
        if self._n_pending and not self._in_payload:
            self._flush(num)
        late = self._late
        late[0:] = _EMPTY
        n = len(value)
        delta = num - self._last
        dn = _nibble(delta)
        late.append((dn << 4) | _nibble(n))
        if dn == 13:
            late.append(delta - 13)
        elif dn == 14:
            late.append((delta - 269) >> 8)
            late.append((delta - 269) & 0xFF)
        if n >= 13:
            late.append(n - 13)
        late.extend(value)
        self._room(len(late))
        at = self._payload_start - 1 if self._in_payload else len(self.buf)
        self.buf[at:at] = late  # within the buffer's capacity: no reallocation
        if self._in_payload:
            self._payload_start += len(late)
        self._last = num

    # --- payload -------------------------------------------------------------

    def payload_kept(self):
        """Payload bytes in the buffer (the block kept, not the whole representation)."""
        return len(self.buf) - self._payload_start if self._in_payload else 0

    def _start_payload(self, n):
        b = self.buf
        if not self._in_payload:
            pending = self._n_pending
            if pending:
                p = self._pending
                fmt = p[_P_FORMAT]
                if pending == 1 and 0 <= fmt < 256 and self._last == 0:
                    # Content-Format alone: delta 12, 0 or 1 value byte
                    if len(b) + 3 + n > self.size:  # _room() inline, as below
                        raise ResponseTooLarge
                    p[_P_FORMAT] = -1
                    self._n_pending = 0
                    self._last = _CONTENT_FORMAT
                    if fmt:
                        b.append(0xC1)
                        b.append(fmt)
                    else:
                        b.append(0xC0)
                else:
                    self._flush(0xFFFF)
            if len(b) + 1 + n > self.size:  # _room() inline: once per request
                raise ResponseTooLarge
            b.append(_PAYLOAD_MARKER)
            self._in_payload = True
            self._payload_start = len(b)
        elif len(b) + n > self.size:
            raise ResponseTooLarge

    def payload(self, data):
        """Append bytes to the payload."""
        # The common case inline, one call less per write: a payload already
        # begun, nothing hashed, the whole of data inside the window.
        n = len(data)
        end = self.total + n
        if (self._in_payload and not self.hashing and self.total >= self.window_start
                and end <= self.window_end and n):
            if len(self.buf) + n > self.size:
                raise ResponseTooLarge
            self.total = end
            self.buf.extend(data)
            return
        self.payload_from(data, 0, n)

    def payload_from(self, src, off, n):
        """Append src[off:off+n] to the payload, copied without slicing."""
        if n <= 0:
            return
        start = self.total
        end = start + n
        self.total = end
        if self.hashing:
            self._hash(src, off, off + n)
        if start >= self.window_start and end <= self.window_end:
            self._start_payload(n)
            if off == 0 and n == len(src):
                self.buf.extend(src)
            else:
                self._copy(src, off, off + n)
            return
        a = start if start > self.window_start else self.window_start
        b = end if end < self.window_end else self.window_end
        if a < b:
            self._start_payload(b - a)
            self._copy(src, off + a - start, off + b - start)
        if end > self.window_end and not self.hashing:
            # Outgrew a window that starts at 0: the server will go block-wise,
            # so hash what was kept and, from now on, everything.
            self._plain = False
            self.hashing = True
            if self._in_payload:
                self._hash(self.buf, self._payload_start, len(self.buf))
            self._hash(src, off + self.window_end - start, off + n)

    def _copy(self, src, i, j):
        b = self.buf
        n = j - i
        if n >= 1024:  # never on the hot path: blocks are at most 1024 bytes
            for k in range(i, j):
                b.append(src[k])
            return
        k = 0
        while n >> k:
            if (n >> k) & 1:
                b.extend(_ZEROS[k])
            k += 1
        copy_tail(b, src, i, n)

    def _hash(self, src, i, j):
        if self.version < 0:  # a sized() handler's version stands for the hash
            self.hash = hash31(src, i, j, self.hash)

    def payload_int(self, v):
        """Append an integer as decimal text, without building a str."""
        self.payload_fixed(v, 0)

    def payload_fixed(self, v, places):
        """Append v / 10**places as text: payload_fixed(-205, 2) writes "-2.05"."""
        # Few locals and a shallow stack on purpose: a frame over 11 words comes
        # from the heap on each call (MicroPython's VM_MAX_STATE_ON_STACK).
        if not (-_DIGITS_LIMIT < v < _DIGITS_LIMIT and 0 <= places <= 10):
            self._payload_any(v, places)  # rare, never a board's reading
            return
        b = self.buf
        total = self.total
        if (self._plain and total + _DIGITS_ROOM <= self.window_end
                and len(b) + _DIGITS_ROOM + 4 <= self.size):
            self._start_payload(_DIGITS_ROOM)  # fast path: straight into the buffer
            at = len(b)
            b.extend(_PAD)
            n = digits(b, at, v, places)
            b[at + n:] = _EMPTY
            self.total = total + n
        else:
            n = digits(self._scratch, 0, v, places)
            self.payload_from(self._scratch, 0, n)

    def _payload_any(self, v, places):
        from .loops_py import digits as any_digits

        s = bytearray(len(str(v)) + places + 3)  # allocating is fine here
        self.payload_from(s, 0, any_digits(s, 0, v, places))

    def _room(self, n):
        if len(self.buf) + n > self.size:
            raise ResponseTooLarge
