# The byte-level pieces of OSCORE's COSE use (RFC 8613 §5, §6): the OSCORE
# option of a request, the AEAD nonce, the AAD (a COSE Enc_structure with
# OSCORE's external_aad), and the one option of a plain response the OSCORE
# layer must find (Observe). Each writes into a caller's preallocated buffer
# and allocates nothing.

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

_OBSERVE = const(6)
_ETAG = const(4)
_EMPTY = b""
_MAX_PIV = const(0x3FFFFFFF)  # a small int on every port
#: COSE Enc_structure (RFC 8152 §5.3) up to the external_aad: ["Encrypt0", h'', ...
AAD_HEAD = b"\x83\x68Encrypt0\x40"


def nonce_base(common_iv, id_):
    """The part of the §5.2 nonce fixed by the Sender ID id_ (at most 7 bytes):
    its length and the ID, left-padded, XORed with the Common IV. Made once
    per context and direction."""
    raw = bytearray(13)
    k = len(id_)
    raw[0] = k
    for i in range(k):
        raw[8 - k + i] = id_[i]  # ID_PIV left-padded to 7 bytes
    for i in range(13):
        raw[i] ^= common_iv[i]
    return bytes(raw)


def nonce(dst, base, piv, pn):
    """dst[0:13] = the AEAD nonce of §5.2: base (nonce_base of the endpoint
    that made the Partial IV) XOR Partial IV piv[0:pn], left-padded to 5 bytes."""
    for i in range(13):
        dst[i] = base[i]
    for i in range(pn):
        dst[13 - pn + i] ^= piv[i]


def aad(a, kid, piv, pn):
    """The AAD of §5.4 into bytearray a, which starts with AAD_HEAD: external_aad
    = [1, [10], request_kid, request_piv, h''], everything short (kid <= 7 bytes,
    Partial IV <= 5), so every CBOR length fits its initial byte."""
    a[len(AAD_HEAD):] = _EMPTY
    a.append(0x40 | (7 + len(kid) + pn))
    a.append(0x85)
    a.append(0x01)  # oscore_version
    a.append(0x81)
    a.append(0x0A)  # [alg_aead = 10, AES-CCM-16-64-128]
    a.append(0x40 | len(kid))
    a.extend(kid)
    a.append(0x40 | pn)
    for i in range(pn):
        a.append(piv[i])
    a.append(0x40)  # no Class I options


def piv_bytes(v, dst):
    """Write v (>= 0) as a Partial IV, big-endian without leading zeros (one
    byte for 0, §6.1), into dst; returns its length."""
    pn = 1
    while v >> (8 * pn):
        pn += 1
    for i in range(pn):
        dst[i] = (v >> (8 * (pn - 1 - i))) & 0xFF
    return pn


def observe_value(b, p, end):
    """The Observe value of a response written by write.Response (options from
    b[p], message end at end), or -1. Only ETag can come before Observe there."""
    if p >= end or b[p] == 0xFF:
        return -1
    h = b[p]
    if h >> 4 == _ETAG and (h & 15) <= 8:  # skip the ETag, look at the next option
        p += 1 + (h & 15)
        if p >= end:
            return -1
        h = b[p]
        if h >> 4 != _OBSERVE - _ETAG:
            return -1
    elif h >> 4 != _OBSERVE:
        return -1
    n = h & 15
    if n > 3:
        return -1
    v = 0
    for i in range(p + 1, p + 1 + n):
        v = (v << 8) | b[i]
    return v


def read_option(buf, off, n, piv, f):
    """Read a request's OSCORE option value buf[off:off+n] (§6.1): flags
    |0 0 0|h|k| n |, Partial IV (n bytes), [s, kid context (s bytes)], kid.
    piv[0:n] gets the Partial IV; f (6 ints) = [n, its value (-1 above 2**30 - 1),
    kid context offset (-1: none), its length, kid offset, kid length]. False
    when malformed, or without the Partial IV and kid a request must have."""
    if n == 0:
        return False
    flags = buf[off]
    pn = flags & 7
    if flags & 0xE0 or pn == 0 or pn > 5 or not flags & 8:
        return False
    end = off + n
    p = off + 1
    if p + pn > end:
        return False
    v = 0
    for i in range(pn):
        b = buf[p + i]
        piv[i] = b
        if v > (_MAX_PIV >> 8):
            v = -1  # beyond the board's window arithmetic: refused as a replay
        elif v >= 0:
            v = (v << 8) | b
    f[0] = pn
    f[1] = v
    p += pn
    f[2] = -1
    f[3] = 0
    if flags & 16:
        if p >= end:
            return False
        f[3] = buf[p]
        f[2] = p + 1
        p = p + 1 + f[3]
        if p > end:
            return False
    f[4] = p
    f[5] = end - p
    return True
