"""Conditional requests and validation over real UDP, against the test table of
tests/interop/conditional_server.py: If-Match and If-None-Match from aiocoap
(RFC 7252 §5.10.8; ETSI TD_COAP_CORE_22, 23), 2.03 Valid to aiocoap and libcoap
(§5.10.6; TD_COAP_CORE_21). And the board with observe_con_every 0: NON
notifications only (RFC 7641 §4.5; TD_COAP_OBS_02), seen by libcoap."""

import os

import pytest
from aiocoap import GET, PUT, Message
from aiocoap.numbers import codes

from boardsim import SimulatedBoard
from conformance import check
from test_aiocoap import Client
from test_libcoap import coap_client, one_response

SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conditional_server.py")
IF_MATCH = ("If-Match with the current ETag: performed, with another: 4.12 "
            "(TD_COAP_CORE_22)", "RFC 7252 §5.10.8.1")
IF_NONE_MATCH = ("If-None-Match: performed (2.01) only when there is no "
                 "representation, else 4.12 (TD_COAP_CORE_23)", "RFC 7252 §5.10.8.2")
VALID = ("GET with the current ETag: 2.03 Valid with that ETag, no payload "
         "(TD_COAP_CORE_21)", "RFC 7252 §5.10.6.2")


@pytest.fixture(scope="module")
def table():
    with SimulatedBoard(main=SERVER) as b:
        yield b


@pytest.fixture(scope="module")
def client(table):
    c = Client(table)
    yield c
    c.close()


def get(client, path, etags=()):
    msg = Message(code=GET, uri=client.base + path)
    msg.opt.etags = list(etags)
    return client.ask(msg)


def put(client, path, payload, if_match=None, if_none_match=False):
    msg = Message(code=PUT, uri=client.base + path, payload=payload)
    if if_match is not None:
        msg.opt.if_match = [if_match]
    msg.opt.if_none_match = if_none_match
    return client.ask(msg)


def test_if_match_from_aiocoap(client):
    with check(*IF_MATCH, "aiocoap"):
        first = get(client, "doc")
        assert first.code == codes.CONTENT and first.opt.etag
        assert put(client, "doc", b"second", if_match=first.opt.etag).code == codes.CHANGED
        now = get(client, "doc")
        assert (now.payload, now.opt.etag != first.opt.etag) == (b"second", True)
        assert put(client, "doc", b"third", if_match=first.opt.etag).code \
            == codes.PRECONDITION_FAILED
        assert put(client, "doc", b"fourth", if_match=b"").code == codes.CHANGED  # it exists
        assert get(client, "doc").payload == b"fourth"


def test_if_none_match_from_aiocoap(client):
    with check(*IF_NONE_MATCH, "aiocoap"):
        assert get(client, "created").code == codes.NOT_FOUND
        assert put(client, "created", b"made", if_none_match=True).code == codes.CREATED
        assert put(client, "created", b"again", if_none_match=True).code \
            == codes.PRECONDITION_FAILED
        assert get(client, "created").payload == b"made"


@pytest.mark.parametrize("path", ["doc", "hashed"])
def test_valid_to_aiocoap(client, path):
    with check(*VALID, "aiocoap"):
        # "hashed" has no version: its 2.05 carries the ETag once asked with one
        first = get(client, path, [b"\xee"])
        assert first.code == codes.CONTENT and first.opt.etag
        again = get(client, path, [b"\xee", first.opt.etag])
        assert (again.code, again.opt.etag, again.payload) == (codes.VALID, first.opt.etag, b"")


def test_valid_to_libcoap(table):
    _, first = one_response(table, "doc")
    etag = first.options["ETag"]  # as libcoap prints it: 0x..
    with check(*VALID, "libcoap"):
        req, resp = one_response(table, "doc", "-O", "4," + etag)
        assert (resp.code, resp.options.get("ETag"), resp.payload) == ("2.03", etag, None)
        stale = "0x%x" % (int(etag, 16) ^ 0x80)
        assert one_response(table, "doc", "-O", "4," + stale)[1].code == "2.05"


def test_non_only_notifications_to_libcoap():
    # With the amplification limit on, a new observer's first answer is a CON
    # until its address is proven (RFC 9175 §2.4, docs/observe.md): off here
    cfg = {"observe_con_every": 0, "observe_threshold": 1, "amplification_limit": False}
    with SimulatedBoard(config=cfg) as board:
        # the simulated sensor moves at every read, every 2 s
        req, responses, out = coap_client(board, "sensors/temp", "-s", "7", "-N", wait=9)
    with check("observe_con_every 0: every notification NON, the first too "
               "(TD_COAP_OBS_02)", "RFC 7641 §4.5", "libcoap"):
        notes = [r for r in responses if "Observe" in r.options and r.code == "2.05"]
        assert len(notes) >= 3, out  # the registration's answer and two notifications
        assert [r.type for r in notes] == ["NON"] * len(notes), out
