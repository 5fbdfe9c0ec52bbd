# Where a request's microseconds go, inside MicroPython, without a load generator.
#
#   MICROPYPATH=lib micropython bench/profile_coap.py N PORT
#
# Times N calls of each stage of Server.handle() on the load generator's own
# request (CON GET /bench, 2-byte token), then the socket calls on 127.0.0.1 with
# datagrams already queued (no wake-ups), and prints one JSON line of µs per call
# with the empty loop's cost taken off. Each figure is the best of 5 repeats:
# other work on the machine only ever adds time.
import socket
import sys
import time

from coap import Resource, Server

_ABCD = b"abcd"
# CON, TKL 2, GET, MID 0x1234, token 0xBEEF, Uri-Path "bench"
REQ = b"\x42\x01\x12\x34\xbe\xef\xb5bench"
BATCH = 64  # datagrams queued at once: well inside the socket buffers


def bench_get(req, resp):
    resp.payload(_ABCD)


def timed(fns, n, reps=5):
    """Best µs per call of each fn(n); the repeats go round all fns in turn, so a
    burst of other work on the machine spoils one sample of each, not all of one."""
    best = [None] * len(fns)
    for _ in range(reps):
        for i, fn in enumerate(fns):
            t = time.ticks_us()
            fn(n // reps)
            dt = time.ticks_diff(time.ticks_us(), t) / (n // reps)
            best[i] = dt if best[i] is None or dt < best[i] else best[i]
    return best


def stages(n):
    srv = Server((Resource("bench", get=bench_get, ct=0),))
    req, resp, data, ln = srv.request, srv.response, REQ, len(REQ)
    srv.handle(data, ln)  # warm-up

    def empty(n):
        for _ in range(n):
            pass

    def parse(n):
        for _ in range(n):
            req.parse(data, ln)

    d = srv.dispatcher

    def find(n):  # table lookup alone
        for _ in range(n):
            d._find(req)

    def begin(n):
        for _ in range(n):
            resp.begin(2, 69, 0x1234, data, 4, 2)

    def request(n):  # dispatch + handler + write after begin()
        for _ in range(n):
            resp.begin(2, 69, 0x1234, data, 4, 2)
            d.answer(req, resp, ln, 0, None)

    def content(n):  # what _request writes for this resource
        for _ in range(n):
            resp.begin(2, 69, 0x1234, data, 4, 2)
            resp.content_format(0)
            resp.payload(_ABCD)

    def handle(n):
        for _ in range(n):
            srv.handle(data, ln)

    names, fns = ["loop"], [empty]
    for name, fn, needs in (("parse", parse, None), ("find", find, "_find"),
                            ("begin", begin, None), ("begin+write", content, None),
                            ("begin+answer", request, "answer"), ("handle", handle, None)):
        # _find is private: a stage whose method is gone is skipped
        if needs is None or hasattr(d, needs):
            names.append(name)
            fns.append(fn)
    times = timed(fns, n)
    out = {"loop": times[0]}
    for name, t in zip(names[1:], times[1:]):
        out[name] = t - times[0]
    return srv, out


def sockets(srv, n, port):
    # MicroPython has no getsockname(): the server side binds a port we are given
    to_b = socket.getaddrinfo("127.0.0.1", port)[0][-1]
    a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    a.bind(socket.getaddrinfo("127.0.0.1", 0)[0][-1])
    b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    b.bind(to_b)
    reply = bytearray(b"\x62\x45\x00\x00\x00\x00\xc0\xffabcd")

    def run(body):
        # µs per datagram: only the body is timed, with BATCH datagrams queued
        total = 0
        for _ in range(n // BATCH // 5):
            for _ in range(BATCH):
                a.sendto(REQ, to_b)
            t = time.ticks_us()
            body()
            total += time.ticks_diff(time.ticks_us(), t)
            for _ in range(BATCH):
                a.recvfrom(64)
        return total / (n // BATCH // 5 * BATCH)

    def echo():
        for _ in range(BATCH):
            d, addr = b.recvfrom(1153)
            reply[2] = d[2]
            reply[3] = d[3]
            reply[4] = d[4]
            reply[5] = d[5]
            b.sendto(reply, addr)

    def recv_only():
        for _ in range(BATCH):
            d, addr = b.recvfrom(1153)
            b.sendto(reply, addr)

    def poll():
        for _ in range(BATCH):
            srv.poll(b)

    # Best of 5 rounds, the three bodies taking turns as above
    names = ("echo_loop", "recvfrom+sendto", "poll")
    out = {}
    for _ in range(5):
        for name, body in zip(names, (echo, recv_only, poll)):
            t = run(body)
            out[name] = t if name not in out or t < out[name] else out[name]
    a.close()
    b.close()
    return out


def main():
    n = int(sys.argv[1])
    srv, out = stages(n)
    out.update(sockets(srv, min(n, 20000), int(sys.argv[2])))
    print("{" + ", ".join('"%s": %.3f' % kv for kv in sorted(out.items())) + "}")


main()
