# The last console lines, kept in one preallocated ring for /board/log.
# Writing a line allocates (it is the console, not the request path); serving
# the ring copies it out in two runs and allocates nothing.


class LogRing:
    def __init__(self, size=2048, echo=print):
        self.buf = bytearray(size)
        self.size = size
        self.end = 0        # where the next byte goes
        self.full = False
        self.echo = echo

    def __call__(self, line):
        """Log one line: print it and keep it."""
        self.echo(line)
        data = line.encode() + b"\n"
        if len(data) > self.size:
            data = data[-self.size:]
        for b in data:
            self.buf[self.end] = b
            self.end += 1
            if self.end == self.size:
                self.end = 0
                self.full = True

    def write_to(self, resp):
        """Oldest line first."""
        if self.full:
            resp.payload_from(self.buf, self.end, self.size - self.end)
        resp.payload_from(self.buf, 0, self.end)
