# The last console lines, kept in one preallocated ring for /board/log.
# Writing a line allocates (it is the console, not the request path); serving
# the ring copies it out in two runs and allocates nothing. It tells the writer
# its size and a version (bytes ever written), so Block2's counting pass copies
# and hashes nothing, and a block copies only its own window.
#
# A line identical to the one before is counted, not written: a flood of one
# message (a peer sending the same bad datagram) must not wipe the ring. The
# count is written when another line comes, and at every power of ten.


class LogRing:
    def __init__(self, size=2048, echo=print):
        self.buf = bytearray(size)
        self.size = size
        self.end = 0        # where the next byte goes
        self.full = False
        self.written = 0    # bytes ever logged: the version behind /board/log's ETag
        self.echo = echo
        # The last line is found in the ring itself (where it starts, how long):
        # keeping the str would hold heap that /board's free_heap would show.
        self.last_start = 0
        self.last_len = 0
        self.repeats = 0    # how often it came again since

    def __call__(self, line):
        """Log one line: print it and keep it."""
        data = line.encode() + b"\n"
        if len(data) > self.size:
            data = data[-self.size:]
        if self._is_last(data):
            self.repeats += 1
            if _power_of_ten(self.repeats):  # say that it is still going on
                self._write("(last line repeated %d times)" % self.repeats)
            return
        if self.repeats and not _power_of_ten(self.repeats):
            self._write("(last line repeated %d times)" % self.repeats)
        self.repeats = 0
        self.last_start = self.end
        self.last_len = len(data)
        self._write(line, data)

    def _is_last(self, data):
        n = self.last_len
        if n != len(data):
            return False
        i = self.last_start
        for b in data:
            if self.buf[i] != b:
                return False  # another line, or the last one overwritten since
            i += 1
            if i == self.size:
                i = 0
        return True

    def _write(self, line, data=None):
        self.echo(line)
        if data is None:
            data = line.encode() + b"\n"
        self.written = (self.written + len(data)) & 0xFFFFFF  # a small int everywhere
        for b in data:
            self.buf[self.end] = b
            self.end += 1
            if self.end == self.size:
                self.end = 0
                self.full = True

    def write_to(self, resp):
        """Oldest line first."""
        if resp.sized(self.size if self.full else self.end, self.written):
            return
        if self.full:
            resp.payload_from(self.buf, self.end, self.size - self.end)
        resp.payload_from(self.buf, 0, self.end)


def _power_of_ten(n):
    """10, 100, 1000 ..."""
    if n < 10:
        return False
    while n % 10 == 0:
        n //= 10
    return n == 1
