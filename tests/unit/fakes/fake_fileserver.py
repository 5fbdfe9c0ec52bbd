# A CoAP file server on a fake socket, answering the way aiocoap-fileserver
# does: Block2, an ETag per representation, Size2 when asked, 4.04 for a file
# it does not have. It answers at once, inside send().
import gc

import coapmsg as m

CONTENT = 69


def _alloc():
    return gc.mem_alloc() if hasattr(gc, "mem_alloc") else 0  # CPython: no heap figures


def body(n, seed=0):
    """n bytes of a file's contents, different for another seed."""
    return bytes((i * 7 + seed) & 0xFF for i in range(n))


class FileServer:
    """A connected, non-blocking socket whose peer serves files block-wise:
    `data` (bytes) at any path, or a dict from path ("app/x.mpy") to bytes.
    `lose` requests vanish (the network dropped them or their answers);
    `change` maps a block number to a new (body, etag) taking effect after it."""

    def __init__(self, data, etag=b"\x11" * 8, szx=6):
        self.files = data if isinstance(data, dict) else None
        self.data = data
        self.etag = etag
        self.szx = szx      # the largest block the server sends
        self.lose = 0
        self.change = {}
        self.code = CONTENT
        self.requests = []  # (mid, block number, szx) of each request that arrived
        self.inbox = []
        self.closed = False
        self.paths = []     # the path of each request that arrived, with files
        self.own = 0        # bytes the fake itself allocated (the heap figures leave them out)

    def send(self, buf):
        before = _alloc()
        self._serve(buf)
        self.own += _alloc() - before

    def _serve(self, buf):
        if self.lose:
            self.lose -= 1
            return
        _, code, mid, token, opts, _ = m.decode(bytes(buf))
        v = m.to_uint(m.option(opts, 23) or b"")
        num, szx = v >> 4, min(v & 7, self.szx)
        num = (num << (v & 7)) >> szx  # a smaller block: the same position (RFC 7959 §2.4)
        self.requests.append((mid, num, szx))
        code = self.code
        if self.files is not None:
            path = "/".join(v.decode() for n, v in opts if n == 11)
            self.paths.append(path)
            self.data = self.files.get(path)
            if self.data is None:
                code = 132  # 4.04
            else:
                self.etag = m.uint(len(self.data) * 31 + sum(self.data[:64]) + 1)
        if code != CONTENT:
            self.inbox.append(m.encode(m.ACK, code, mid, token))
            return
        size = 16 << szx
        chunk = self.data[num * size:(num + 1) * size]
        more = (num + 1) * size < len(self.data)
        out = [(4, self.etag), (23, m.uint((num << 4) | (8 if more else 0) | szx))]
        if m.option(opts, 28) is not None:
            out.append((28, m.uint(len(self.data))))
        self.inbox.append(m.encode(m.ACK, CONTENT, mid, token, out, chunk))
        if num in self.change:
            self.data, self.etag = self.change.pop(num)

    def recv(self, n):
        if not self.inbox:
            raise OSError(11)  # EAGAIN
        before = _alloc()
        d = self.inbox.pop(0)
        self.own += _alloc() - before
        return d

    def close(self):
        self.closed = True
