# A small server on lib/coap's public API for the interop tests:
#
#     MICROPYPATH=lib micropython tests/interop/apiserver.py PORT
#
# /store takes a body of up to 4 KB, block-wise (RFC 7959 Block1), by PUT
# or POST, and gives it back to a GET (block-wise when over 1024 bytes).
import socket
import sys

from coap import Resource, Server

SIZE = 4096
kept = bytearray(SIZE)
length = [0]


def store_get(req, resp):
    resp.payload_from(kept, 0, length[0])


def store_put(req, resp):
    n = req.payload_len
    kept[0:n] = req.buf[req.payload_off:req.payload_off + n]  # allocates: a test server
    length[0] = n


RESOURCES = (
    Resource("store", get=store_get, put=store_put, post=store_put, upload=SIZE),
)


def main():
    port = int(sys.argv[1])
    server = Server(RESOURCES)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(socket.getaddrinfo("127.0.0.1", port)[0][-1])
    server.serve(sock)


main()
