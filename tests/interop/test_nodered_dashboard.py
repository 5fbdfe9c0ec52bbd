"""examples/node-red/flow.json, as shipped, in Node-RED (tools/node: node-red,
node-red-contrib-coap, node-red-dashboard) headless with its default settings,
against the simulated board: the board's notifications reach the dashboard.

A browser's view of the dashboard (tests/interop/dashboard.py) must receive
chart points for every sensor of the board, from several notifications, and
the table of the latest readings."""

import os
import signal
import subprocess
import time

import pytest

from boardsim import ROOT
from dashboard import DashboardClient
from support import free_tcp_port, stop_process

NODE_DIR = os.path.join(ROOT, "tools", "node")
RED = os.path.join(NODE_DIR, "node_modules", "node-red", "red.js")
FLOW = os.path.join(ROOT, "examples", "node-red", "flow.json")
SERIES = {"temp (Cel)": (15, 30), "humidity (%RH)": (20, 90)}  # the default config's


@pytest.fixture
def dashboard(board, tmp_path):
    if not os.path.exists(os.path.join(NODE_DIR, "node_modules", "node-red-dashboard")):
        pytest.fail("node-red-dashboard is missing: run `npm ci` in tools/node "
                    "(tools/setup.sh --peers does)")
    port = free_tcp_port()
    log = open(tmp_path / "node-red.log", "w+")
    env = dict(os.environ, BOARD="coap://127.0.0.1:%d" % board.port)
    proc = subprocess.Popen(["node", RED, "--userDir", str(tmp_path), "--port", str(port), FLOW],
                            cwd=NODE_DIR, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        client, deadline = None, time.monotonic() + 60
        while client is None:  # the dashboard answers once Node-RED has started
            try:
                client = DashboardClient("http://127.0.0.1:%d/ui" % port)
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, _tail(log)
                time.sleep(0.5)
        yield client, log
    finally:
        stop_process(proc, signal.SIGINT)
        log.close()


def _tail(log):
    log.seek(0)
    return log.read()[-3000:]


def test_the_dashboard_charts_every_sensor_from_notifications(dashboard):
    client, log = dashboard
    points = {name: [] for name in SERIES}
    tables = []
    deadline = time.monotonic() + 60
    while min(len(p) for p in points.values()) < 3 or not tables:
        assert time.monotonic() < deadline, (points, tables, _tail(log))
        for name, data in client.events():
            if name != "update-value":
                continue
            if data["id"] == "chart":  # a point each: {"series": name, "data": {x, y}}
                # (an update without "value" sets the chart's options: no point)
                for v in data.get("value") or ():
                    points.setdefault(v["values"]["series"], []).append(v["values"]["data"])
            elif data["id"] == "table":
                tables.append(data["msg"])
    assert set(points) == set(SERIES), points  # every sensor, and nothing else
    for name, (lo, hi) in SERIES.items():
        times = [p["x"] for p in points[name]]
        assert times == sorted(times) and len(set(times)) == len(times), points[name]
        assert all(lo <= p["y"] <= hi for p in points[name]), points[name]
    # the table: each sensor's latest reading, from a notification (RFC 7641 Observe number)
    rows = {r["name"]: r for r in tables[-1]["payload"]}
    assert set(rows) == {"temp", "humidity"}, tables[-1]
    assert rows["temp"]["unit"] == "Cel" and float(rows["temp"]["value"]) > 0
    assert isinstance(tables[-1]["observe"], int)
