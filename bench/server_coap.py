# The benchmark peer: this server answering GET /bench with "abcd" on 127.0.0.1.
#
#   MICROPYPATH=lib micropython bench/server_coap.py PORT            serve until killed
#   MICROPYPATH=lib micropython bench/server_coap.py PORT --heap N   measure heap, then exit
#   MICROPYPATH=lib micropython bench/server_coap.py PORT --collect N  Server.heap.every = N
#
# --heap answers N requests with the collector off and prints, as one JSON line,
# the heap the library keeps resident and the garbage each request leaves behind.
# --collect 0 turns off serve()'s collection every 64 datagrams: it shows what a
# small heap saves in gc_alloc's search for free blocks (recvfrom allocates).
import gc
import socket
import sys

gc.collect()
_BASE = gc.mem_alloc()  # the interpreter alone, before the library is imported

from coap import Resource, Server  # noqa: E402

_ABCD = b"abcd"


def bench_get(req, resp):
    resp.payload(_ABCD)


def make(port):
    server = Server((Resource("bench", get=bench_get, ct=0),))
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(socket.getaddrinfo("127.0.0.1", port)[0][-1])
    return server, sock


def heap(server, sock, n):
    gc.collect()
    resident = gc.mem_alloc() - _BASE
    for _ in range(100):  # warm-up: first-call caches, interned names
        server.poll(sock)
    gc.collect()
    gc.disable()
    before = gc.mem_alloc()
    for _ in range(n):
        server.poll(sock)
    garbage = gc.mem_alloc() - before
    gc.enable()
    print('{"resident_heap_bytes": %d, "garbage_bytes_per_req": %.2f, "requests": %d}'
          % (resident, garbage / n, n))


def main():
    port = int(sys.argv[1])
    server, sock = make(port)
    mode = sys.argv[2] if len(sys.argv) > 3 else None
    if mode == "--heap":
        heap(server, sock, int(sys.argv[3]))
    else:
        if mode == "--collect":
            server.heap.every = int(sys.argv[3])
        server.serve(sock)


main()
