"""Node-RED (npm node-red with node-red-contrib-coap, pinned in tools/node)
observing the board with its default config, as a Node-RED user would wire it:
an inject node fires once into two `coap request` nodes with Observe on
(/sensors/temp and the /sensors pack), whose messages go to a function node
that prints them. Node-RED runs headless from a flow file (no editor, no HTTP
server) for a few seconds.

The `coap request` node (0.6.0) sends no Accept option, so it gets each
resource's first format: text for /sensors/temp, SenML JSON for the pack."""

import json
import os
import signal
import subprocess
import time

import pytest

from boardsim import ROOT
from support import stop_process

NODE_DIR = os.path.join(ROOT, "tools", "node")
RED = os.path.join(NODE_DIR, "node_modules", "node-red", "red.js")
SETTINGS = """module.exports = { uiPort: 0, uiHost: "127.0.0.1", httpAdminRoot: false,
  httpNodeRoot: false, flowFile: "flows.json", logging: { console: { level: "info" } } };
"""
PRINT = ('node.warn("NOTE " + JSON.stringify({path: msg.path, code: msg.statusCode, '
         'format: msg.headers["Content-Format"], observe: msg.headers.Observe, '
         'payload: String(msg.payload)})); return null;')


def flow(port):
    def request(nid, path):
        return {"id": nid, "type": "coap request", "z": "t", "method": "GET", "observe": True,
                "url": "coap://127.0.0.1:%d/%s" % (port, path), "content-format": "text/plain",
                "raw-buffer": False, "name": path, "wires": [["tag-" + nid]]}

    def tag(nid, path):  # which request a message came from
        return {"id": "tag-" + nid, "type": "change", "z": "t", "rules": [
            {"t": "set", "p": "path", "pt": "msg", "to": path, "tot": "str"}], "wires": [["print"]]}
    return [{"id": "t", "type": "tab", "label": "board"},
            {"id": "go", "type": "inject", "z": "t", "once": True, "onceDelay": 0.1, "repeat": "",
             "payload": "", "payloadType": "str", "wires": [["temp", "pack"]]},
            request("temp", "sensors/temp"), tag("temp", "sensors/temp"),
            request("pack", "sensors"), tag("pack", "sensors"),
            {"id": "print", "type": "function", "z": "t", "func": PRINT, "outputs": 0, "wires": []}]


@pytest.fixture
def node_red(board, tmp_path):
    if not os.path.exists(RED):
        pytest.fail("node-red is missing: run `npm ci` in tools/node (tools/setup.sh does)")
    (tmp_path / "settings.js").write_text(SETTINGS)
    (tmp_path / "flows.json").write_text(json.dumps(flow(board.port)))
    log = open(tmp_path / "node-red.log", "w+")
    proc = subprocess.Popen(["node", RED, "--userDir", str(tmp_path), "--settings",
                             str(tmp_path / "settings.js")], cwd=NODE_DIR, stdout=log,
                            stderr=subprocess.STDOUT)
    yield proc, log
    stop_process(proc, signal.SIGINT)
    log.close()


def notes(log, want, timeout=30):
    """The NOTE lines so far, once each path has `want` of them (or time is up)."""
    deadline = time.monotonic() + timeout
    while True:
        log.seek(0)
        got = [json.loads(line[line.index("NOTE ") + 5:]) for line in log if "NOTE " in line]
        paths = [n["path"] for n in got]
        if min(paths.count("sensors/temp"), paths.count("sensors")) >= want:
            return got
        if time.monotonic() > deadline:
            log.seek(0)
            raise AssertionError(log.read()[-3000:])
        time.sleep(0.5)


def test_node_red_observes_temp_and_the_pack(node_red):
    proc, log = node_red
    got = notes(log, 3)  # the registration's answer and two notifications each
    temp = [n for n in got if n["path"] == "sensors/temp"]
    pack = [n for n in got if n["path"] == "sensors"]
    assert all(n["code"] == "2.05" and n["format"] == "text/plain" for n in temp), temp
    assert all(float(n["payload"]) > -40 for n in temp)
    assert all(n["code"] == "2.05" and n["format"] == "application/senml+json" for n in pack)
    assert all("temp" in [r.get("n") for r in json.loads(n["payload"])] for n in pack), pack
    assert len({n["observe"] for n in temp}) >= 3 and len({n["observe"] for n in pack}) >= 3
