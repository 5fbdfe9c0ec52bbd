"""`python -m tools.watch` as the README has a user run it: against `make run`
(on a free port), inside tmux (Debian's tmux, tools/setup.sh --peers), the
screen read back with `tmux capture-pane`; and its one-line refusals."""

import csv
import os
import re
import socket
import subprocess
import sys
import time

import pytest

from boardsim import ROOT, SimulatedBoard, make_run, stop_make_run
from support import NUMBER_PATTERN, free_port

SENSORS = {"/sensors/temp": "Cel", "/sensors/humidity": "%RH"}  # the default config's


def watch(*args, timeout=60):
    return subprocess.run([sys.executable, "-m", "tools.watch"] + list(args), cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def wait_for(what, check, timeout=60):
    """check()'s first true value, within timeout seconds; else fail with what."""
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(what)
        time.sleep(0.5)


class Tmux:
    """A tmux server of the test's own (-L), one window of 100x40."""

    def __init__(self, command):
        self.argv = ["tmux", "-L", "watch-test-%d" % os.getpid()]
        subprocess.run(self.argv + ["new-session", "-d", "-s", "w", "-x", "100", "-y", "40",
                                    command], cwd=ROOT, check=True)

    def screen(self):
        return subprocess.run(self.argv + ["capture-pane", "-p", "-t", "w"], capture_output=True,
                              text=True).stdout

    def keys(self, *keys):
        subprocess.run(self.argv + ["send-keys", "-t", "w"] + list(keys), check=True)

    def close(self):
        subprocess.run(self.argv + ["kill-server"], capture_output=True)


@pytest.fixture(scope="module")
def make_run_board():
    port = free_port()
    proc = make_run(["COAP_PORT=%d" % port], port)
    yield "coap://127.0.0.1:%d" % port
    stop_make_run(proc)


def test_watch_in_tmux_draws_every_sensor_and_logs_csv(make_run_board, tmp_path):
    log = tmp_path / "readings.csv"
    # the pane stays after watch exits, to show how it ended
    tmux = Tmux("%s -m tools.watch %s --csv %s; echo exit status $?; sleep 600"
                % (sys.executable, make_run_board, log))
    try:
        def three_readings_each():
            screen = tmux.screen()
            counts = [re.search(r"^%s  (%s) %s   \((\d+) readings" % (
                re.escape(path), NUMBER_PATTERN, re.escape(unit)), screen, re.M)
                for path, unit in SENSORS.items()]
            return all(m and int(m.group(2)) >= 3 for m in counts) and screen
        screen = wait_for("watch did not show three readings of each sensor:\n" + tmux.screen(),
                          three_readings_each)
        assert screen.startswith("watch %s: 2 sensors (Ctrl-C stops)" % make_run_board), screen
        # each sensor's chart: a y axis labelled with readings
        assert len(re.findall(r"^ +%s  [┤┼]" % NUMBER_PATTERN, screen, re.M)) >= 4, screen

        tmux.keys("C-c")
        screen = wait_for("no exit after Ctrl-C", lambda: "exit status" in tmux.screen()
                          and tmux.screen())
        assert "watch: stopped (Ctrl-C)\nexit status 0" in screen, screen
        assert "Traceback" not in screen
    finally:
        tmux.close()

    rows = list(csv.reader(open(log)))
    assert rows[0] == ["time", "resource", "value"]
    for path in SENSORS:
        values = [r for r in rows[1:] if r[1] == path]
        assert len(values) >= 3, rows
        assert all(-40 < float(v) < 100 for _, _, v in values), values
    times = [r[0] for r in rows[1:]]
    assert times == sorted(times) and times[0] < times[-1], times
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", t) for t in times), times


def test_watch_for_seconds_appends_to_the_csv_with_one_header(make_run_board, tmp_path):
    log = tmp_path / "readings.csv"
    log.write_text("time,resource,value\n2026-01-01T00:00:00.000Z,/sensors/temp,20.0\n")
    out = watch(make_run_board, "--csv", str(log), "--seconds", "3")
    assert out.returncode == 0, out.stderr
    # not a terminal: one line per reading
    assert out.stdout.startswith("watching /sensors/temp, /sensors/humidity on ")
    assert re.search(r"^\d\d:\d\d:\d\d /sensors/temp %s Cel$" % NUMBER_PATTERN, out.stdout, re.M)
    lines = log.read_text().splitlines()
    assert lines.count("time,resource,value") == 1 and len(lines) >= 4, lines


@pytest.mark.parametrize("uri", ["http://127.0.0.1", "coap://", "coap://127.0.0.1:99999",
                                 "coap://127.0.0.1:x", "coap://127.0.0.1/sensors/temp"])
def test_a_bad_uri_is_one_line(uri):
    out = watch(uri)
    assert out.returncode == 1
    assert out.stderr == "watch: bad URI %r: expected coap://host[:port], port 1 to 65535\n" % uri


def test_a_board_that_does_not_answer_is_one_line():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:  # bound, never answers
        silent.bind(("127.0.0.1", 0))
        port = silent.getsockname()[1]
        out = watch("coap://127.0.0.1:%d" % port)
    assert out.returncode == 1
    assert out.stderr == ("watch: no answer from coap://127.0.0.1:%d in 10 s "
                          "(is the board running?)\n" % port)


def test_a_port_nothing_listens_on_is_one_line():
    port = free_port()
    out = watch("coap://127.0.0.1:%d" % port)
    assert out.returncode == 1
    assert out.stderr == ("watch: can't reach coap://127.0.0.1:%d: nothing listens on that port "
                          "(is the board running?)\n" % port)


def test_a_board_without_sensors_is_one_line():
    with SimulatedBoard(config={"sensors": []}) as board:
        out = watch("coap://127.0.0.1:%d" % board.port)
    assert out.returncode == 1
    assert out.stderr == ("watch: coap://127.0.0.1:%d has no observable sensors in "
                          "/.well-known/core\n" % board.port)


def test_watch_registers_again_when_the_board_stops_notifying():
    # One observer entry for two sensors: each registration takes the other's
    # place, and the one left out hears nothing past its Max-Age (RFC 7641 §4.3.1)
    with SimulatedBoard(config={"observers": 1, "max_age_s": 5}) as board:
        out = watch("coap://127.0.0.1:%d" % board.port, "--seconds", "30")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()[1:]
    for path in SENSORS:
        mine = [line.split(" ", 2)[2] for line in lines if line.split(" ")[1] == path]
        again = mine.index("no notification within Max-Age; asking again")
        later = [m for m in mine[again + 1:] if re.fullmatch(NUMBER_PATTERN + r" \S+", m)]
        assert len(later) >= 2, mine  # the registration's answer and a notification
