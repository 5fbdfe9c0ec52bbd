# esp32 for the board tests. A real module has mcu_temperature() (S2, S3, C3:
# calibrated, whole °C) or raw_temperature() (classic ESP32: raw, in °F), never
# both; variant() picks which one this module has.

celsius = 31
fahrenheit = 128


def _mcu_temperature():
    return celsius


def _raw_temperature():
    return fahrenheit


def variant(name):
    """'s3': only mcu_temperature(); 'classic': only raw_temperature()."""
    g = globals()
    for f in ("mcu_temperature", "raw_temperature"):
        g.pop(f, None)
    if name == "classic":
        g["raw_temperature"] = _raw_temperature
    else:
        g["mcu_temperature"] = _mcu_temperature


def reset():
    global celsius, fahrenheit
    celsius = 31
    fahrenheit = 128
    variant("s3")


reset()
