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
