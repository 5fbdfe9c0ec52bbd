# Builds and reads CoAP messages for the tests, independently of lib/coap's own
# parser and writer, so that a bug in one can't hide behind the other.

CON, NON, ACK, RST = 0, 1, 2, 3


def _ext(v):
    if v < 13:
        return v, b""
    if v < 269:
        return 13, bytes([v - 13])
    v -= 269
    return 14, bytes([v >> 8, v & 0xFF])


def uint(v):
    out = []
    while v:
        out.insert(0, v & 0xFF)
        v >>= 8
    return bytes(out)


def encode(mtype=CON, code=1, mid=0x1234, token=b"", options=(), payload=b""):
    """options: (number, bytes) pairs in any order; sorted stably like a client would."""
    out = bytearray([0x40 | (mtype << 4) | len(token), code, mid >> 8, mid & 0xFF])
    out += token
    last = 0
    # MicroPython's sort is not stable: the index keeps repeated options in order
    ordered = sorted((o[0], i, o[1]) for i, o in enumerate(options))
    for num, _, val in ordered:
        dn, dx = _ext(num - last)
        ln, lx = _ext(len(val))
        out.append((dn << 4) | ln)
        out += dx + lx + val
        last = num
    if payload:
        out.append(0xFF)
        out += payload
    return bytes(out)


def get(path, mtype=CON, code=1, mid=0x1234, token=b"\x7a", query=(), options=(), payload=b""):
    opts = [(11, s.encode()) for s in path.strip("/").split("/") if s]
    opts += [(15, q.encode()) for q in query]
    opts += list(options)
    return encode(mtype, code, mid, token, opts, payload)


def decode(msg):
    """(type, code, mid, token, [(number, bytes)], payload) of a well-formed message."""
    tkl = msg[0] & 15
    p = 4 + tkl
    opts = []
    num = 0
    while p < len(msg) and msg[p] != 0xFF:
        b = msg[p]
        p += 1
        delta, length = b >> 4, b & 15
        if delta == 13:
            delta = msg[p] + 13
            p += 1
        elif delta == 14:
            delta = (msg[p] << 8 | msg[p + 1]) + 269
            p += 2
        if length == 13:
            length = msg[p] + 13
            p += 1
        elif length == 14:
            length = (msg[p] << 8 | msg[p + 1]) + 269
            p += 2
        num += delta
        opts.append((num, bytes(msg[p:p + length])))
        p += length
    payload = bytes(msg[p + 1:]) if p < len(msg) else b""
    return (msg[0] >> 4) & 3, msg[1], (msg[2] << 8) | msg[3], bytes(msg[4:4 + tkl]), opts, payload


def option(opts, num):
    for n, v in opts:
        if n == num:
            return v
    return None


def to_uint(b):
    v = 0
    for x in b:
        v = v << 8 | x
    return v
