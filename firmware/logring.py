# The last console lines, kept in one preallocated ring for /board/log.
# Writing a line allocates (it is the console, not the request path); serving
# the ring copies it out in three runs and allocates nothing. It tells the
# writer its size and a version (bytes ever written), so Block2's counting pass
# copies and hashes nothing, and a block copies only its own window.
#
# A line identical to the one before is counted, not written: a flood of one
# message (a peer sending the same bad datagram) must not wipe the ring. The
# count is written when another line comes, and at every power of ten.
#
# Lines that alternate (LED on, LED off) are not folded, so the start of the
# buffer is kept for good: the first lines logged (the boot: config problems,
# sensors, where it serves) up to `boot` bytes, then the first line of each
# area not kept yet (the text before ": ", e.g. "sensor humidity" or "rd": a
# sensor's first failure) up to `keep` bytes. The rest is the ring.


class LogRing:
    def __init__(self, size=2048, echo=print):
        self.buf = bytearray(size)
        self.size = size
        self.boot = size // 4       # 512 bytes of 2 KB: a boot takes 200-400
        self.keep = size * 3 // 8   # then 256 for first lines of areas
        self.kept = 0       # bytes of kept lines, at the start of buf
        self.end = self.keep  # where the next byte of the ring goes
        self.full = False
        self.written = 0    # bytes ever logged: the version behind /board/log's ETag
        self.echo = echo
        # The last line is found in the buffer itself (where it starts, how long):
        # keeping the str would hold heap that /board's free_heap would show.
        self.last_start = 0
        self.last_len = 0
        self.last_kept = False
        self.repeats = 0    # how often it came again since

    def __call__(self, line):
        """Log one line: print it and keep it."""
        data = line.encode() + b"\n"
        if len(data) > self.size - self.keep:
            data = data[-(self.size - self.keep):]
        if self._is_last(data):
            self.repeats += 1
            if _power_of_ten(self.repeats):  # say that it is still going on
                self._count()
            return
        if self.repeats and not _power_of_ten(self.repeats):
            self._count()
        self.repeats = 0
        kept = self._keeps(data)
        self.last_kept = kept
        self.last_start = self.kept if kept else self.end
        self.last_len = len(data)
        self._write(line, data, kept)

    def _count(self):
        # next to the line it counts, kept with it while there is room
        line = "(last line repeated %d times)" % self.repeats
        self._write(line, None, self.last_kept and self.kept + len(line) < self.keep)

    def _keeps(self, data):
        # For good: a boot line, or the first line of its area
        if self.kept + len(data) <= self.boot:
            return True
        colon = data.find(b": ")
        if colon <= 0 or self.kept + len(data) > self.keep:
            return False
        return (b"\n" + data[:colon + 2]) not in (b"\n" + bytes(self.buf[:self.kept]))

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
                i = self.keep
        return True

    def _write(self, line, data=None, kept=False):
        self.echo(line)
        if data is None:
            data = line.encode() + b"\n"
        self.written = (self.written + len(data)) & 0xFFFFFF  # a small int everywhere
        if kept:
            self.buf[self.kept:self.kept + len(data)] = data
            self.kept += len(data)
            return
        for b in data:
            self.buf[self.end] = b
            self.end += 1
            if self.end == self.size:
                self.end = self.keep
                self.full = True

    def write_to(self, resp):
        """Kept lines, then the ring's oldest line first."""
        ring = (self.size if self.full else self.end) - self.keep
        if resp.sized(self.kept + ring, self.written):
            return
        resp.payload_from(self.buf, 0, self.kept)
        if self.full:
            resp.payload_from(self.buf, self.end, self.size - self.end)
        resp.payload_from(self.buf, self.keep, self.end - self.keep)


def _power_of_ten(n):
    """10, 100, 1000 ..."""
    if n < 10:
        return False
    while n % 10 == 0:
        n //= 10
    return n == 1
