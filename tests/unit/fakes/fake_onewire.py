# onewire for the driver tests: a bus with DS18B20s that answers the ROM and
# function commands of the DS18B20 datasheet (Convert T 0x44, Read Scratchpad
# 0xBE) and records every transaction as the master sent it.

#: every transaction: ("reset",), ("select", rom), ("write", byte), ("read", n)
log = []


def crc8(data):
    """Dallas/Maxim CRC-8 (x^8 + x^5 + x^4 + 1, LSB first), datasheet Figure 11."""
    crc = 0
    for byte in data:
        for _ in range(8):
            mix = (crc ^ byte) & 1
            crc >>= 1
            if mix:
                crc ^= 0x8C
            byte >>= 1
    return crc


def rom(family, serial):
    r = bytearray((family,) + tuple((serial >> (8 * i)) & 0xFF for i in range(6)) + (0,))
    r[7] = crc8(r[:7])
    return bytes(r)


def scratchpad(raw):
    """The 9 bytes for a raw 1/16 °C reading (two's complement), 12-bit config."""
    raw &= 0xFFFF
    s = bytearray((raw & 0xFF, raw >> 8, 0x4B, 0x46, 0x7F, 0xFF, 0x01, 0x10, 0))
    s[8] = crc8(s[:8])
    return s


class Device:
    def __init__(self, rom):
        self.rom = rom
        self.converted = None  # the raw value the last Convert T produced
        self.next_raw = 0x0550  # power-on value: +85 °C
        self.corrupt = False


class OneWire:
    #: devices on the next bus made; present=False: no presence pulse
    devices = []
    present = True

    def __init__(self, pin):
        self.pin = pin
        self.devices = list(OneWire.devices)
        self._selected = None
        self._out = b""

    def reset(self, required=False):
        log.append(("reset",))
        self._selected = None
        return OneWire.present

    def scan(self):
        return [bytearray(d.rom) for d in self.devices]

    def select_rom(self, rom):
        log.append(("select", bytes(rom)))
        for d in self.devices:
            if d.rom == bytes(rom):
                self._selected = d

    def writebyte(self, b):
        log.append(("write", b))
        d = self._selected
        if d is None:
            return
        if b == 0x44:
            d.converted = d.next_raw
        elif b == 0xBE:
            s = scratchpad(0x0550 if d.converted is None else d.converted)
            if d.corrupt:
                s[0] ^= 1
            self._out = s

    def readinto(self, buf):
        log.append(("read", len(buf)))
        for i in range(len(buf)):
            buf[i] = self._out[i] if i < len(self._out) else 0xFF

    def crc8(self, data):
        return crc8(data)
