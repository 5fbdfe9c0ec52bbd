"""`make run CONFIG=examples/every-sensor.json`: every sensor type, read with
libcoap and aiocoap: /.well-known/core lists them, text/JSON/SenML answers
parse, /sensors is one SenML pack, the failing sensor answers 5.03."""

import asyncio
import json
import os
import re
import subprocess

import aiocoap
import cbor2
import pytest

from boardsim import ROOT, SimulatedBoard, make_run, stop_make_run
from conformance import check
from support import NUMBER, free_port

EXAMPLE = os.path.join(ROOT, "examples", "every-sensor.json")
#: path -> SenML unit (RFC 8428 §12.1), for every resource the example declares
EXPECTED = {
    "dht22/temp": "Cel", "dht22/humidity": "%RH", "shed/temp": "Cel", "shed/humidity": "%RH",
    "water": "Cel", "air/temp": "Cel", "air/humidity": "%RH", "air/pressure": "Pa",
    "baro/temp": "Cel", "baro/pressure": "Pa", "soil": "%", "mcu_temp": "Cel", "vsys": "V",
}
SENML_UNITS = {"Cel", "%RH", "Pa", "%", "V"}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:./_-]*$")  # RFC 8428 §4.5.1


def senml_check(pack):
    """RFC 8428 §4: an array of records; the resolved names valid and unique;
    bn only as a string, n/u strings, v a number, no unknown fields."""
    assert isinstance(pack, list) and pack
    bn = ""
    names = []
    for rec in pack:
        assert set(rec) <= {"bn", "n", "u", "v", "t", "bt"}, rec
        if "bn" in rec:
            bn = rec["bn"]
            assert isinstance(bn, str)
        name = bn + rec.get("n", "")
        assert _NAME.match(name), name
        assert isinstance(rec["v"], (int, float)) and not isinstance(rec["v"], bool)
        assert rec.get("u", "") in SENML_UNITS
        names.append(name)
    assert len(set(names)) == len(names)
    return {n: r for n, r in zip(names, pack)}


def _get(url, *args):
    out = subprocess.run(["coap-client-notls", "-B", "5", "-m", "get", *args, url],
                         capture_output=True, text=True, timeout=20)
    return out


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    port = free_port()
    cfg = json.load(open(EXAMPLE))
    cfg["port"] = port
    path = tmp_path_factory.mktemp("cfg") / "config.json"
    path.write_text(json.dumps(cfg))
    proc = make_run(["CONFIG=%s" % path], port)
    try:
        yield "coap://127.0.0.1:%d" % port
    finally:
        out = stop_make_run(proc)
    assert "config:" not in out, out  # the example is valid
    assert 'sensor broken: simulated failure ("fail": true)' in out


def test_well_known_lists_every_sensor(board):
    out = _get(board + "/.well-known/core")
    assert out.returncode == 0, out.stderr
    links = out.stdout.strip()
    for path, unit in list(EXPECTED.items()) + [("broken", "Cel")]:
        m = re.search(r'</sensors/%s>;([^,]*)' % re.escape(path), links)
        assert m, path
        attrs = m.group(1)
        assert 'if="core.s"' in attrs and 'ct="0 50 110 112"' in attrs and ";obs" in attrs, attrs
        assert 'rt="' in attrs and 'u="%s"' % unit in attrs, attrs
    assert '</sensors>;rt="sensors-senml";if="core.b";ct="110 112";obs' in links


@pytest.mark.parametrize("path", sorted(EXPECTED))
def test_text_json_senml_with_libcoap(board, path):
    text = _get(board + "/sensors/" + path)
    assert text.returncode == 0, text.stderr
    value = float(text.stdout.strip())
    assert NUMBER.fullmatch(text.stdout.strip())
    as_json = json.loads(_get(board + "/sensors/" + path, "-A", "50").stdout)
    assert as_json.get("unit", "") == EXPECTED[path]
    with check("SenML JSON: a record per reading, names and units valid", "RFC 8428 §4",
               "libcoap"):
        records = senml_check(json.loads(_get(board + "/sensors/" + path, "-A", "110").stdout))
        rec = records["greenhouse:" + path]
        assert rec["u"] == EXPECTED[path]
    # one simulation step (1 s) may pass between the reads: values stay close
    assert abs(rec["v"] - value) < 1000 and abs(list(as_json.values())[0] - value) < 1000


def test_pack_and_failure_with_aiocoap(board):
    async def go():
        ctx = await aiocoap.Context.create_client_context()
        try:
            pack = await ctx.request(aiocoap.Message(code=aiocoap.GET,
                                                     uri=board + "/sensors")).response
            broken = await ctx.request(aiocoap.Message(code=aiocoap.GET,
                                                       uri=board + "/sensors/broken")).response
            info = await ctx.request(aiocoap.Message(code=aiocoap.GET,
                                                     uri=board + "/board")).response
            cbor = await ctx.request(aiocoap.Message(code=aiocoap.GET, uri=board + "/sensors",
                                                     accept=112)).response
            return pack, broken, info, cbor
        finally:
            await ctx.shutdown()

    pack, broken, info, cbor = asyncio.run(go())
    with check("SenML JSON: a record per reading, names and units valid", "RFC 8428 §4",
               "aiocoap"):
        assert str(pack.code) == "2.05 Content"
        assert pack.opt.content_format == 110
        records = senml_check(json.loads(pack.payload))
        assert set(records) == {"greenhouse:" + p for p in EXPECTED}  # the failing one left out
    with check("No reading to give: 5.03 with a diagnostic, Max-Age: when to retry",
               "RFC 7252 §5.9.3.4", "aiocoap"):
        assert str(broken.code) == "5.03 Service Unavailable"
        assert broken.payload == b'broken: simulated failure ("fail": true)'
        assert broken.opt.max_age == 1
    records_json = records
    errors = json.loads(info.payload)["sensor_errors"]
    assert errors["broken"] >= 1 and errors["water"] == 0 and len(errors) == 9

    # SenML CBOR (RFC 8428 §6): the same pack with integer labels, values as floats
    with check("SenML CBOR: integer labels, the same records", "RFC 8428 §6", "aiocoap"):
        assert cbor.opt.content_format == 112
        records = cbor2.loads(cbor.payload)
        as_json = [{{-2: "bn", 0: "n", 1: "u", 2: "v"}[k]: v for k, v in r.items()}
                   for r in records]
        by_name = senml_check(as_json)
        assert set(by_name) == {"greenhouse:" + p for p in EXPECTED}
        assert all(isinstance(r["v"], float) for r in as_json)
        for name, rec in by_name.items():  # the same records as the JSON pack
            assert rec.get("u") == records_json[name].get("u"), name


def test_a_bad_sensor_is_left_out_and_the_rest_served():
    sensors = [{"type": "bme280", "name": "air", "i2c": {"sda": 21, "scl": 22}, "address": 200},
               {"type": "ds18b20", "name": "water", "pin": 5}]
    with SimulatedBoard(config={"sensors": sensors}) as b:
        lines = [line for line in b.output().splitlines() if line.startswith("config:")]
        assert lines == ["config: sensors[0] (air): address: expected a 7-bit I2C address, "
                         "8 to 119, got 200; sensor left out"]
        url = "coap://127.0.0.1:%d/sensors/" % b.port
        assert NUMBER.fullmatch(_get(url + "water").stdout.strip())
        assert "4.04" in _get(url + "air/temp").stderr + _get(url + "air/temp").stdout
