# The sensor board's own handlers behind the simplest serve(): one socket, no
# tick, no Observe. `make run` (firmware/main.py) adds the second socket, the
# change watch and the observers; the benchmark puts the two side by side to
# show what that configuration costs over this one.
#
#   MICROPYPATH=firmware:boards/unix:lib micropython bench/server_board.py PORT
import socket
import sys

import board
import config as board_config
import resources
from coap import Server


def main():
    cfg = dict(board_config.DEFAULTS)
    b = board.Board(cfg)
    handlers = resources.SensorBoard(b, cfg)
    server = Server(resources.table(handlers, cfg), log=None, observers=0)
    handlers.server = server
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(socket.getaddrinfo("127.0.0.1", int(sys.argv[1]))[0][-1])
    server.serve(sock)


main()
