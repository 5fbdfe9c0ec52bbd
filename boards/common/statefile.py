# The Observe table kept across resets (firmware/sleep.py) as a file on the
# board's filesystem: written when an observer comes or goes, or every 1024
# notifications, never half (a new file, then renamed over the old one).
# Shared by every board, the unix simulation included.

import os

STATE_FILE = "observers.bin"


def read_file(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None  # never saved


def write_file(path, buf, n):
    tmp = path + ".new"
    with open(tmp, "wb") as f:
        f.write(memoryview(buf)[:n])
    try:
        os.rename(tmp, path)
    except OSError:  # a filesystem whose rename does not replace
        os.remove(path)
        os.rename(tmp, path)
