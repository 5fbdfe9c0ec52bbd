"""Property tests of lib/coap under CPython (hypothesis; FUZZ_EXAMPLES, default 500).

1. Server.handle on any bytes: no exception escapes, and the answer is one RFC 7252
   allows: silence, an Empty RST echoing the MID of a CON, or a well-formed response
   echoing the token (and, piggybacked on an ACK, the MID) of a CON or NON request.
2. A message from the tests' own encoder (tests/unit/coapmsg.py) written by
   coap.write.Response comes out byte-identical, and coap.parse.Request reads back
   the same type, code, MID, token, options and payload.
"""

import os

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import coapmsg
from coap import Resource, Server
from coap.parse import OK, Request
from coap.write import Response

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "500"))
# derandomize: the same examples on every run, so a pass or a fail is repeatable;
# FUZZ_RANDOM=1 explores new ones.
SETTINGS = settings(max_examples=EXAMPLES, deadline=None,
                    derandomize=os.environ.get("FUZZ_RANDOM") != "1",
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _text(req, resp):
    resp.payload_fixed(2150, 2)


def _big(req, resp):  # larger than one datagram: served block-wise
    for _ in range(150):
        resp.payload(b"0123456789")


def _put(req, resp):
    if not (req.payload_is(b"on") or req.payload_is(b"off")):
        resp.error(128, b"on or off")


def _fails(req, resp):
    raise RuntimeError("sensor unplugged")


TABLE = (
    Resource("sensors/temp", get=_text, ct=(0, 50), rt="temperature-c", if_="core.s", obs=True),
    Resource("actuators/led", get=_text, put=_put, ct=0, accepts=0),
    Resource("big", get=_big, ct=0),
    Resource("fails", get=_fails),
)
SERVER = Server(TABLE, log=lambda line: None)
PATHS = [b"sensors", b"temp", b"actuators", b"led", b"big", b"fails", b".well-known", b"core"]
# option numbers the parser knows, critical and elective unknowns, high numbers
NUMBERS = [1, 3, 4, 5, 6, 7, 11, 12, 14, 15, 17, 23, 27, 28, 35, 39, 60, 258, 2048, 2049,
           65000, 65001]


def _option():
    return st.one_of(
        st.tuples(st.just(11), st.sampled_from(PATHS)),
        st.tuples(st.sampled_from(NUMBERS), st.binary(max_size=20)),
        st.tuples(st.integers(0, 65535), st.binary(max_size=300)))


messages = st.builds(
    coapmsg.encode, st.integers(0, 3), st.integers(0, 255), st.integers(0, 0xFFFF),
    st.binary(max_size=8), st.lists(_option(), max_size=6), st.binary(max_size=64))


@st.composite
def mutated(draw):
    data = bytearray(draw(messages))
    for _ in range(draw(st.integers(0, 3))):
        if data:
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data[:draw(st.integers(0, len(data)))])


datagrams = st.one_of(
    st.binary(max_size=1300),
    st.builds(lambda h, rest: bytes([0x40 | h]) + rest, st.integers(0, 63),
              st.binary(max_size=80)),
    messages, mutated())


@SETTINGS
@given(datagrams)
def test_any_datagram_gets_an_rfc_answer(data):
    SERVER.request.peer = ("127.0.0.1", 5683)  # as poll() sets it
    n = SERVER.handle(data, len(data))
    out = bytes(SERVER.response.buf) if n else b""
    assert n == len(out)
    mtype = data[0] >> 4 & 3 if data else -1
    if len(data) < 4 or data[0] >> 6 != 1 or mtype in (2, 3):
        assert n == 0, "answered a datagram that must be ignored: %s" % out.hex()
        return
    if n == 0:
        return
    if out[0] >> 4 == 0x7:  # RST
        assert out == b"\x70\x00" + data[2:4] and mtype == 0
        return
    rtype, code, mid, token, opts, payload = coapmsg.decode(out)
    tkl = data[0] & 15
    assert out[0] >> 6 == 1 and code >> 5 in (2, 4, 5)
    assert 1 <= data[1] <= 31, "answered a code that is no request"
    assert token == data[4:4 + tkl]
    if mtype == 0:
        assert rtype == 2 and out[2:4] == data[2:4]  # piggybacked ACK
    else:
        assert rtype == 1  # NON for a NON
    assert coapmsg.encode(rtype, code, mid, token, opts, payload) == out, "not well-formed"


@SETTINGS
@given(datagrams)
@example(b"\x50\x01\x00\x00\xd0\x00")  # NON GET with an empty option 13 (critical, unknown)
def test_non_request_never_gets_4_02(data):
    # §5.4.1: a bad critical option in a NON rejects the message (§4.3); 4.02 is the
    # answer to a CON request only
    n = SERVER.handle(data, len(data))
    if n and data[0] >> 4 & 3 == 1:
        assert SERVER.response.buf[1] != 130, "4.02 for a NON request: %s" % data.hex()


KNOWN_ONCE = {12: 2, 17: 2, 6: 3, 23: 3, 7: 2}  # non-repeatable uint options: max length
requests = st.fixed_dictionaries({
    "mtype": st.integers(0, 1), "code": st.integers(1, 31), "mid": st.integers(0, 0xFFFF),
    "token": st.binary(max_size=8),
    "path": st.lists(st.binary(max_size=20), max_size=4),
    "query": st.lists(st.binary(max_size=20), max_size=3),
    "once": st.dictionaries(st.sampled_from(sorted(KNOWN_ONCE)), st.integers(0, 0xFFFF)),
    "host": st.one_of(st.none(), st.binary(min_size=1, max_size=40)),
    "other": st.lists(st.tuples(st.sampled_from([4, 2048, 65000, 2049, 65001]),
                                st.binary(max_size=40)), max_size=3),
    "payload": st.binary(max_size=200)})


@SETTINGS
@given(requests)
def test_writer_and_parser_round_trip(m):
    opts = [(11, s) for s in m["path"]] + [(15, q) for q in m["query"]] + m["other"]
    opts += [(num, coapmsg.uint(v & (1 << 8 * KNOWN_ONCE[num]) - 1))
             for num, v in m["once"].items()]
    if m["host"] is not None:
        opts.append((3, m["host"]))
    wire = coapmsg.encode(m["mtype"], m["code"], m["mid"], m["token"], opts, m["payload"])
    ordered = coapmsg.decode(wire)[4]  # the options in the order they go on the wire

    resp = Response(1152)
    resp.begin(m["mtype"], m["code"], m["mid"], m["token"], 0, len(m["token"]))
    for num, value in ordered:
        resp.option(num, value)
    resp.payload(m["payload"])
    buf = bytes(resp.buf)
    assert buf == wire

    req = Request()
    assert req.parse(buf, len(buf)) == OK
    assert (req.type, req.code, req.mid, req.tkl) == (m["mtype"], m["code"], m["mid"],
                                                      len(m["token"]))
    assert buf[4:4 + req.tkl] == m["token"]
    assert buf[req.payload_off:req.payload_off + req.payload_len] == m["payload"]
    assert req.path_count == len(m["path"]) and req.query_count == len(m["query"])
    for i, seg in enumerate(m["path"]):
        assert req.path_is(i, seg)
    for i, q in enumerate(m["query"]):
        assert buf[req.query_off[i]:req.query_off[i] + req.query_len[i]] == q
    got = dict(ordered)
    for num, attr in ((12, "content_format"), (17, "accept"), (6, "observe"), (23, "block2")):
        assert getattr(req, attr) == (coapmsg.to_uint(got[num]) if num in got else -1)
    critical = [num for num, _ in ordered if num in (2049, 65001)]
    assert req.bad_option == (critical[0] if critical else 0)
