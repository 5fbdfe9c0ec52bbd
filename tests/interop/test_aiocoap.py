"""aiocoap's client against the simulated board: the same matrix as test_libcoap.py.

Requests go through aiocoap's client API (one context per module, on its own event
loop). aiocoap picks tokens itself, so tokens of 0-8 bytes are tested one layer down:
messages encoded and decoded by aiocoap's own Message codec over a plain UDP socket.
"""

import asyncio
import re
import socket

import aiocoap
import pytest
from aiocoap import CON, GET, NON, Message
from aiocoap.numbers import codes
from aiocoap.optiontypes import BlockOption, OpaqueOption

import links
from conformance import check
from support import NUMBER, NUMBER_PATTERN

PEER = "aiocoap"
RESOURCES = {  # path: (code by method, what a GET returns)
    "sensors/temp": ({"GET": "2.05"}, NUMBER_PATTERN),
    "sensors/humidity": ({"GET": "2.05"}, NUMBER_PATTERN),
    "actuators/led": ({"GET": "2.05", "PUT": "2.04"}, "on|off"),
    "board": ({"GET": "2.05"}, r'\{"name":"coap-board",.*\}'),
    ".well-known/core": ({"GET": "2.05"}, r"</.*>.*"),
}
METHODS_RULE = "Each method on each resource: 2.05/2.04 if the table has it, else 4.05"
METHODS = ("GET", "PUT", "POST", "DELETE", "FETCH", "PATCH", "iPATCH")


class Client:
    """aiocoap's client context on a private event loop, usable from plain tests."""

    def __init__(self, board):
        self.loop = asyncio.new_event_loop()
        self.ctx = self.loop.run_until_complete(aiocoap.Context.create_client_context())
        self.base = "coap://127.0.0.1:%d/" % board.port

    def ask(self, msg, timeout=5, **kw):
        """The response to msg, or None when none came within timeout seconds."""
        async def go():
            try:
                return await asyncio.wait_for(self.ctx.request(msg, **kw).response, timeout)
            except asyncio.TimeoutError:
                return None
        return self.loop.run_until_complete(go())

    def close(self):
        self.loop.run_until_complete(self.ctx.shutdown())
        self.loop.close()


@pytest.fixture(scope="module")
def client(board):
    c = Client(board)
    yield c
    c.close()


def request(client, path, code=GET, non=False, **kw):
    tuning = {"transport_tuning": aiocoap.Unreliable} if non else {}
    return Message(code=code, uri=client.base + path, **tuning, **kw)


def code_text(code):
    return "%d.%02d" % (int(code) >> 5, int(code) & 31)


@pytest.mark.parametrize("non", [False, True], ids=["CON", "NON"])
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("path", sorted(RESOURCES))
def test_every_method_on_every_resource(client, path, method, non):
    allowed, body = RESOURCES[path]
    payload = b"" if method in ("GET", "DELETE") else b"on"
    msg = request(client, path, getattr(codes.Code, method), non, payload=payload)
    resp = client.ask(msg)
    assert resp is not None, "no answer"
    with check(METHODS_RULE, "RFC 7252 §5.8", PEER):
        assert code_text(resp.code) == allowed.get(method, "4.05")
        if resp.code == codes.CONTENT:
            assert re.fullmatch(body, resp.payload.decode())
    # Read block-wise (to an unverified peer, RFC 9175 §2.4): aiocoap hands back the
    # assembled answer with the last block's MID and token; single answers show ours.
    single = resp.opt.block2 is None
    if non:
        with check("NON request answered with a NON response echoing the token",
                   "RFC 7252 §5.2.3", PEER):
            assert (msg.mtype, resp.mtype) == (NON, NON)
            assert resp.token == msg.token or not single
    else:
        with check("Piggybacked response: an ACK echoing MID and token", "RFC 7252 §5.2.1", PEER):
            assert resp.mtype == aiocoap.ACK
            assert (resp.mid, resp.token) == (msg.mid, msg.token) or not single


@pytest.mark.parametrize("path,accept,code", [
    ("sensors/temp", 0, "2.05"), ("sensors/temp", 50, "2.05"), ("sensors/humidity", 50, "2.05"),
    ("board", 50, "2.05"), (".well-known/core", 40, "2.05"), ("sensors/temp", 60, "4.06"),
    ("actuators/led", 50, "4.06"), ("board", 0, "4.06"), (".well-known/core", 0, "4.06"),
])
def test_accept(client, path, accept, code):
    resp = client.ask(request(client, path, accept=accept))
    with check("Accept: the format asked for (Content-Format set), else 4.06",
               "RFC 7252 §5.10.4", PEER):
        assert code_text(resp.code) == code
        if code == "2.05":
            assert int(resp.opt.content_format) == accept
        else:
            assert resp.opt.content_format is None


@pytest.mark.parametrize("fmt,code", [(0, "2.04"), (50, "4.15"), (42, "4.15")])
def test_content_format_of_put(client, fmt, code):
    msg = request(client, "actuators/led", aiocoap.PUT, payload=b"off", content_format=fmt)
    with check("Content-Format of a request payload not accepted: 4.15", "RFC 7252 §5.10.3",
               PEER):
        assert code_text(client.ask(msg).code) == code


@pytest.mark.parametrize("non", [False, True], ids=["CON", "NON"])
@pytest.mark.parametrize("length", range(9))
def test_token_echoed(board, length, non):
    msg = Message(code=GET, uri_path=("sensors", "temp"))
    msg.mtype = NON if non else CON
    msg.mid = 0x2000 + length
    msg.token = bytes(range(0xA0, 0xA0 + length))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.sendto(msg.encode(), ("127.0.0.1", board.port))
        resp = Message.decode(s.recv(2048))
    with check("Token of 0-8 bytes echoed in the response", "RFC 7252 §5.3.1", PEER):
        assert resp.token == msg.token
        assert resp.code == codes.CONTENT and NUMBER.fullmatch(resp.payload.decode())
        if non:
            assert resp.mtype == NON
        else:
            assert (resp.mtype, resp.mid) == (aiocoap.ACK, msg.mid)


def test_discovery_links_parse_with_their_attributes(client):
    resp = client.ask(request(client, ".well-known/core"))
    with check("/.well-known/core: all links, or those matching one filter", "RFC 6690 §4.1",
               PEER):
        assert resp.code == codes.CONTENT and int(resp.opt.content_format) == 40
        assert links.missing_board_links(links.parse(resp.payload)) == []


@pytest.mark.parametrize("query", links.FILTERS)
def test_discovery_filter(client, query):
    everything = links.parse(client.ask(request(client, ".well-known/core")).payload)
    resp = client.ask(request(client, ".well-known/core?" + query))
    with check("/.well-known/core: all links, or those matching one filter", "RFC 6690 §4.1",
               PEER):
        assert resp.code == codes.CONTENT
        assert links.parse(resp.payload) == links.select(everything, query)


def _with_option(msg, number, value):
    msg.opt.add_option(OpaqueOption(number, value))
    return msg


@pytest.mark.parametrize("behaviour,section,make,code", [
    ("PUT /actuators/led: on, off, 1 or 0 give 2.04, any other payload 4.00",
     "RFC 7252 §5.9.2.1", lambda c: request(c, "actuators/led", aiocoap.PUT, payload=b"blink"),
     "4.00"),
    ("Unrecognised critical option in a CON request: 4.02", "RFC 7252 §5.4.1",
     lambda c: _with_option(request(c, "sensors/temp"), 2049, b"x"), "4.02"),
    ("Unknown path: 4.04", "RFC 7252 §5.9.2.5", lambda c: request(c, "sensors/pressure"), "4.04"),
    (METHODS_RULE, "RFC 7252 §5.8",
     lambda c: request(c, "board", aiocoap.DELETE), "4.05"),
    ("Accept: the format asked for (Content-Format set), else 4.06", "RFC 7252 §5.10.4",
     lambda c: request(c, "sensors/humidity", accept=60), "4.06"),
    ("Request payload over the server's limit: 4.13 with Size1", "RFC 7252 §5.9.2.9",
     lambda c: request(c, "actuators/led", aiocoap.PUT, payload=b"x" * 1025), "4.13"),
    ("Content-Format of a request payload not accepted: 4.15", "RFC 7252 §5.10.3",
     lambda c: request(c, "actuators/led", aiocoap.PUT, payload=b"{}", content_format=50), "4.15"),
    ("Proxy-Uri or Proxy-Scheme at a server that is not a proxy: 5.05", "RFC 7252 §5.10.2",
     lambda c: request(c, "sensors/temp", proxy_uri="coap://example.org/sensors/temp"), "5.05"),
], ids=["4.00", "4.02", "4.04", "4.05", "4.06", "4.13", "4.15", "5.05"])
def test_error_codes(client, behaviour, section, make, code):
    msg = make(client)
    resp = client.ask(msg)
    with check(behaviour, section, PEER):
        assert (resp.mtype, code_text(resp.code), resp.mid) == (aiocoap.ACK, code, msg.mid)
        if code == "4.13":
            assert resp.opt.size1 == 1024
        if code == "4.02":
            assert resp.payload  # §5.4.1: SHOULD carry a diagnostic payload


def test_unrecognised_critical_option_in_non_is_rejected(client):
    msg = _with_option(request(client, "sensors/temp", non=True), 2049, b"x")
    try:
        resp = client.ask(msg, timeout=1)
    except aiocoap.error.Error:  # an RST: rejected, as §4.3 allows
        resp = None
    with check("Unrecognised critical option in a NON request: rejected, no 4.02",
               "RFC 7252 §5.4.1", PEER):
        assert resp is None, "answered %s" % resp


def test_block2_size_in_request_is_honoured(client):
    everything = client.ask(request(client, ".well-known/core")).payload
    msg = request(client, ".well-known/core")
    msg.opt.block2 = BlockOption.BlockwiseTuple(1, False, 0)  # the second 16-byte block
    resp = client.ask(msg, handle_blockwise=False)
    with check("Block2 in a request: that block, of the size asked for or smaller",
               "RFC 7959 §2.4", PEER):
        assert resp.code == codes.CONTENT
        block = resp.opt.block2
        assert block is not None and block.size_exponent == 0 and block.block_number == 1
        assert resp.payload == everything[16:32] and block.more == (len(everything) > 32)


def test_ipv6(client, board):
    msg = Message(code=GET, uri="coap://[::1]:%d/sensors/temp" % board.port)
    resp = client.ask(msg)
    assert resp.code == codes.CONTENT and NUMBER.fullmatch(resp.payload.decode())
