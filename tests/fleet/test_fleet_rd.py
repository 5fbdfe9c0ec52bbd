"""Registration into a real Resource Directory (aiocoap-rd, RFC 9176), on loopback.

A board with an RD in its config (or in COAP_RD) registers its links, shows up
in the RD's endpoint and resource lookups, stays there past its lifetime while
it refreshes, and disappears once it stops (aiocoap-rd drops a registration
15 s after its lifetime ends).
"""

import re
import time

import pytest

from boardsim import SimulatedBoard, free_port
from rdpeer import ResourceDirectory, endpoints, resources, wait_for

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
            assert "rd: registered as /reg/" in board.output()
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


def test_unreachable_rd_is_retried_until_it_is_there():
    port = free_port()
    config = {"name": "fleet-late", "rd": "coap://127.0.0.1:%d" % port}
    with SimulatedBoard(config=config) as board:
        said = wait_for(lambda: "rd: discovery: unreachable; retrying in 5 s" in board.output(), 5)
        assert said, board.output()
        with ResourceDirectory("127.0.0.1", port) as rd:
            listed = wait_for(lambda: 'ep="fleet-late"' in endpoints(rd.host, rd.port), 30)
            assert listed, board.output()


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
