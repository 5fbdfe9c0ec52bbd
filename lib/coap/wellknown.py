# /.well-known/core (RFC 6690): the links of the table, filtered by one query.
#
# §4.1: a query `name=value` keeps the links whose attribute `name` equals value
# (or, with a trailing '*', starts with it); rt, if and ct hold space-separated
# lists, any item of which may match. Links are prebuilt bytes, so answering
# only copies them into the response.

from .loops import same

_NAMES = (b"href", b"rt", b"if", b"ct")
_STAR = 42
_SPACE = 32


def _prefix(buf, off, n, s, s_off, s_n):
    """True when s[s_off:s_off+s_n] starts with buf[off:off+n]."""
    if n > s_n:
        return False
    for i in range(n):
        if buf[off + i] != s[s_off + i]:
            return False
    return True


def _item_matches(buf, off, n, prefix, s, s_off, s_n):
    if prefix:
        return _prefix(buf, off, n, s, s_off, s_n)
    return n == s_n and _prefix(buf, off, n, s, s_off, s_n)


def _value_matches(buf, off, n, prefix, value, is_list):
    if value is None:
        return False
    if not is_list:
        return _item_matches(buf, off, n, prefix, value, 0, len(value))
    start = 0
    end = len(value)
    for i in range(end + 1):
        if i == end or value[i] == _SPACE:
            if _item_matches(buf, off, n, prefix, value, start, i - start):
                return True
            start = i + 1
    return False


def write_links(resources, req, resp):
    """Write the link-format payload for the request's filter (or all links)."""
    name = None
    if req.query_count:
        buf = req.buf
        off = req.query_off[0]
        qn = req.query_len[0]
        for candidate in _NAMES:
            k = len(candidate)
            if qn > k and buf[off + k] == 61 and same(buf, off, k, candidate):  # '='
                name = candidate
                off += k + 1
                qn -= k + 1
                break
        else:
            name = _NAMES  # a filter on an attribute no link has: nothing matches
        prefix = qn > 0 and buf[off + qn - 1] == _STAR
        if prefix:
            qn -= 1
    first = True
    for r in resources:
        if r.link is None:
            continue  # not listed (Resource's listed=False)
        if name is not None:
            if name is _NAMES:
                continue
            if not _value_matches(buf, off, qn, prefix, r.attribute(name), name != b"href"):
                continue
        if not first:
            resp.payload(b",")
        resp.payload(r.link)
        first = False
