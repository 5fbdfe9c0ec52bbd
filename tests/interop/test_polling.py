"""Polling a prepared resource (lib/coap/prepared.py) with a real client: libcoap's
coap-client polling with one token, so the board answers from its kept answers,
still reads every change: a PUT, and the sensors' own refresh."""

import time

from test_libcoap import one_response

TOKEN = ("-T", "cafe")  # the same token length and bytes every time: the replay's case


def get(board, path):
    _, resp = one_response(board, path, *TOKEN)
    assert resp.code == "2.05", resp
    return resp.payload


def put(board, path, payload):
    _, resp = one_response(board, path, "-e", payload, method="put")
    assert resp.code == "2.04", resp


def test_a_get_after_a_put_shows_the_put(board):
    for state in ("on", "off", "on", "off"):
        put(board, "actuators/led", state)
        # the first GET may be answered in full, the next ones from the kept answer
        assert [get(board, "actuators/led") for _ in range(3)] == [state] * 3


def test_a_polled_reading_follows_the_sensor(board):
    # The simulated DHT22 is read every 2 s and moves at every read; a kept
    # answer that outlived a refresh would show one value for the whole poll
    seen = []
    end = time.monotonic() + 5.5
    while time.monotonic() < end:
        seen.append(get(board, "sensors/temp"))
        time.sleep(0.2)
    assert len(set(seen)) >= 2, seen
    # and a value never comes back after it changed (no stale answer in between)
    changes = [a for a, b in zip(seen, seen[1:]) if a != b]
    assert len(changes) == len(set(seen)) - 1, seen


def test_board_uptime_moves_within_seconds(board):
    import json

    first = json.loads(get(board, "board"))["uptime_ms"]
    time.sleep(1.3)
    later = json.loads(get(board, "board"))["uptime_ms"]
    assert later - first >= 1000, (first, later)
