"""Amplification (RFC 9175 §2.4) measured from outside, as an attacker would.

A minimal request for every resource in the board's table, from a fresh
source port each, and every datagram that comes back within a while: bytes
out / bytes in must be at most 3. Then the Echo: a value the board offered
gets the same address a full answer, and nothing from another port; bogus
values are answered within the rule. And the peers people use, with no
special flags, still read everything (libcoap keeps the Echo, aiocoap and
node-coap read block-wise).

    .venv/bin/python -m pytest -s tests/interop/test_amplification.py   # prints the figures
"""

import contextlib
import json
import os
import select
import socket
import subprocess
import sys

import pytest

import coapmsg as m
import links
from conformance import check

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AIOCOAP_CLIENT = os.path.join(ROOT, ".venv", "bin", "aiocoap-client")
NODE_GET = os.path.join(ROOT, "tests", "interop", "nodecoap_get.js")
NODE_MODULES = os.path.join(ROOT, "tools", "node", "node_modules")
ECHO = 252
RULE = "Answers to an unverified peer at most 3x its request"
SECTION = "RFC 9175 §2.4"


def exchange(port, msg, quiet=1.5, first=3.0, sock=None):
    """Send msg from a fresh source port (or sock); every datagram back until
    `quiet` seconds pass without one (a large answer held for a ping comes a
    second after it: coap/pending.py). The waits bound collection only."""
    own = sock is None
    s = sock or socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.sendto(msg, ("127.0.0.1", port))
        got = []
        wait = first
        while select.select([s], [], [], wait)[0]:
            got.append(s.recv(2048))
            wait = quiet
        return got
    finally:
        if own:
            s.close()


def answer(got):
    """The response among the datagrams that came back (not the ping)."""
    return next(m.decode(d) for d in got if m.decode(d)[1])


def board_paths(port):
    """The board's table, as /.well-known/core lists it (read block-wise, unverified)."""
    body, num, szx = b"", 0, None
    while True:
        opts = [] if szx is None else [(23, m.uint(num << 4 | szx))]
        r = answer(exchange(port, m.get(".well-known/core", token=b"w", options=opts)))
        assert r[1] == 69, r
        body += r[5]
        b2 = m.option(r[4], 23)
        if b2 is None or not m.to_uint(b2) & 8:
            return [href.lstrip("/") for href, _ in links.parse(body)]
        v = m.to_uint(b2)
        num, szx = (v >> 4) + 1, v & 7


def minimal_requests(paths):
    """(label, datagram): the smallest request an attacker can send for each."""
    out = [("/" + p, m.get(p, token=b"")) for p in paths]
    out += [("/.well-known/core", m.get(".well-known/core", token=b"")),
            ("/.well-known/core?rt=temperature-c",
             m.get(".well-known/core", token=b"", query=["rt=temperature-c"])),
            ("/.well-known/core?href=/board*", m.get(".well-known/core", token=b"", query=["href=/board*"]))]
    return out


def test_every_resource_within_3x(board):
    paths = board_paths(board.port)
    assert {"board", "board/log", "sensors/temp", "actuators/led"} <= set(paths)
    worst = 0
    print()
    for label, msg in minimal_requests(paths):
        got = exchange(board.port, msg)
        assert got, label
        factor = sum(len(d) for d in got) / len(msg)
        print("amplification %-36s %3d bytes in, %4d out in %d datagram(s): %.2fx"
              % (label, len(msg), sum(len(d) for d in got), len(got), factor))
        worst = max(worst, factor)
        with check(RULE, SECTION, "raw"):
            assert factor <= 3, label
    print("amplification worst: %.2fx" % worst)


def test_spoofed_observe_registration_is_no_stream(board):
    # One registration from a peer that never proved its address: the answer and
    # CON notifications (which a spoofer can't acknowledge) with their
    # retransmissions, together within 3x; then nothing (the board's
    # temperature moves 0.10 °C a second).
    for label, path, accept in (("/sensors/temp", "sensors/temp", None),
                                ("/sensors/temp as SenML JSON", "sensors/temp", 110),
                                ("/sensors/humidity", "sensors/humidity", None),
                                ("/sensors (the pack)", "sensors", None)):
        opts = [(6, b"")] + ([] if accept is None else [(17, m.uint(accept))])
        msg = m.get(path, token=b"", options=opts)
        got = exchange(board.port, msg, quiet=6.0)
        total = sum(len(d) for d in got)
        print("\namplification Observe %s: %d bytes in, %d out in %d datagram(s): %.2fx"
              % (label, len(msg), total, len(got), total / len(msg)))
        with check("Observe registration from an unverified peer: its notifications "
                   "count too, until it acknowledges one", SECTION, "raw"):
            assert got and total <= 3 * len(msg)
            # an empty ACK, then the answer (or a ping, when the answer is over
            # the budget) as a CON only the real address can acknowledge
            assert m.decode(got[0])[:2] == (m.ACK, 0) and len(got) >= 2
            assert all(m.decode(d)[0] == m.CON for d in got[1:])


def test_echo_gets_its_address_a_full_answer_and_no_other(board):
    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        # (a NON: a CON's large answer waits for a ping's RST, then comes
        # whole, without an Echo: coap/pending.py)
        first = answer(exchange(board.port, m.get("board", mtype=m.NON, token=b"12345678"),
                                sock=a))
        echo = m.option(first[4], ECHO)
        assert first[1] in (69, 129) and echo is not None and len(echo) == 12
        msg = m.get("board", token=b"12345678", options=[(ECHO, echo)])
        with check("A valid Echo from the same address and port: the full answer",
                   "RFC 9175 §2.4", "raw"):
            got = exchange(board.port, msg, sock=a)
            r = answer(got)
            assert (len(got), r[1], m.option(r[4], 23)) == (1, 69, None)
            assert json.loads(r[5])["name"] == "coap-board"
        with check("The same Echo from another port: answered within 3x", "RFC 9175 §2.4", "raw"):
            got = exchange(board.port, msg, sock=b)
            assert sum(len(d) for d in got) <= 3 * len(msg)
            r = answer(got)
            assert m.option(r[4], ECHO) != echo  # one for that port instead
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize("value", [b"", bytes(41), os.urandom(12), os.urandom(40)],
                         ids=["0 bytes", "41 bytes", "12 random", "40 random"])
def test_bogus_echo_answered_within_3x(board, value):
    msg = m.get("board/log", token=b"", options=[(ECHO, value)])
    with check("Bogus Echo values (0, 41 bytes, random): within 3x, no crash", SECTION, "raw"):
        got = exchange(board.port, msg)
        assert got and sum(len(d) for d in got) <= 3 * len(msg)
        assert m.decode(exchange(board.port, m.get("sensors/temp"))[0])[1] == 69  # still serving


def verified_read(port, path):
    """The whole representation in one datagram, as a verified peer gets it."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        r = answer(exchange(port, m.get(path, mtype=m.NON, token=b"12345678"), sock=s))
        echo = m.option(r[4], ECHO)  # (a NON: offered with the first block)
        r = answer(exchange(port, m.get(path, token=b"12345678", options=[(ECHO, echo)]), sock=s))
        assert r[1] == 69 and m.option(r[4], 23) is None
        return r[5]
    finally:
        s.close()


def cli(argv, env=None):
    proc = subprocess.run(argv, capture_output=True, timeout=60, env=env)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout


@pytest.mark.parametrize("peer", ["libcoap", "aiocoap", "node-coap"])
@pytest.mark.parametrize("path", [".well-known/core", "board", "board/log"])
def test_clients_read_everything(board, peer, path):
    uri = "coap://127.0.0.1:%d/%s" % (board.port, path)
    if peer == "libcoap":
        out = cli(["coap-client-notls", "-B", "10", "-m", "get", uri])
    elif peer == "aiocoap":
        out = cli([AIOCOAP_CLIENT, uri])
    else:  # node-coap: not a column of docs/conformance.md; checked here all the same
        out = cli(["node", NODE_GET, uri], env=dict(os.environ, NODE_PATH=NODE_MODULES))
        out += b"\n"
    out = out[:-1] if out.endswith(b"\n") else out  # the CLIs end what they print with a newline
    recorded = contextlib.nullcontext() if peer == "node-coap" else check(
        "Clients without special flags read large answers in full under the 3x rule",
        SECTION, peer)
    with recorded:
        if path == "board":
            info = json.loads(out)
            assert info["name"] == "coap-board" and "uptime_ms" in info and "free_heap" in info
        elif path == "board/log":
            # (aiocoap-client adds no newline to a payload that ends in one)
            assert out.rstrip(b"\n") == verified_read(board.port, path).rstrip(b"\n")
            assert b"coap: serving on" in out
        else:
            assert links.missing_board_links(links.parse(out)) == []
            assert out == verified_read(board.port, path)


def test_echo_option_through_aiocoaps_codec(board):
    # The Echo option (252) as another implementation encodes and decodes it
    from aiocoap import CON, GET, NON, Message
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        def ask(mid, mtype=CON, **opts):
            msg = Message(code=GET, uri_path=("board",), **opts)
            msg.mtype, msg.mid, msg.token = mtype, mid, b"aiocoap!"
            return Message.decode(next(d for d in exchange(board.port, msg.encode(), sock=s)
                                       if d[1]))  # not the ping
        first = ask(0x3001, NON)  # a NON: its first block offers the Echo
        with check("A valid Echo from the same address and port: the full answer",
                   "RFC 9175 §2.4", "aiocoap"):
            assert first.opt.echo is not None and len(first.opt.echo) == 12
            full = ask(0x3002, echo=first.opt.echo)
            assert (str(full.code), full.opt.block2) == ("2.05 Content", None)
            assert json.loads(full.payload)["name"] == "coap-board"
    finally:
        s.close()


def test_libcoap_repeats_a_put_with_the_echo_of_a_fresh_resource():
    # RFC 9175 §2.3 against a real client: the library on CPython serving a
    # resource with fresh=True; coap-client answers the 4.01 by sending the PUT
    # again with the Echo, and the handler runs once, for that second PUT.
    import threading

    from coap import Resource, Server
    puts = []
    table = (Resource("led", put=lambda req, resp: puts.append(req.payload_is(b"on")),
                      get=lambda req, resp: resp.payload(b"x"), fresh=True),)
    srv = Server(table, log=print)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(0.2)
    stop = []

    def serve():
        while not stop:
            try:
                srv.poll(s)
            except OSError:
                pass  # the timeout: look at stop again
    t = threading.Thread(target=serve)
    t.start()
    try:
        out = subprocess.run(["coap-client-notls", "-v", "7", "-B", "5", "-m", "put", "-e", "on",
                              "coap://127.0.0.1:%d/led" % s.getsockname()[1]],
                             capture_output=True, text=True, timeout=30).stdout
    finally:
        stop.append(True)
        t.join()
        s.close()
    pdus = [line[line.index("v:1 "):] for line in out.splitlines() if "v:1 " in line]
    with check("Unsafe method on a fresh resource: 4.01 with Echo, then served with it",
               "RFC 9175 §2.3", "libcoap"):
        assert any("c:4.01" in p and "Echo:" in p for p in pdus), out
        assert any("c:PUT" in p and "Echo:" in p for p in pdus), out
        assert "c:2.04" in pdus[-1], out
        assert puts == [True]  # not for the PUT without a fresh Echo


def test_echo_over_ipv6(board):
    # sockaddr_in6 on the unix port: the address and scope are what the tag covers
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    try:
        s.settimeout(3)
        s.sendto(m.get("board", mtype=m.NON, token=b"12345678"), ("::1", board.port))
        first = m.decode(s.recv(2048))
        echo = m.option(first[4], ECHO)
        assert echo is not None and len(first[5]) == 16
        s.sendto(m.get("board", token=b"12345678", options=[(ECHO, echo)]), ("::1", board.port))
        r = m.decode(s.recv(2048))
        assert (r[1], m.option(r[4], 23)) == (69, None)
        assert json.loads(r[5])["name"] == "coap-board"
    finally:
        s.close()
