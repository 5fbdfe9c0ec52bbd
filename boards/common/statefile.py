# The Observe table kept across resets (firmware/sleep.py) as a file on the
# board's filesystem: written when an observer comes or goes, or every 1024
# notifications, never half (a new file, then renamed over the old one).
# Shared by every board, the unix simulation included.

import os

STATE_FILE = "observers.bin"
#: The most read back: a table of 16 observers with 255-byte requests takes
#: 5 KB. A larger file is not one this firmware wrote, and reading it whole
#: could leave a board without the RAM to serve.
MAX_BYTES = 8192


def read_file(path):
    """The file's bytes; None when there is none; OSError when it is larger
    than MAX_BYTES (sleep.keep_observers says so in one line)."""
    try:
        size = os.stat(path)[6]
    except OSError:
        return None  # never saved
    if size > MAX_BYTES:
        raise OSError("%s is over %d bytes" % (path, MAX_BYTES))
    # Its own size, not MAX_BYTES: an 8 KB buffer is more than a fragmented
    # heap of an RP2040 has in one piece (MemoryError at boot, seen there)
    with open(path, "rb") as f:
        return f.read(size)


def write_file(path, buf, n):
    tmp = path + ".new"
    with open(tmp, "wb") as f:
        f.write(memoryview(buf)[:n])
    try:
        os.rename(tmp, path)
    except OSError:  # a filesystem whose rename does not replace
        os.remove(path)
        os.rename(tmp, path)
