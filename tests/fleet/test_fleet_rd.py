"""Registration into a real Resource Directory (aiocoap-rd, RFC 9176), on loopback.

A board with an RD in its config (or in COAP_RD) registers its links, shows up
in the RD's endpoint and resource lookups, stays there past its lifetime while
it refreshes, and disappears once it stops (aiocoap-rd drops a registration
15 s after its lifetime ends).
"""

import re
import time
import warnings

import pytest

from boardsim import SimulatedBoard, ping
from support import free_port
from fleetnet import BRIDGE, Board, Net
from rdpeer import (HostileResourceDirectory, MulticastResourceDirectory, ResourceDirectory,
                    endpoints, resources, wait_for)

LIFETIME_S = 2    # RFC 9176 asks for >= 60; aiocoap-rd takes less, which keeps this short
RD_GRACE_S = 15   # aiocoap-rd's grace period after a lifetime ends (Registration.grace_period)


@pytest.fixture(autouse=True)
def no_rd_from_outside(monkeypatch):
    monkeypatch.delenv("COAP_RD", raising=False)  # a developer's own would change every board


def board_links(board):
    """The hrefs of the board's own /.well-known/core."""
    import subprocess
    r = subprocess.run(["coap-client-notls", "-B", "3", "-m", "get",
                        "coap://127.0.0.1:%d/.well-known/core" % board.port],
                       capture_output=True, text=True, timeout=20)
    return set(re.findall(r"<([^>]*)>", r.stdout))


def test_registers_refreshes_and_disappears_after_it_stops():
    with ResourceDirectory("127.0.0.1", free_port()) as rd:
        board = SimulatedBoard(config={"name": "fleet-a", "rd": rd.uri,
                                       "rd_lifetime_s": LIFETIME_S}).start()
        try:
            listed = wait_for(lambda: 'ep="fleet-a"' in endpoints(rd.host, rd.port), 10)
            assert listed, board.output()
            since = time.monotonic()
            base = "coap://127.0.0.1:%d" % board.port
            assert 'base="%s"' % base in endpoints(rd.host, rd.port)
            temps = resources(rd.host, rd.port, "rt=temperature-c")
            assert "<%s/sensors/temp>" % base in temps, temps
            # every link of the board's /.well-known/core, resolved against its base
            mine = set(re.findall(r"<%s([^>]*)>" % re.escape(base),
                                  resources(rd.host, rd.port, "ep=fleet-a")))
            assert mine == board_links(board)
            # the RD lists the board as it sends the 2.01; the board logs on reading it
            assert wait_for(lambda: "rd: registered as /reg/" in board.output(), 5), \
                board.output()
            # Past lifetime + grace the RD would have dropped it without refreshes
            while time.monotonic() - since < LIFETIME_S + RD_GRACE_S + 2:
                assert 'ep="fleet-a"' in endpoints(rd.host, rd.port), board.output()
                time.sleep(1)
        finally:
            out = board.stop()
        assert "rd:" in out and "retrying" not in out, out
        gone = wait_for(lambda: 'ep="fleet-a"' not in endpoints(rd.host, rd.port),
                        LIFETIME_S + RD_GRACE_S + 15, step=1)
        assert gone, endpoints(rd.host, rd.port)


def test_rd_from_the_environment_over_ipv6(monkeypatch):
    with ResourceDirectory("::1", free_port()) as rd:
        monkeypatch.setenv("COAP_RD", rd.uri)  # what `COAP_RD=... make run` does
        with SimulatedBoard(config={"name": "fleet-6"}) as board:
            base = "coap://[::1]:%d" % board.port
            found = wait_for(lambda: "<%s/sensors/temp>" % base in resources(
                rd.host, rd.port, "rt=temperature-c"), 10)
            assert found, board.output()
            assert 'ep="fleet-6"' in endpoints(rd.host, rd.port)


def test_a_hostile_rd_answer_never_stops_the_board_answering():
    """#21 finding 5: a 2.01 with a Location-Path that is not UTF-8 raised inside
    the tick, and the serve loop paused 1 s per registration. Now it is a
    refusal with back-off: every poll is answered, the loop never pauses."""
    with HostileResourceDirectory("127.0.0.1", free_port()) as rd:
        with SimulatedBoard(config={"name": "fleet-h", "rd": rd.uri}) as board:
            assert wait_for(lambda: rd.posts, 10), board.output()
            answered = 0
            for _ in range(30):  # 3 s of polls: the old loop registered again every second
                answered += ping(board.host, board.port, timeout=2)
                time.sleep(0.1)
            out = board.output()
    assert answered == 30, out
    assert ("rd: registration: refused with 2.01 and a Location-Path that is not UTF-8; "
            "retrying in 5 s") in out, out
    assert "serve loop error" not in out and "tick error" not in out, out


def test_unreachable_rd_is_retried_until_it_is_there():
    port = free_port()
    config = {"name": "fleet-late", "rd": "coap://127.0.0.1:%d" % port}
    with SimulatedBoard(config=config) as board:
        said = wait_for(lambda: "rd: discovery: unreachable; retrying in 5 s" in board.output(), 5)
        assert said, board.output()
        with ResourceDirectory("127.0.0.1", port) as rd:
            listed = wait_for(lambda: 'ep="fleet-late"' in endpoints(rd.host, rd.port), 30)
            assert listed, board.output()


@pytest.mark.parametrize("family", ["any", "ipv6"])
def test_rd_found_by_multicast_once_one_answers(family):
    """RFC 9176 §4: the board asks the All-CoAP-Nodes groups for an RD, retries
    with back-off while none answers, and registers with the first that does.
    ipv6: the board has only an IPv6 address, so only ff02::fd is asked."""
    net = Net(1).up()
    if not net.namespaces:
        if family == "ipv6":
            net.down()
            pytest.skip("IPv6 multicast needs the namespaces (%s)" % net.why)
        warnings.warn("fleet: no network namespaces (%s); RD discovery on IPv4 loopback"
                      % net.why)
    rd_port = 5683 if net.namespaces else free_port()  # on loopback the board has net.port
    rd = MulticastResourceDirectory(net, net.client_ns if net.namespaces else None,
                                    net.client_address(), rd_port,
                                    BRIDGE if net.namespaces else "lo")
    rd_cfg = "multicast" if rd_port == 5683 else "multicast:%d" % rd_port
    board = Board(net, 0, {"name": "fleet-mc", "rd": rd_cfg, "rd_lifetime_s": LIFETIME_S})
    v4, v6 = net.board_addresses(0)
    if family == "ipv6":
        board.config["bind"] = [v6]
    try:
        board.start()
        said = wait_for(lambda: "rd: multicast discovery: no answer; retrying in 5 s"
                        in board.output(), 10)
        assert said, board.output()
        rd.start()
        listed = wait_for(lambda: 'ep="fleet-mc"' in (rd.endpoints() or ""), 20, step=0.5)
        assert listed, board.output() + rd.stop()
        assert wait_for(lambda: "rd: registered as /reg/" in board.output(), 5), board.output()
        out = board.output()
        bases = (['base="coap://%s:%d"' % (v4, net.port)] if family == "any" else []) + (
            ['base="coap://[%s]:%d"' % (v6, net.port)] if v6 else [])
        assert any(b in rd.endpoints() for b in bases), rd.endpoints()
        found = re.search(r"rd: found (coap://\S+) by multicast", out)
        assert found and found.group(1).endswith(":%d/resourcedirectory/" % rd_port), out
        time.sleep(LIFETIME_S * 2)  # refreshes go to the RD found, and it answers them
        after = board.output().split("rd: registered as", 1)[1]
        assert "retrying" not in after and "rd: found" not in after, board.output()
        assert 'ep="fleet-mc"' in rd.endpoints()
    finally:
        board.stop()
        rd.stop()
        net.down()


BAD = {  # field -> a bad value: named in one line, default used, still serving
    "multicast": "yes",
    "multicast_leisure_ms": -1,
    "rd": "http://127.0.0.1:5783",
    "rd_lifetime_s": 0,
}


@pytest.mark.parametrize("field", sorted(BAD))
def test_bad_fleet_field_is_named(field):
    with SimulatedBoard(config={field: BAD[field]}) as board:
        lines = [x for x in board.output().splitlines() if x.startswith("config:")]
        assert len(lines) == 1 and lines[0].startswith("config: %s: expected " % field), lines


def test_bad_coap_rd_is_named(monkeypatch):
    monkeypatch.setenv("COAP_RD", "127.0.0.1:5783")
    with SimulatedBoard() as board:
        out = board.output()
        assert 'config: COAP_RD: expected null or a URI' in out and "rd:" not in out, out


def test_wildcard_binds_say_why_nothing_joins_or_registers():
    with SimulatedBoard(config={"bind": ["0.0.0.0"], "multicast": True,
                                "rd": "coap://127.0.0.1:9"}) as board:
        out = board.output()
        assert ("multicast: can't join 224.0.1.187 port %d: no IPv4 address bound"
                % board.port) in out, out
        assert "rd: no IPv4 address bound to tell the RD" in out, out
        assert "multicast: listening" not in out


def test_no_rd_no_multicast_by_default():
    with SimulatedBoard() as board:
        out = board.output()
        assert "multicast:" not in out and "rd:" not in out, out


def test_rd_field_values():
    import os
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "firmware"))
    import config
    check = config.CHECKS["rd"][0]
    for good in (None, "multicast", "multicast:5783", "coap://127.0.0.1", "coap://[::1]:5783/rd"):
        assert check(good), good
    for bad in ("multicast:", "multicast:0", "multicast:65536", "multicast:x", "multicasts",
                "multicast5683", "Multicast", "coap://", 5683):
        assert not check(bad), bad


def test_multicast_under_the_default_binding_says_what_to_set():
    # bound to loopback, the board joins on lo, where no group request arrives
    with SimulatedBoard(config={"multicast": True}) as board:
        out = board.output()
    assert ('multicast: bound to loopback only, where group requests (this host\'s too) '
            'never arrive; to answer them set "bind" to this host\'s address') in out, out
