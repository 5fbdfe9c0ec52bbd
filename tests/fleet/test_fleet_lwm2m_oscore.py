"""LwM2M over OSCORE (RFC 8613) with one context for both roles: the board's
Register is protected into aiocoap's RD in LwM2M compatibility mode behind
aiocoap's OSCORE site wrapper, with that context as its credentials (the
aiocoap-rd command drops its credentials: rd_oscore.py), and then
aiocoap-client, under the same
context (the RD stopped: aiocoap locks a context to one process), reads
the Device object from the board; a plain read of it is refused with 4.01
while the board's other resources stay plain."""

import json
import os
import select
import subprocess
import sys

from boardsim import SimulatedBoard
from rdpeer import HERE, ResourceDirectory, endpoints, get, wait_for
from support import free_port

AIOCOAP_CLIENT = os.path.join(os.path.dirname(sys.executable), "aiocoap-client")
SECRET = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
SALT = "9e7ca92223786340"
BOARD_ID, SERVER_ID = "01", "02"


def board_config(rd, secret=SECRET, name="lw-sec"):
    return {"name": name, "lwm2m": {
        "server": rd.uri, "lifetime_s": 60,
        "oscore": {"secret": secret, "salt": SALT, "sender_id": BOARD_ID,
                   "recipient_id": SERVER_ID}}}


def server_context(tmp_path):
    """The LwM2M server's side of the context, as aiocoap keeps it."""
    keys = tmp_path / "lwm2m-server"
    keys.mkdir()
    (keys / "settings.json").write_text(json.dumps(
        {"sender-id_hex": SERVER_ID, "recipient-id_hex": BOARD_ID, "secret_hex": SECRET,
         "salt_hex": SALT}))
    return str(keys) + "/"


class ProtectedRD(ResourceDirectory):
    """aiocoap's RD with its OSCORE site wrapper (rd_oscore.py says why not
    aiocoap-rd itself)."""
    command = [sys.executable, os.path.join(HERE, "rd_oscore.py")]


def rd_with_context(tmp_path, keys):
    creds = tmp_path / "rd-credentials.json"
    creds.write_text(json.dumps({":board": {"oscore": {"basedir": keys}}}))
    return ProtectedRD("127.0.0.1", free_port(), ["--credentials", str(creds)])


def client(tmp_path, keys, uri, protected=True, *more):
    cmd = [AIOCOAP_CLIENT, uri] + list(more)
    if protected:
        creds = tmp_path / "client-credentials.json"
        creds.write_text(json.dumps({uri.rsplit("/", 3)[0] + "/*": {"oscore": {
            "basedir": keys}}}))
        cmd[1:1] = ["--credentials", str(creds)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def observe_first(tmp_path, keys, uri, timeout=30):
    """The first value aiocoap-client --observe prints, then it is stopped."""
    creds = tmp_path / "client-credentials.json"  # client() wrote it
    proc = subprocess.Popen([AIOCOAP_CLIENT, "--credentials", str(creds), "--observe", uri],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], timeout)
        # the value comes first, its line's end with the next one: read what came
        return os.read(proc.stdout.fileno(), 200).decode().strip() if ready else None
    finally:
        proc.terminate()
        proc.wait(10)


def test_protected_registration_then_protected_read(tmp_path):
    keys = server_context(tmp_path)
    rd = rd_with_context(tmp_path, keys).start()
    board = None
    try:
        board = SimulatedBoard(config=board_config(rd), cwd=str(tmp_path)).start()
        listed = wait_for(lambda: 'ep="lw-sec"' in endpoints(rd.host, rd.port), 10)
        assert listed, board.output()
        assert wait_for(lambda: "lwm2m: registered as /reg/" in board.output(), 5)
        assert "registering with %s as lw-sec over OSCORE" % rd.uri in board.output()
    finally:
        rd.stop()  # releases the context for the client below
    try:
        uri = "coap://127.0.0.1:%d/3/0/0" % board.port
        r = client(tmp_path, keys, uri)
        assert r.returncode == 0 and r.stdout.strip() == "coap-board", (r.stdout, r.stderr)
        # a Write and an Execute over OSCORE (each fresh, by the board's Echo)
        led = "coap://127.0.0.1:%d/3311/0/5850" % board.port
        r = client(tmp_path, keys, led, True, "-m", "PUT", "--content-format", "0",
                   "--payload", "1")
        assert r.returncode == 0, (r.stdout, r.stderr)
        assert client(tmp_path, keys, led).stdout.strip() == "1"
        reset = "coap://127.0.0.1:%d/3303/0/5605" % board.port
        r = client(tmp_path, keys, reset, True, "-m", "POST", "-v")
        assert "2.04 Changed" in r.stdout + r.stderr, (r.stdout, r.stderr)
        # the LwM2M server's context is for the LwM2M objects: not an update
        update = "coap://127.0.0.1:%d/board/update" % board.port
        r = client(tmp_path, keys, update, True, "-m", "POST", "--payload",
                   "coap://127.0.0.1:9/manifest.json", "-v")
        assert "4.03 Forbidden" in r.stdout + r.stderr, (r.stdout, r.stderr)
        # an Observe over OSCORE: the first answer comes protected, as 2.05
        temp = "coap://127.0.0.1:%d/3303/0/5700" % board.port
        first = observe_first(tmp_path, keys, temp)
        assert first and float(first) > -50, first
        # the LwM2M objects are the context's: a plain read is refused ...
        plain = get("127.0.0.1", board.port, ["3", "0", "0"])
        assert plain is not None and plain[0] == 129, plain  # 4.01
        # ... while the board's own resources stay as they were, plain
        assert get("127.0.0.1", board.port, ["sensors", "temp"])[0] == 69
        assert os.path.exists(tmp_path / "lwm2m.seq")
    finally:
        out = board.stop()
    assert SECRET[:8] not in out


def test_wrong_key_registers_nothing(tmp_path):
    keys = server_context(tmp_path)
    with rd_with_context(tmp_path, keys) as rd:
        wrong = "ff" + SECRET[2:]
        board = SimulatedBoard(config=board_config(rd, wrong, "lw-bad"),
                               cwd=str(tmp_path)).start()
        try:
            refused = wait_for(lambda: "lwm2m: registration: a plain 4.0" in board.output(), 10)
            assert refused, board.output()
            assert 'ep="lw-bad"' not in endpoints(rd.host, rd.port)
        finally:
            out = board.stop()
    assert "lwm2m: registered" not in out, out


def test_a_server_that_lost_its_replay_window_gets_the_echo_back(tmp_path):
    # RFC 8613 B.1.2: aiocoap, started with its window "unknown" (as after a
    # crash), answers the first protected request with a protected 4.01 and
    # an Echo; the board sends its Register again with it and is listed
    keys = server_context(tmp_path)
    with open(os.path.join(keys, "sequence.json"), "w") as f:
        json.dump({"next-to-send": 100, "received": "unknown"}, f)
    with rd_with_context(tmp_path, keys) as rd:
        board = SimulatedBoard(config=board_config(rd, name="lw-echo"),
                               cwd=str(tmp_path)).start()
        try:
            listed = wait_for(lambda: 'ep="lw-echo"' in endpoints(rd.host, rd.port), 10)
            assert listed, board.output()
            assert wait_for(lambda: "lwm2m: registered as /reg/" in board.output(), 5)
        finally:
            out = board.stop()
    assert "retrying" not in out, out


def test_each_context_opens_its_own_resources(tmp_path):
    # the board's own context (its operator) and the LwM2M server's, side by
    # side: each reads what is its own; the other's resources answer 4.03
    lw_keys = server_context(tmp_path)
    own = tmp_path / "operator"
    own.mkdir()
    (own / "settings.json").write_text(json.dumps(
        {"sender-id_hex": "0b", "recipient-id_hex": "0a", "secret_hex": SECRET[::-1],
         "salt_hex": SALT}))
    cfg = board_config(ResourceDirectory("127.0.0.1", 9), name="lw-two")
    cfg["oscore"] = {"secret": SECRET[::-1], "salt": SALT, "sender_id": "0a",
                     "recipient_id": "0b"}
    board = SimulatedBoard(config=cfg, cwd=str(tmp_path)).start()
    try:
        base = "coap://127.0.0.1:%d/" % board.port

        def read(keys, path):
            r = client(tmp_path, keys, base + path, True, "-v")
            return r.stdout + r.stderr
        assert "2.05 Content" in read(lw_keys, "3/0/0")
        assert "4.03 Forbidden" in read(lw_keys, "actuators/led")
        assert "4.03 Forbidden" in read(str(own) + "/", "3/0/0")
        assert "2.05 Content" in read(str(own) + "/", "actuators/led")
    finally:
        board.stop()
