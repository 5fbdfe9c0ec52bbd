"""A bad config.json field: one line naming it, defaults used, the board still serves."""

import json
import subprocess

import pytest

from boardsim import SimulatedBoard, free_port, ping

# field -> a bad value; each must produce a line "config: <field>: expected ..."
BAD_FIELDS = {
    "name": 'a "quoted" name',
    "port": "5683",
    "bind": "127.0.0.1",
    "wifi": {"ssid": 42},
    "sensors": ["temperature", "pressure"],
    "led_pin": -3,
    "dht_pin": [4],
    "adc_pins": "34",
    "seed": -1,
}


def _coap_get(port, path):
    out = subprocess.run(["coap-client-notls", "-B", "3", "-m", "get",
                          "coap://127.0.0.1:%d/%s" % (port, path)],
                         capture_output=True, text=True, timeout=20)
    return out.stdout.strip()


@pytest.mark.parametrize("field", sorted(BAD_FIELDS))
def test_bad_field_is_named_and_board_serves_on_defaults(field):
    port = free_port()
    config = {"port": port, field: BAD_FIELDS[field]}
    if field == "port":
        config = {"port": BAD_FIELDS[field]}
        port = 5683
        assert not ping("127.0.0.1", port), "port 5683 is taken; can't check the default"
    with SimulatedBoard(config=config, port=port) as board:
        lines = [line for line in board.output().splitlines() if line.startswith("config:")]
        assert len(lines) == 1, lines
        assert lines[0].startswith("config: %s: expected " % field), lines[0]
        assert "got %s" % json.dumps(BAD_FIELDS[field]) in lines[0]
        assert "using " in lines[0]
        assert _coap_get(port, "sensors/temp")  # still serving
        info = json.loads(_coap_get(port, "board"))
        assert info["name"] == "coap-board" or field != "name"
        if field == "sensors":
            # the default sensor list, not the bad one: humidity is still served
            assert _coap_get(port, "sensors/humidity")


def test_unknown_field_and_bad_json_and_missing_file():
    port = free_port()
    with SimulatedBoard(config={"port": port, "colour": "red"}, port=port) as board:
        assert "config: unknown field 'colour' ignored" in board.output()
        assert _coap_get(port, "sensors/temp")


def test_invalid_json_falls_back_to_defaults(tmp_path):
    import os
    from boardsim import BOARD_PATH, MICROPYTHON, ROOT
    assert not ping("127.0.0.1", 5683), "port 5683 is taken; can't check the default"
    cfg = tmp_path / "config.json"
    cfg.write_text('{"port": 5683,')
    proc = subprocess.Popen([MICROPYTHON, os.path.join(ROOT, "firmware", "main.py"), str(cfg)],
                            env=dict(os.environ, MICROPYPATH=BOARD_PATH), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        for _ in range(200):
            if ping("127.0.0.1", 5683):
                break
        assert ping("127.0.0.1", 5683)
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=5)
    assert "config: %s is not valid JSON" % cfg in out
