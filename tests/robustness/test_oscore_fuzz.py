"""Property tests of the board's OSCORE layer under CPython (hypothesis;
FUZZ_EXAMPLES, default 500): any bytes in the OSCORE option or in the
ciphertext of a request get one of RFC 8613 §8.2's errors, unprotected —
never an exception escaping, never a 2.xx, never a protected answer; and any
inner message a key holder encrypts gets a protected answer.
"""

import os

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import coapmsg
from coap import Resource, Server
from coap.oscorectx import Context
from oscoreclient import BOARD_ID, CLIENT_ID, SALT, SECRET, Client

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "500"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None,
                    derandomize=os.environ.get("FUZZ_RANDOM") != "1",
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
RFC_ERRORS = (128, 129, 130)  # 4.00 Decryption failed, 4.01, 4.02 malformed option


def _led(req, resp):
    resp.payload(b"on")


def _server():
    ctx = Context(SECRET, SALT, BOARD_ID, CLIENT_ID)
    return Server((Resource("actuators/led", get=_led, put=_led),), log=lambda line: None,
                  oscore=[ctx], open=())


SERVER = _server()
CLIENT = Client()


def _check(msg):
    n = SERVER.handle(msg, len(msg))
    assert n > 0, "a CON request always gets an answer"
    out = bytes(SERVER.response.buf[:n])
    mtype, code, mid, token, opts, payload = coapmsg.decode(out)
    assert code in RFC_ERRORS, (code >> 5, code & 31)
    assert coapmsg.option(opts, 9) is None, "errors of §8.2 are not protected"
    assert (mid, token) == ((msg[2] << 8) | msg[3], msg[4:4 + (msg[0] & 15)])


@SETTINGS
@given(st.binary(max_size=300))
@example(b"")
@example(b"\x09\x00\x02")  # a good option, then a garbage ciphertext below
@example(b"\x0d\x00\x02")  # n = 5 with a short value
def test_any_oscore_option_value(value):
    _check(coapmsg.encode(coapmsg.CON, 2, 0x2222, b"\x01", [(9, value)], b"\x00" * 12))


@SETTINGS
@given(st.binary(max_size=400))
@example(b"")
@example(b"\x01" * 9)
def test_any_ciphertext(ciphertext):
    piv = CLIENT.ssn
    CLIENT.ssn += 1
    option = bytes([0x08 | 3, piv >> 16 & 0xFF, piv >> 8 & 0xFF, piv & 0xFF]) + CLIENT_ID
    _check(coapmsg.encode(coapmsg.CON, 2, 0x3333, b"\x02", [(9, option)], ciphertext))


@SETTINGS
@given(st.binary(min_size=1, max_size=40), st.integers(0, 60))
def test_any_bit_flip_of_a_genuine_request(noise, where):
    msg = bytearray(CLIENT.protect(coapmsg.get("actuators/led")))
    start = len(msg) - len(coapmsg.decode(bytes(msg))[5])  # the ciphertext
    for i, b in enumerate(noise):
        msg[start + (where + i) % (len(msg) - start)] ^= b | 1
    _check(bytes(msg))


@SETTINGS
@given(st.integers(0, 255), st.binary(max_size=200))
@example(1, b"\xb3led")
@example(0, b"")
@example(69, b"\xff")
def test_any_inner_message_gets_a_protected_answer(code, inner):
    """Whatever a key holder encrypts (any code, options, payload), the answer is
    protected and opens, and the handler never sees a malformed message."""
    plain = bytes([0x41, code, 0x44, 0x44, 0x07]) + inner
    msg = CLIENT.protect(plain)
    n = SERVER.handle(msg, len(msg))
    out = bytes(SERVER.response.buf[:n])
    opened = CLIENT.open(out)
    assert opened is not None, "a verified request gets a protected answer"
    outer_code, inner_answer = opened
    assert outer_code == 68
    assert inner_answer[1] >> 5 in (2, 4, 5)
    if code == 0 or code >> 5:  # not a request inside
        assert inner_answer[1] == 128
