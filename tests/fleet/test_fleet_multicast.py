"""Multicast discovery across several simulated boards (RFC 7252 §8, RFC 6690 §4).

Three boards with different sensors, each in its own network namespace on one
bridge (or, where namespaces can't be made, on its own loopback address: the
test says why). One multicast GET; every board that has something to say
answers after its leisure, the others stay silent.
"""

import warnings

import pytest

from fleetnet import Board, Net

SENSORS = {  # board -> its sensors: the rt values differ
    "both": ["temperature", "humidity"],
    "temp": ["temperature"],
    "hum": ["humidity"],
}
NAMES = sorted(SENSORS)
TEMP_LINK = '</sensors/temp>;rt="temperature-c"'
HUM_LINK = '</sensors/humidity>;rt="humidity-percent"'


@pytest.fixture(scope="module")
def fleet():
    net = Net(len(NAMES)).up()
    if not net.namespaces:
        warnings.warn("fleet: no network namespaces (%s); testing on loopback, IPv4 only"
                      % net.why)
    boards = {}
    try:
        for i, name in enumerate(NAMES):
            boards[name] = Board(net, i, {"name": name, "sensors": SENSORS[name],
                                          "multicast": True, "multicast_leisure_ms": 200})
            boards[name].start()
        yield net, boards
    finally:
        for b in boards.values():
            b.stop()
        net.down()


def who(net, boards, answers):
    """{board name: [(code, payload), ...]} of the answers, by source address."""
    by_addr = {b.address: name for name, b in boards.items()}
    if net.namespaces:
        by_addr.update({net.board_addresses(i)[1]: name for i, name in enumerate(NAMES)})
    out = {}
    for src, code, payload in answers:
        out.setdefault(by_addr.get(src, src), []).append((code, payload))
    return out


def test_every_board_joined_its_groups(fleet):
    net, boards = fleet
    for b in boards.values():
        out = b.output()
        assert "multicast: listening on 224.0.1.187 port %d" % net.port in out, out
        if net.namespaces:
            assert "multicast: listening on ff02::fd port %d" % net.port in out, out


@pytest.mark.parametrize("v6", [False, True], ids=["ipv4", "ipv6"])
def test_rt_filter_only_matching_boards_answer(fleet, v6):
    net, boards = fleet
    if v6 and not net.namespaces:
        pytest.skip("IPv6 multicast needs the namespaces: %s" % net.why)
    got = who(net, boards, net.multicast_get(".well-known/core", "rt=temperature-c", v6=v6))
    assert sorted(got) == ["both", "temp"], got
    for name in ("both", "temp"):
        [(code, payload)] = got[name]  # one answer each
        assert code == 69 and payload.startswith(TEMP_LINK), payload
        assert "humidity" not in payload
    got = who(net, boards, net.multicast_get(".well-known/core", "rt=humidity*", v6=v6))
    assert sorted(got) == ["both", "hum"], got


def test_unfiltered_discovery_hears_everyone(fleet):
    net, boards = fleet
    got = who(net, boards, net.multicast_get(".well-known/core"))
    assert sorted(got) == NAMES, got
    # A group request is the classic amplifier: each board keeps its answer within
    # 3x of it (RFC 9175 §2.4), so the whole list comes as its first block, to be
    # continued by unicast (RFC 7959 §2.8); the filters above pick links out whole.
    led = '</actuators/led>;rt="core.a";if="core.a"'
    for name in NAMES:
        [(code, payload)] = got[name]
        assert code == 69 and len(payload) >= 16 and led.startswith(payload), (name, payload)


def test_errors_and_pings_to_the_group_are_silence(fleet):
    # §8.1: a 4.04 from the board without the resource, and the RST for a ping, are never sent
    net, boards = fleet
    got = who(net, boards, net.multicast_get("sensors/humidity"))
    assert sorted(got) == ["both", "hum"], got  # "temp" lacks it: silent, not 4.04
    assert all(code == 69 for answers in got.values() for code, _ in answers), got
    assert net.multicast_get("no/such/resource") == []
    assert net.multicast_get("", mtype="CON") == []  # empty CON: a ping
    assert net.multicast_get("sensors/temp", mtype="CON") == []  # §8.1: MUST be NON


def test_boards_still_answer_unicast(fleet):
    net, boards = fleet
    b = boards["hum"]
    r = net.run(net.client_ns if net.namespaces else None,
                ["coap-client-notls", "-B", "3", "-m", "get",
                 "coap://%s:%d/sensors/temp" % (b.address, net.port)])
    assert "4.04" in r.stdout + r.stderr, (r.stdout, r.stderr)  # unicast errors are sent


def test_coap_client_discovers_by_multicast(fleet):
    # The command docs/fleet.md gives (port added when not 5683)
    net, boards = fleet
    port = "" if net.port == 5683 else ":%d" % net.port
    ns = net.client_ns if net.namespaces else None
    if not net.namespaces:
        pytest.skip("coap-client can't choose lo for multicast without a route: %s" % net.why)
    url = "coap://224.0.1.187%s/.well-known/core?rt=temperature-c" % port
    r = net.run(ns, ["coap-client-notls", "-m", "get", "-N", "-B", "3", url])
    assert r.returncode == 0, r.stderr
    assert r.stdout.count(TEMP_LINK) == 2, r.stdout  # "both" and "temp", printed back to back
    url6 = "coap://[ff02::fd%%br0]%s/.well-known/core?rt=humidity-percent" % port
    r = net.run(ns, ["coap-client-notls", "-m", "get", "-N", "-B", "3", url6])
    assert r.stdout.count(HUM_LINK) == 2, r.stdout
