# machine for the board tests: pins and ADCs that remember what the board did.

#: id -> the last Pin made for it
pins = {}
#: source (channel number or pin id) -> the last ADC made for it
adcs = {}
#: source -> what read_u16() / read_uv() return
u16 = {}
uv = {}
#: when trace is on: ("init", id, mode), ("value", id, v), ("read", source), ("irq", state)
events = []
trace = False
#: interrupts disabled now?
irq_off = False
#: pin ids Pin() refuses, as a board's machine.Pin does a GPIO it doesn't have
invalid = set()


def reset():
    global trace, irq_off
    pins.clear()
    invalid.clear()
    adcs.clear()
    u16.clear()
    uv.clear()
    del events[:]
    trace = False
    irq_off = False
    modem.clear()
    del uarts[:]


def disable_irq():
    global irq_off
    irq_off = True
    if trace:
        events.append(("irq", "off"))
    return 0x55


def enable_irq(state):
    global irq_off
    assert state == 0x55, "enable_irq() needs disable_irq()'s value"
    irq_off = False
    if trace:
        events.append(("irq", "on"))


class Pin:
    IN = 0
    OUT = 1
    OPEN_DRAIN = 2
    ALT = 3
    PULL_UP = 1
    PULL_DOWN = 2

    def __init__(self, id, mode=None, pull=None, value=None, alt=None):
        if id in invalid:
            raise ValueError("invalid pin")
        self.id = id
        self.mode = None  # None: never configured
        self.pull = None
        self.v = 0
        pins[id] = self
        if mode is not None:
            self.init(mode, pull, value=value, alt=alt)

    def init(self, mode=None, pull=None, value=None, alt=None):
        self.mode = mode
        self.pull = pull
        if value is not None:
            self.v = 1 if value else 0
        if trace:
            events.append(("init", self.id, mode))

    def value(self, v=None):
        if v is None:
            return self.v
        self.v = 1 if v else 0
        if trace:
            events.append(("value", self.id, self.v))


class ADC:
    ATTN_0DB = 0
    ATTN_2_5DB = 1
    ATTN_6DB = 2
    ATTN_11DB = 3
    CORE_TEMP = 4

    def __init__(self, source, atten=None):
        self.source = source.id if isinstance(source, Pin) else source
        self.attenuation = atten
        adcs[self.source] = self

    def atten(self, a):
        self.attenuation = a

    def read_u16(self):
        if trace:
            events.append(("read", self.source))
        return u16[self.source]

    def read_uv(self):
        return uv[self.source]


#: what RTC().memory() holds (survives a reset, not a power-off)
rtc_memory = bytearray()
#: every deepsleep() argument
deep_sleeps = []


class RTC:
    def memory(self, data=None):
        if data is None:
            return bytes(rtc_memory)
        if len(data) > 2048:
            raise ValueError("too much data")
        rtc_memory[:] = data


def deepsleep(ms=0):
    deep_sleeps.append(ms)


#: the modem on the UART: AT command (without "\r") -> its reply bytes, or
#: None for no reply at all; a command not listed gets "\r\nOK\r\n" (a dial,
#: ATD..., gets "\r\nCONNECT 150000000\r\n")
modem = {}
#: every UART made, and each one's writes
uarts = []


class UART:
    def __init__(self, id, baudrate=9600, **kw):
        self.id = id
        self.baudrate = baudrate
        self.kw = kw
        self.written = []
        self._rx = b""
        uarts.append(self)

    def write(self, data):
        self.written.append(bytes(data))
        cmd = bytes(data).rstrip(b"\r").decode()
        default = b"\r\nCONNECT 150000000\r\n" if cmd.startswith("ATD") else b"\r\nOK\r\n"
        reply = modem.get(cmd, default)
        if reply is not None:
            self._rx += data + reply  # the modem echoes the command (ATE1, its default)
        return len(data)

    def any(self):
        return len(self._rx)

    def read(self, n=None):
        if not self._rx:
            return None
        data, self._rx = self._rx, b""
        return data
