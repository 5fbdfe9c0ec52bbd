# An analog input scaled linearly: "scale": [in_low, in_high, out_low, out_high]
# maps the 12-bit reading (0-4095 on every port: read_u16() >> 4) onto the
# user's unit, e.g. [0, 4095, 0, 100] for a percentage. A reading outside
# in_low..in_high counts as the nearer end (a sensor's range, not extrapolated).

FIELDS = {"required": ("pin",), "optional": ("scale", "unit")}
MIN_INTERVAL_MS = 0


def quantities(spec):
    s = scale(spec)
    return (("value", "value", spec.get("unit") or "", "adc", s[2], s[3]),)


def scale(spec):
    """(in_low, in_high, out_low, out_high), the outputs in hundredths."""
    s = spec.get("scale") or (0, 4095, 0, 4095)
    return (int(s[0]), int(s[1]), round(s[2] * 100), round(s[3] * 100))


def scaled(raw, s):
    """raw (12-bit) on the scale s, in hundredths, rounded toward -inf. The
    product is split so that no intermediate reaches 2**30 (a big int on a
    32-bit port): d * span // n == d * (span // n) + d * (span % n) // n."""
    d = raw - s[0]
    n = s[1] - s[0]
    if n < 0:
        n = -n
        d = -d
    d = 0 if d < 0 else n if d > n else d
    span = s[3] - s[2]
    return s[2] + d * (span // n) + d * (span % n) // n


class Driver:
    def __init__(self, spec, board):
        m = board.machine
        self._adc = m.ADC(m.Pin(spec["pin"]))
        if hasattr(self._adc, "atten") and hasattr(m.ADC, "ATTN_11DB"):
            self._adc.atten(m.ADC.ATTN_11DB)  # ESP32: the widest range, ~0.15-2.45 V
        self._scale = scale(spec)

    def read(self, out):
        out[0] = scaled(self._adc.read_u16() >> 4, self._scale)
        return True
