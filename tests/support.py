"""Helpers the CPython-side tests share (tests/unit has its own for MicroPython).

(Not in conftest.py: tests/ has more than one conftest, and a plain import of
`conftest` could find another one.)"""

import os
import re
import signal
import socket
import subprocess

# A sensor reading as the board sends it: fixed-point, two decimals ("21.50", "-3.25")
NUMBER_PATTERN = r"-?\d+\.\d\d"
NUMBER = re.compile(NUMBER_PATTERN)
NUMBER_BYTES = re.compile(NUMBER_PATTERN.encode())


def free_port():
    """A UDP port nothing is bound to on 127.0.0.1 and ::1 right now."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        try:
            with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s6:
                s6.bind(("::1", port))
            return port
        except OSError:
            continue


def stop_process(proc, sig=signal.SIGTERM, timeout=10, group=False):
    """Stop a process a test started: sig (to its whole process group when
    group: `make run` serves from a child), then SIGKILL once timeout seconds
    have passed. Returns what it wrote to a pipe (None when not piped)."""
    def send(s):
        try:
            os.killpg(proc.pid, s) if group else proc.send_signal(s)
        except ProcessLookupError:
            pass  # gone already

    if group or proc.poll() is None:
        send(sig)
    try:
        return proc.communicate(timeout=timeout)[0]
    except subprocess.TimeoutExpired:
        send(signal.SIGKILL)
        return proc.communicate()[0]


def free_tcp_port():
    """A TCP port nothing listens on at 127.0.0.1 right now (for an HTTP server)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
