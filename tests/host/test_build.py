"""tools.build: .mpy files that the unix port imports and serves with; its refusals."""

import os
import re
import socket
import subprocess

import pytest

from hostutil import BIN, ROOT, one_line_error, run_tool
from support import free_port
from tools.layout import BOARDS, compiled, files_for

# CON GET /sensors/temp, MID 0x1234, token 0x01 (RFC 7252 §3)
GET_TEMP = bytes([0x41, 0x01, 0x12, 0x34, 0x01, 0xB7]) + b"sensors" + bytes([0x04]) + b"temp"

# Runs in the build output: answers one request, using only the compiled modules.
# The port comes from the test (the unix port's sockets have no getsockname).
SERVE_ONE = """\
import sys, socket
sys.path.append("lib")
import coap
import coap.server
assert coap.server.__file__.endswith(".mpy"), coap.server.__file__
def temp(req, resp):
    resp.payload_fixed(2150, 2)
server = coap.Server((coap.Resource("sensors/temp", get=temp, ct=0),))
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(socket.getaddrinfo("127.0.0.1", %d)[0][-1])
print("ready")
server.poll(sock)
"""


def test_unix_build_mirrors_the_board_and_prints_sizes(tmp_path):
    out = tmp_path / "unix"
    result = run_tool("build", "--board", "unix", "--out", out)
    assert result.returncode == 0, result.stderr
    expected = {compiled(dest) for _, dest in files_for("unix")}
    built = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    assert built == expected | {".tools-build"}
    built.remove(".tools-build")
    assert {"boot.py", "main.py", "board.mpy", "lib/coap/server.mpy"} <= built
    for name in built:
        if name.endswith(".mpy"):
            assert (out / name).read_bytes()[:2] == b"M\x06", name  # .mpy version 6
    for name in ("boot.py", "main.py"):
        assert (out / name).read_bytes() == (ROOT / "firmware" / name).read_bytes()
    # The table: one row per file with both sizes, then the total of what the board holds
    rows = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()}
    assert rows["lib/coap/server.mpy"] == [str((ROOT / "lib/coap/server.py").stat().st_size),
                                           str((out / "lib/coap/server.mpy").stat().st_size)]
    assert rows["main.py"][1] == "-"
    on_board = sum((out / name).stat().st_size for name in built)
    assert re.search(r"^total \(on the board\)\s+\d+\s+%d$" % on_board, result.stdout, re.M)


def test_unix_build_imports_and_serves(tmp_path):
    out = tmp_path / "unix"
    assert run_tool("build", "--board", "unix", "--out", out).returncode == 0
    assert not list((out / "lib").rglob("*.py"))  # so only the .mpy can be imported
    port = free_port()
    script = SERVE_ONE % port
    env = {k: v for k, v in os.environ.items() if k != "MICROPYPATH"}
    board = subprocess.Popen([str(BIN / "micropython"), "-c", script], cwd=out, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert board.stdout.readline().strip() == "ready"
        client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        client.settimeout(10)
        client.sendto(GET_TEMP, ("127.0.0.1", port))
        reply = client.recv(256)
        client.close()
    finally:
        try:
            rest = board.communicate(timeout=10)[0]
        except subprocess.TimeoutExpired:
            board.kill()
            raise
    assert board.returncode == 0, rest
    assert reply[:4] == bytes([0x61, 0x45, 0x12, 0x34])  # ACK 2.05, same MID
    assert reply.endswith(b"\xff21.50")


@pytest.mark.parametrize("victim", ["lib/coap/parse.py", "firmware/main.py"])
def test_syntax_error_is_reported_with_file_and_line(src_tree, tmp_path, victim):
    out = tmp_path / "out"
    assert run_tool("build", "--board", "unix", "--src", src_tree, "--out", out).returncode == 0
    before = sorted(p.name for p in out.rglob("*"))
    path = src_tree / victim
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines + ["def broken(:", "    pass"]) + "\n")
    result = run_tool("build", "--board", "unix", "--src", src_tree, "--out", out)
    line = one_line_error(result)
    assert line.startswith("build: %s:%d: SyntaxError" % (victim, len(lines) + 1)), line
    assert sorted(p.name for p in out.rglob("*")) == before  # the last good build is intact


def test_each_board_gets_its_architecture(src_tree, tmp_path):
    log = tmp_path / "argv.log"
    wrapper = tmp_path / "mpy-cross"
    wrapper.write_text('#!/bin/sh\necho "$@" >> %s\nexec %s "$@"\n' % (log, BIN / "mpy-cross"))
    wrapper.chmod(0o755)
    for board in BOARDS:
        board_py = src_tree / "boards" / board / "board.py"
        if not board_py.exists():  # not written yet: the build only compiles it
            board_py.write_text("NAME = %r\n" % board)
        log.write_text("")
        result = run_tool("build", "--board", board, "--src", src_tree,
                          "--out", tmp_path / board, "--mpy-cross", wrapper)
        assert result.returncode == 0, result.stderr
        compiles = [ln for ln in log.read_text().splitlines() if ln != "--version"]
        assert len(compiles) == len(files_for(board, src_tree))
        assert all("-march=" + BOARDS[board] in ln for ln in compiles), compiles


def test_output_directory_is_replaced_only_if_it_is_a_build(tmp_path):
    precious = tmp_path / "notes"
    precious.mkdir()
    (precious / "todo.txt").write_text("keep me")
    line = one_line_error(run_tool("build", "--board", "unix", "--out", precious))
    assert line == "build: %s is not empty and not a build directory; choose another --out" % precious
    assert [p.name for p in precious.iterdir()] == ["todo.txt"]


def test_unknown_board_lists_the_known_ones():
    line = one_line_error(run_tool("build", "--board", "esp8266"))
    assert line == "build: unknown board 'esp8266' (known: esp32, rp2040, rp2040-ppp, unix)"


def test_missing_mpy_cross(tmp_path):
    line = one_line_error(run_tool("build", "--board", "unix", "--out", tmp_path,
                                   "--mpy-cross", tmp_path / "no-mpy-cross"))
    assert line.startswith("build: mpy-cross not found")


def test_mpy_cross_of_another_version(tmp_path):
    fake = tmp_path / "mpy-cross"
    fake.write_text("#!/bin/sh\n"
                    "echo 'MicroPython v1.22.2 on 2024-02-22; mpy-cross emitting mpy v6.2'\n")
    fake.chmod(0o755)
    line = one_line_error(run_tool("build", "--board", "unix", "--out", tmp_path / "o",
                                   "--mpy-cross", fake))
    assert "emits mpy v6.2 but the firmware reads v6.3" in line
    assert not (tmp_path / "o").exists()


def test_the_pinned_mpy_cross_emits_what_the_unix_port_reads():
    # sys.implementation._mpy: the version in the low byte, the sub-version in bits 8-9
    out = subprocess.run([str(BIN / "micropython"), "-c",
                          "import sys; print(sys.implementation._mpy)"],
                         capture_output=True, text=True, timeout=30)
    mpy = int(out.stdout)
    assert "%d.%d" % (mpy & 0xFF, (mpy >> 8) & 3) == "6.3"
    version = subprocess.run([str(BIN / "mpy-cross"), "--version"], capture_output=True, text=True)
    assert "mpy v6.3" in version.stdout


def _tree(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


@pytest.mark.parametrize("locked", [".", "lib/coap"])
def test_a_failed_build_leaves_the_previous_one_and_the_next_recovers(src_tree, locked):
    # A part of the output that can't be changed (chattr +i: refused even to root)
    out = src_tree / "build" / "unix"
    first = run_tool("build", "--board", "unix", "--src", src_tree)
    assert first.returncode == 0, first.stderr
    before = _tree(out)
    (src_tree / "firmware" / "app.py").write_text(
        (src_tree / "firmware" / "app.py").read_text() + "\nREBUILT = 1\n")
    lock = subprocess.run(["chattr", "+i", str(out / locked)], capture_output=True, text=True)
    if lock.returncode:
        pytest.skip("can't make a directory unchangeable here: " + lock.stderr.strip())
    try:
        failed = run_tool("build", "--board", "unix", "--src", src_tree)
    finally:  # wherever the locked directory is now
        subprocess.run(["chattr", "-R", "-i", str(out.parent)], check=True)
    if failed.returncode:
        line = one_line_error(failed)
        assert line.startswith("build: cannot write the build to %s" % out), line
        assert _tree(out) == before  # the whole previous build, not half of it
    else:  # only the old build's removal failed: the new one is whole
        assert (out / ".tools-build").is_file() and _tree(out) != before
    again = run_tool("build", "--board", "unix", "--src", src_tree)
    assert again.returncode == 0, again.stderr
    assert (out / "app.mpy").read_bytes() != before["app.mpy"]
    assert sorted(p.name for p in out.parent.iterdir()) == ["unix"]  # no leftovers


def test_the_default_output_recovers_from_a_half_deleted_build(src_tree):
    out = src_tree / "build" / "unix"
    out.mkdir(parents=True)
    (out / "lib").mkdir()
    (out / "lib" / "stale.mpy").write_bytes(b"M\x06")  # what an interrupted rmtree left
    result = run_tool("build", "--board", "unix", "--src", src_tree)
    assert result.returncode == 0, result.stderr
    assert not (out / "lib" / "stale.mpy").exists()
    assert (out / ".tools-build").is_file()
