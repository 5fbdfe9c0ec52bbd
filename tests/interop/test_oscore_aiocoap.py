"""OSCORE (RFC 8613) end to end: aiocoap's OSCORE client against the simulated
board started with a security context, over real UDP.

The client's context lives in an aiocoap credentials directory, written the
way docs/security.md tells a user to; aiocoap keeps its own sequence numbers
there. Replays and wrong keys are sent as raw datagrams that aiocoap's own
OSCORE code protected.
"""

import asyncio
import json
import os
import socket
import subprocess
import sys

import aiocoap
import pytest
from aiocoap import GET, PUT, Message
from aiocoap import oscore as aiocoap_oscore
from aiocoap.numbers import codes
from aiocoap.optiontypes import BlockOption

from boardsim import SimulatedBoard
from support import free_port
from conformance import check

PEER = "aiocoap"
SECRET = "0102030405060708090a0b0c0d0e0f10"
SALT = "9e7ca92223786340"
BOARD_ID, CLIENT_ID = "01", "02"
BOARD_CONFIG = {"oscore": {"secret": SECRET, "salt": SALT, "sender_id": BOARD_ID,
                           "recipient_id": CLIENT_ID},
                "open": ["sensors/humidity"]}


def client_dir(path, secret=SECRET):
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "settings.json"), "w") as f:
        json.dump({"sender-id_hex": CLIENT_ID, "recipient-id_hex": BOARD_ID,
                   "secret_hex": secret, "salt_hex": SALT}, f)
    return path


class Client:
    """aiocoap's client context on a private event loop, with OSCORE credentials."""

    def __init__(self, port, basedir=None):
        self.loop = asyncio.new_event_loop()
        self.ctx = self.loop.run_until_complete(aiocoap.Context.create_client_context())
        self.base = "coap://127.0.0.1:%d/" % port
        if basedir:
            self.ctx.client_credentials.load_from_dict(
                {self.base + "*": {"oscore": {"basedir": basedir}}})

    def ask(self, msg, timeout=10):
        async def go():
            return await asyncio.wait_for(self.ctx.request(msg).response, timeout)
        return self.loop.run_until_complete(go())

    def get(self, path, **kw):
        return self.ask(Message(code=GET, uri=self.base + path, **kw))

    def close(self):
        self.loop.run_until_complete(self.ctx.shutdown())
        self.loop.close()


@pytest.fixture
def secure_board(tmp_path):
    b = SimulatedBoard(config=BOARD_CONFIG, cwd=str(tmp_path)).start()
    yield b
    b.stop()


@pytest.fixture
def client(secure_board, tmp_path):
    c = Client(secure_board.port, client_dir(str(tmp_path / "client")))
    yield c
    c.close()


def test_protected_get_of_every_sensor(client):
    for path in ("sensors/temp", "sensors/humidity", "board", "actuators/led"):
        resp = client.get(path)
        with check("Protected GET answered with a protected 2.05", "RFC 8613 §8.3", PEER):
            assert resp.code == codes.CONTENT, path
            assert resp.payload


def test_protected_put_on_the_led(client):
    for state in (b"on", b"off", b"on"):
        resp = client.ask(Message(code=PUT, uri=client.base + "actuators/led", payload=state))
        with check("Protected PUT changes the actuator", "RFC 8613 §8.2", PEER):
            assert resp.code == codes.CHANGED
            assert client.get("actuators/led").payload == state


def test_plain_request_is_unauthorized(secure_board):
    plain = Client(secure_board.port)
    try:
        with check("Unprotected request to a protected resource: 4.01", "RFC 8613 §8.2", PEER):
            assert plain.get("actuators/led").code == codes.UNAUTHORIZED
            put = plain.ask(Message(code=PUT, uri=plain.base + "actuators/led", payload=b"on"))
            assert put.code == codes.UNAUTHORIZED
        assert plain.get("sensors/humidity").code == codes.CONTENT  # listed in "open"
        assert plain.get(".well-known/core").code == codes.CONTENT
    finally:
        plain.close()


def test_block2_of_the_log(client):
    whole = client.get("board/log").payload
    msg = Message(code=GET, uri=client.base + "board/log")
    msg.opt.block2 = BlockOption.BlockwiseTuple(0, False, 0)  # 16-byte blocks
    resp = client.ask(msg)
    with check("Block2 inside OSCORE: every block protected, reassembled", "RFC 8613 §4.1.3.4",
               PEER):
        assert resp.code == codes.CONTENT
        assert len(resp.payload) > 16
        assert b"coap: serving" in resp.payload
        assert resp.payload[:16] == whole[:16]


def test_observe_with_protected_notifications(client):
    async def go():
        msg = Message(code=GET, uri=client.base + "sensors/temp", observe=0)
        req = client.ctx.request(msg)
        first = await asyncio.wait_for(req.response, 10)
        seen = []
        async for n in req.observation:
            seen.append(n)
            if len(seen) == 2:
                break
        req.observation.cancel()
        return first, seen

    first, seen = client.loop.run_until_complete(asyncio.wait_for(go(), 60))
    with check("Notifications protected under the server's own Partial IV", "RFC 8613 §8.3",
               PEER):
        assert first.code == codes.CONTENT and first.opt.observe is not None
        assert len(seen) == 2 and all(n.code == codes.CONTENT for n in seen)


def _raw_bytes(port, datagram, sock=None, timeout=3):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as own:
        s = sock or own
        s.settimeout(timeout)
        s.sendto(datagram, ("127.0.0.1", port))
        return s.recvfrom(2048)[0]


def _raw(port, datagram, sock=None, timeout=3):
    return Message.decode(_raw_bytes(port, datagram, sock, timeout))


def _udp():
    """One client's socket: the board's Echo values are bound to its port."""
    return socket.socket(socket.AF_INET, socket.SOCK_DGRAM)


def _protected_datagram(secctx, port, mid, echo=None):
    msg = Message(code=GET, uri="coap://127.0.0.1:%d/actuators/led" % port)
    if echo:
        msg.opt.echo = echo
    outer, _ = secctx.protect(msg)
    outer.mtype = aiocoap.CON
    outer.mid = mid
    outer.token = b"\x42"
    return outer


def test_replayed_datagram_is_refused(secure_board, tmp_path):
    basedir = client_dir(str(tmp_path / "raw"))
    secctx = aiocoap_oscore.FilesystemSecurityContext(basedir)
    # Appendix B.1.2 by hand: the first request gets a protected 4.01 with Echo
    msg = Message(code=GET, uri="coap://127.0.0.1:%d/actuators/led" % secure_board.port)
    outer, request_id = secctx.protect(msg)
    outer.mtype, outer.mid, outer.token = aiocoap.CON, 99, b"\x41"
    with _udp() as client:
        challenge = _raw(secure_board.port, outer.encode(), client)
        challenge.direction = aiocoap.message.Direction.INCOMING
        inner, _ = secctx.unprotect(challenge, request_id)
        assert inner.code == codes.UNAUTHORIZED and inner.opt.echo
        outer = _protected_datagram(secctx, secure_board.port, 100, echo=inner.opt.echo)
        first = _raw_bytes(secure_board.port, outer.encode(), client)
        again = _raw_bytes(secure_board.port, outer.encode(), client)  # same MID: lost ACK
        elsewhere = _raw(secure_board.port, outer.encode())  # same MID, another address
        outer.mid = 101
        replay = _raw(secure_board.port, outer.encode(), client)  # another MID
    with check("Retransmission gets the same answer; replay gets 4.01",
               "RFC 8613 §7.4, RFC 7252 §4.5", PEER):
        assert again == first  # the same bytes, the handler not run again
        first = Message.decode(first)
        assert first.code == codes.CHANGED and first.opt.oscore == b""
        for r in (elsewhere, replay):
            assert r.code == codes.UNAUTHORIZED and r.payload == b"Replay detected"
            assert r.opt.oscore is None


def test_wrong_key_is_refused(secure_board, tmp_path):
    basedir = client_dir(str(tmp_path / "wrong"), secret="ff" * 16)
    secctx = aiocoap_oscore.FilesystemSecurityContext(basedir)
    resp = _raw(secure_board.port, _protected_datagram(secctx, secure_board.port, 7).encode())
    with check("Decryption failure: unprotected 4.00", "RFC 8613 §8.2", PEER):
        assert resp.code == codes.BAD_REQUEST and resp.payload == b"Decryption failed"


def test_reboot_midway_client_carries_on_through_echo(tmp_path):
    port = free_port()
    cfg = dict(BOARD_CONFIG, port=port)
    board = SimulatedBoard(config=cfg, cwd=str(tmp_path)).start()
    c = Client(port, client_dir(str(tmp_path / "client")))
    try:
        for _ in range(3):
            assert c.get("actuators/led").code == codes.CONTENT
        board.stop()
        board = SimulatedBoard(config=cfg, cwd=str(tmp_path)).start()
        with check("After a reboot the replay window is restored with Echo", "RFC 8613 B.1.2",
                   PEER):
            resp = c.ask(Message(code=PUT, uri=c.base + "actuators/led", payload=b"on"))
            assert resp.code == codes.CHANGED
            assert c.get("actuators/led").payload == b"on"
    finally:
        c.close()
        board.stop()


def test_aiocoap_client_command_line(secure_board, tmp_path):
    """What docs/security.md tells a user to run."""
    basedir = client_dir(str(tmp_path / "cli"))
    creds = tmp_path / "client.json"
    base = "coap://127.0.0.1:%d/" % secure_board.port
    creds.write_text(json.dumps({base + "*": {"oscore": {"basedir": basedir + "/"}}}))
    exe = os.path.join(os.path.dirname(sys.executable), "aiocoap-client")

    def run(*args):
        return subprocess.run([exe, *args], capture_output=True, text=True, timeout=60)

    put = run("--credentials", str(creds), "-m", "PUT", "--payload", "on", base + "actuators/led")
    got = run("--credentials", str(creds), base + "actuators/led")
    plain = run(base + "actuators/led")
    with check("aiocoap-client --credentials: protected PUT and GET; without: 4.01",
               "RFC 8613 §8.2", PEER):
        assert put.returncode == 0, put.stderr
        assert got.returncode == 0 and got.stdout.strip() == "on", got.stderr
        assert plain.returncode != 0 and "4.01" in plain.stdout + plain.stderr


def _exchange(secctx, port, mid, code=GET, payload=b"", echo=None, sock=None,
              path="actuators/led"):
    """Send one request protected by aiocoap's OSCORE code; (its opened answer,
    the datagram sent, the answer's size)."""
    msg = Message(code=code, uri="coap://127.0.0.1:%d/%s" % (port, path), payload=payload)
    if echo:
        msg.opt.echo = echo
    outer, request_id = secctx.protect(msg)
    outer.mtype, outer.mid, outer.token = aiocoap.CON, mid, b"\x43"
    datagram = outer.encode()
    raw = _raw_bytes(port, datagram, sock)
    size = len(raw)
    answer = Message.decode(raw)
    answer.direction = aiocoap.message.Direction.INCOMING
    inner, _ = secctx.unprotect(answer, request_id)
    return inner, datagram, size


def test_put_acts_only_with_a_fresh_echo(secure_board, tmp_path):
    secctx = aiocoap_oscore.FilesystemSecurityContext(client_dir(str(tmp_path / "fresh")))
    port = secure_board.port
    with _udp() as s:
        echo = _exchange(secctx, port, 1, sock=s)[0].opt.echo  # after boot: B.1.2 asks
        assert _exchange(secctx, port, 2, echo=echo, sock=s)[0].code == codes.CONTENT
        first = _exchange(secctx, port, 3, PUT, b"on", sock=s)[0]
        then = _exchange(secctx, port, 4, PUT, b"on", echo=first.opt.echo, sock=s)[0]
        with check("An unsafe request acts only after a fresh Echo", "RFC 9175 §2.4", PEER):
            assert first.code == codes.UNAUTHORIZED and first.opt.echo
            assert then.code == codes.CHANGED
            assert _exchange(secctx, port, 5, echo=echo, sock=s)[0].payload == b"on"


def test_a_replayed_put_acts_once(secure_board, tmp_path):  # issue 21, round two #3
    secctx = aiocoap_oscore.FilesystemSecurityContext(client_dir(str(tmp_path / "replay")))
    port = secure_board.port
    with _udp() as s:
        echo = _exchange(secctx, port, 1, sock=s)[0].opt.echo
        on, recorded, _ = _exchange(secctx, port, 2, PUT, b"on", echo=echo, sock=s)
        off = _exchange(secctx, port, 3, PUT, b"off", echo=echo, sock=s)[0]
        s.settimeout(3)
        s.sendto(recorded, ("127.0.0.1", port))  # the recording, from the client's address
        replayed = s.recvfrom(2048)[0]
        led = _exchange(secctx, port, 4, sock=s)[0]
    with check("A replayed protected PUT is not executed again", "RFC 8613 §7.4", PEER):
        assert (on.code, off.code) == (codes.CHANGED, codes.CHANGED)
        assert Message.decode(replayed).opt.oscore == b""  # the first answer, not a new one
        assert led.payload == b"off"


def test_replayed_log_reads_stay_within_3x(secure_board, tmp_path):  # round two #3
    secctx = aiocoap_oscore.FilesystemSecurityContext(client_dir(str(tmp_path / "log")))
    port = secure_board.port
    with _udp() as s:
        echo = _exchange(secctx, port, 1, sock=s)[0].opt.echo  # the window (B.1.2)
        assert _exchange(secctx, port, 2, echo=echo, sock=s)[0].code == codes.CONTENT
    with _udp() as s:  # a new port: its address is not proved
        first, recorded, size = _exchange(secctx, port, 3, sock=s, path="board/log")
        with check("A protected answer to an unproved address is within 3x", "RFC 9175 §2.4",
                   PEER):
            assert first.code == codes.UNAUTHORIZED and first.opt.echo
            assert size <= 3 * len(recorded)
        print("\namplification OSCORE GET /board/log: %d bytes in, %d out in 1 datagram(s): "
              "%.2fx" % (len(recorded), size, size / len(recorded)))
        log, recorded, size = _exchange(secctx, port, 4, echo=first.opt.echo, sock=s,
                                        path="board/log")
        assert log.code == codes.CONTENT and size > 3 * len(recorded)
        s.settimeout(0.5)
        sent = 0
        for _ in range(1000):
            s.sendto(recorded, ("127.0.0.1", port))
        try:
            while True:
                sent += len(s.recvfrom(2048)[0])
        except socket.timeout:
            pass
    with check("A recorded request replayed 1000 times: at most 4 answers", "RFC 7252 §4.5",
               PEER):
        assert sent <= 4 * size, (sent, size)


def test_the_walkthrough_in_docs_runs_as_written(tmp_path):
    """docs/security.md's "Trying it on the simulated board", command by
    command, on a free port in place of 5683, from a copy of its directory."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(root, "docs", "security.md")) as f:
        text = f.read()
    block = text.split("### Trying it on the simulated board")[1].split("```sh\n")[1]
    lines = block.split("```")[0].replace("5683", str(free_port())).splitlines()
    setup = [ln for ln in lines if not ln.startswith(("make run", ".venv/bin/aiocoap"))]
    subprocess.run("\n".join(setup), shell=True, cwd=tmp_path, check=True)
    config = json.loads((tmp_path / "oscore-config.json").read_text())
    board = SimulatedBoard(config=config, cwd=str(tmp_path)).start()
    try:
        env = dict(os.environ, PATH=os.path.dirname(sys.executable) + ":" + os.environ["PATH"])
        runs = [subprocess.run(ln.split("#")[0].replace(".venv/bin/", ""), shell=True,
                               cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
                for ln in lines if ln.startswith(".venv/bin/aiocoap")]
    finally:
        board.stop()
    with check("docs/security.md's walkthrough runs as written", "docs", PEER):
        assert [r.returncode for r in runs] == [0, 0, 1], [r.stderr for r in runs]
        assert runs[1].stdout.strip() == "on"
        assert "4.01" in runs[2].stdout + runs[2].stderr
    ignored = subprocess.run(["git", "check-ignore", "client/settings.json", "client.json",
                              "oscore-config.json", "oscore.seq"], cwd=root,
                             capture_output=True, text=True)
    with check("The walkthrough's secret files are ignored by git", "docs", PEER):
        assert len(ignored.stdout.split()) == 4, ignored.stdout


def test_a_protected_observation_survives_a_reboot(tmp_path):  # issue 21, Must do 4
    port = free_port()
    cfg = dict(BOARD_CONFIG, port=port)
    board = SimulatedBoard(config=cfg, cwd=str(tmp_path)).start()
    c = Client(port, client_dir(str(tmp_path / "client")))
    try:
        async def go():
            req = c.ctx.request(Message(code=GET, uri=c.base + "sensors/temp", observe=0))
            first = await asyncio.wait_for(req.response, 10)
            seen = []
            notes = req.observation.__aiter__()
            seen.append(await asyncio.wait_for(notes.__anext__(), 30))
            await asyncio.sleep(1)  # the board saves its table in its next tick
            b = board_box[0]
            b.stop()
            board_box[0] = SimulatedBoard(config=cfg, cwd=str(tmp_path)).start()
            seen.append(await asyncio.wait_for(notes.__anext__(), 30))  # no new registration
            req.observation.cancel()
            return first, seen

        board_box = [board]
        first, seen = c.loop.run_until_complete(asyncio.wait_for(go(), 90))
        board = board_box[0]
        with check("A protected observation goes on after a reboot, without re-registering",
                   "RFC 8613 §8.3, RFC 7641 §4.5", PEER):
            assert first.code == codes.CONTENT and first.opt.observe is not None
            assert [n.code for n in seen] == [codes.CONTENT, codes.CONTENT]
            assert seen[1].opt.observe > seen[0].opt.observe
    finally:
        c.close()
        board.stop()
