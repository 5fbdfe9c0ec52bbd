"""Remote config (docs/remote-config.md) on the unix board: config.json goes
up block-wise (RFC 7959 Block1) under OSCORE with aiocoap-client, is applied
after POST /board/reboot; a plain upload (libcoap, 64-byte blocks) and a bad
config are refused, the old file untouched."""

import json
import os
import subprocess
import time

import pytest

from boardsim import ROOT, SimulatedBoard

SECRET = "0102030405060708090a0b0c0d0e0f10"
SALT = "9e7ca92223786340"
OSCORE = {"secret": SECRET, "salt": SALT, "sender_id": "01", "recipient_id": "02"}
AIOCOAP = os.path.join(ROOT, ".venv", "bin", "aiocoap-client")
DATAGRAM = 1152  # the board's buffer: a body beyond it can only come in blocks


@pytest.fixture
def board(tmp_path):
    b = SimulatedBoard(config={"name": "before", "oscore": OSCORE, "open": ["board"]},
                       cwd=str(tmp_path), start_timeout=20).start()
    try:
        yield b
    finally:
        b.stop()


@pytest.fixture
def client(tmp_path, board):
    """aiocoap-client with OSCORE credentials for the board."""
    d = tmp_path / "client"
    d.mkdir()
    (d / "settings.json").write_text(json.dumps(
        {"sender-id_hex": "02", "recipient-id_hex": "01", "secret_hex": SECRET,
         "salt_hex": SALT}))
    creds = tmp_path / "client.json"
    creds.write_text(json.dumps({"coap://127.0.0.1:%d/*" % board.port:
                                 {"oscore": {"basedir": str(d) + "/"}}}))

    def run(method, path, payload=None):
        args = [AIOCOAP, "--credentials", str(creds), "-m", method]
        if payload is not None:
            f = tmp_path / "payload"
            f.write_bytes(payload)
            args += ["--payload", "@%s" % f]
        out = subprocess.run(args + ["coap://127.0.0.1:%d/%s" % (board.port, path)],
                             capture_output=True, text=True, timeout=60)
        return out.returncode, out.stdout + out.stderr
    return run


def stored(board):
    with open(board.config_path, "rb") as f:
        return f.read()


def info(board):
    out = subprocess.run(["coap-client-notls", "-B", "5", "-m", "get",
                          "coap://127.0.0.1:%d/board" % board.port],
                         capture_output=True, text=True, timeout=30)
    return json.loads(out.stdout)


def test_plain_upload_refused_before_any_block_is_kept(tmp_path):
    """libcoap's plain PUT in 64-byte blocks: 4.01 at the first block, also
    where "open" lists the path."""
    body = tmp_path / "new.json"
    body.write_text(json.dumps({"name": "after", "oscore": OSCORE}, indent=4))
    cfg = {"oscore": OSCORE, "open": ["board", "board/config", "board/reboot"]}
    with SimulatedBoard(config=cfg, start_timeout=20) as board:
        old = stored(board)
        for method, path, extra in (("put", "board/config", ["-b", "64", "-f", str(body)]),
                                    ("get", "board/config", []), ("post", "board/reboot", [])):
            out = subprocess.run(["coap-client-notls", "-v", "6", "-m", method] + extra
                                 + ["coap://127.0.0.1:%d/%s" % (board.port, path)],
                                 capture_output=True, text=True, timeout=30)
            assert "4.01 OSCORE required" in out.stderr, out.stdout + out.stderr
            if method == "put":  # refused at block 0: the rest never went
                assert "Block1:0/M/64" in out.stdout and "Block1:1/" not in out.stdout
        assert stored(board) == old
        assert info(board)["name"] == "coap-board"
        out = board.output()
        assert "config: open: board/config is served only under OSCORE" in out
        assert "board: rebooting" not in out and " replaced;" not in out


def test_aiocoap_uploads_over_oscore_and_a_reboot_applies_it(board, client):
    code, shown = client("GET", "board/config")
    assert code == 0, shown
    cfg = json.loads(shown)
    assert cfg["oscore"] == dict(OSCORE, secret="***", salt="***")  # masked
    assert SECRET not in shown and SALT not in shown
    # What GET showed, renamed: the masked secrets stand for the board's own.
    # Laid out loosely, as a person edits it: more than one datagram
    cfg["name"] = "after"
    cfg.update(max_age_s=30, observers=3, observe_threshold=20,
               sensors=["temperature", "humidity"])
    body = json.dumps(cfg, indent=64).encode()
    assert len(body) > DATAGRAM
    code, out = client("PUT", "board/config", body)
    assert code == 0, out
    assert "config.json replaced; the next boot uses it" in board.output()
    # the whole body (a part would not be JSON), with the secrets themselves
    assert json.loads(stored(board)) == dict(cfg, oscore=OSCORE)
    assert info(board)["name"] == "before"  # the next boot takes it
    code, out = client("POST", "board/reboot")
    assert code == 0, out
    deadline = time.monotonic() + 20
    while "board: rebooting" not in board.output() or not board.output().rstrip().endswith(
            "/.well-known/core"):
        assert time.monotonic() < deadline, board.output()
        time.sleep(0.1)
    board.wait_ready()
    assert info(board)["name"] == "after"
    code, out = client("GET", "sensors/temp")  # the same credentials still work
    assert code == 0, out


@pytest.mark.parametrize("change,named", [
    ({"name": 'a "quoted" name'}, "name: expected a name of 1-32 characters"),
    ({"port": "5683"}, "port: expected an integer from 1 to 65535"),
    ({"colour": "blue"}, "unknown field 'colour'"),
    ({"oscore": dict(OSCORE, secret="0102")}, "oscore.secret: expected a hex string"),
    ({"oscore": None}, "oscore: the upload drops the board's context"),
    ({"oscore": dict(OSCORE, secret="ff" * 16)}, "oscore: the upload changes the board's"),
])
def test_bad_config_refused_with_the_field_named(board, client, change, named):
    old = stored(board)
    cfg = dict(json.loads(old), **change)
    code, out = client("PUT", "board/config", json.dumps(cfg, indent=40).encode())
    assert "4.00 Bad Request" in out and named in out, out
    assert "0102" not in out.replace(SECRET, "") and "ff" * 16 not in out  # no secret echoed
    assert stored(board) == old
    assert " replaced;" not in board.output()


def test_not_json_refused_with_where(board, client):
    old = stored(board)
    code, out = client("PUT", "board/config", b'{"name": "x"\n "port": 5683}')
    assert "4.00 Bad Request" in out and "is not valid JSON at line 2, column 2" in out, out
    assert stored(board) == old
