# Start-up: config, board, network, sockets, then serve for ever.

import os
import socket
import sys
import time

import board
import config as board_config
import fleet
import remoteconfig
import resources
import sensorconfig
import sensors
import security
import sleep as deep_sleep
import update
from coap import Server
from logring import LogRing

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

_EAFNOSUPPORT = const(97)
_EADDRINUSE = const(98)
_EADDRNOTAVAIL = const(99)
_RETRY_MAX_S = const(60)
#: main()'s answer when the board is to restart (sleep.Reboot): main.py does it
RESET = "reset"
# <netinet/in.h>: an IPv6 wildcard socket takes only IPv6, so "0.0.0.0" and "::"
# can share a port (Linux's default would take IPv4 too and collide).
_IPPROTO_IPV6 = const(41)
_IPV6_V6ONLY = const(26)


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


def _bind_one(host, port):
    try:
        ai = socket.getaddrinfo(host, port, 0, socket.SOCK_DGRAM)[0]
    except OSError:
        raise StartupError("can't bind %s port %d: not an address" % (host, port))
    try:
        s = socket.socket(ai[0], socket.SOCK_DGRAM)
    except OSError as e:
        raise StartupError("can't bind %s port %d: %s" % (host, port, _why(e)), e.args[0])
    try:
        if ":" in host:
            try:
                s.setsockopt(_IPPROTO_IPV6, getattr(socket, "IPV6_V6ONLY", _IPV6_V6ONLY), 1)
            except OSError:
                pass  # a stack without the option: the board binds one family anyway
        s.bind(ai[-1])
    except OSError as e:
        s.close()
        raise StartupError("can't bind %s port %d: %s" % (host, port, _why(e)), e.args[0])
    return s


def _why(e):
    # The board says how to choose another port (the unix board: COAP_PORT)
    in_use = "address already in use (another server running? %s)" % getattr(
        board, "PORT_HINT", 'set "port" in config.json')
    return {_EADDRINUSE: in_use,
            _EADDRNOTAVAIL: "address not available on this machine",
            _EAFNOSUPPORT: "address family not supported on this machine"}.get(
                e.args[0], "error %s" % e.args[0])


def bind(addresses, optional=False, log=print):
    """(sockets, the addresses bound). With optional (the board's own defaults,
    no "bind" configured) an address this machine doesn't have (::1 on a host
    without IPv6) is skipped with one line, as long as one address binds; so
    is, always, one of a family the host lacks (EAFNOSUPPORT). Any other
    failure stops start-up."""
    socks, bound, skipped = [], [], []
    try:
        for host, port in addresses:
            try:
                socks.append(_bind_one(host, port))
                bound.append((host, port))
            except StartupError as e:
                errno = e.args[1] if len(e.args) > 1 else None
                if errno == _EAFNOSUPPORT or (optional and errno == _EADDRNOTAVAIL):
                    skipped.append(e.args[0])
                else:
                    raise StartupError(e.args[0])
        if not socks:
            raise StartupError(skipped[0] if skipped else "no address to bind")
    except StartupError:
        for s in socks:
            s.close()
        raise
    for line in skipped:
        log("coap: skipped " + line[len("can't bind "):])
    return socks, bound


def _uri(host, port):
    host = "[%s]" % host if ":" in host else host
    return "coap://%s%s" % (host, "" if port == 5683 else ":%d" % port)


def make_board(cfg, log):
    """The board for cfg. A pin the board refuses (no GPIO 45 on an ESP32, no
    "LED" but on a Pico W) falls back to its default with one line, never a
    crash loop: config.py can't know every board's pins, the board's machine.Pin can."""
    try:
        return board.Board(cfg)
    except (ValueError, TypeError):
        pass
    for key in board_config.PIN_FIELDS:
        if cfg[key] == board_config.DEFAULTS[key]:
            continue
        alone = dict(cfg)
        for other in board_config.PIN_FIELDS:
            if other != key:
                alone[other] = board_config.DEFAULTS[other]
        try:
            board.Board(alone)
            continue
        except (ValueError, TypeError) as e:
            log("config: %s: the %s board refuses %s (%s); using %s"
                % (key, board.NAME, board_config.shown(key, cfg[key]), e,
                   board_config.shown(key, board_config.DEFAULTS[key])))
        cfg[key] = board_config.DEFAULTS[key]
    return board.Board(cfg)


def start(config_path=board_config.PATH, log=None, required=False):
    log = log or LogRing()
    cfg, problems = board_config.load(config_path, required)
    getenv = getattr(os, "getenv", None)  # the unix port has an environment
    if getenv is not None:
        problems += board_config.from_env(cfg, getenv)
    for p in problems:
        log(p)
    b = make_board(cfg, log)
    b.log = log  # one log path: what the board says reaches /board/log too
    specs, problems = sensorconfig.parse(cfg["sensors"], cfg.get("dht_pin"),
                                         getattr(board, "DEFAULT_SENSOR", "mcu_temp"))
    for p in problems:
        log(p)
    readings = sensors.Sensors(specs, b, cfg["name"], log)
    readings.refresh()  # a first reading before the first request
    handlers = resources.SensorBoard(b, cfg, log if isinstance(log, LogRing) else None, readings)
    handlers.updater = update.Updater(  # docs/updates.md
        _connect, log, None if cfg["update_oscore"] is None
        else lambda: security.update_context(cfg))
    handlers.app_version = update.running().encode()
    if cfg["oscore"] is not None:  # remote config only where OSCORE can protect it
        handlers.remote = remoteconfig.RemoteConfig(config_path, cfg, log)
        for path in cfg["open"]:
            if path.strip("/") in remoteconfig.PATHS:
                log("config: open: %s is served only under OSCORE" % path)
        cfg["open"] = [p for p in cfg["open"] if p.strip("/") not in remoteconfig.PATHS]
    table = resources.table(handlers, cfg)
    objects = lwctx = None
    board_contexts = contexts = security.contexts(cfg, log)
    open_paths = cfg["open"]
    if cfg["lwm2m"]:
        import lwm2mboard  # only a board configured for LwM2M loads it (docs/lwm2m.md)
        objects = lwm2mboard.Objects(b, cfg, readings, handlers.updater,
                                     handlers.app_version, log)
        lwctx = security.lwm2m_context(cfg, log)
        if lwctx is not None:  # the LwM2M objects answer the server over OSCORE only
            contexts, open_paths = security.with_lwm2m(contexts, open_paths, lwctx, table)
        entries = tuple(objects.resources())
        table += entries
    server = Server(table, log=log, observers=cfg["observers"],
                    con_every=cfg["observe_con_every"],
                    amplification_limit=cfg["amplification_limit"],
                    held_requests=cfg["held_requests"], separate=sensors.FRESH_SLOTS,
                    oscore=contexts, open=open_paths)
    handlers.server = server
    if lwctx is not None:
        security.separate(server, entries, board_contexts, lwctx)
        # /board/update checks its context itself (it is protected even when open)
        handlers.update_contexts = tuple(board_contexts or ())
    if objects is not None:
        objects.server = server
    if getattr(board, "RECV_PEEK", 0):  # lwIP's recvfrom: see Server.peek_receive
        server.peek_receive(board.RECV_PEEK)
    watch = resources.ChangeWatch(server, readings, cfg["observe_threshold"])
    server.tick = watch.tick
    addresses = bring_up(b, log)
    socks, addresses = bind(addresses, optional=cfg["bind"] is None, log=log)
    # fleet: multicast discovery and RD registration (docs/fleet.md)
    extra, ticks = fleet.start(server, b, cfg, socks, addresses, log)
    socks += extra
    # observers kept across resets, deep sleep for battery boards (sleep.py)
    store = deep_sleep.keep_observers(server, b, socks, log)
    if store is not None:
        ticks.append(store.tick)
    if cfg["sleep"]:
        ticks.append(deep_sleep.AwakeTimer(b, store, cfg["sleep"], time.ticks_ms,
                                           time.ticks_diff).tick)
    if objects is not None:
        reg = fleet.lwm2m(server, cfg, socks, addresses, objects, log, b, lwctx)
        if reg is not None:
            ticks.append(reg.tick)  # it sets server.on_stop: the De-register
        ticks.append(objects.tick)  # last: a reboot it raises leaves after the rest ran
    if getattr(b, "link_tick", None):  # PPP: reconnects after a drop (ppplink.py)
        ticks.append(b.link_tick)
    if handlers.remote is not None:
        ticks.append(handlers.remote.tick)  # POST /board/reboot
    server.tick = fleet.compose(server.tick, handlers.tick, handlers.updater.tick, *ticks)
    return server, socks, addresses, log


def _connect(host, port):
    """A socket of its own for the update's file server: connect()ed, non-blocking."""
    ai = socket.getaddrinfo(host, port, 0, socket.SOCK_DGRAM)[0]
    s = socket.socket(ai[0], socket.SOCK_DGRAM)
    try:
        s.connect(ai[-1])
        s.setblocking(False)
    except OSError:
        s.close()
        raise
    return s


def main(config_path=board_config.PATH, required=False):
    """Start and serve until Ctrl-C. required: config_path was named on the
    command line, so a missing file is an error (a board without config.json
    runs on defaults). Returns True when the unix board woke from a
    simulated deep sleep, RESET when the board is to restart; main.py then
    starts the firmware afresh."""
    try:
        return run(config_path, required)
    except KeyboardInterrupt:
        # One line and back to the REPL (a board) or the shell (unix, exit 0)
        print("coap: stopped (Ctrl-C)")
        # Under `make run` make has the same SIGINT: exiting at once races its
        # handler's wait for us ("make: *** wait: No child processes").
        time.sleep_ms(200)
    finally:
        # A PPP link must be closed before the soft reset that follows Ctrl-C
        # at the REPL (MicroPython v1.28.0 crashes otherwise: ppplink.py)
        if hasattr(board, "disconnect"):
            board.disconnect()


def run(config_path, required):
    try:
        server, socks, addresses, log = start(config_path, required=required)
    except (StartupError, ValueError, board_config.Missing) as e:  # ValueError: bad table, file
        print("coap: " + str(e))
        sys.exit(1)
    except MemoryError:  # e.g. LwM2M on a Pico running .mpy files (docs/memory.md)
        import gc

        gc.collect()
        print("coap: out of memory at start-up (%d bytes free): turn features off in "
              "config.json, or freeze the app into the firmware (make firmware)"
              % (gc.mem_free() if hasattr(gc, "mem_free") else -1))  # CPython: none
        sys.exit(1)
    for host, port in addresses:
        log("coap: serving on %s" % _uri(host, port))
    host, port = addresses[0]
    log("coap: try  coap-client-notls -m get %s/.well-known/core" % _uri(host, port))
    try:
        while True:
            try:
                server.serve(*socks)
            except KeyboardInterrupt:
                stop = getattr(server, "on_stop", None)
                if stop is not None:  # a clean stop: say goodbye (LwM2M De-register)
                    stop()
                raise
            except deep_sleep.GoToSleep as s:
                s.sleep(socks, log)
                return True
            except deep_sleep.Reboot as r:  # an update in place, an LwM2M reboot
                if r.line:
                    log(r.line)
                return RESET  # main() closes the link, main.py restarts the firmware
            except Exception as e:  # never let the board go down: log and serve again
                log("coap: serve loop error %r; continuing" % (e,))
                time.sleep(1)
    finally:
        for s in socks:
            s.close()
