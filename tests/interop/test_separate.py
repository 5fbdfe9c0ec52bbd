"""Separate responses (RFC 7252 §5.2.2) to libcoap, aiocoap and raw datagrams:
GET /sensors/temp?fresh on the simulated board is acknowledged at once and
answered with the next reading as a CON of its own."""

import asyncio
import re
import socket
import subprocess

import aiocoap
from aiocoap import CON, GET, Message

from conformance import check
from support import NUMBER_PATTERN

SECTION = "RFC 7252 §5.2.2"
BEHAVIOUR = ("GET ?fresh: an empty ACK at once, then the answer as a CON with the token "
             "(ETSI TD_COAP_CORE_09, 11)")
PDU = re.compile(r"v:1 t:(CON|NON|ACK|RST) c:(\S+) i:([0-9a-f]+) \{([0-9a-f]*)\}"
                 r".*?(?: :: '(.*)')?$")


def test_libcoap_gets_an_empty_ack_then_the_answer(board):
    with check(BEHAVIOUR, SECTION, "libcoap"):
        uri = "coap://127.0.0.1:%d/sensors/temp?fresh" % board.port
        out = subprocess.run(["coap-client-notls", "-B", "8", "-v", "7", "-m", "get", uri],
                             capture_output=True, text=True, timeout=30).stdout
        pdus = [m.groups() for m in map(PDU.search, out.splitlines()) if m]
        assert len(pdus) == 4, out
        (t0, c0, mid0, tok0, _), (t1, c1, mid1, tok1, _) = pdus[:2]
        (t2, c2, mid2, tok2, value), (t3, c3, mid3, _, _) = pdus[2:]
        assert (t0, c0, t1, c1, mid1, tok1) == ("CON", "GET", "ACK", "0.00", mid0, ""), out
        assert (t2, c2, tok2) == ("CON", "2.05", tok0) and mid2 != mid0, out
        assert re.fullmatch(NUMBER_PATTERN, value), out
        assert (t3, c3, mid3) == ("ACK", "0.00", mid2), out  # the client's ACK of it


def test_aiocoap_gets_the_answer_as_a_con(board):
    async def go():
        ctx = await aiocoap.Context.create_client_context()
        try:
            msg = Message(code=GET, uri="coap://127.0.0.1:%d/sensors/temp?fresh" % board.port)
            return await asyncio.wait_for(ctx.request(msg).response, 10)
        finally:
            await ctx.shutdown()

    with check(BEHAVIOUR, SECTION, "aiocoap"):
        resp = asyncio.run(go())
        assert resp.code == aiocoap.CONTENT and resp.mtype == CON, resp  # not an ACK
        assert re.fullmatch(NUMBER_PATTERN, resp.payload.decode()), resp.payload


def test_a_retransmitted_request_gets_the_empty_ack_again(board):  # §4.5
    with check("A retransmission of a request answered later: the empty ACK again",
               "RFC 7252 §4.5", "raw"):
        req = bytes([0x41, 0x01, 0x51, 0x51, 0x7A, 0xB7]) + b"sensors" + bytes([0x04]) \
            + b"temp" + bytes([0x45]) + b"fresh"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(5)
            s.sendto(req, ("127.0.0.1", board.port))
            assert s.recv(64) == b"\x60\x00\x51\x51"  # empty ACK, same MID
            s.sendto(req, ("127.0.0.1", board.port))
            got = [s.recv(64) for _ in range(2)]
            assert b"\x60\x00\x51\x51" in got, got
            answer = [g for g in got if g != b"\x60\x00\x51\x51"] or [s.recv(64)]
            a = answer[0]
            assert (a[0], a[1], a[4]) == (0x41, 69, 0x7A), a  # CON 2.05, the token
            s.sendto(bytes([0x60, 0, a[2], a[3]]), ("127.0.0.1", board.port))
            s.settimeout(3.5)  # no retransmission after the ACK (ACK_TIMEOUT 2-3 s)
            try:
                extra = s.recv(64)
            except socket.timeout:
                extra = None
            assert extra is None, extra
