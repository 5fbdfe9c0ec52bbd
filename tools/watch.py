"""Watch a board's readings live in the terminal.

    python -m tools.watch coap://127.0.0.1[:5683] [--csv FILE] [--seconds N]

Finds the observable sensors in the board's /.well-known/core (RFC 6690),
observes each (RFC 7641) in a format that carries a number, and draws one chart
per sensor (tools/chart.py). --csv appends `time,resource,value` rows. On a
terminal the screen is redrawn; otherwise each reading is one line. A sensor
that sends nothing past its reading's Max-Age is registered again: a board
keeps a few observers only, and one left out of its table hears nothing.
"""

import argparse
import asyncio
import os
import sys
import time
from urllib.parse import urlsplit

from aiocoap import GET, Context, Message
from aiocoap import error as coap_error

from .chart import Screen
from .common import Refused, run_cli
from .readings import number, pick_format, sensors

DISCOVERY_TIMEOUT = 10   # seconds: the board's /.well-known/core, or it is unreachable
RETRY_S = 5              # a sensor whose observation ended is asked again after this
MAX_AGE_SLACK = 5        # seconds past a reading's Max-Age before registering again


def board_origin(uri):
    """coap://host[:port] checked and normalised, or Refused."""
    bad = Refused("bad URI %r: expected coap://host[:port], port 1 to 65535" % uri)
    u = urlsplit(uri)
    try:
        port = u.port
    except ValueError:  # not a number, or out of range
        raise bad
    if u.scheme != "coap" or not u.hostname or u.path not in ("", "/") or u.query or port == 0:
        raise bad
    host = "[%s]" % u.hostname if ":" in u.hostname else u.hostname
    return "coap://%s:%d" % (host, port or 5683)


class CsvLog:
    """time,resource,value rows appended to a file; the header once, when it is new."""

    def __init__(self, path):
        try:
            self.f = open(path, "a", buffering=1)
        except OSError as e:
            raise Refused("can't write %s: %s" % (path, e.strerror))
        if self.f.tell() == 0:
            self.f.write("time,resource,value\n")

    def row(self, t, path, value):
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % (t % 1 * 1000)
        self.f.write("%s,%s,%s\n" % (stamp, path, value))

    def close(self):
        self.f.close()


async def discover(ctx, origin):
    try:
        resp = await asyncio.wait_for(
            ctx.request(Message(code=GET, uri=origin + "/.well-known/core")).response,
            DISCOVERY_TIMEOUT)
    except asyncio.TimeoutError:
        raise Refused("no answer from %s in %d s (is the board running?)"
                      % (origin, DISCOVERY_TIMEOUT))
    except coap_error.Error as e:
        if isinstance(e.__cause__, ConnectionRefusedError):  # an ICMP port unreachable
            e = "nothing listens on that port (is the board running?)"
        raise Refused("can't reach %s: %s" % (origin, e))
    if not resp.code.is_successful():
        raise Refused("%s/.well-known/core answered %s" % (origin, resp.code.dotted))
    try:
        found = sensors(resp.payload.decode("utf-8", "replace"))
    except ValueError as e:
        raise Refused("%s/.well-known/core: %s" % (origin, e))
    if not found:
        raise Refused("%s has no observable sensors in /.well-known/core" % origin)
    return found


async def observe(ctx, origin, sensor, show):
    """Observe one sensor until cancelled; show(sensor, value or None, why not)."""
    fmt = pick_format(sensor.formats)
    while True:
        why, pause = await registration(ctx, origin + sensor.path, fmt,
                                        lambda value, why: show(sensor, value, why))
        show(sensor, None, "%s; asking again%s" % (why, " in %d s" % pause if pause else ""))
        await asyncio.sleep(pause)


async def registration(ctx, uri, fmt, show):
    """One registration (RFC 7641 §3.1) and its notifications, shown as they
    come; (why they ended, seconds to wait before registering again)."""
    req = ctx.request(Message(code=GET, uri=uri, observe=0, accept=fmt))
    try:
        resp = await req.response
        notes = req.observation.__aiter__()
        while True:
            value, why = number(resp)
            show(value, why)
            if value is None:  # an error ends the observation (§3.2): the sensor may recover
                return why, RETRY_S
            if resp.opt.observe is None:
                return "not observable", RETRY_S
            # A notification is due before the reading's Max-Age runs out (§4.3.1);
            # none means the board no longer counts us (a full table, a reboot)
            max_age = 60 if resp.opt.max_age is None else resp.opt.max_age
            try:
                resp = await asyncio.wait_for(notes.__anext__(), max_age + MAX_AGE_SLACK)
            except asyncio.TimeoutError:
                return "no notification within Max-Age", 0
            except StopAsyncIteration:
                return "notifications ended", RETRY_S
    except coap_error.Error as e:
        return str(e), RETRY_S
    finally:
        if not req.observation.cancelled:
            req.observation.cancel()


async def watch(origin, csv, seconds, screen):
    ctx = await Context.create_client_context()
    try:
        found = await discover(ctx, origin)
        screen.start(origin, found)

        def show(sensor, value, note):
            if value is not None and csv:
                csv.row(time.time(), sensor.path, value)
            screen.reading(sensor, value, note)

        tasks = [asyncio.ensure_future(observe(ctx, origin, s, show)) for s in found]
        try:
            await asyncio.wait(tasks, timeout=seconds)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        await ctx.shutdown()


def main(argv):
    ap = argparse.ArgumentParser(prog="python -m tools.watch", description=__doc__.split("\n")[0])
    ap.add_argument("uri", help="the board, coap://host[:port]")
    ap.add_argument("--csv", metavar="FILE", help="append time,resource,value rows to FILE")
    ap.add_argument("--seconds", type=float, metavar="N", help="stop after N seconds")
    args = ap.parse_args(argv)
    origin = board_origin(args.uri)
    if args.seconds is not None and args.seconds <= 0:
        raise Refused("--seconds: expected a positive number, got %g" % args.seconds)
    csv = CsvLog(args.csv) if args.csv else None
    screen = Screen(sys.stdout, sys.stdout.isatty() and os.environ.get("TERM") != "dumb")
    try:
        asyncio.run(watch(origin, csv, args.seconds, screen))
    except KeyboardInterrupt:
        screen.stop()
        print("watch: stopped (Ctrl-C)", file=sys.stderr)
        return 0
    finally:
        screen.stop()
        if csv:
            csv.close()
    return 0


if __name__ == "__main__":
    sys.exit(run_cli("watch", main, sys.argv[1:]))
