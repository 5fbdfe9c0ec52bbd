"""tools.deploy against the unix port on a pseudo-terminal, end to end to a CoAP reply."""

import json
import os
import re
import signal
import subprocess
import sys

import pytest
import serial

from hostutil import BIN, ROOT, Manifest, one_line_error, run_tool
from support import NUMBER, free_port
from tools.layout import compiled, files_for


def deploy(port, *args, timeout=120):
    return run_tool("deploy", "--board", "unix", "--port", port, *args, timeout=timeout)


def rows(stdout):
    """{destination: why} from deploy's report."""
    found = {}
    for line in stdout.splitlines():
        m = re.match(r"^  (new|changed|unchanged|remove)\s+(\S+)$", line)
        if m:
            found[m.group(2)] = m.group(1)
    return found


def board_files(root):
    return {str(p.relative_to(root)): p for p in root.rglob("*") if p.is_file()}


def coap_get(port, path):
    """(response code, payload) from libcoap's client."""
    out = subprocess.run(["coap-client-notls", "-v", "6", "-B", "10", "-m", "get",
                          "coap://127.0.0.1:%d/%s" % (port, path)],
                         capture_output=True, text=True, timeout=30)
    text = out.stdout + out.stderr
    m = re.search(r"t:ACK c:(\d\.\d\d) .*:: '([^']*)'", text)
    assert m, text
    return m.group(1), m.group(2)


def wait_coap(port, path="sensors/temp", tries=100):
    """The first 2.05 reply from the board's CoAP server, retrying while it starts."""
    for _ in range(tries):
        out = subprocess.run(["coap-client-notls", "-v", "6", "-B", "1", "-m", "get",
                              "coap://127.0.0.1:%d/%s" % (port, path)],
                             capture_output=True, text=True, timeout=30)
        m = re.search(r"t:ACK c:(\d\.\d\d) .*:: '([^']*)'", out.stdout + out.stderr)
        if m:
            return m.group(1), m.group(2)
    raise AssertionError("no CoAP reply on port %d" % port)


def test_deploy_end_to_end(pty_board, tmp_path):
    board = pty_board()
    coap_port = free_port()
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"port": coap_port, "bind": ["127.0.0.1"]}))

    first = deploy(board.port, "--config", config)
    assert first.returncode == 0, first.stderr
    expected = {compiled(dest) for _, dest in files_for("unix")} | {"config.json"}
    assert rows(first.stdout) == {dest: "new" for dest in expected}
    landed = board_files(board.root)
    assert set(landed) == expected  # and no temporary .part file left
    for dest, path in landed.items():
        local = config if dest == "config.json" else ROOT / "build" / "unix" / dest
        assert path.read_bytes() == local.read_bytes(), dest
    # Soft-reset like a board: the deployed main.py now runs on the simulated board
    assert "deploy: soft reset: main.py is starting" in first.stdout
    code, payload = wait_coap(coap_port)
    assert code == "2.05"
    assert NUMBER.fullmatch(payload), payload

    # Again, with main.py running: deploy interrupts it as on a board
    stamps = {dest: p.stat().st_mtime_ns for dest, p in landed.items()}
    second = deploy(board.port, "--config", config)
    assert second.returncode == 0, second.stderr
    assert rows(second.stdout) == {dest: "unchanged" for dest in expected}
    assert "nothing to copy" in second.stdout
    assert {d: p.stat().st_mtime_ns for d, p in board_files(board.root).items()} == stamps
    assert wait_coap(coap_port)[0] == "2.05"

    # And a third time with a changed config: the board comes back on the new port
    new_port = free_port()
    config.write_text(json.dumps({"port": new_port, "bind": ["127.0.0.1"]}))
    third = deploy(board.port, "--config", config)
    assert third.returncode == 0, third.stderr
    assert rows(third.stdout)["config.json"] == "changed"
    assert wait_coap(new_port)[0] == "2.05"


def test_changed_files_and_the_other_form_of_a_module(pty_board):
    board = pty_board()
    assert deploy(board.port, "--source").returncode == 0
    assert (board.root / "lib/coap/server.py").is_file()
    (board.root / "boot.py").write_text("# edited on the board\n")
    built = deploy(board.port)
    assert built.returncode == 0, built.stderr
    report = rows(built.stdout)
    assert report["boot.py"] == "changed"
    assert report["main.py"] == "unchanged"
    assert report["lib/coap/server.mpy"] == "new"
    assert report["lib/coap/server.py"] == "remove"  # else the board would import the old .py
    assert {p.name for p in board.root.rglob("*.py")} == {"boot.py", "main.py"}
    assert (board.root / "boot.py").read_bytes() == (ROOT / "firmware/boot.py").read_bytes()


def test_dry_run_reports_and_copies_nothing(pty_board):
    board = pty_board()
    result = deploy(board.port, "--source", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert rows(result.stdout) == {dest: "new" for _, dest in files_for("unix")}
    assert "dry run, nothing copied" in result.stdout
    assert board_files(board.root) == {}


def test_no_such_port():
    line = one_line_error(deploy("/dev/no-such-port"))
    assert line.startswith("deploy: no such port /dev/no-such-port")


def test_port_busy(quiet_pty):
    with serial.Serial(quiet_pty, exclusive=True):  # as a serial terminal holds it
        line = one_line_error(deploy(quiet_pty))
    assert line.startswith("deploy: port %s is busy" % quiet_pty)


def test_board_not_answering(quiet_pty):
    line = one_line_error(deploy(quiet_pty, "--timeout", "1"))
    assert line.startswith("deploy: board on %s did not answer the raw REPL within 1 s"
                           % quiet_pty)


def test_board_full(pty_board, tmp_path):
    root = tmp_path / "full"
    root.mkdir()
    (root / "main.py.part").symlink_to("/dev/full")  # every write there fails with ENOSPC
    board = pty_board(root)
    line = one_line_error(deploy(board.port, "--source"))
    assert line.startswith("deploy: board on %s is full: no space left writing main.py (ENOSPC)"
                           % board.port)


def test_refusals_before_the_port_is_opened(tmp_path):
    bad = tmp_path / "config.json"
    bad.write_text('{"port": 5683,}')
    assert one_line_error(deploy("/dev/null", "--config", bad)).startswith(
        "deploy: config %s is not valid JSON" % bad)
    assert one_line_error(run_tool("deploy", "--board", "pico", "--port", "/dev/null")) == (
        "deploy: unknown board 'pico' (known: esp32, rp2040, rp2040-ppp, unix)")
    line = one_line_error(run_tool("deploy", "--board", "unix"))
    assert line.startswith("deploy: no port given")


def test_package_manifests_list_what_deploy_copies():
    # Both manifests are shared by every board, so they list all but board.py.
    common = [(src.resolve(), dest) for src, dest in files_for("unix") if dest != "board.py"]
    manifest = ROOT / "firmware" / "manifest.py"
    package_json = ROOT / "firmware" / "package.json"
    assert manifest.is_file(), "firmware/manifest.py is not written yet"
    assert Manifest(manifest).sources == {src for src, _ in common}
    assert package_json.is_file(), "firmware/package.json is not written yet"
    urls = json.loads(package_json.read_text())["urls"]
    listed = set()
    for dest, url in urls:
        # mip takes a url relative to package.json; github:owner/repo/path is the repo's path
        m = re.match(r"github:[^/]+/[^/]+/(.*?)(@.*)?$", url)
        src = ROOT / m.group(1) if m else package_json.parent / url
        listed.add((src.resolve(), dest))
    assert listed == set(common), "firmware/package.json is stale: run python -m tools.layout"


@pytest.mark.parametrize("board", ["esp32", "rp2040", "rp2040-ppp"])
def test_board_manifest_freezes_what_deploy_copies(board):
    manifest = ROOT / "boards" / board / "manifest.py"
    assert Manifest(manifest).sources == {src.resolve() for src, _ in files_for(board)}


@pytest.mark.parametrize("text, problem", [
    ('{"port": NaN}', "is not valid JSON"),               # CPython's parser takes NaN
    ('{"port": 1e400}', "port: expected an integer"),
    ('{"port": 70000}', "port: expected an integer from 1 to 65535"),
    ('{"wifi": {"ssid": "home", "password": "hunter2-s3cret", "country": "UK1"}}',
     "wifi: expected "),
])
def test_a_config_the_board_would_reject_is_refused_before_copying(tmp_path, text, problem):
    cfg = tmp_path / "config.json"
    cfg.write_text(text)
    line = one_line_error(deploy("/dev/no-such-port", "--config", cfg))
    assert line.startswith("deploy: config %s: the board would not take it: " % cfg), line
    assert problem in line
    assert "hunter2" not in line


def test_dry_run_without_a_board_says_what_it_would_compare(tmp_path):
    build_dir = ROOT / "build" / "unix"
    before = {p: p.stat().st_mtime_ns for p in build_dir.rglob("*")} if build_dir.exists() else {}
    for port in (["--port", "/dev/no-such-port"], []):
        result = run_tool("deploy", "--board", "unix", *port, "--dry-run")
        assert result.returncode == 0, result.stderr
        listed = {m.group(1) for m in re.finditer(r"^  compare\s+(\S+)$", result.stdout, re.M)}
        assert listed == {compiled(dest) for _, dest in files_for("unix")}
        assert "deploy: dry run, no board" in result.stdout
    after = {p: p.stat().st_mtime_ns for p in build_dir.rglob("*")} if build_dir.exists() else {}
    assert after == before  # not even the build folder changed


def test_dry_run_does_not_reset_the_board(pty_board, tmp_path):
    root = tmp_path / "running"
    root.mkdir()
    (root / "main.py").write_text("import time\nprint('main started')\nwhile True:\n"
                                  "    time.sleep(0.05)\n")
    board = pty_board(root)
    # a hardware board (the unix one was never reset): compared, not reset
    result = run_tool("deploy", "--board", "esp32", "--port", board.port, "--source",
                      "--dry-run")
    assert result.returncode == 0, result.stderr
    assert rows(result.stdout)["main.py"] == "changed"
    assert "soft reset" not in result.stdout
    assert sorted(board_files(board.root)) == ["main.py"]


def _kill_mid_copy(port, root, local_sizes):
    """Start a deploy and SIGKILL it (mpremote too) the moment a file on the
    board is half-written: (what was on the board then)."""
    proc = subprocess.Popen([sys.executable, "-m", "tools.deploy", "--board", "unix",
                             "--port", port], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        for _ in range(200000):
            for p in root.rglob("*"):
                name = str(p.relative_to(root))
                want = local_sizes.get(name.removesuffix(".part"))
                if p.is_file() and want is not None and 0 < p.stat().st_size < want:
                    os.killpg(proc.pid, signal.SIGKILL)
                    return name
            if proc.poll() is not None:
                break
        return None
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def test_a_deploy_killed_mid_copy_leaves_old_or_new_files_and_deploys_again(pty_board):
    board = pty_board()
    assert deploy(board.port, "--source").returncode == 0  # the old firmware: .py sources
    old = {d: p.read_bytes() for d, p in board_files(board.root).items()}
    run_tool("build", "--board", "unix")
    new = {compiled(dest): (ROOT / "build" / "unix" / compiled(dest)).read_bytes()
           for _, dest in files_for("unix")}
    caught = _kill_mid_copy(board.port, board.root, {d: len(b) for d, b in new.items()})
    assert caught, "the deploy finished before a half-written file was seen"
    for dest, path in board_files(board.root).items():
        if dest.endswith(".part"):
            continue  # a temporary file the board never imports
        assert path.read_bytes() in (old.get(dest), new.get(dest)), dest
    again = deploy(board.port)
    assert again.returncode == 0, again.stderr
    landed = board_files(board.root)
    assert {d: p.read_bytes() for d, p in landed.items()} == new


def test_mpremote_exec_without_resume_answers(pty_board):
    # docs/flashing.md's check: mpremote's own connect soft-resets at the raw REPL,
    # which a board answers in the raw REPL again (the pty board used to hang here)
    board = pty_board()
    for code, want in (("import sys; print(sys.version)", "MicroPython"), ("print(6*7)", "42")):
        out = subprocess.run([str(BIN / "mpremote"), "connect", board.port, "exec", code],
                             capture_output=True, text=True, timeout=30)
        assert out.returncode == 0 and want in out.stdout, out
