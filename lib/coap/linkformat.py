# Reading CoAP link-format (RFC 6690), for finding a Resource Directory's
# registration interface (coap.rd, coap.rddiscover): a link's href, and its
# target resolved as RFC 3986 §5.2 says. The one answer for every reference:
# RFC 6690 §2.1 makes the context of /.well-known/core the origin it was asked
# at (coap://host:port), so a relative href lands there and an absolute or
# network-path one keeps its own host. Runs once per discovery: it allocates.


def link_href(payload, rt=None):
    """The href of the first link (whose rt includes `rt`, bytes, when given) of
    a link-format payload (RFC 6690 §2), or None."""
    p = bytes(payload)
    i = 0
    while True:
        start = p.find(b"<", i)
        end = p.find(b">", start + 1)
        if start < 0 or end < 0:
            return None
        i = end + 1  # the link's attributes run to the next ',' outside quotes
        quoted = False
        while i < len(p) and (quoted or p[i] != 44):  # ','
            quoted ^= p[i] == 34  # '"'
            i += 1
        if rt is None:
            return p[start + 1:end]
        for attr in p[end + 1:i].split(b";"):
            if attr.strip().startswith(b"rt="):
                if rt in attr.strip()[3:].strip(b'"').split(b" "):
                    return p[start + 1:end]


def _dots(path):
    # RFC 3986 §5.2.4 remove_dot_segments, on a path starting with "/"
    out = []
    segs = path.split("/")[1:]
    for k, s in enumerate(segs):
        last = k == len(segs) - 1
        if s == "..":
            if out:
                out.pop()
        if s in (".", ".."):
            if last:
                out.append("")
            continue
        out.append(s)
    return "/" + "/".join(out)


def resolve(href, host, port):
    """The absolute coap:// URI of href as found in an answer from host:port, or
    None for another scheme. Query and fragment are dropped: a registration
    interface is addressed by its path."""
    href = href.decode() if isinstance(href, (bytes, bytearray)) else href
    for cut in "#?":
        href = href.split(cut)[0]
    if ":" in href.split("/")[0]:  # it has a scheme (RFC 3986 §4.3)
        if href[:7].lower() != "coap://":
            return None
        href = href[5:]
    if href.startswith("//"):  # an authority: its own host (§5.2.2), dots removed
        i = href.find("/", 2)
        return "coap:" + (href if i < 0 else href[:i] + _dots(href[i:]))
    origin = "coap://%s:%d" % ("[%s]" % host if ":" in host else host, port)
    # the base's path is empty: a relative path gets "/" before it (§5.2.3)
    return origin + _dots(href if href.startswith("/") else "/" + href)
