# PPP over a UART as the board's network: a cellular modem (SIM7600, SIM800,
# BG95 ...) dialled with AT commands first, or a direct serial link to a PPP
# peer (no "dial"). config.json: "ppp": {"uart": 1, "baud": 115200, "tx": 17,
# "rx": 16, "dial": ["AT", "ATD*99#"], "timeout_ms": 30000}.
#
# network.PPP (RFC 1661; IPCP RFC 1332, IPV6CP RFC 5072) runs in the firmware;
# this module dials, waits for an IPv4 address, notices a dropped link, and
# closes the link (LCP Terminate, RFC 1661 §5.5) before a soft reset.

import time

import machine
import network
import socket

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

#: network.PPP.status(): its own states, or a negative lwIP PPPERR_* code
_STATUS = {0: "inactive", 1: "active", 3: "connecting", 4: "connected",
           -1: "invalid parameter (PPPERR_PARAM)", -2: "cannot open (PPPERR_OPEN)",
           -3: "invalid device (PPPERR_DEVICE)", -4: "out of memory (PPPERR_ALLOC)",
           -5: "closed (PPPERR_USER)", -6: "connection lost (PPPERR_CONNECT)",
           -7: "authentication failed (PPPERR_AUTHFAIL)", -8: "protocol error (PPPERR_PROTOCOL)",
           -9: "peer dead, no echo replies (PPPERR_PEERDEAD)",
           -10: "idle timeout (PPPERR_IDLETIMEOUT)", -11: "connect time over (PPPERR_CONNECTTIME)",
           -12: "loopback detected (PPPERR_LOOPBACK)"}
_INACTIVE = const(0)
_NO_ADDRESS = "0.0.0.0"
#: How long a modem gets to answer one AT command (a whole attempt has timeout_ms)
_REPLY_MS = const(10000)
#: The link is looked at this often while up; after a drop the attempts back
#: off from the first to the most (docs/flashing.md)
_CHECK_MS = const(1000)
_BACKOFF_FIRST_MS = const(1000)
_BACKOFF_MAX_MS = const(60000)
#: Final result codes of a modem (ITU-T V.250 §5.7); "+CME ERROR: n" too
_FAILED = (b"ERROR", b"NO CARRIER", b"BUSY", b"NO DIALTONE", b"NO ANSWER", b"+CME ERROR")


def describe(status):
    """A PPP status in words, e.g. 'connection lost (PPPERR_CONNECT) (-6)'."""
    return "%s (%d)" % (_STATUS.get(status, "unknown status"), status)


def _command(cmd):
    # What a log line may show of a dial step: the command without its arguments
    # (an AT+CGAUTH line holds the APN's password)
    return cmd.split("=", 1)[0]


#: The board's link (one UART, one modem): what disconnect() closes
current = None


def disconnect():
    """Close the board's PPP link, if there is one (before a soft reset)."""
    if current is not None:
        current.close()


class PppLink:
    #: How often the link is polled while it comes up or goes down, in ms
    POLL_MS = 10

    def __init__(self, cfg, clock=time):
        global current
        self._cfg = cfg
        self._clock = clock
        self._uart = None
        self._ppp = None
        self._next = clock.ticks_ms()  # when tick() looks next
        self._retry_ms = 0  # the next back-off; 0 while the link is up
        self._kicker = None  # a socket of our own: see _kick
        current = self

    def address(self):
        """The IPv4 address, or None while the link has none."""
        if self._ppp is None or not self._ppp.isconnected():
            return None
        a = self._ppp.ipconfig("addr4")[0]
        return None if a == _NO_ADDRESS else a

    def status(self):
        return self._ppp.status() if self._ppp is not None else _INACTIVE

    def up(self, log):
        """One attempt: dial, start PPP, wait for IPv4 (isconnected() alone is
        True once IPV6CP is up, often before IPCP). Returns the address; raises
        OSError saying why. One network.PPP serves every attempt: lwIP has
        room for one PPP link, freed only once a close completes."""
        c = self._clock
        t0 = c.ticks_ms()
        timeout = self._cfg.get("timeout_ms") or 30000
        dial = self._cfg.get("dial") or ()
        ppp = self._ppp
        if ppp is not None:
            status = ppp.status()
            # A modem back in command mode is dialled again, with the UART out of
            # PPP's hands (inactive); a stale link is closed before it restarts
            if (dial or status > _INACTIVE) and not self._shut():
                raise OSError("ppp: the last link is still closing: %s"
                              % describe(ppp.status()))
        if self._uart is None:
            self._uart = self._open_uart()
        for n, cmd in enumerate(dial):
            self._chat(cmd, n + 1, t0, timeout)
        if ppp is None:
            ppp = self._ppp = network.PPP(self._uart)
        ppp.connect()
        while self.address() is None:
            status = ppp.status()
            if status < 0 or c.ticks_diff(c.ticks_ms(), t0) >= timeout:
                raise OSError("ppp: no IPv4 address after %d ms: %s"
                              % (c.ticks_diff(c.ticks_ms(), t0), describe(status)))
            self._kick()
            c.sleep_ms(self.POLL_MS)
        return self.address()

    def _kick(self):
        """Run lwIP's timers. MicroPython v1.28.0 runs them only while a netif
        is up or a TCP socket is open (ports/rp2/mpnetworkport.c), or when a
        blocking socket call waits (modlwip.c poll_sockets). While PPP has no
        netif up, its own retransmissions (LCP requests, Terminate-Requests)
        wait on those timers: without this a link the peer ended never
        finishes closing. A 1 ms blocking receive on a socket of our own
        is such a wait."""
        s = self._kicker
        if s is None:
            s = self._kicker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(0.001)
        try:
            s.recv(1)
        except OSError:  # ETIMEDOUT: what it is for
            pass

    def _open_uart(self):
        cfg = self._cfg
        kw = {}
        for key in ("tx", "rx"):
            if cfg.get(key) is not None:
                kw[key] = cfg[key]
        try:
            return machine.UART(cfg["uart"], cfg.get("baud") or 115200, **kw)
        except (ValueError, TypeError) as e:  # a UART or pin this chip doesn't have
            raise OSError("ppp: the board refuses UART %s: %s" % (cfg["uart"], e))

    def tick(self, log):
        """From the server's tick. Once a second: is the link still up? After a
        drop, one line and attempts (each up to timeout_ms) 1 s, 2 s, 4 s ...
        60 s apart until it is back. The server's sockets (bound to all
        interfaces) and its observers stay as they are."""
        c = self._clock
        if c.ticks_diff(c.ticks_ms(), self._next) < 0:
            return
        if not self._retry_ms:
            if self.address() is not None:
                self._next = c.ticks_add(c.ticks_ms(), _CHECK_MS)
                return
            log("ppp: link down: %s; reconnecting" % describe(self.status()))
            self._retry_ms = _BACKOFF_FIRST_MS
        try:
            addr = self.up(log)
        except OSError as e:
            log("%s; next attempt in %d s" % (e, self._retry_ms // 1000))
            self._next = c.ticks_add(c.ticks_ms(), self._retry_ms)
            self._retry_ms = min(self._retry_ms * 2, _BACKOFF_MAX_MS)
            return
        log("ppp: reconnected as %s" % addr)
        self._retry_ms = 0
        self._next = c.ticks_add(c.ticks_ms(), _CHECK_MS)

    def _chat(self, cmd, n, t0, timeout):
        """Send one dial command, wait for its final result: CONNECT for a dial
        (ATD...), else OK (V.250 §5.7.1)."""
        c = self._clock
        uart = self._uart
        want = b"CONNECT" if cmd.upper().startswith("ATD") else b"OK"
        while uart.any():  # what an earlier command left (echo, URCs)
            uart.read()
        uart.write(cmd.encode() + b"\r")
        started = c.ticks_ms()
        got = b""
        while True:
            data = uart.read()
            if data:
                got += data
                for line in got.split(b"\r\n")[:-1]:
                    line = line.strip()
                    if line.startswith(want):
                        return
                    for bad in _FAILED:
                        if line.startswith(bad):
                            raise OSError("ppp: dial step %d (%s) answered %s"
                                          % (n, _command(cmd), line.decode()))
                got = got[got.rfind(b"\r\n") + 2:] if b"\r\n" in got else got
            now = c.ticks_ms()
            if (c.ticks_diff(now, started) >= _REPLY_MS
                    or c.ticks_diff(now, t0) >= timeout):
                raise OSError("ppp: dial step %d (%s): no %s after %d ms"
                              % (n, _command(cmd), want.decode(), c.ticks_diff(now, started)))
            c.sleep_ms(self.POLL_MS)

    def _shut(self, ppp=None, timeout_ms=10000):
        """Close the link (an LCP Terminate-Request; lwIP waits up to 6 s for
        the answer) and wait until it is inactive: lwIP's link freed, the UART
        released. True once it is."""
        ppp = ppp or self._ppp
        c = self._clock
        t0 = c.ticks_ms()
        interrupted = None
        if ppp.status() < 0:
            # A failed or dropped link: disconnect() ignores that state, and
            # only connect() takes lwIP's PPP back to where it can be closed
            ppp.connect()
        ppp.disconnect()
        while ppp.status() != _INACTIVE and c.ticks_diff(c.ticks_ms(), t0) < timeout_ms:
            try:
                self._kick()
                c.sleep_ms(self.POLL_MS)
            except KeyboardInterrupt as e:  # a second Ctrl-C: close first, then stop
                interrupted = e
        if interrupted is not None:
            raise interrupted
        return ppp.status() == _INACTIVE

    def close(self):
        """Close the link and detach it from the UART. Needed before a soft
        reset: MicroPython v1.28.0 deinitialises the UARTs before the PPP
        object's finaliser runs, which then fails and leaves lwIP a link in
        freed memory (the next network use crashes)."""
        ppp = self._ppp
        if ppp is None:
            return
        self._ppp = None
        try:
            self._shut(ppp)
        finally:
            ppp.config(stream=None)
