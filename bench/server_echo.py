# The floor: a MicroPython UDP loop that answers the load generator's CON GET
# (TKL 2) with a ready-made ACK 2.05 "abcd", patching in the MID and token.
# No CoAP server written in MicroPython can answer faster than this.
#
#   micropython bench/server_echo.py PORT
import socket
import sys

# ACK, TKL 2, 2.05, MID, token, Content-Format 0 (empty value), marker, payload
_REPLY = bytearray(b"\x62\x45\x00\x00\x00\x00\xc0\xffabcd")


def main():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(socket.getaddrinfo("127.0.0.1", int(sys.argv[1]))[0][-1])
    reply = _REPLY
    while True:
        data, addr = sock.recvfrom(1153)
        reply[2] = data[2]
        reply[3] = data[3]
        reply[4] = data[4]
        reply[5] = data[5]
        sock.sendto(reply, addr)


main()
