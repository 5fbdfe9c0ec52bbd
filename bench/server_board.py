# The sensor board's own handlers behind the simplest serve(): one socket, no
# tick, no Observe. `make run` (firmware/main.py) adds the second socket, the
# change watch and the observers; the benchmark puts the two side by side to
# show what that configuration costs over this one.
#
#   MICROPYPATH=firmware:boards/unix:boards/common:lib micropython bench/server_board.py PORT
import socket
import sys

import board
import config as board_config
import resources
import sensorconfig
import sensors
from coap import Server


def one_socket_server():
    """The board's handlers and sensors, as app.start() makes them, behind a
    Server without Observe or a log ring."""
    cfg = dict(board_config.DEFAULTS)
    b = board.Board(cfg)
    specs, _ = sensorconfig.parse(cfg["sensors"], cfg.get("dht_pin"),
                                  getattr(board, "DEFAULT_SENSOR", "mcu_temp"))
    readings = sensors.Sensors(specs, b, cfg["name"], log=lambda line: None)
    readings.refresh()  # the board's tick refreshes them; here the first reading stays
    handlers = resources.SensorBoard(b, cfg, None, readings)
    server = Server(resources.table(handlers, cfg), log=None, observers=0)
    handlers.server = server
    return server


def main():
    server = one_socket_server()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(socket.getaddrinfo("127.0.0.1", int(sys.argv[1]))[0][-1])
    server.serve(sock)


if __name__ == "__main__":
    main()
