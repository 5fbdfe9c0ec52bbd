# What the board keeps across resets, and deep sleep for battery boards.
#
# The Observe table goes to the board's non-volatile storage (b.save_state:
# a file, or ESP32 RTC memory) when it changes, and comes back at start-up, so
# observers keep their notifications across a watchdog reset, a firmware
# update or a deep sleep (#14). With config "sleep" the board serves for
# awake_s, then sleeps for sleep_s; an ESP32 or Pico W wakes with a reset,
# the unix board closes its sockets, stays silent and starts afresh.

from coap.observestore import ObserverStore

#: Wakes in a row an observer may leave a CON notification unacknowledged
#: before it is dropped (RFC 7252 MAX_RETRANSMIT, counted in wakes).
MAX_MISSES = 4


def keep_observers(server, b, socks, log):
    """An ObserverStore saving through the board, with what the board had
    saved restored; None when there is no table or the board can't keep one."""
    obs = server.observers
    if obs is None or not hasattr(b, "save_state"):
        return None

    def save(buf, n):
        try:
            b.save_state(buf, n)
        except OSError as e:  # a full or failing filesystem: keep serving, say so
            log("observe: saving observers failed (%s); kept in RAM only" % e)

    contexts = server.oscore.contexts if server.oscore is not None else ()
    store = ObserverStore(obs, server.resources, socks, save, contexts=contexts)
    try:
        data = b.load_state()
    except OSError as e:
        log("observe: saved observers not readable (%s); starting without" % e)
        data = None
    if data:
        n = store.restore(data, len(data))
        if n < 0:
            log("observe: saved observers in an unknown format; starting without")
        elif n:
            log("observe: %d observer(s) restored; notifying them" % n)
    return store


class Reboot(BaseException):
    """Raised once a reboot is due (an update in place, an LwM2M Execute on
    3/0/4) and its answer is out. A signal, not an error: serve() lets it
    through, app.run() closes the sockets and returns app.RESET, and main.py
    restarts the firmware once the network link is closed (a soft reset on a
    board: rp2040js has no hard reset, and a soft one keeps Wi-Fi up)."""

    def __init__(self, line=None):
        super().__init__(line)
        self.line = line  # logged by app.run() as it closes the sockets


class GoToSleep(BaseException):
    """Raised from the server's tick when the awake time is over. A signal,
    not an error: serve() contains a tick's Exceptions, never this."""

    def __init__(self, b, store, sleep_ms):
        super().__init__("deep sleep")
        self.board = b
        self.store = store
        self.sleep_ms = sleep_ms

    def sleep(self, socks, log):
        """Save, go quiet, sleep. Returns only on the unix board (then the
        firmware starts afresh with what was saved)."""
        if self.store is not None:
            self.store.sleeping(MAX_MISSES)
        for s in socks:
            s.close()
        log("sleep: deep sleep for %d s" % (self.sleep_ms // 1000))
        self.board.deep_sleep(self.sleep_ms)


class AwakeTimer:
    """A tick that ends the awake time: raises its GoToSleep after awake_s."""

    def __init__(self, b, store, sleep, ticks_ms, ticks_diff):
        self._ticks_ms = ticks_ms
        self._ticks_diff = ticks_diff
        self.start = ticks_ms()
        self.awake_ms = sleep["awake_s"] * 1000
        self.signal = GoToSleep(b, store, sleep["sleep_s"] * 1000)

    def tick(self):
        if self._ticks_diff(self._ticks_ms(), self.start) >= self.awake_ms:
            raise self.signal
