"""Corpus cases for well-formed requests: option semantics, methods, formats, sizes,
blocks. Part of gen_corpus.py (see there for the expected answers)."""

import coapmsg
from gen_corpus import (ACCEPT, ACK, BLOCK1, BLOCK2, CON, CONTENT_FORMAT, GET, NON, OBSERVE,
                        PROXY_SCHEME, PROXY_URI, PUT, RESOURCES, RST, URI_HOST, URI_PATH, URI_PORT,
                        URI_QUERY, WKC_QUERIES, expect, format_error, ok_get)

IF_MATCH, IF_NONE_MATCH = 1, 5


def option_cases(c):
    critical = [9, 19, 21, 61, 259, 2049, 65001, 65535]  # not 27: Block1 is known
    critical += [c.rng.randrange(41, 65535, 2) for _ in range(8)]
    g = ("Unrecognised critical option in a CON request: 4.02", "RFC 7252 §5.4.1")
    for num in critical:
        for n in (0, 1, 13, 270, 700):
            c.request(g, CON, GET, "sensors/temp", "4.02", options=[(num, c.bytes(n))])
        c.request(g, NON, GET, "sensors/temp", "4.02", options=[(num, c.bytes(2))])
        c.request(g, CON, PUT, "actuators/led", "4.02", options=[(num, b"")], payload=b"on")
    g = ("Unrecognised elective option: ignored", "RFC 7252 §5.4.1")
    elective = [2, 16, 28, 60, 252, 2048, 65000, 65534] + [c.rng.randrange(300, 65535, 2)
                                                           for _ in range(6)]
    for num in elective:
        for n in (0, 1, 13, 270, 900):
            mtype = c.rng.choice((CON, NON))
            c.request(g, mtype, GET, "sensors/temp", "2.05", options=[(num, c.bytes(n))],
                      **ok_get("sensors/temp"))
    g = ("Known options with valid values: accepted", "RFC 7252 §5.10.1")
    for opts in ([(URI_HOST, b"localhost")], [(URI_PORT, b"\x16\x33")], [(URI_PORT, b"")],
                 [(OBSERVE, b"\x01")], [(URI_QUERY, b"x=1")], [(ACCEPT, b"\x00\x00")]):
        for mtype in (CON, NON):
            c.request(g, mtype, GET, "sensors/temp", "2.05", options=opts,
                      **ok_get("sensors/temp"))
    g = ("Block1 with the whole body in one block: a request like any other", "RFC 7959 §2.3")
    for mtype in (CON, NON):
        c.request(g, mtype, PUT, "actuators/led", "2.04", payload=b"on",
                  options=[(BLOCK1, b"\x02")])  # NUM 0, M unset, 64-byte blocks
        c.request(g, mtype, PUT, "actuators/led", "4.13", payload=b"on" * 32,
                  options=[(BLOCK1, b"\x0a")])  # M set: more blocks to a resource without upload
    g = ("Option value length out of range: treated as unrecognised", "RFC 7252 §5.4.3")
    for mtype in (CON, NON):
        c.request(g, mtype, GET, "sensors/temp", "4.02", options=[(URI_PATH, b"p" * 256)])
        c.request(g, mtype, GET, "sensors/temp", "4.02", options=[(URI_QUERY, b"q" * 256)])
        c.request(g, mtype, GET, "sensors/temp", "4.02", options=[(ACCEPT, b"\x00\x00\x32")])
        c.request(g, mtype, GET, "sensors/temp", "4.02", options=[(URI_HOST, b"")])
        c.request(g, mtype, GET, "sensors/temp", "4.02", options=[(URI_PORT, b"\x00\x16\x33")])
        c.request(g, mtype, GET, "sensors/temp", "4.02", options=[(PROXY_URI, b"")])
        c.request(g, mtype, GET, "sensors/temp", "4.02", options=[(IF_MATCH, c.bytes(9))])
        c.request(g, mtype, PUT, "actuators/led", "4.02", payload=b"on",
                  options=[(IF_NONE_MATCH, b"\x00")])
        # Content-Format is elective: a 3-byte one is ignored, as if there were none
        c.request(g, mtype, PUT, "actuators/led", "2.04", payload=b"on",
                  options=[(CONTENT_FORMAT, b"\x00\x00\x32")])
    g = ("Repeated non-repeatable option: the repeat treated as unrecognised", "RFC 7252 §5.4.5")
    twice = ([(ACCEPT, b""), (ACCEPT, b"\x32")], [(ACCEPT, b"\x32"), (ACCEPT, b"\x32")],
             [(URI_HOST, b"a"), (URI_HOST, b"b")], [(URI_PORT, b"\x01"), (URI_PORT, b"\x02")],
             [(PROXY_URI, b"coap://a/"), (PROXY_URI, b"coap://b/")],
             [(IF_NONE_MATCH, b""), (IF_NONE_MATCH, b"")])
    for mtype in (CON, NON):
        for opts in twice:  # all critical: the repeat makes the request a 4.02
            c.request(g, mtype, GET, "sensors/temp", "4.02", options=opts)
        c.request(g, mtype, PUT, "actuators/led", "2.04", payload=b"on",
                  options=[(CONTENT_FORMAT, b""), (CONTENT_FORMAT, b"\x32")])
        c.request(g, mtype, PUT, "actuators/led", "4.15", payload=b"on",
                  options=[(CONTENT_FORMAT, b"\x32"), (CONTENT_FORMAT, b"")])
        # Observe 1 (deregister), then 0 ignored: no observation is left behind
        c.request(g, mtype, GET, "sensors/temp", "2.05", **ok_get("sensors/temp"),
                  options=[(OBSERVE, b"\x01"), (OBSERVE, b"")])
    g = ("If-Match none of whose values is the current ETag: 4.12; an empty one: it exists",
         "RFC 7252 §5.10.8.1")
    for mtype in (CON, NON):
        # the board's ETags are at most 4 bytes (1 + a 24-bit hash): 5 never match
        c.request(g, mtype, PUT, "actuators/led", "4.12", payload=b"on",
                  options=[(IF_MATCH, c.bytes(5)), (IF_MATCH, c.bytes(5))])
        c.request(g, mtype, GET, "sensors/temp", "4.12", options=[(IF_MATCH, c.bytes(5))])
        c.request(g, mtype, PUT, "actuators/led", "2.04", payload=b"on",
                  options=[(IF_MATCH, b"")])
    g = ("If-None-Match where a representation exists: 4.12", "RFC 7252 §5.10.8.2")
    for mtype in (CON, NON):
        c.request(g, mtype, PUT, "actuators/led", "4.12", payload=b"on",
                  options=[(IF_NONE_MATCH, b"")])
    g = ("Proxy-Uri or Proxy-Scheme at a server that is not a proxy: 5.05", "RFC 7252 §5.10.2")
    for mtype in (CON, NON):
        for opt in ((PROXY_URI, b"coap://example.org/sensors/temp"), (PROXY_SCHEME, b"coap"),
                    (PROXY_URI, b"http://[::1]/" + b"x" * 200)):
            c.request(g, mtype, GET, "sensors/temp", "5.05", options=[opt])


def request_cases(c):
    g = ("Each method on each resource: 2.05/2.04 if the table has it, else 4.05",
         "RFC 7252 §5.8")
    for path, (methods, formats, payloads) in sorted(RESOURCES.items()):
        for code in range(1, 32):
            for mtype in (CON, NON):
                if code in methods:
                    checks = ok_get(path) if code == GET else {}
                    c.request(g, mtype, code, path, methods[code],
                              payload=b"on" if code == PUT else b"", **checks)
                else:
                    c.request(g, mtype, code, path, "4.05", payload=c.rng.choice((b"", b"on")))
    for code in range(1, 32):
        c.request(g, c.rng.choice((CON, NON)), code, ".well-known/core",
                  "2.05" if code == GET else "4.05")
    g = ("Unknown path: 4.04", "RFC 7252 §5.9.2.5")
    for path in ("", "sensor", "sensors/temp/x", "sensors/Temp", "actuators", ".well-known",
                 ".well-known/core/x", "a/b/c/d/e/f/g/h/i", "sensors/temp " * 3):
        for mtype in (CON, NON):
            c.request(g, mtype, GET, path, "4.04")
        # "/board/": an empty last segment is a different resource (RFC 7252 §6.4)
        c.request(g, CON, GET, "", "4.04", options=[(URI_PATH, b"board"), (URI_PATH, b"")])
    for _ in range(30):
        path = "/".join(c.bytes(c.rng.randint(1, 12)).hex() for _ in range(c.rng.randint(1, 4)))
        c.request(g, c.rng.choice((CON, NON)), GET, path, "4.04")
    g = ("Accept: the format asked for (Content-Format set), else 4.06", "RFC 7252 §5.10.4")
    for path, (methods, formats, payloads) in sorted(RESOURCES.items()):
        for accept in (0, 40, 42, 50, 60, 11542):
            for mtype in (CON, NON):
                opts = [(ACCEPT, coapmsg.uint(accept))]
                if accept in formats:
                    c.request(g, mtype, GET, path, "2.05", options=opts, **ok_get(path, accept))
                else:
                    c.request(g, mtype, GET, path, "4.06", options=opts)
    for accept in (0, 40, 50):
        c.request(g, CON, GET, ".well-known/core", "2.05" if accept == 40 else "4.06",
                  options=[(ACCEPT, coapmsg.uint(accept))], **({"ct": 40} if accept == 40 else {}))
    g = ("Content-Format of a request payload not accepted: 4.15", "RFC 7252 §5.10.3")
    for cf, code in ((0, "2.04"), (40, "4.15"), (42, "4.15"), (50, "4.15"), (60, "4.15"),
                     (11542, "4.15")):
        for mtype in (CON, NON):
            c.request(g, mtype, PUT, "actuators/led", code, payload=b"off",
                      options=[(CONTENT_FORMAT, coapmsg.uint(cf))])
    g = ("PUT /actuators/led: on, off, 1 or 0 give 2.04, any other payload 4.00",
         "RFC 7252 §5.9.2.1")
    for payload, code in ((b"on", "2.04"), (b"off", "2.04"), (b"1", "2.04"), (b"0", "2.04"),
                          (b"", "4.00"), (b"ON", "4.00"), (b"2", "4.00"), (b"on\n", "4.00"),
                          (b"x" * 1024, "4.00")):
        for mtype in (CON, NON):
            c.request(g, mtype, PUT, "actuators/led", code, payload=payload)
    g = ("Token of 0-8 bytes echoed in the response", "RFC 7252 §5.3.1")
    for n in range(9):
        for mtype in (CON, NON):
            for path in ("sensors/temp", "board"):
                c.request(g, mtype, GET, path, "2.05", token=c.token(n), **ok_get(path))
    g = ("/.well-known/core: all links, or those matching one filter", "RFC 6690 §4.1")
    for mtype in (CON, NON):
        c.request(g, mtype, GET, ".well-known/core", "2.05", ct=40, links="")
        for query in WKC_QUERIES:
            c.request(g, mtype, GET, ".well-known/core", "2.05", query=[query], ct=40, links=query)


def size_cases(c):
    g = ("Request payload over the server's limit: 4.13 with Size1", "RFC 7252 §5.9.2.9")
    big = {"size1": 1024}
    for mtype in (CON, NON):
        for n in (1025, 1100):
            c.request(g, mtype, PUT, "actuators/led", "4.13", payload=b"x" * n, **big)
        # a datagram of exactly 1152 bytes (the receive buffer) and one of 1153
        for total in (1152, 1153):
            data = coapmsg.get("sensors/temp", mtype, GET, c.mid(), b"\x01\x02")
            c.add(g, data + b"\xff" + b"p" * (total - len(data) - 1), expect(mtype, "4.13", **big))
        # 64 KB: the server reads the first buffer_size + 1 bytes and answers from those
        data = coapmsg.get("sensors/temp", mtype, GET, c.mid(), c.token(4))
        c.add(g, data + b"\xff" + c.bytes(65000 - len(data)), expect(mtype, "4.13", **big))
    g = ("Empty message with a token or bytes after the MID: format error", "RFC 7252 §4.1")
    for mtype in range(4):
        c.add(g, c.header(mtype, 0, 0) + bytes(65000), format_error(mtype))
    g = ("Request in an ACK or RST: silently ignored", "RFC 7252 §4.2")
    for mtype in (ACK, RST):
        c.add(g, coapmsg.get("sensors/temp", mtype, GET, c.mid()) + b"\xff" + bytes(65000),
              {"answer": "silence"})



def block_cases(c):
    g = ("Block2 in a request: that block, of the size asked for or smaller", "RFC 7959 §2.4")
    for num, szx in ((0, 0), (1, 0), (2, 0), (5, 0), (0, 1), (1, 1), (0, 2), (1, 2), (0, 3),
                     (0, 4), (0, 6)):
        for mtype in (CON, NON):
            c.request(g, mtype, GET, ".well-known/core", "2.05", ct=40, block2=[num, szx],
                      options=[(BLOCK2, coapmsg.uint(num << 4 | szx))])
    for path in ("sensors/temp", "board"):
        c.request(g, CON, GET, path, "2.05", options=[(BLOCK2, b"")], block2=[0, 0],
                  ct=RESOURCES[path][1][0])
    g = ("Block2 SZX 7 in a request: 4.00", "RFC 7959 §2.2")
    for mtype in (CON, NON):
        for path in (".well-known/core", "sensors/temp"):
            c.request(g, mtype, GET, path, "4.00", options=[(BLOCK2, b"\x07")])
