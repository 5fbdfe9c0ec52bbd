"""A simulated board for deploy: the unix port's REPL on a pseudo-terminal.

    python -m tools.pty_board DIR     # prints the port path, e.g. /dev/pts/7

mpremote talks to a serial port; here the port is the slave side of one pty and
the unix port's stdin/stdout are the slave side of another, and this process
forwards bytes between the two masters. Two ptys, not one, because mpremote and
micropython both open a slave: on a single pty they would read each other's input.

DIR is the board's filesystem: micropython runs with it as cwd. Like a board:
- Ctrl-C from the port interrupts a running program (a raw pty sends no SIGINT,
  so the bridge sends it), and is passed on as a byte at a prompt;
- a soft reset (Ctrl-D at the friendly REPL ends the unix port) prints
  "MPY: soft reboot" and starts it again, running main.py when there is one,
  then the REPL (`micropython -i main.py`); so is any other exit (a reset);
- a soft reset at the raw REPL (mpremote's connect without `resume`) skips
  main.py and comes back in the raw REPL, as on a board.
So deploy works on it as on a board, any number of times. The bridge stops on SIGTERM.
"""

import os
import select
import signal
import subprocess
import sys
import time
import tty
from pathlib import Path

MICROPYTHON = Path(sys.executable).parent / "micropython"
PROMPT = b">>> "


SOFT_REBOOT = b"MPY: soft reboot\r\n"
_CTRL_C = 3


#: read(2)'s number, to see in /proc/PID/syscall that the board waits on stdin
_READ = {"x86_64": 0, "aarch64": 63, "i686": 3, "i386": 3, "armv7l": 3}.get(os.uname().machine)


def _idle(pid, tail):
    """True when the board waits at a prompt for input: nothing to interrupt.
    A SIGINT then would end the unix port, as it only catches one while it runs code."""
    try:
        for _ in range(5):  # between two reads it is briefly elsewhere: look a few times
            with open("/proc/%d/syscall" % pid) as f:
                fields = f.read().split()
            if _READ is not None and fields[:2] == [str(_READ), "0x0"]:
                return True
            time.sleep(0.005)
        return _READ is None and _at_prompt(tail)
    except (OSError, IndexError):
        return _at_prompt(tail)


def _at_raw_prompt(tail):
    # entered ("...CTRL-B to exit\r\n>"), or after a command ("...\x04>")
    return tail.endswith(b"CTRL-B to exit\r\n>") or tail.endswith(b"\x04>")


def _at_prompt(tail):
    # friendly ">>> " or "... ", raw REPL ">"
    return tail.endswith(b">>> ") or tail.endswith(b"... ") or tail.endswith(b">")


def _forward(board_fd, port_fd, proc, tail):
    """Bytes both ways until the board's process ends; Ctrl-C to a busy board
    becomes SIGINT. Returns (False when the port side went away, the last output)."""
    while proc.poll() is None:
        ready, _, _ = select.select([board_fd, port_fd], [], [], 0.1)
        for fd in ready:
            try:
                data = os.read(fd, 4096)
            except OSError:  # EIO: the other side of that pty has gone
                if fd == port_fd:
                    return False, tail
                continue
            if fd == board_fd:
                tail = (tail + data)[-32:]
                out = port_fd
            else:
                out = board_fd
                if _CTRL_C in data and not _idle(proc.pid, tail):
                    os.kill(proc.pid, signal.SIGINT)
                    tail = b""
            while data:
                data = data[os.write(out, data):]
    return True, tail


def _wait_for_prompt(board_fd, proc):
    # Swallow the banner so a client starts on a clean line.
    seen = b""
    while not seen.endswith(PROMPT):
        ready, _, _ = select.select([board_fd], [], [], 10)
        if not ready or proc.poll() is not None:
            raise SystemExit("pty_board: micropython gave no REPL prompt: %r" % seen[-200:])
        seen += os.read(board_fd, 4096)


def _start(root, micropython, board_slave, run_main=True):
    env = dict(os.environ)
    # The board sees only its own filesystem, with a board's path: frozen
    # modules, then its lib folder (where `mpremote mip install` puts packages)
    env["MICROPYPATH"] = ".frozen:./lib"
    cmd = [str(micropython)]
    if run_main and (Path(root) / "main.py").is_file():
        cmd += ["-i", "main.py"]  # as a board: main.py, then the REPL
    return subprocess.Popen(cmd, stdin=board_slave, stdout=board_slave, stderr=board_slave,
                            cwd=root, env=env, start_new_session=True)


def run(root, micropython=MICROPYTHON, announce=print):
    board_master, board_slave = os.openpty()
    port_master, port_slave = os.openpty()
    # Raw from the start: the line discipline must not echo, or turn \r into \n,
    # on its way between mpremote and the board.
    tty.setraw(board_slave)
    tty.setraw(port_slave)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # board_slave stays open here: each (re)started micropython gets it.
    proc = _start(root, micropython, board_slave)
    try:
        tail = b""
        if not (Path(root) / "main.py").is_file():
            _wait_for_prompt(board_master, proc)
            tail = PROMPT
        announce(os.ttyname(port_slave))
        # port_slave stays open here so the port outlives each mpremote run.
        while True:
            alive, tail = _forward(board_master, port_master, proc, tail)
            if not alive:
                break
            proc.wait()
            os.write(port_master, SOFT_REBOOT)  # a reset: start again, as a board does
            time.sleep(0.1)
            # A soft reset (Ctrl-D) at the raw REPL, as mpremote's own connect does:
            # a board skips main.py and stays in the raw REPL
            # (the unix port exits on it, having said "OK" or not)
            raw = _at_raw_prompt(tail.rstrip(b"\r\n").rstrip(b"OK"))
            proc = _start(root, micropython, board_slave, run_main=not raw)
            tail = b""
            if raw:
                _wait_for_prompt(board_master, proc)
                os.write(board_master, b"\x01")  # Ctrl-A: the raw REPL again
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or not os.path.isdir(argv[0]):
        sys.exit("usage: python -m tools.pty_board DIR   (DIR: the board's filesystem)")
    run(argv[0], announce=lambda path: print(path, flush=True))


if __name__ == "__main__":
    main()
