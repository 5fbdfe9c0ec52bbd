"""CoAPthon3 (PyPI, pinned in requirements.txt) against the simulated board: GET,
PUT, Block2, IPv6, and Observe ended by an RST (#14)."""

import threading

import pytest
from coapthon import defines
from coapthon.client.helperclient import HelperClient
from coapthon.messages.request import Request

from boardsim import SimulatedBoard
from support import NUMBER



@pytest.fixture(scope="module")
def board():
    with SimulatedBoard(config={"observe_threshold": 1, "observe_con_every": 2}) as b:
        yield b


@pytest.fixture
def client(board, request):
    host = getattr(request, "param", "127.0.0.1")
    c = HelperClient(server=(host, board.port))
    yield c
    c.stop()


@pytest.mark.parametrize("client", ["127.0.0.1", "::1"], indirect=True)
def test_get(client):
    r = client.get("sensors/temp", timeout=5)
    assert r.code == defines.Codes.CONTENT.number and NUMBER.fullmatch(r.payload), r


def test_put(client):
    assert client.put("actuators/led", "off", timeout=5).code == defines.Codes.CHANGED.number
    assert client.get("actuators/led", timeout=5).payload == "off"


def test_block2_in_64_byte_blocks(board, client):
    req = Request()
    req.code = defines.Codes.GET.number
    req.type = defines.Types["CON"]
    req.destination = ("127.0.0.1", board.port)
    req.uri_path = "board/log"
    req.block2 = (0, 0, 64)
    r = client.send_request(req, timeout=5)
    num, more, size = r.block2
    # 64-byte blocks, or smaller ones to an address no Echo verified (RFC 9175 §2.4)
    assert (r.code, more) == (defines.Codes.CONTENT.number, 0) and size <= 64
    assert num >= 2 and len(r.payload) > 2 * 64  # reassembled from three blocks or more
    assert r.payload.startswith("coap: serving on") and r.payload in board.output()


def test_observe_then_rst_ends_it(board, client):
    got = []
    three = threading.Event()

    def note(resp):
        got.append(resp)
        if len(got) >= 3:
            three.set()

    client.observe("sensors/temp", note)
    assert three.wait(10), got
    assert all(NUMBER.fullmatch(r.payload) for r in got)
    assert board.observers() == 1
    client.cancel_observing(got[-1], True)  # an RST for the last notification
    assert board.observers() == 0
