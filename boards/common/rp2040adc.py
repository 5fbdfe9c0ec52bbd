# What every RP2040 board reads the same way: the chip's own temperature sensor
# (ADC4), and VSYS through the 3:1 divider on ADC3. Shared by the Pico W (boards/rp2040) and the plain Pico
# (boards/rp2040-ppp).


try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

_D = const(7519049)  # 65535 * 1721 / 15


def adc_to_centi(raw):
    """ADC4 read_u16() to centi-°C, rounded: the RP2040 datasheet's
    T = 27 - (V - 0.706 V) / 1.721 mV with V = raw * 3.3 V / 65535.

    In centi-degrees that is 2700 - (220 * raw - 3084514) * 100000 / 7519049,
    done as long division so that every product stays below 2**30 (a small
    int on a 32-bit port)."""
    e = 220 * raw - 3084514
    q = e // _D
    r = e % _D * 100
    q = q * 100 + r // _D
    r = r % _D * 100
    q = q * 100 + r // _D
    r = r % _D * 10
    return 2700 - (q * 10 + (r * 2 + _D) // (2 * _D))


def raw_to_vsys_mv(raw):
    """ADC3 read_u16() to mV of VSYS: the Pico's 3:1 divider, 3.3 V full scale."""
    return (raw * 9900 + 32767) // 65535
