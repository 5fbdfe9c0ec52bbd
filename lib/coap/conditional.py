# Conditional requests (RFC 7252 §5.10.8) and validation (§5.10.6, §5.9.1.3):
# a request's If-Match, If-None-Match and ETag options held against the
# entity-tag of the resource's current representation, before its handler runs.
#
# That entity-tag is the one the server already gives block-wise answers:
# 1 + a 24-bit number, from Resource(etag=...)'s version when the resource has
# one (nothing to compute), else from a counting pass of the GET handler that
# hashes the representation without keeping it (blockwise.py's first pass).
# Written as the shortest unsigned integer (§3.2), so that a client's copy of
# it compares byte for byte. Only requests that carry one of the options, or
# resources with a version, come here (Passes.answer).

from .parse import C_ETAG, C_IF_MATCH, C_IF_NONE_MATCH, Request

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

_GET = const(1)
_FETCH = const(5)
_VALID = const(67)  # 2.03
_CONTENT = const(69)
_BAD_REQUEST = const(128)
_PRECONDITION_FAILED = const(140)  # 4.12
_TAG_MASK = const(0xFFFFFF)  # write.py's hash mask: a version stays a small int
_MAX_TAGS = Request.max_tags


def tag_of(version):
    """The entity-tag (1..2**24) the server writes for a version number."""
    return (version & _TAG_MASK) + 1


def current(passes, res, handler, req, resp, fmt):
    """The current representation's entity-tag, 0 when there is none (no
    version, no GET handler, or it answers an error)."""
    if res.etag is not None:
        v = res.etag(req)
        return 0 if v is None or v < 0 else tag_of(v)
    if handler is None:
        return 0
    resp.start(_CONTENT, fmt, -1)
    resp.window(0, 0, True)  # nothing kept: counted and hashed
    passes.call(res, handler, req, resp)
    return 0 if resp.buf[1] >= _BAD_REQUEST else resp.hash + 1


def _matches(req, if_match, count, tag):
    # One of the first values kept is tag as written (§3.2), byte for byte; an
    # empty If-Match matches any tag ("exists")
    n = 1
    while tag >> (8 * n):
        n += 1
    buf = req.buf
    for i in range(count if count < _MAX_TAGS else _MAX_TAGS):
        k = req.if_match_len(i) if if_match else req.etag_len(i)
        if k == 0:
            return True  # (an empty ETag is never kept)
        if k == n:
            off = req.if_match_off(i) if if_match else req.etag_off(i)
            for j in range(n):
                if buf[off + j] != (tag >> (8 * (n - 1 - j))) & 0xFF:
                    break
            else:
                return True
    return False


def check(passes, res, handler, req, resp, code, fmt, block2, seq):
    """Answer here when the conditions say so: 4.12 for a failed If-Match or
    If-None-Match (§5.10.8), 2.03 Valid with the ETag (and the Max-Age, and
    an observation's Observe, RFC 7641 §4.4.1) for a GET or FETCH carrying
    the current ETag (§5.10.6.2). -1 when answered; otherwise the ETag the
    answer of a safe request carries (0: none), also left in resp.tag."""
    c = req.conditions
    safe = code == _GET or code == _FETCH
    tag = current(passes, res, handler if safe else res.handlers[_GET], req, resp, fmt)
    if c & C_IF_MATCH and not (tag and _matches(req, True, req.if_match(), tag)):
        resp.error(_PRECONDITION_FAILED, b"If-Match: ETag differs")  # §5.10.8.1
        return -1
    if c & C_IF_NONE_MATCH and tag:
        resp.error(_PRECONDITION_FAILED, b"If-None-Match: it exists")  # §5.10.8.2
        return -1
    if not safe:
        return 0  # the answer of a change has no ETag of what it replaced
    resp.tag = tag
    # Not for a later block: a client holding only part of it can't reuse it
    if (c & C_ETAG and tag and block2 < 16
            and _matches(req, False, req.etags(), tag)):
        resp.start(_VALID, -1, seq)  # and the Max-Age, from resp.max_age
        resp.etag(tag)
        resp.flush()  # no payload to bring the options out
        return -1
    return tag
