"""Start-up on awkward hosts and a clean stop: the simulated board as `make run`
starts it, and in a network namespace without IPv6."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from boardsim import ROOT, SimulatedBoard, make_run, ping, stop_make_run
from support import free_port


def test_ipv4_and_ipv6_wildcards_share_a_port():
    # Linux's IPv6 wildcard takes IPv4 too unless IPV6_V6ONLY is set: then the
    # second bind fails and the board would blame "another server".
    port = free_port()
    with SimulatedBoard(config={"port": port, "bind": ["0.0.0.0", "::"]}, port=port) as board:
        assert ping("127.0.0.1", port)
        assert ping("::1", port)
        out = board.output()
    assert "coap: serving on coap://0.0.0.0:%d" % port in out
    assert "coap: serving on coap://[::]:%d" % port in out


def _netns(name):
    """A network namespace with only IPv4 on its loopback; why not, or None."""
    steps = [["ip", "netns", "add", name],
             ["ip", "-n", name, "link", "set", "lo", "up"],
             ["ip", "netns", "exec", name, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
              "net.ipv6.conf.default.disable_ipv6=1", "net.ipv6.conf.lo.disable_ipv6=1"]]
    for cmd in steps:
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
        except OSError as e:
            return "%s: %s" % (cmd[0], e)
        if r.returncode:
            return "%s: %s" % (" ".join(cmd), r.stderr.strip())
    return None


NS_PING = """
import sys
sys.path.insert(0, %r)
from boardsim import ping
print(ping("127.0.0.1", int(sys.argv[1]), 1.0))
"""


def test_a_host_without_ipv6_serves_on_ipv4_and_says_what_it_skipped():
    ns = "coapnov6%d" % os.getpid()
    why = _netns(ns)
    try:
        if why:
            pytest.skip("can't make a network namespace without IPv6 here: " + why)
        port = free_port()
        board = SimulatedBoard(config={"port": port}, port=port,
                               prefix=["ip", "netns", "exec", ns])
        board.start(wait=False)
        try:
            answered = False
            for _ in range(50):
                r = subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c",
                                    NS_PING % os.path.join(ROOT, "tests"), str(port)],
                                   capture_output=True, text=True, timeout=20)
                if r.stdout.strip() == "True":
                    answered = True
                    break
                if board.proc.poll() is not None:
                    break
                time.sleep(0.1)
            out = board.output()
            assert answered, out
        finally:
            out = board.stop()
        assert "coap: skipped ::1 port %d: address not available on this machine" % port in out
        assert "coap: serving on coap://127.0.0.1:%d" % port in out
        assert "::1" not in out.split("coap: skipped", 1)[1].split("\n", 1)[1]  # not served
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=20)


def test_ctrl_c_on_make_run_stops_with_one_line(tmp_path):
    port = free_port()
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"port": port}))
    proc = make_run(["CONFIG=%s" % cfg], port)
    out = stop_make_run(proc, signal.SIGINT, 20)  # what Ctrl-C in a terminal does
    lines = out.strip().splitlines()
    assert lines[-1] == "coap: stopped (Ctrl-C)", out
    assert "Traceback" not in out and "make: ***" not in out, out
    assert not ping("127.0.0.1", port)


@pytest.mark.parametrize("name", ["observers.bin", "oscore.seq"])
def test_an_8_mb_state_file_is_refused_with_one_line_and_the_board_serves(tmp_path, name):
    """#21 finding 7: reading it whole was a MemoryError traceback, and no serving."""
    with open(tmp_path / name, "wb") as f:
        for _ in range(8 * 1024):
            f.write(b"1" * 1024)
    cfg = {"oscore": {"secret": "0102030405060708090a0b0c0d0e0f10", "sender_id": "01",
                      "recipient_id": "02"}}
    with SimulatedBoard(config=cfg, cwd=str(tmp_path)) as board:  # answers a ping
        out = board.output()
    assert "Traceback" not in out and "MemoryError" not in out, out
    said = {"observers.bin": "observe: saved observers not readable (observers.bin is over "
                             "8192 bytes); starting without",
            "oscore.seq": "oscore: sequence number file oscore.seq is corrupt; "
                          "OSCORE-protected resources are refused"}[name]
    assert said in out, out
