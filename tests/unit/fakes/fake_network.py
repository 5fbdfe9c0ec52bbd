# network for the board tests: one STA interface whose link follows a script
# on the fake clock, so a test decides when, and whether, it comes up.
import fake_time

STA_IF = 0
AP_IF = 1

#: status() codes of the port under test, set by reset()
got_ip = None
idle = None
#: one script per connect(): [(ms after connect(), status), ...]; the latest
#: step reached holds. With no script left the link comes up at once.
scripts = []
#: what the board did, in order: ("country", code), ("active", on),
#: ("connect", ssid, key), ("disconnect",)
calls = []
address = "192.168.1.42"

_active = False
_script = []
_t0 = 0


def reset(got_ip_code, idle_code, up=False):
    """Start with the interface off; up: the link is already there (a soft reset)."""
    global got_ip, idle, _active, _script, _t0
    got_ip = got_ip_code
    idle = idle_code
    del scripts[:]
    del calls[:]
    _active = up
    _script = [(0, got_ip if up else idle)]
    _t0 = fake_time.ticks_ms()


def country(code=None):
    calls.append(("country", code))


class WLAN:
    def __init__(self, interface=STA_IF):
        self.interface = interface

    def active(self, on=None):
        global _active
        if on is None:
            return _active
        calls.append(("active", on))
        _active = bool(on)

    def connect(self, ssid, key=None):
        global _script, _t0
        if not _active:
            raise OSError("STA not active")
        calls.append(("connect", ssid, key))
        _script = scripts.pop(0) if scripts else [(0, got_ip)]
        _t0 = fake_time.ticks_ms()

    def disconnect(self):
        global _script
        calls.append(("disconnect",))
        _script = [(0, idle)]

    def status(self):
        elapsed = fake_time.ticks_diff(fake_time.ticks_ms(), _t0)
        s = idle
        for at, step in _script:
            if elapsed >= at:
                s = step
        return s

    def isconnected(self):
        return self.status() == got_ip

    def ifconfig(self):
        return (address, "255.255.255.0", "192.168.1.1", "192.168.1.1")


# -- network.PPP (MicroPython's extmod/network_ppp_lwip.c): status() is 0
# inactive, 1 active, 3 connecting, 4 connected, or a negative PPPERR_* code.

#: one script per PPP.connect(): [(ms after connect(), status, IPv4 address)];
#: the latest step reached holds. With none left: connected at once.
ppp_scripts = []
ppp_address = "10.77.0.2"
#: ("connect",), ("disconnect",), ("stream", obj) per PPP object, in order
ppp_calls = []
#: every PPP object made
ppps = []


def reset_ppp():
    del ppp_scripts[:]
    del ppp_calls[:]
    del ppps[:]


class PPP:
    def __init__(self, stream):
        self.stream = stream
        self._script = [(0, 0, "0.0.0.0")]
        self._t0 = fake_time.ticks_ms()
        ppps.append(self)

    def _step(self):
        elapsed = fake_time.ticks_diff(fake_time.ticks_ms(), self._t0)
        got = self._script[0]
        for step in self._script:
            if elapsed >= step[0]:
                got = step
        return got

    def connect(self):
        if self.status() in (3, 4):
            raise OSError(114)  # EALREADY, as the port raises
        ppp_calls.append(("connect",))
        self._script = ppp_scripts.pop(0) if ppp_scripts else [(0, 4, ppp_address)]
        self._t0 = fake_time.ticks_ms()

    def drop(self, code=-6):
        """The link goes away (PPPERR_CONNECT: the peer or the modem hung up)."""
        self._script = [(0, code, "0.0.0.0")]

    def disconnect(self):
        ppp_calls.append(("disconnect",))
        if self.status() in (3, 4):  # the port ignores other states
            self._script = [(0, 0, "0.0.0.0")]

    def config(self, stream):
        ppp_calls.append(("stream", stream))
        self.stream = stream

    def status(self):
        return self._step()[1]

    def isconnected(self):
        return self.status() == 4

    def ipconfig(self, key):
        assert key == "addr4"
        return (self._step()[2] if self.status() == 4 else "0.0.0.0", "255.255.255.255")
