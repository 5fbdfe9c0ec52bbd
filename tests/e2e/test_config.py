"""A bad config.json field: one line naming it, defaults used, the board still serves."""

import json
import subprocess

import pytest

from boardsim import SimulatedBoard, ping
from support import free_port, stop_process

# field -> a bad value; each must produce a line "config: <field>: expected ..."
BAD_FIELDS = {
    "name": 'a "quoted" name',
    "port": "5683",
    "bind": "127.0.0.1",
    "wifi": {"ssid": 42},
    "sensors": ["temperature", "pressure"],
    "led_pin": -3,
    "dht_pin": [4],
    "seed": -1,
    "amplification_limit": "off",
    "max_age_s": 90000,
    "sleep": {"awake_s": 5},  # sleep_s missing: a board that never wakes is refused
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
        if field == "wifi":  # it may hold a password: named, never shown
            assert "got a value not shown" in lines[0]
        else:
            assert "got %s" % json.dumps(BAD_FIELDS[field]) in lines[0]
        assert "using " in lines[0]
        assert _coap_get(port, "sensors/temp")  # still serving
        info = json.loads(_coap_get(port, "board"))
        assert info["name"] == "coap-board" or field != "name"
        if field == "sensors":
            # the default sensor list, not the bad one: humidity is still served
            assert _coap_get(port, "sensors/humidity")


# "ppp" names the field inside it; a dial command may hold the APN's password
BAD_PPP = {
    "ppp.baud": ({"uart": 1, "baud": "fast"}, 'got "fast"'),
    "ppp.uart": ({"baud": 115200}, "missing"),
    "ppp.dial": ({"uart": 1, "dial": ['AT+CGAUTH=1,1,"u","hunter2"', "hangup"]},
                 "got a value not shown"),
    "ppp.timeout_ms": ({"uart": 1, "timeout_ms": 5}, "got 5"),
    "ppp": ({"uart": 1, "pin": "1234"}, "unknown field 'pin'"),
}


@pytest.mark.parametrize("field", sorted(BAD_PPP))
def test_bad_ppp_field_is_named_and_never_shows_a_dial_command(field):
    port = free_port()
    value, shown = BAD_PPP[field]
    with SimulatedBoard(config={"port": port, "ppp": value}, port=port) as board:
        out = board.output()
        lines = [line for line in out.splitlines() if line.startswith("config:")]
        assert len(lines) == 1, lines
        assert lines[0].startswith("config: %s: " % field), lines[0]
        assert shown in lines[0] and lines[0].endswith("; using null (no PPP)"), lines[0]
        assert "hunter2" not in out
        assert _coap_get(port, "sensors/temp")  # still serving


def test_unknown_field_and_bad_json_and_missing_file():
    port = free_port()
    with SimulatedBoard(config={"port": port, "colour": "red"}, port=port) as board:
        assert "config: unknown field 'colour' ignored" in board.output()
        assert _coap_get(port, "sensors/temp")


def test_invalid_json_on_a_board_falls_back_to_defaults(tmp_path):
    # the board's own config.json (no file named): defaults, one line saying where
    import os
    from boardsim import BOARD_PATH, MICROPYTHON, ROOT
    assert not ping("127.0.0.1", 5683), "port 5683 is taken; can't check the default"
    (tmp_path / "config.json").write_text('{\n  "port": 5683,\n  "name": x\n}')
    proc = subprocess.Popen([MICROPYTHON, os.path.join(ROOT, "firmware", "main.py")],
                            env=dict(os.environ, MICROPYPATH=BOARD_PATH), text=True,
                            cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        for _ in range(200):
            if ping("127.0.0.1", 5683):
                break
        assert ping("127.0.0.1", 5683)
    finally:
        out = stop_process(proc, timeout=5)
    assert ("config: config.json is not valid JSON at line 3, column 11 ('x'); "
            "using defaults") in out


@pytest.mark.parametrize("text, where", [
    ('{"port": 5683,', "line 1, column 15 (end of file)"),
    # MicroPython's json takes these two; the RFC does not
    ('{\n  "port": 5683\n  "name": "x"\n}', "line 3, column 3 ('\"')"),
    ('{"port": 5683,\n "name": "a",\n}\n', "line 3, column 1 ('}')"),
    ('{"sensors": [{"type": dht22}]}', "line 1, column 23 ('d')"),
])
def test_invalid_json_named_on_the_command_line_is_an_error(tmp_path, text, where):
    cfg = tmp_path / "bad.json"
    cfg.write_text(text)
    status, out = _run_main([str(cfg)], cwd=str(tmp_path))
    assert status == 1
    assert out.strip() == "coap: config file %s is not valid JSON at %s" % (cfg, where)


def _run_main(args, timeout=20, cwd=None):
    """Run the firmware's main.py with args until it exits; (status, output)."""
    import os
    from boardsim import BOARD_PATH, MICROPYTHON, ROOT
    proc = subprocess.run([MICROPYTHON, os.path.join(ROOT, "firmware", "main.py")] + args,
                          env=dict(os.environ, MICROPYPATH=BOARD_PATH), cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.mark.parametrize("wifi", [
    {"ssid": "home", "password": "hunter2-s3cret", "country": "UK1"},
    {"ssid": "home", "password": "hunter2-s3cret", "retries": "3"},
    "hunter2-s3cret",
])
def test_a_bad_wifi_field_never_shows_the_password(wifi):
    port = free_port()
    with SimulatedBoard(config={"port": port, "wifi": wifi}, port=port) as board:
        ring = _coap_get(port, "board/log")
        out = board.output()
    lines = [line for line in out.splitlines() if line.startswith("config:")]
    assert len(lines) == 1 and lines[0].startswith("config: wifi: expected "), lines
    assert "config: wifi:" in ring  # the line reached /board/log ...
    assert "hunter2" not in out and "hunter2" not in ring  # ... without the secret


def test_a_secret_under_any_field_is_never_shown():
    # A field added later (OSCORE keys) is covered by its key names alone
    port = free_port()
    for sensors in ([{"secret": "0123456789abcdef-oscore"}],
                    [{"type": {"secret": "0123456789abcdef"}}],
                    [{"type": "dht22", "pin": {"key": "0123456789abcdef"}}]):
        with SimulatedBoard(config={"port": port, "sensors": sensors}, port=port) as board:
            out = board.output()
        assert "config: sensors[0]" in out
        assert "0123456789abcdef" not in out


def test_a_name_with_control_characters_is_refused_and_board_is_valid_json():
    port = free_port()
    with SimulatedBoard(config={"port": port, "name": "a\u0000b\nc"}, port=port) as board:
        info = json.loads(_coap_get(port, "board"))
        out = board.output()
    assert info["name"] == "coap-board"
    assert "config: name: expected " in out


def test_a_name_with_unicode_is_kept():
    port = free_port()
    with SimulatedBoard(config={"port": port, "name": "Küche ☀"}, port=port):
        assert json.loads(_coap_get(port, "board"))["name"] == "Küche ☀"


def test_board_log_has_what_the_board_prints():
    port = free_port()
    with SimulatedBoard(config={"port": port}, port=port) as board:
        subprocess.run(["coap-client-notls", "-B", "3", "-m", "put", "-e", "on",
                        "coap://127.0.0.1:%d/actuators/led" % port],
                       capture_output=True, timeout=20)
        ring = _coap_get(port, "board/log")
        assert "board: LED on" in board.output()
    assert "board: LED on" in ring


@pytest.mark.parametrize("text", [
    '{"name": "%s"}' % ("x" * (1 << 20)),                   # 1 MB
    "[" * 200000 + "]" * 200000,                             # deeply nested
    '{"sensors": ' + "[" * 2000 + "]" * 2000 + "}",         # nested, but small
], ids=["1MB", "nested-400KB", "nested-4KB"])
def test_huge_or_deep_config_means_defaults_and_one_line(tmp_path, text):
    # config.load on the simulated board with a board's heap (256 KB), where
    # reading it all would run out of memory
    import os
    from boardsim import BOARD_PATH, MICROPYTHON
    cfg = tmp_path / "config.json"
    cfg.write_text(text)
    script = tmp_path / "load.py"
    script.write_text("import config\n"
                      "cfg, problems = config.load(%r)\n"
                      "print(cfg == config.DEFAULTS)\n"
                      "for p in problems:\n    print(p)\n" % str(cfg))
    out = subprocess.run([MICROPYTHON, "-X", "heapsize=256K", str(script)],
                         env=dict(os.environ, MICROPYPATH=BOARD_PATH),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "True", lines
    assert len(lines) == 2 and lines[1].startswith("config: ") and len(lines[1]) < 200, lines


def test_a_config_named_on_the_command_line_must_exist(tmp_path):
    status, out = _run_main([str(tmp_path / "typo.json")])
    assert status == 1
    assert out.strip().splitlines() == ["coap: config file %s not found"
                                        % (tmp_path / "typo.json")]


def test_on_a_board_a_missing_config_json_means_defaults(tmp_path):
    # As on a board: main.py with no argument and no config.json beside it
    import os
    from boardsim import BOARD_PATH, MICROPYTHON, ROOT
    assert not ping("127.0.0.1", 5683), "port 5683 is taken; can't check the default"
    proc = subprocess.Popen([MICROPYTHON, os.path.join(ROOT, "firmware", "main.py")],
                            env=dict(os.environ, MICROPYPATH=BOARD_PATH), cwd=str(tmp_path),
                            text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        for _ in range(200):
            if ping("127.0.0.1", 5683):
                break
        assert ping("127.0.0.1", 5683)
    finally:
        out = stop_process(proc, timeout=5)
    assert "config: config.json not found; using defaults" in out


SECRET = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
BAD_CONTEXTS = {  # what is wrong -> the field the line names
    "short secret": ({"secret": "0f1e", "sender_id": "01", "recipient_id": "02"}, "oscore.secret"),
    "not hex": ({"secret": SECRET[:-2] + "zz", "sender_id": "01", "recipient_id": "02"},
                "oscore.secret"),
    "long id": ({"secret": SECRET, "sender_id": "0102030405060708", "recipient_id": "02"},
                "oscore.sender_id"),
    "no recipient": ({"secret": SECRET, "sender_id": "01"}, "oscore.recipient_id"),
    "same ids": ({"secret": SECRET, "sender_id": "01", "recipient_id": "01"}, "oscore:"),
}


@pytest.mark.parametrize("case", sorted(BAD_CONTEXTS))
def test_bad_oscore_context_refuses_protected_resources_and_hides_the_secret(case):
    context, field = BAD_CONTEXTS[case]
    port = free_port()
    config = {"port": port, "oscore": context, "open": ["sensors/humidity"]}
    with SimulatedBoard(config=config, port=port) as board:
        out = board.output()
        lines = [line for line in out.splitlines() if line.startswith("config:")]
        assert len(lines) == 1 and lines[0].startswith("config: " + field), lines
        assert "refused" in lines[0]
        assert context["secret"] not in out and SECRET[:8] not in out  # never printed
        # the LED is not left open: plain requests to it are refused
        led = subprocess.run(["coap-client-notls", "-B", "3", "-m", "put", "-e", "on",
                              "coap://127.0.0.1:%d/actuators/led" % port],
                             capture_output=True, text=True, timeout=20)
        assert "4.01" in led.stdout + led.stderr
        assert _coap_get(port, "sensors/humidity")  # listed in "open"


def test_no_oscore_context_changes_nothing():
    port = free_port()
    with SimulatedBoard(config={"port": port, "open": ["sensors/temp"]}, port=port) as board:
        assert "oscore" not in board.output()
        assert _coap_get(port, "actuators/led") in ("on", "off")
