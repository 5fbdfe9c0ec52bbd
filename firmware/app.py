# Start-up: config, board, network, sockets, then serve for ever.

import socket
import sys
import time

import board
import config as board_config
import fleet
import resources
from coap import Server
from logring import LogRing

_EADDRINUSE = 98
_EADDRNOTAVAIL = 99
_RETRY_MAX_S = 60


class StartupError(Exception):
    """A problem the user must fix; reported as one line."""


def bring_up(b, log, sleep=time.sleep):
    """Network up, retrying with back-off until it works: the board never gives up."""
    delay = 1
    while True:
        try:
            return b.connect(log)
        except board.NetworkDown as e:
            log("network: down (%s); retrying in %d s" % (e, delay))
            sleep(delay)
            delay = min(delay * 2, _RETRY_MAX_S)


def bind(addresses):
    socks = []
    try:
        for host, port in addresses:
            try:
                ai = socket.getaddrinfo(host, port, 0, socket.SOCK_DGRAM)[0]
            except OSError:
                raise StartupError("can't bind %s port %d: not an address" % (host, port))
            s = socket.socket(ai[0], socket.SOCK_DGRAM)
            socks.append(s)
            try:
                s.bind(ai[-1])
            except OSError as e:
                why = {_EADDRINUSE: "address already in use (another server running?)",
                       _EADDRNOTAVAIL: "address not available on this machine"}.get(
                           e.args[0], "error %s" % e.args[0])
                raise StartupError("can't bind %s port %d: %s" % (host, port, why))
    except StartupError:
        for s in socks:
            s.close()
        raise
    return socks


def _uri(host, port):
    host = "[%s]" % host if ":" in host else host
    return "coap://%s%s" % (host, "" if port == 5683 else ":%d" % port)


def start(config_path=board_config.PATH, log=None):
    log = log or LogRing()
    cfg, problems = board_config.load(config_path)
    for p in problems:
        log(p)
    b = board.Board(cfg)
    handlers = resources.SensorBoard(b, cfg, log if isinstance(log, LogRing) else None)
    table = resources.table(handlers, cfg)
    server = Server(table, log=log, observers=cfg["observers"],
                    con_every=cfg["observe_con_every"])
    handlers.server = server
    watch = resources.ChangeWatch(server, b, table, cfg["observe_threshold"])
    server.tick = watch.tick
    addresses = bring_up(b, log)
    socks = bind(addresses)
    # fleet: multicast discovery and RD registration (docs/fleet.md)
    extra, ticks = fleet.start(server, b, cfg, socks, addresses, log)
    socks += extra
    server.tick = fleet.compose(server.tick, *ticks)
    return server, socks, addresses, log


def main(config_path=board_config.PATH):
    try:
        server, socks, addresses, log = start(config_path)
    except (StartupError, ValueError) as e:  # ValueError: a bad resource table
        print("coap: " + str(e))
        sys.exit(1)
    for host, port in addresses:
        log("coap: serving on %s" % _uri(host, port))
    host, port = addresses[0]
    log("coap: try  coap-client-notls -m get %s/.well-known/core" % _uri(host, port))
    while True:
        try:
            server.serve(*socks)
        except KeyboardInterrupt:
            raise
        except Exception as e:  # never let the board go down: log and serve again
            log("coap: serve loop error %r; continuing" % (e,))
            time.sleep(1)
