"""tools/readings.py against the simulated board's own answers: which of its
links are sensors to watch, and the number in each format a sensor offers."""

import asyncio
import json
import os

import pytest
from aiocoap import GET, Context, Message

from boardsim import ROOT, SimulatedBoard
from tools.readings import JSON, SENML_JSON, TEXT, Sensor, number, sensors


def get(port, path, accept=None):
    async def go():
        ctx = await Context.create_client_context()
        try:
            msg = Message(code=GET, uri="coap://127.0.0.1:%d%s" % (port, path))
            if accept is not None:
                msg.opt.accept = accept
            return await asyncio.wait_for(ctx.request(msg).response, 20)
        finally:
            await ctx.shutdown()
    return asyncio.run(go())


def test_the_default_boards_sensors(board):
    wkc = get(board.port, "/.well-known/core").payload.decode()
    assert sensors(wkc) == [Sensor("/sensors/temp", "Cel", (0, 50, 110, 112)),
                            Sensor("/sensors/humidity", "%RH", (0, 50, 110, 112))]


def test_every_sensor_type_and_not_the_pack():
    cfg = json.load(open(os.path.join(ROOT, "examples", "every-sensor.json")))
    with SimulatedBoard(config=cfg) as b:
        found = sensors(get(b.port, "/.well-known/core").payload.decode())
    paths = [s.path for s in found]
    assert len(paths) == 14 and "/sensors" not in paths, paths  # the pack repeats them
    assert "/sensors/air/pressure" in paths and "/sensors/broken" in paths
    assert dict((s.path, s.unit) for s in found)["/sensors/air/pressure"] == "Pa"


def test_links_that_are_not_sensors_to_watch():
    links = ('</a>;obs;ct=0,</b>;ct=0,<coap://other/c>;obs;ct=0,</d>;obs;ct=112,'
             '</e>;obs;if="core.b";ct=110,<f>;obs')
    # b: not observable; c: another host; d: CBOR only; e: a batch
    assert [s.path for s in sensors(links)] == ["/a", "/f"]
    with pytest.raises(ValueError):
        sensors("not <link format")


@pytest.mark.parametrize("fmt", [TEXT, JSON, SENML_JSON])
def test_the_number_in_each_format(board, fmt):
    resp = get(board.port, "/sensors/temp", fmt)
    assert resp.opt.content_format == fmt
    value, why = number(resp)
    assert why is None and 18.5 <= value <= 24.5, resp.payload  # the simulated range
    assert ("%.2f" % value).encode() in resp.payload


def test_an_error_is_no_number_but_a_reason(board):
    assert number(get(board.port, "/sensors/nothing")) == (None, "4.04")
    with SimulatedBoard(config={"sensors": [{"type": "ds18b20", "name": "broken", "pin": 6,
                                             "fail": True}]}) as b:
        value, why = number(get(b.port, "/sensors/broken"))
    assert value is None and why.startswith("5.03: broken: "), why
