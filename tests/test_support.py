"""tests/support.py's process helper: a test's processes are gone after it."""

import os
import signal
import subprocess
import sys
import time

from support import stop_process

IGNORE_TERM = ("import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
               "print('up', flush=True); time.sleep(60)")


def test_a_process_that_ignores_the_signal_is_killed():
    proc = subprocess.Popen([sys.executable, "-c", IGNORE_TERM], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline() == "up\n"
    stop_process(proc, timeout=0.5)
    assert proc.returncode == -signal.SIGKILL


def test_what_it_wrote_comes_back():
    proc = subprocess.Popen([sys.executable, "-c", "print('bye')"], stdout=subprocess.PIPE,
                            text=True)
    proc.wait()
    assert stop_process(proc) == "bye\n"


def test_a_group_goes_with_its_leader():
    # as `make run`, whose child serves: the child gets the signal too
    proc = subprocess.Popen(["sh", "-c", "sleep 60 & echo $!; wait"], stdout=subprocess.PIPE,
                            text=True, start_new_session=True)
    child = int(proc.stdout.readline())
    stop_process(proc, group=True)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    raise AssertionError("the group's child survived")
