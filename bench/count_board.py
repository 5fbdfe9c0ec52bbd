# One request path of the sensor board, N times, for an instruction counter.
#
#   MICROPYPATH=firmware:boards/unix:boards/common:lib micropython bench/count_board.py PATH N CONFIG [one-socket]
#
# PATH "floor" echoes each datagram back instead: the socket calls and this
# driver's own work, to take off the others. "accept:PATH" adds an Accept
# option, so that no prepared answer can serve it: the full request path.
# "put:PATH" sends PUT PATH with the payload "on" (the LED: 2.04 Changed).
#
# Starts the board as `make run` does (app.start with CONFIG, which gives only
# a free port: both loopback sockets, the change watch, Observe), then answers N CON GETs of PATH
# queued on its IPv4 socket through Server.drain(), the loop serve() runs for a
# readable socket (recvfrom, handle, sendto per datagram; EAGAIN once per batch).
# bench/instructions.py runs this under callgrind for two values of N: the
# difference divided by the difference in N is the cost of one request, with
# start-up cancelled out.
import gc
import os
import socket
import sys

# COUNT_PAD=k: k names interned first, so that every name after them has
# another qstr number, and so another slot in the VM's map lookup cache: one
# more layout to count over (bench/instructions.py --layouts)
for _i in range(int(os.getenv("COUNT_PAD") or 0)):
    exec("pad_%d = 0" % _i)

import app  # noqa: E402

BATCH = 32  # a divisor of Server.heap.every (1024)
ACCEPT = "accept:"  # PATH prefix: send Accept text/plain, the full path every time
PUT = "put:"  # PATH prefix: PUT "on" (Content-Format text/plain), answered 2.04


def request(path, mid):
    accept = path.startswith(ACCEPT)
    path = path[len(ACCEPT):] if accept else path
    put = path.startswith(PUT)
    path = path[len(PUT):] if put else path
    msg = bytearray(b"\x42\x03\x00\x00\xbe\xef" if put else b"\x42\x01\x00\x00\xbe\xef")
    msg[2] = mid >> 8
    msg[3] = mid & 0xFF
    last = 0
    for seg in path.strip("/").split("/"):
        seg = seg.encode()
        msg.append(((11 - last) << 4) | len(seg))  # segments of 1-12 bytes
        msg.extend(seg)
        last = 11
    if accept:
        msg.append((17 - last) << 4)  # Accept: 0 (text/plain, an empty uint)
    if put:
        msg.append((12 - last) << 4)  # Content-Format: 0 (text/plain)
        msg.extend(b"\xffon")
    return bytes(msg)


def main():
    path, n = sys.argv[1], int(sys.argv[2])
    floor = path == "floor"
    expect = 68 if path.startswith(PUT) else 69  # 2.04 Changed, or 2.05 Content
    server, socks, addresses, log = app.start(sys.argv[3], log=lambda line: None)
    if len(sys.argv) > 4 and sys.argv[4] == "one-socket":
        # bench/server_board.py's server instead: the same handlers, no Observe,
        # no log ring (its tick and second socket never run here anyway)
        from server_board import one_socket_server

        server = one_socket_server()
    sock = socks[0]
    sock.setblocking(False)  # as serve() sets it: the drain stops at EAGAIN
    to = socket.getaddrinfo(addresses[0][0], addresses[0][1])[0][-1]
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    client.bind(socket.getaddrinfo("127.0.0.1", 0)[0][-1])
    req = request(path, 0x1234)
    done = 0
    while done < n:
        k = min(BATCH, n - done)
        for _ in range(k):
            client.sendto(req, to)
        if floor:  # what any server pays: the datagram in and out, nothing else
            for _ in range(k):
                data, addr = sock.recvfrom(1153)
                sock.sendto(data, addr)
        elif server.drain(sock, BATCH + 1) != k:
            raise SystemExit("count_board: the drain missed a queued datagram")
        for _ in range(k):
            answer = client.recvfrom(1200)[0]
            if not floor and answer[1] != expect:  # else this counts the wrong path
                raise SystemExit("count_board: %s answered %d.%02d"
                                 % (path, answer[1] >> 5, answer[1] & 31))
        done += k
        if done % server.heap.every == 0:
            gc.collect()  # as serve() does under load
    print("answered", done)


main()
