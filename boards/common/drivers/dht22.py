# DHT22 / AM2302 on one GPIO, through MicroPython's dht module: temperature
# and relative humidity in tenths, from the driver's 5-byte frame (AM2302
# datasheet: humidity, then temperature with the sign in bit 15).

FIELDS = {"required": ("pin",), "optional": ()}
#: the sensor answers at most this often (datasheet: one reading per 2 s)
MIN_INTERVAL_MS = 2000

_QUANTITIES = (("temp", "temperature", "Cel", "temperature-c", 1850, 2450),
               ("humidity", "humidity", "%RH", "humidity-percent", 3500, 5500))


def quantities(spec):
    return _QUANTITIES


def decode(b, out):
    """The frame's temperature and humidity into out, in hundredths."""
    t = ((b[2] & 0x7F) << 8 | b[3]) * 10
    out[0] = -t if b[2] & 0x80 else t
    out[1] = (b[0] << 8 | b[1]) * 10


class Driver:
    decode = staticmethod(decode)
    kind = "DHT22"

    def __init__(self, spec, board):
        import dht

        self._dev = getattr(dht, self.kind)(board.machine.Pin(spec["pin"]))

    def read(self, out):
        try:
            self._dev.measure()
        except OSError:
            raise OSError("no answer on the data pin")
        except Exception:  # the dht module raises a bare Exception on a bad checksum
            raise OSError("checksum error")
        self.decode(self._dev.buf, out)
        return True
