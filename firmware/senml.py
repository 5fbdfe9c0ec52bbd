# SenML CBOR (RFC 8428 §6, Content-Format 112) written without allocation:
# records are prebuilt bytes up to the value, and the value, a fixed-point int
# in hundredths, is written as the nearest IEEE 754 single-precision float
# (CBOR major type 7, 0xFA) with small-int arithmetic only: no float object,
# no int of 2**30 or more, so a 32-bit port allocates nothing either.

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

_BN = const(-2)  # RFC 8428 §6, Table 4: base name
_N = const(0)
_U = const(1)
_V = const(2)


def _head(major, n):
    return bytes((major << 5 | n,)) if n < 24 else bytes((major << 5 | 24, n))


def _text(s):
    b = s.encode()
    return _head(3, len(b)) + b


def record(name, unit, base_name=""):
    """A SenML CBOR record's bytes up to its value: {bn, n, u, v: ...}."""
    pairs = 2 + (1 if unit else 0) + (1 if base_name else 0)
    out = _head(5, pairs)
    if base_name:
        out += bytes((0x20 | (-1 - _BN),)) + _text(base_name)
    out += bytes((_N,)) + _text(name)
    if unit:
        out += bytes((_U,)) + _text(unit)
    return out + bytes((_V,))


def array_head(buf, n):
    """Write a CBOR array header for n items (n < 256) into buf (a bytearray
    of 2); returns its length."""
    if n < 24:
        buf[0] = 0x80 | n
        return 1
    buf[0] = 0x98
    buf[1] = n
    return 2


def float32(buf, centi):
    """Write centi / 100 as a CBOR single-precision float into buf[0:5],
    rounded to nearest, ties to even. |centi| must stay below 100 * 2**24."""
    buf[0] = 0xFA
    if centi == 0:
        buf[1] = buf[2] = buf[3] = buf[4] = 0
        return
    sign = 0
    if centi < 0:
        sign = 1
        centi = -centi
    q = centi // 100
    r = centi % 100
    mant = q
    bits = 0
    while q >> bits:
        bits += 1
    e = bits - 1 if bits else 0  # below 1: each leading fraction bit lowers it
    while bits < 24:  # fraction bits by long division: r / 100
        r <<= 1
        b = 0
        if r >= 100:
            r -= 100
            b = 1
        if bits == 0:
            e -= 1
            if not b:
                continue
        mant = mant << 1 | b
        bits += 1
    if bits > 24:  # only for q >= 2**24, outside the documented range
        raise ValueError("value too large for float32")
    r <<= 1  # the next bit and what follows decide the rounding
    if r > 100 or (r == 100 and mant & 1):
        mant += 1
        if mant >> 24:
            mant >>= 1
            e += 1
    exp = e + 127
    frac = mant & 0x7FFFFF
    buf[1] = sign << 7 | exp >> 1
    buf[2] = (exp & 1) << 7 | frac >> 16
    buf[3] = (frac >> 8) & 0xFF
    buf[4] = frac & 0xFF
