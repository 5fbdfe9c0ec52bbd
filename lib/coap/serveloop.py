# The loop that moves datagrams between sockets and a Server, and its garbage
# collection policy. One loop for every configuration: poll, then drain each
# readable socket without blocking until it has nothing left (EAGAIN), so a
# burst costs one poll; the server's timed work (Server.on_tick) runs once its
# deadline has passed, not once per datagram.

import gc
import select

from .clock import ticks_add, ticks_diff, ticks_ms

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

_IDLE_COLLECT = const(64)  # datagrams since the last collection that make a quiet tick collect


class Heap:
    """When the loop collects garbage, and what was free after it.

    every: collect after this many datagrams (0: never; MicroPython collects
    by itself when its heap is full), and whenever a tick finds the sockets
    idle since datagrams came in. Under load a collection costs its marking of
    every live object whatever the interval, so a long one: on the board as
    `make run` starts it, 64 cost 6 us per request, 1024 0.4 (bench/).

    free: bytes free after one of those collections (MicroPython; 0
    elsewhere), what /board reports, so that no request pays for a collection
    of its own. Measured at most once a second: gc.mem_free() reads the whole
    allocation table (5 us per request when done at every collection)."""

    def __init__(self, every=1024):
        self.every = every
        self.free = 0
        self._free_at = ticks_ms()
        self.collect()

    def collect(self, force=False):
        """A regular collection; records free at most once a second (always
        with force)."""
        gc.collect()
        now = ticks_ms()
        if hasattr(gc, "mem_free") and (
                force or self.free == 0 or ticks_diff(now, self._free_at) >= 1000):
            self.free = gc.mem_free()
            self._free_at = now


def serve(server, socks):
    """Answer datagrams on socks until interrupted (Server.serve). A socket
    error is logged and serving goes on; the server's tick contains its own."""
    poller = select.poll()
    for s in socks:
        s.setblocking(False)  # the drain below stops at EAGAIN instead of waiting
        poller.register(s, select.POLLIN)
    # MicroPython's ipoll() reuses its result tuple (no garbage) and yields the
    # socket; CPython's poll() yields file descriptors.
    wait = getattr(poller, "ipoll", None)
    by_fd = None
    if wait is None:
        wait = poller.poll
        by_fd = {s.fileno(): s for s in socks}
    heap = server.heap
    burst = server.burst
    every = heap.every  # 0: never collect, leave it to the GC
    polls = 0  # datagrams of the current burst
    since = 0  # datagrams since the last collection
    due = ticks_add(ticks_ms(), server.tick_ms)
    while True:
        timed = server.timed()
        if timed:
            left = ticks_diff(due, ticks_ms())
            if left <= 0:
                server.on_tick()
                due = ticks_add(ticks_ms(), server.tick_ms)
                left = server.tick_ms
        idle = True
        for s, _ in wait(left if timed else -1):
            idle = False
            if isinstance(s, int):
                s = by_fd[s]
            while True:
                try:
                    got = server.drain(s, burst - polls)
                except OSError as e:
                    server.log("coap: socket error %s" % e)
                    break
                polls += got
                since += got
                if polls < burst:
                    break  # drained
                polls = 0
                if every and since >= every:
                    since = 0
                    heap.collect()
                if timed and ticks_diff(due, ticks_ms()) <= 0:
                    break
        if idle and every and since >= _IDLE_COLLECT:
            # quiet for a tick after traffic: collect now rather than in a burst
            since = 0
            heap.collect(True)
