# The host simulation board, for the MicroPython unix port.
#
# Every sensor type is simulated: each quantity follows a triangle wave over
# the range its driver module gives, with a phase from the seed and the
# sensor's place in the list, so a test that knows the seed and the elapsed
# time can predict every reading. "fail": true makes a sensor fail every
# read, for tests of the 5.03 path. The LED only logs. "Network bring-up" is
# nothing: the configured addresses are bound as they are.

import socket
import struct
import time

from statefile import STATE_FILE, read_file, write_file

NAME = "unix"
#: The sensor of the old config form ["temperature", "humidity"]
DEFAULT_SENSOR = "dht22"
#: How to choose another UDP port, for the "address already in use" line
PORT_HINT = "choose another port: make run COAP_PORT=5684"

#: One step of the simulated sensors, in ms: readings change at most this often.
STEP_MS = 1000
try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

_PERIOD = const(120)          # steps per full wave
_QUANTITY_PHASE = const(30)   # a sensor's second quantity runs a quarter wave later
_SENSOR_PHASE = const(7)      # and the next sensor 7 steps later

# Linux <netinet/in.h> numbers: the unix port exposes IP_ADD_MEMBERSHIP but not the IPv6 ones
_IPPROTO_IP = const(0)
_IP_ADD_MEMBERSHIP = const(35)
_IPPROTO_IPV6 = const(41)
_IPV6_JOIN_GROUP = const(20)  # IPV6_ADD_MEMBERSHIP
_WILDCARDS = ("0.0.0.0", "::")


#: When the simulated world began (the first Board): main.py keeps this module
#: across a simulated deep sleep, so the sensors' waves go on through it as real
#: quantities do.
_wave_start = None


class NetworkDown(OSError):
    pass


def triangle(step, seed):
    """-1000 .. +1000 as a triangle wave over _PERIOD steps, phase-shifted by seed."""
    x = (step + seed) % _PERIOD
    half = _PERIOD // 2
    return (x * 4000 // _PERIOD - 1000) if x < half else (3000 - x * 4000 // _PERIOD)


class Simulated:
    """A sensor of any type: its quantities as triangle waves (no hardware).
    A read costs a few small-int operations per quantity."""

    def __init__(self, spec, quantities, board, phase):
        self._q = quantities
        self._board = board
        self._phase = phase
        self._fail = spec.get("fail") is True

    def read(self, out):
        if self._fail:
            raise OSError('simulated failure ("fail": true)')
        step = self._board.step()
        for i in range(len(self._q)):
            lo = self._q[i][4]
            hi = self._q[i][5]
            wave = triangle(step, self._phase + i * _QUANTITY_PHASE)
            out[i] = (lo + hi) // 2 + wave * ((hi - lo) // 2) // 1000
        return True


class Board:
    name = NAME
    log = print  # the firmware gives its log here: /board/log sees what the board says

    def __init__(self, config):
        global _wave_start
        if _wave_start is None:
            _wave_start = time.ticks_ms()
        self._seed = config.get("seed") or 0
        self._opened = 0
        self._start = time.ticks_ms()
        self._led = 0
        self._bind = config.get("bind") or ["127.0.0.1", "::1"]
        self._port = config.get("port") or 5683

    def connect(self, log):
        return [(a, self._port) for a in self._bind]

    def uptime_ms(self):
        return time.ticks_diff(time.ticks_ms(), self._start)

    def step(self):
        return time.ticks_diff(time.ticks_ms(), _wave_start) // STEP_MS

    def open_sensor(self, spec, module):
        """A simulated driver for the sensor spec (any type: module gives its quantities)."""
        phase = self._seed + self._opened * _SENSOR_PHASE
        self._opened += 1
        return Simulated(spec, module.quantities(spec), self, phase)

    def mcu_temp_centi(self):
        return 2150 + triangle(self.step(), self._seed) * 300 // 1000

    def led(self):
        return self._led

    def set_led(self, on):
        if on != self._led:
            self._led = on
            self.log("board: LED on" if on else "board: LED off")

    # -- what survives a reset, and deep sleep (firmware/sleep.py)

    def load_state(self):
        return read_file(STATE_FILE)

    def save_state(self, buf, n):
        write_file(STATE_FILE, buf, n)

    def deep_sleep(self, ms):
        """Simulated: the sockets are closed already; silence for ms, then
        main.py starts the firmware afresh."""
        time.sleep_ms(ms)

    def group_address(self, group, port):
        """Where to sendto() to reach group:port: for the link-local IPv6 group,
        on the interface of the board's first bound IPv6 address."""
        sa = bytearray(socket.getaddrinfo(group, port, 0, socket.SOCK_DGRAM)[0][-1])
        if ":" in group:
            for a in self._bind:
                if ":" in a and a not in _WILDCARDS:
                    struct.pack_into("I", sa, 24, interface_index(a))
                    break
        return sa

    def multicast_socket(self, group, port):
        """A UDP socket bound to group:port that has joined the group on the
        interface holding the board's first bound address of that family."""
        v6 = ":" in group
        local = None
        for a in self._bind:
            if (":" in a) == v6:
                local = a
                break
        if local is None or local in _WILDCARDS:
            raise OSError("no %s address bound to join on (bind a specific one)"
                          % ("IPv6" if v6 else "IPv4"))
        family = socket.AF_INET6 if v6 else socket.AF_INET
        s = socket.socket(family, socket.SOCK_DGRAM)
        try:
            # several boards on one host may share group and port
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sa = bytearray(socket.getaddrinfo(group, port, 0, socket.SOCK_DGRAM)[0][-1])
            group_bytes = socket.inet_pton(family, group)
            if v6:
                ifindex = interface_index(local)
                struct.pack_into("I", sa, 24, ifindex)  # sin6_scope_id: ff02:: needs a link
                s.bind(sa)
                # struct ipv6_mreq: the group, then the interface index
                s.setsockopt(_IPPROTO_IPV6, _IPV6_JOIN_GROUP,
                             group_bytes + struct.pack("i", ifindex))
            else:
                s.bind(sa)
                # struct ip_mreq: the group, then the address of the interface to join on
                s.setsockopt(_IPPROTO_IP, _IP_ADD_MEMBERSHIP,
                             group_bytes + socket.inet_pton(family, local))
        except OSError:
            s.close()
            raise
        return s


def interface_index(address):
    """The index of the interface holding an IPv6 address (/proc/net/if_inet6)."""
    want = "".join("%02x" % b for b in socket.inet_pton(socket.AF_INET6, address))
    with open("/proc/net/if_inet6") as f:
        for line in f:
            fields = line.split()
            if fields and fields[0] == want:
                return int(fields[1], 16)
    raise OSError("%s is on no interface" % address)
