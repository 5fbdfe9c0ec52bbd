# The byte loops of the request path in plain Python: the reference that
# loops_viper.py must match, and what runs on CPython and on ports built
# without the native emitter. Same names, same arguments, same results
# (tests/unit/coap/test_loops.py feeds both the same inputs). None of them allocates.

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

_URI_PATH = const(11)
_MAX_PATH = const(8)
_SUBTREE = const(0x80)  # paths_table(): set on a subtree entry's segment count
_FORMAT_ERROR = const(-2)
_HASH_MASK = const(0xFFFFFF)  # 24 bits: h * 31 + b stays a small int on 32-bit ports

# walk()'s state array (array('i', [0] * STATE_SIZE)), shared with parse.py
S_NUM = const(0)      # option number of the option walked last
S_REPEAT = const(1)   # 1 when that option has the same number as the one before
S_OFF = const(2)      # its value's offset and length
S_LEN = const(3)
S_NEXT = const(4)     # where the walk resumes
S_PATHS = const(5)    # Uri-Path segments seen (more than _MAX_PATH are counted, not kept)
S_PAYLOAD = const(6)  # payload offset (n: no payload)
S_PATH_OFF = const(8)  # _MAX_PATH offsets, then _MAX_PATH lengths of Uri-Path segments
S_PATH_LEN = const(16)
STATE_SIZE = const(24)


def walk(buf, p, n, st):
    """Walk the options of buf[p:n] (RFC 7252 §3.1), keeping Uri-Path segments
    in st. Returns 1 at any other option (number, offset, length in st; resume
    at st[S_NEXT]), 0 at the end (payload offset in st[S_PAYLOAD]), or
    _FORMAT_ERROR."""
    num = st[S_NUM]
    while p < n:
        b = buf[p]
        if b == 0xFF:
            if p + 1 == n:
                return _FORMAT_ERROR  # §3: marker followed by a zero-length payload
            st[S_PAYLOAD] = p + 1
            return 0
        p += 1
        delta = b >> 4
        olen = b & 15
        # §3.1: 13 = one extra byte minus 13, 14 = two extra bytes minus 269,
        # 15 is reserved for the payload marker and otherwise a format error.
        if delta == 13:
            if p >= n:
                return _FORMAT_ERROR
            delta = buf[p] + 13
            p += 1
        elif delta == 14:
            if p + 1 >= n:
                return _FORMAT_ERROR
            delta = ((buf[p] << 8) | buf[p + 1]) + 269
            p += 2
        elif delta == 15:
            return _FORMAT_ERROR
        if olen == 13:
            if p >= n:
                return _FORMAT_ERROR
            olen = buf[p] + 13
            p += 1
        elif olen == 14:
            if p + 1 >= n:
                return _FORMAT_ERROR
            olen = ((buf[p] << 8) | buf[p + 1]) + 269
            p += 2
        elif olen == 15:
            return _FORMAT_ERROR
        if p + olen > n:
            return _FORMAT_ERROR
        num += delta
        if num == _URI_PATH and olen <= 255:  # the common option, kept right here
            i = st[S_PATHS]
            if i < _MAX_PATH:
                st[S_PATH_OFF + i] = p
                st[S_PATH_LEN + i] = olen
            st[S_PATHS] = i + 1
            p += olen
            continue
        st[S_REPEAT] = 1 if delta == 0 else 0
        st[S_NUM] = num
        st[S_OFF] = p
        st[S_LEN] = olen
        st[S_NEXT] = p + olen
        return 1
    st[S_NUM] = num
    st[S_PAYLOAD] = n
    return 0


def same(buf, off, n, s):
    """True when buf[off:off+n] equals the bytes s (no slice is made)."""
    if n != len(s):
        return False
    for i in range(n):
        if buf[off + i] != s[i]:
            return False
    return True


def uint(buf, off, n):
    """buf[off:off+n] as a big-endian unsigned integer (n <= 3)."""
    v = 0
    for i in range(off, off + n):
        v = (v << 8) | buf[i]
    return v


def digits(b, pos, v, places):
    """Write v / 10**places as decimal text into bytearray b from pos; returns
    its length. b must have room for 13 + places bytes from pos, and v must be
    a small int on the board (|v| < 2**30)."""
    i = pos
    if v < 0:
        b[i] = 45  # '-'
        i += 1
        v = -v
    start = i
    count = 0
    while v or count <= places:  # least significant digit first
        if count == places and places:
            b[i] = 46  # '.'
            i += 1
        b[i] = 48 + v % 10
        i += 1
        v //= 10
        count += 1
    end = i - 1
    while start < end:  # then reverse in place
        t = b[start]
        b[start] = b[end]
        b[end] = t
        start += 1
        end -= 1
    return i - pos


def copy_tail(dst, src, i, n):
    """Copy src[i:i+n] over the last n bytes of dst (which the caller has just
    grown by n): a copy out of the middle of a buffer without a slice."""
    d = len(dst) - n
    for k in range(n):
        dst[d + k] = src[i + k]


def hash31(src, i, j, h):
    """h continued over src[i:j]: h * 31 + byte, kept to 24 bits (the Block2 ETag)."""
    for k in range(i, j):
        h = (h * 31 + src[k]) & _HASH_MASK
    return h


# Prepared answers (prepared.py): a slot of the table is ENTRY bytes, the token
# length + 1 (0: free), the key's length, the key (the request after its token)
SLOT_TKL = const(0)
SLOT_KEY_LEN = const(1)
SLOT_KEY = const(2)
ENTRY = const(64)
KEY_ROOM = const(62)


def replay(table, answers, data, n):
    """The slot whose kept answer answers data[0:n] (a confirmable GET with the
    same token length and the same bytes after its token), with the request's
    Message ID and token copied into that answer (made an ACK); -1: none."""
    if n < 4:
        return -1
    b0 = data[0]
    tkl = b0 & 15
    if b0 & 0xF0 != 0x40 or data[1] != 1 or tkl > 8:  # version 1, CON, GET
        return -1
    start = 4 + tkl
    k = n - start
    if k < 0 or k > KEY_ROOM:
        return -1
    for e in range(len(answers)):
        base = e * ENTRY
        if table[base + SLOT_TKL] != tkl + 1 or table[base + SLOT_KEY_LEN] != k:
            continue
        key = base + SLOT_KEY
        i = 0
        while i < k and table[key + i] == data[start + i]:
            i += 1
        if i == k:
            a = answers[e]
            a[0] = 0x60 | tkl  # ACK: piggybacked (§5.2.1)
            a[2] = data[2]
            a[3] = data[3]
            for j in range(4, start):
                a[j] = data[j]
            return e
    return -1


def match_path(buf, st, table):
    """Index of the first entry of table (loops.paths_table()) equal to the
    Uri-Path that walk() kept in st from buf, or, for a subtree entry, equal
    to its start; -1: none. One call for the whole lookup."""
    count = st[S_PATHS]
    p = 0
    idx = 0
    n = len(table)
    while p < n:
        c = table[p]
        p += 1
        ok = c == count
        if c > _MAX_PATH:  # a subtree entry: its own path, or longer
            c -= _SUBTREE
            ok = count >= c
        for k in range(c):
            ln = table[p]
            p += 1
            if ok:
                if st[S_PATH_LEN + k] != ln:
                    ok = False
                else:
                    off = st[S_PATH_OFF + k]
                    for j in range(ln):
                        if buf[off + j] != table[p + j]:
                            ok = False
                            break
            p += ln
        if ok:
            return idx
        idx += 1
    return -1


def copy_at(dst, at, src, n):
    """Copy src[0:n] over dst[at:at+n] (no slice is made)."""
    for k in range(n):
        dst[at + k] = src[k]


def copy_in(dst, at, src, off, n):
    """Copy src[off:off+n] over dst[at:at+n], first byte first: within one
    buffer it moves bytes down (at <= off) safely (Block1's assembly)."""
    for k in range(n):
        dst[at + k] = src[off + k]


def xor_at(dst, at, src, off, n):
    """dst[at:at+n] ^= src[off:off+n] (CCM's keystream and CBC-MAC, coap/ccm.py)."""
    for k in range(n):
        dst[at + k] ^= src[off + k]
