# DS18B20 on a 1-Wire bus, through MicroPython's onewire module. The first
# DS18B20 (family 0x28) or DS1822 (0x22) the ROM search finds is used, or the
# one whose ROM code is given as "rom": 16 hex digits, family byte first, as
# the search returns it (several sensors can share one pin that way).
#
# Never blocks for the 750 ms a 12-bit conversion takes (datasheet, "Convert
# T"): each read() fetches the scratchpad of the conversion the previous
# read() started, then starts the next one. The first read() has no value yet.

FIELDS = {"required": ("pin",), "optional": ("rom",)}
#: a 12-bit conversion takes up to 750 ms (datasheet, tCONV)
MIN_INTERVAL_MS = 1000

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

_CONVERT_T = const(0x44)
_READ_SCRATCHPAD = const(0xBE)
_FAMILIES = (0x28, 0x22)

_QUANTITIES = (("temp", "temperature", "Cel", "temperature-c", 1000, 1600),)


def quantities(spec):
    return _QUANTITIES


def centi(lsb, msb):
    """Scratchpad bytes 0-1 (1/16 °C, two's complement) to hundredths, rounded."""
    raw = msb << 8 | lsb
    if raw & 0x8000:
        raw -= 0x10000
    return (raw * 100 + 8) >> 4


def rom_hex(rom):
    """A ROM code as 16 lowercase hex digits, family byte first."""
    return "".join("%02x" % b for b in rom)


class Driver:
    def __init__(self, spec, board):
        import onewire

        self._ow = onewire.OneWire(board.machine.Pin(spec["pin"]))
        self._rom = None
        self._want = spec.get("rom")
        self._converting = False
        self._scratch = bytearray(9)

    def _find(self):
        for rom in self._ow.scan():
            if self._want is None and rom[0] in _FAMILIES:
                return rom
            if self._want is not None and rom_hex(rom) == self._want.lower():
                return rom
        if self._want is not None:
            raise OSError("no DS18B20 with ROM %s on the bus" % self._want)
        raise OSError("no DS18B20 on the bus")

    def _command(self, cmd):
        if not self._ow.reset():
            self._converting = False
            raise OSError("no presence pulse (wiring or pull-up)")
        self._ow.select_rom(self._rom)
        self._ow.writebyte(cmd)

    def read(self, out):
        if self._rom is None:
            self._rom = self._find()
        got = False
        if self._converting:
            self._command(_READ_SCRATCHPAD)
            s = self._scratch
            self._ow.readinto(s)
            if self._ow.crc8(s):
                self._converting = False
                raise OSError("scratchpad CRC error")
            out[0] = centi(s[0], s[1])
            got = True
        self._command(_CONVERT_T)
        self._converting = True
        return got
