"""A simulated board for deploy: the unix port's REPL on a pseudo-terminal.

    python -m tools.pty_board DIR     # prints the port path, e.g. /dev/pts/7

mpremote talks to a serial port; here the port is the slave side of one pty and
the unix port's stdin/stdout are the slave side of another, and this process
forwards bytes between the two masters. Two ptys, not one, because mpremote and
micropython both open a slave: on a single pty they would read each other's input.

DIR is the board's filesystem: micropython runs with it as cwd. The board has
no soft reset (Ctrl-D at its friendly REPL ends the process), so talk to it with
`mpremote connect PORT resume ...`. The bridge stops when the board exits or on SIGTERM.
"""

import os
import select
import signal
import subprocess
import sys
import tty
from pathlib import Path

MICROPYTHON = Path(sys.executable).parent / "micropython"
PROMPT = b">>> "


def _forward(board_fd, port_fd, proc):
    while proc.poll() is None:
        ready, _, _ = select.select([board_fd, port_fd], [], [], 0.5)
        for fd in ready:
            try:
                data = os.read(fd, 4096)
            except OSError:  # EIO: the other side of that pty has gone
                return
            out = port_fd if fd == board_fd else board_fd
            while data:
                data = data[os.write(out, data):]


def _wait_for_prompt(board_fd, proc):
    # Swallow the banner so a client starts on a clean line.
    seen = b""
    while not seen.endswith(PROMPT):
        ready, _, _ = select.select([board_fd], [], [], 10)
        if not ready or proc.poll() is not None:
            raise SystemExit("pty_board: micropython gave no REPL prompt: %r" % seen[-200:])
        seen += os.read(board_fd, 4096)


def run(root, micropython=MICROPYTHON, announce=print):
    board_master, board_slave = os.openpty()
    port_master, port_slave = os.openpty()
    # Raw from the start: the line discipline must not echo, or turn \r into \n,
    # on its way between mpremote and the board.
    tty.setraw(board_slave)
    tty.setraw(port_slave)
    env = dict(os.environ)
    env.pop("MICROPYPATH", None)  # the board sees only its own filesystem
    proc = subprocess.Popen([str(micropython)], stdin=board_slave, stdout=board_slave,
                            stderr=board_slave, cwd=root, env=env, start_new_session=True)
    os.close(board_slave)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        _wait_for_prompt(board_master, proc)
        announce(os.ttyname(port_slave))
        # port_slave stays open here so the port outlives each mpremote run.
        _forward(board_master, port_master, proc)
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
