"""An app update end to end (docs/updates.md): a deployed unix board, a new
build published with tools.publish and served by aiocoap-fileserver under
OSCORE (the board's update context), the update triggered over OSCORE with
aiocoap; the board fetches, verifies, swaps, reboots and reports the new
version in /board. A file server with another key, or none, is refused. A
bad hash, a downgrade and a version that fails at start-up leave the old app
serving; a process killed at random points of an update boots the old tree
or the new one, never a mix (UPDATE_KILLS kills, 3 by default: long soaks
take more).
"""

import contextlib
import gc
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import time

import pytest

from boardsim import ROOT, SimulatedBoard, ping
from support import free_port, stop_process
from tools.build import MARKER, build
from tools.layout import files_for
from tools.common import Refused
from tools.publish import MANIFEST, publish, trigger

SECRET = "0102030405060708090a0b0c0d0e0f10"
SALT = "9e7ca92223786340"
BOARD_ID, CLIENT_ID = "01", "02"
# the board's update context: its own, for its file server (docs/updates.md)
UPDATE_SECRET = "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf"
UPDATE_BOARD_ID, FILES_ID = "0a", "0b"
UPDATE = {"secret": UPDATE_SECRET, "salt": SALT, "sender_id": UPDATE_BOARD_ID,
          "recipient_id": FILES_ID}
CONFIG = {"oscore": {"secret": SECRET, "salt": SALT, "sender_id": BOARD_ID,
                     "recipient_id": CLIENT_ID}, "open": ["board"], "update_oscore": UPDATE}
FILESERVER = os.path.join(ROOT, ".venv", "bin", "aiocoap-fileserver")


def deploy(tree):
    """The unix board's files, as tools.deploy --source lays them out."""
    for src, dest in files_for("unix"):
        (tree / dest).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, tree / dest)
    return tree


def snapshot(tree):
    """path -> SHA-256 of every file the board runs (its own state aside)."""
    skip = (".update", "oscore.seq", "update.seq", "state.bin")
    return {str(p.relative_to(tree)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(tree.rglob("*")) if p.is_file()
            and not str(p.relative_to(tree)).startswith(skip) and "__pycache__" not in p.parts}


def new_build(tmp, version, out, change=None):
    """Publish a copy of the repository's board files in which every module
    differs (a trailing comment), or `change(src)` edits the copy."""
    src = tmp / ("src-" + version)
    for part in ("firmware", "boards", "lib"):
        shutil.copytree(os.path.join(ROOT, part), src / part, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__"))
    for p in src.rglob("*.py"):
        p.write_text(p.read_text() + "# %s\n" % version)
    if change:
        change(src)
    return publish("unix", version, out, source=True, src=src)


@contextlib.contextmanager
def serving(tmp_path, secret=UPDATE_SECRET, name="files"):
    """aiocoap-fileserver on a folder: under OSCORE with the board's update
    context (secret=None: plain CoAP only). Yields (folder, its coap:// URI)."""
    root = tmp_path / name
    root.mkdir()
    port = free_port()
    cmd = [FILESERVER, "--bind", "127.0.0.1:%d" % port, str(root)]
    if secret:
        keys = tmp_path / (name + "-keys")
        keys.mkdir()
        (keys / "settings.json").write_text(json.dumps(
            {"sender-id_hex": FILES_ID, "recipient-id_hex": UPDATE_BOARD_ID,
             "secret_hex": secret, "salt_hex": SALT}))
        creds = tmp_path / (name + "-credentials.json")
        creds.write_text(json.dumps({":board": {"oscore": {"basedir": str(keys) + "/"}}}))
        cmd += ["--credentials", str(creds)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while not ping("127.0.0.1", port):
            assert proc.poll() is None and time.monotonic() < deadline, \
                "aiocoap-fileserver did not start"
            time.sleep(0.1)
        yield root, "coap://127.0.0.1:%d" % port
    finally:
        stop_process(proc)


@pytest.fixture
def fileserver(tmp_path):
    with serving(tmp_path) as served:
        yield served


@pytest.fixture
def credentials(tmp_path):
    d = tmp_path / "client"
    d.mkdir()
    (d / "settings.json").write_text(json.dumps(
        {"sender-id_hex": CLIENT_ID, "recipient-id_hex": BOARD_ID, "secret_hex": SECRET,
         "salt_hex": SALT}))
    return str(d)


@pytest.fixture
def tree(tmp_path):
    return deploy(tmp_path / "board")


def start(tree, config=CONFIG):
    return SimulatedBoard(config=config, tree=str(tree), start_timeout=20).start()


def update(board, files_uri, credentials, folder="", force=False, wait=40, plain=False):
    uri = "%s/%s%s" % (files_uri, folder, MANIFEST)
    return trigger("coap://127.0.0.1:%d" % board.port, uri, credentials, force, wait,
                   say=lambda line: None, plain=plain)


def test_update_reboots_into_the_new_version(tree, fileserver, credentials, tmp_path):
    root, uri = fileserver
    manifest = new_build(tmp_path, "0.2.0", root)
    old = snapshot(tree)
    board = start(tree)
    try:
        t0 = time.monotonic()
        state = update(board, uri, credentials)
        print("update: %d files, %d bytes: %.1f s from the POST to the new version serving"
              % (len(manifest["files"]), sum(f["size"] for f in manifest["files"]),
                 time.monotonic() - t0))
        assert state["app"] == "0.2.0", board.output()
        assert state["update"] == {"state": "done", "version": "0.2.0"}
        out = board.output()
        assert "update: 0.2.0 in place (%d files); rebooting" % len(manifest["files"]) in out
        assert "update: 0.2.0 confirmed" in out
        assert "over OSCORE" in out
    finally:
        board.stop()
    now = snapshot(tree)
    assert now["app.py"] != old["app.py"] and now["main.py"] == old["main.py"]
    assert json.loads((tree / "app.json").read_text())["version"] == "0.2.0"


def test_a_built_board_takes_a_built_update(tmp_path, fileserver, credentials):
    """.mpy files, as tools.build and tools.publish make them by default; only
    what compiles differently is fetched (a comment changes no .mpy)."""
    root, uri = fileserver
    tree = tmp_path / "built"
    build("unix", out=tree)
    (tree / MARKER).unlink()
    src = tmp_path / "src"
    for part in ("firmware", "boards", "lib"):
        shutil.copytree(os.path.join(ROOT, part), src / part,
                        ignore=shutil.ignore_patterns("__pycache__"))
    res = src / "firmware" / "resources.py"
    res.write_text(res.read_text().replace('title="last console lines"', 'title="console"'))
    publish("unix", "0.2.0", root, src=src)
    old = snapshot(tree)
    board = start(tree)
    try:
        state = update(board, uri, credentials)
        assert (state["app"], state["update"]["state"]) == ("0.2.0", "done"), board.output()
        assert "update: 0.2.0 in place (1 files); rebooting" in board.output()
        links = subprocess.run(["coap-client-notls", "-m", "get", "coap://127.0.0.1:%d/"
                                ".well-known/core?href=/board/log" % board.port],
                               capture_output=True, text=True, timeout=30).stdout
        assert 'title="console"' in links
    finally:
        board.stop()
    now = snapshot(tree)
    assert [p for p in old if now.get(p) != old[p]] == ["resources.mpy"]


def test_bad_hash_refused_old_app_serves(tree, fileserver, credentials, tmp_path):
    root, uri = fileserver
    new_build(tmp_path, "0.2.0", root)
    data = bytearray((root / "sensors.py").read_bytes())
    data[100] ^= 1  # corrupted on the server: the same size, another hash
    (root / "sensors.py").write_bytes(data)
    old = snapshot(tree)
    board = start(tree)
    try:
        state = update(board, uri, credentials)
        assert state["app"] == "0.1.0"
        assert state["update"]["state"] == "failed"
        assert state["update"]["error"] == "sensors.py: SHA-256 or size differs from the manifest"
    finally:
        board.stop()
    assert snapshot(tree) == old


@pytest.mark.parametrize("secret", ["b0" * 16, None], ids=["another key", "plain"])
def test_file_server_without_the_context_refused(tree, credentials, tmp_path, secret):
    """A file server holding another key (its 4.00 "Decryption failed",
    RFC 8613 §8.2) or none (4.05: it sees the protected request's outer
    POST, and no path) serves nothing the board takes; the old app keeps
    serving."""
    with serving(tmp_path, secret, "other") as (root, uri):
        new_build(tmp_path, "0.2.0", root)
        old = snapshot(tree)
        board = start(tree)
        try:
            state = update(board, uri, credentials)
            assert state["app"] == "0.1.0"
            assert state["update"] == {"state": "failed", "error": (
                "answer not protected by OSCORE (%s)" % ("4.00" if secret else "4.05"))}
            assert "0.1.0 keeps running" in board.output()
        finally:
            board.stop()
        assert snapshot(tree) == old


def refusal(board, uri, credentials):
    """Why the board refused a trigger (its traceback dropped: it holds
    aiocoap's context, and with it the credentials' lock)."""
    try:
        update(board, uri, credentials)
    except Refused as e:
        why = str(e)
    else:
        why = None
    gc.collect()
    return why


def test_no_update_context_fetches_only_when_asked_plain(tree, credentials, tmp_path):
    """A board without update_oscore: the trigger is refused, saying so,
    unless it asks for ?plain; then a plain file server updates it (while
    it fetches, /board says "plain": test_update)."""
    config = dict(CONFIG)
    del config["update_oscore"]
    with serving(tmp_path, None) as (root, uri):
        new_build(tmp_path, "0.2.0", root)
        board = start(tree, config)
        try:
            assert "answered 4.00: no update_oscore context" in refusal(board, uri, credentials)
            assert "update:" not in board.output()
            t0 = time.monotonic()
            state = update(board, uri, credentials, wait=40, plain=True)
            print("update in plain CoAP: %.1f s from the POST to the new version serving"
                  % (time.monotonic() - t0))
            assert state["app"] == "0.2.0", board.output()
            assert "in plain CoAP" in board.output()
        finally:
            board.stop()


def test_plain_trigger_refused(tree, fileserver):
    """libcoap's plain POST: 4.01, also where the config opens the path."""
    for cfg in (CONFIG, dict(CONFIG, open=["board", "board/update"])):
        board = SimulatedBoard(config=cfg, tree=str(tree), start_timeout=20).start()
        try:
            out = subprocess.run(["coap-client-notls", "-m", "post", "-e", fileserver[1] + "/x",
                                  "coap://127.0.0.1:%d/board/update" % board.port],
                                 capture_output=True, text=True, timeout=30)
            assert out.stderr == "4.01 OSCORE required\n"
            assert "update:" not in board.output()
        finally:
            board.stop()


def test_downgrade_refused_unless_forced(tree, fileserver, credentials, tmp_path):
    root, uri = fileserver
    new_build(tmp_path, "0.0.9", root)
    board = start(tree)
    try:
        state = update(board, uri, credentials)
        assert state["app"] == "0.1.0"
        assert state["update"]["error"] == \
            "manifest 0.0.9 is not newer than 0.1.0 (force to downgrade)"
        state = update(board, uri, credentials, force=True)
        assert state["app"] == "0.0.9"
    finally:
        board.stop()


def test_version_failing_at_start_is_rolled_back(tree, fileserver, credentials, tmp_path):
    root, uri = fileserver

    def broken(src):
        with open(src / "firmware" / "sensors.py", "a") as f:
            f.write("raise ImportError('a module the new version forgot')\n")
    new_build(tmp_path, "0.2.0", root, broken)
    old = snapshot(tree)
    board = start(tree)
    try:
        state = update(board, uri, credentials)
        assert state["app"] == "0.1.0", board.output()
        assert state["update"]["state"] == "rolledback"
        assert "forgot" in state["update"]["error"]
        assert "update: 0.2.0 failed at start-up" in board.output()
    finally:
        board.stop()
    assert snapshot(tree) == old


def swapped_after(board, uri, credentials, timeout=60):
    """Trigger an update; seconds from the answer to the swap's end."""
    update(board, uri, credentials, wait=0)  # answered at once
    t0 = time.monotonic()
    while "rebooting" not in board.output():
        assert time.monotonic() - t0 < timeout, board.output()
        time.sleep(0.01)
    return time.monotonic() - t0


def test_kills_never_leave_a_mixed_tree(tree, fileserver, credentials, tmp_path):
    """Killed at a random moment between the trigger and just after the swap
    (how long that takes is measured first), or once the swap has begun, the
    board comes back with the
    whole old tree or the whole new one, and /board says which."""
    root, uri = fileserver
    manifest = new_build(tmp_path, "0.2.0", root)
    old = snapshot(tree)
    new = dict(old)
    new.update((f["path"], f["sha256"]) for f in manifest["files"])
    board = start(tree)
    try:
        took = swapped_after(board, uri, credentials)
    finally:
        board.stop()
    seen = []
    rng = random.Random(os.environ.get("UPDATE_SEED"))
    for i in range(int(os.environ.get("UPDATE_KILLS", "3"))):
        shutil.rmtree(tree)
        deploy(tree)
        board = start(tree)
        try:
            update(board, uri, credentials, wait=0)
            if i % 2:  # during the download, or just after the swap
                time.sleep(rng.uniform(0, took * 1.2))
            else:  # every other kill at the swap, where a mix could happen
                journal = tree / ".update" / "journal.json"
                deadline = time.monotonic() + took * 3
                while not journal.exists() and time.monotonic() < deadline:
                    time.sleep(0.001)
                time.sleep(rng.uniform(0, 0.01))
            stop_process(board.proc, signal.SIGKILL)  # the power goes
        finally:
            board.stop()
        board = start(tree)  # the power comes back: the boot finishes what the kill cut
        try:
            now = snapshot(tree)
            app = json.loads((tree / "app.json").read_text())["version"] \
                if now.pop("app.json", None) else "0.1.0"
            assert now == old or now == new, "kill %d: a mixed tree" % i
            assert app == ("0.2.0" if now == new else "0.1.0")
            seen.append(app)
            info = json.loads(subprocess.run(
                ["coap-client-notls", "-B", "5", "-m", "get",
                 "coap://127.0.0.1:%d/board" % board.port],
                capture_output=True, timeout=30).stdout)
            assert info["app"] == app, board.output()
        finally:
            board.stop()
    print("update kills (the swap ends %.2f s after the trigger): came back with %s"
          % (took, ", ".join(seen)))
