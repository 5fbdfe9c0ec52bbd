"""A deterministic corpus of datagrams for the sensor board, each with the answer
RFC 7252 requires of it (not the answer the server happens to give).

    .venv/bin/python tests/robustness/gen_corpus.py [out.json]

Expected answers:
  {"answer": "silence"}   nothing comes back
  {"answer": "rst"}       exactly an Empty RST echoing the Message ID
  {"answer": "reject"}    a NON rejected (§4.3): silence, or an RST echoing the Message ID
  {"answer": "ACK" | "NON", "code": "4.04", ...}   a response echoing the token (and, in
      an ACK, the MID), optionally with "ct", "size1", "body" (the payload, hex), "body_re"
      (a regular expression over it), "links" (a /.well-known/core query: the links of
      the unfiltered list that match it) or "block2" ([NUM, SZX] asked for).
"""

import collections
import json
import os
import random
import sys

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TESTS, "unit"))
sys.path.insert(0, TESTS)
import coapmsg  # noqa: E402
from support import NUMBER_PATTERN as NUMBER  # noqa: E402

SEED = 7252
CON, NON, ACK, RST = 0, 1, 2, 3
GET, POST, PUT, DELETE = 1, 2, 3, 4
URI_HOST, URI_PORT, URI_PATH, CONTENT_FORMAT, URI_QUERY = 3, 7, 11, 12, 15
OBSERVE, ACCEPT, BLOCK2, PROXY_URI, PROXY_SCHEME = 6, 17, 23, 35, 39
BLOCK1 = 27

# The board's resources (firmware/resources.py): methods -> code, formats, payload by format
RESOURCES = {
    "actuators/led": ({GET: "2.05", PUT: "2.04"}, (0,), {0: "on|off"}),
    "board": ({GET: "2.05"}, (50,), {50: r'\{"name":"coap-board",.*"free_heap":\d+(,.*)?\}'}),
    "sensors/humidity": ({GET: "2.05"}, (0, 50, 110, 112),
                         {0: NUMBER, 50: r'\{"humidity":%s,"unit":"%%RH"\}' % NUMBER,
                          110: r'\[\{"bn":"coap-board:","n":"humidity","u":"%%RH","v":%s\}\]'
                          % NUMBER}),
    "sensors/temp": ({GET: "2.05"}, (0, 50, 110, 112),
                     {0: NUMBER, 50: r'\{"temperature":%s,"unit":"Cel"\}' % NUMBER,
                      110: r'\[\{"bn":"coap-board:","n":"temp","u":"Cel","v":%s\}\]'
                      % NUMBER}),
    "sensors": ({GET: "2.05"}, (110, 112),
                {110: r'\[\{"bn":"coap-board:","n":"temp","u":"Cel","v":%s\},'
                      r'\{"n":"humidity","u":"%%RH","v":%s\}\]' % (NUMBER, NUMBER)}),
}
WKC_QUERIES = ("rt=temperature*", "rt=core.a", "if=core.s", "if=core.*", "href=/sensors/*",
               "href=/board", "ct=50")
RESPONSE_CODES = (65, 66, 67, 68, 69, 95, 128, 129, 130, 131, 132, 133, 134, 136, 140, 141,
                  143, 160, 161, 162, 163, 164, 165)

NON_CRITICAL = ("Unrecognised critical option in a NON request: rejected, no 4.02",
                "RFC 7252 §5.4.1")
Case = collections.namedtuple("Case", "behaviour section data expect")


class Corpus:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.cases = []
        self._mid = 0x0100

    def mid(self):
        # MIDs 0x0100-0xEFFF are the corpus's own; the test's sentinels use 0xF000 and up
        self._mid = 0x0100 if self._mid >= 0xEFFF else self._mid + 1
        return self._mid

    def bytes(self, n):
        return bytes(self.rng.getrandbits(8) for _ in range(n))

    def token(self, n=None):
        return self.bytes(self.rng.randint(0, 8) if n is None else n)

    def add(self, group, data, expect):
        self.cases.append(Case(group[0], group[1], bytes(data), expect))

    def header(self, mtype, tkl, code, version=1):
        mid = self.mid()
        return bytes([version << 6 | mtype << 4 | tkl, code, mid >> 8, mid & 0xFF])

    def request(self, group, mtype, code, path, answer, options=(), payload=b"",
                query=(), token=None, **checks):
        """A well-formed request; answer is the response code RFC 7252 asks for."""
        if answer == "4.02" and mtype == NON:
            group = NON_CRITICAL  # whatever made the option bad, the NON rule applies
        data = coapmsg.get(path, mtype, code, self.mid(), self.token() if token is None else token,
                           query, options, payload)
        self.add(group, data, expect(mtype, answer, **checks))
        return data


def expect(mtype, code, **checks):
    if mtype in (ACK, RST):
        return {"answer": "silence"}  # §4.2, §4.3: ACK and RST never carry a request
    if code == "4.02" and mtype == NON:
        return {"answer": "reject"}  # §5.4.1: a NON with a bad critical option is rejected
    return dict({"answer": "ACK" if mtype == CON else "NON", "code": code}, **checks)


def format_error(mtype):
    return {"answer": "rst" if mtype == CON else "silence"}  # §4.2, §4.3


def ok_get(path, fmt=None):
    """Checks for a 2.05 from GET path (in format fmt, default the first)."""
    methods, formats, payloads = RESOURCES[path]
    fmt = formats[0] if fmt is None else fmt
    return {"ct": fmt, "body_re": payloads[fmt]}


def header_cases(c):
    g = ("Datagram shorter than a CoAP header: silence", "RFC 7252 §3")
    c.add(g, b"", {"answer": "silence"})
    for n in (1, 2, 3):
        for _ in range(12):
            c.add(g, c.bytes(n), {"answer": "silence"})
    g = ("Version 0, 2 or 3: silently ignored", "RFC 7252 §3")
    for version in (0, 2, 3):
        for mtype in range(4):
            for code in (0, GET, PUT, 69, 132, c.rng.randrange(256)):
                tkl = c.rng.randrange(16)
                c.add(g, c.header(mtype, tkl, code, version) + c.bytes(c.rng.randint(0, 24)),
                      {"answer": "silence"})
    g = ("Token length 9-15: format error (RST for a CON, else silence)", "RFC 7252 §3")
    for tkl in range(9, 16):
        for mtype in range(4):
            for code in (0, GET, 69, 132, c.rng.randint(1, 31)):
                c.add(g, c.header(mtype, tkl, code) + c.bytes(c.rng.randint(0, 20)),
                      format_error(mtype))
    g = ("Token shorter than its length: format error", "RFC 7252 §3")
    for tkl in range(1, 9):
        for mtype in range(4):
            for code in (0, GET):
                c.add(g, c.header(mtype, tkl, code) + c.bytes(c.rng.randrange(tkl)),
                      format_error(mtype))
    g = ("Empty message: CON answered with RST (ping), others ignored", "RFC 7252 §4.3")
    for mtype in range(4):
        for _ in range(5):
            c.add(g, c.header(mtype, 0, 0), format_error(mtype))
    g = ("Empty message with a token or bytes after the MID: format error", "RFC 7252 §4.1")
    for mtype in range(4):
        for tkl in (1, 4, 8):
            c.add(g, c.header(mtype, tkl, 0) + c.bytes(tkl), format_error(mtype))
        for extra in (b"\xff", b"\xffx", c.bytes(5)):
            c.add(g, c.header(mtype, 0, 0) + extra, format_error(mtype))
    g = ("Response sent to the server: CON rejected with RST, others ignored", "RFC 7252 §4.2")
    for code in RESPONSE_CODES:
        for mtype in range(4):
            tok = c.token()
            c.add(g, c.header(mtype, len(tok), code) + tok + c.bytes(c.rng.choice((0, 0, 6))),
                  format_error(mtype))
    g = ("Reserved code class 1, 3, 6 or 7: CON rejected with RST, others ignored",
         "RFC 7252 §4.2")
    for cls in (1, 3, 6, 7):
        for mtype in range(4):
            for _ in range(3):
                tok = c.token()
                c.add(g, c.header(mtype, len(tok), cls << 5 | c.rng.randrange(32)) + tok,
                      format_error(mtype))
    g = ("Request in an ACK or RST: silently ignored", "RFC 7252 §4.2")
    for mtype in (ACK, RST):
        for code in list(range(1, 8)) + [c.rng.randint(8, 31) for _ in range(5)]:
            c.request(g, mtype, code, "sensors/temp", None)


def option_format_cases(c):
    prefixes = [lambda t: coapmsg.get("sensors/temp", t, GET, c.mid(), c.token()),
                lambda t: coapmsg.get("actuators/led", t, PUT, c.mid(), c.token()),
                lambda t: coapmsg.get("nothing/here", t, GET, c.mid(), c.token(),
                                      options=[(ACCEPT, b"")])]
    g = ("Option delta or length nibble 15 (not the payload marker): format error",
         "RFC 7252 §3.1")
    for mtype in (CON, NON):
        for nib in range(15):
            for bad in (0xF0 | nib, nib << 4 | 0x0F):
                data = c.rng.choice(prefixes)(mtype) + bytes([bad])
                c.add(g, data + c.bytes(c.rng.randrange(4)), format_error(mtype))
    g = ("Extended option delta or length running past the end: format error", "RFC 7252 §3.1")
    tails = (b"\xd0", b"\xe0", b"\xe0\x01", b"\x0d", b"\x0e", b"\x0e\x01", b"\xdd\x01",
             b"\xee\x00\x01", b"\xee\x00\x01\x00", b"\xed\x00\x01")
    for mtype in (CON, NON):
        for tail in tails:
            for prefix in prefixes:
                c.add(g, prefix(mtype) + tail, format_error(mtype))
    g = ("Option value running past the end: format error", "RFC 7252 §3.1")
    for mtype in (CON, NON):
        for head, have in ((b"\x21", 0), (b"\x25", 3), (b"\x2c", 11), (b"\x2d\x05", 17),
                           (b"\x2e\x00\x10", 200)):
            for prefix in prefixes[:2]:
                c.add(g, prefix(mtype) + head + c.bytes(have), format_error(mtype))
    g = ("Payload marker followed by an empty payload: format error", "RFC 7252 §3")
    for mtype in range(4):
        for prefix in prefixes:
            c.add(g, prefix(mtype) + b"\xff", format_error(mtype))


def generate(seed=SEED):
    import corpus_requests  # it builds on this module's helpers
    c = Corpus(seed)
    for part in (header_cases, option_format_cases, corpus_requests.option_cases,
                 corpus_requests.request_cases, corpus_requests.size_cases,
                 corpus_requests.block_cases):
        part(c)
    return c.cases


def main(argv):
    cases = generate()
    count = collections.Counter(case.expect["answer"] for case in cases)
    print("%d cases: %s" % (len(cases), ", ".join("%s %d" % kv for kv in sorted(count.items()))))
    if len(argv) > 1:
        with open(argv[1], "w") as f:
            json.dump([dict(case._asdict(), data=case.data.hex()) for case in cases], f, indent=1)


if __name__ == "__main__":
    main(sys.argv)
