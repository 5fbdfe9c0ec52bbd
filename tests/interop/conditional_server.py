# A test table for conditional requests (RFC 7252 §5.10.8) and validation
# (§5.10.6), served over real UDP on the MicroPython unix port:
#   MICROPYPATH=lib micropython tests/interop/conditional_server.py CONFIG.json
# (the config's "port"; the board's own table has no resource a PUT replaces).
import json
import socket
import sys

from coap import Resource, Server

TEXT = 0


class Doc:
    """A document a PUT replaces; version counts its changes; absent until
    the first PUT when created (If-None-Match's case)."""

    def __init__(self, body, there=True):
        self.body = bytearray(64)
        self.body[0:] = body
        self.version = 0
        self.there = there

    def get(self, req, resp):
        if not self.there:
            resp.error(132, b"not created yet")  # 4.04
            return
        resp.payload(self.body)

    def put(self, req, resp):
        if req.payload_len > 64:
            resp.error(141, b"64 bytes at most")  # 4.13
            return
        if not self.there:
            resp.set_code(65)  # 2.01 Created
        self.body[0:] = b""
        for i in range(req.payload_off, req.payload_off + req.payload_len):
            self.body.append(req.buf[i])
        self.version += 1
        self.there = True

    def etag(self, req):
        return self.version if self.there else None


def table():
    doc = Doc(b"first")
    created = Doc(b"", there=False)
    hashed = Doc(b"hashed")  # served without a version: its ETag is a hash
    return (
        Resource("doc", get=doc.get, put=doc.put, ct=TEXT, etag=doc.etag, obs=True),
        Resource("created", get=created.get, put=created.put, ct=TEXT, etag=created.etag),
        Resource("hashed", get=hashed.get, put=hashed.put, ct=TEXT),
    )


def main():
    with open(sys.argv[1]) as f:
        port = json.load(f)["port"]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(socket.getaddrinfo("127.0.0.1", port)[0][-1])
    Server(table(), log=print, amplification_limit=False).serve(sock)


main()
