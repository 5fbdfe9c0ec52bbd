# The board's configuration: config.json on the board's flash, checked field by
# field. A bad field gets one line naming it and what was expected, and its
# default is used instead, so a typo never makes the board crash-loop.

import json

PATH = "config.json"

DEFAULTS = {
    "name": "coap-board",
    "port": 5683,
    "bind": None,          # None: the board's own choice (all interfaces; localhost on unix)
    "wifi": None,          # {"ssid", "password", "country", "timeout_ms", "retries"}
    "sensors": ["temperature", "humidity"],
    "led_pin": None,
    "dht_pin": None,
    "adc_pins": [],
    "seed": 0,             # unix board: phase of the simulated sensors
}

SENSORS = ("temperature", "humidity")
_WIFI_FIELDS = {"ssid": str, "password": str, "country": str, "timeout_ms": int, "retries": int}


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _pin(v):
    # A GPIO number, or a name such as "LED" on the Pico W
    return v is None or (_is_int(v) and 0 <= v <= 48) or (isinstance(v, str) and 0 < len(v) <= 8)


def _wifi(v):
    if v is None:
        return True
    if not isinstance(v, dict) or not isinstance(v.get("ssid"), str) or not v["ssid"]:
        return False
    for k, val in v.items():
        want = _WIFI_FIELDS.get(k)
        if want is None or not (_is_int(val) if want is int else isinstance(val, want)):
            return False
    return "country" not in v or len(v["country"]) == 2


# field: (check, what was expected)
CHECKS = {
    "name": (lambda v: isinstance(v, str) and 0 < len(v) <= 32 and '"' not in v and "\\" not in v,
             "a name of 1-32 characters without quotes or backslashes"),
    "port": (lambda v: _is_int(v) and 0 < v < 65536, "an integer from 1 to 65535"),
    "bind": (lambda v: v is None or (isinstance(v, list) and len(v) > 0
                                     and all(isinstance(a, str) and a for a in v)),
             'a list of addresses such as ["0.0.0.0"], or null'),
    "wifi": (_wifi, 'null or {"ssid": "...", "password": "...", "country": "GB"} '
                    "(optional timeout_ms, retries: integers)"),
    "sensors": (lambda v: isinstance(v, list) and all(s in SENSORS for s in v),
                "a list drawn from %s" % ", ".join(SENSORS)),
    "led_pin": (_pin, "a GPIO number, a pin name such as \"LED\", or null"),
    "dht_pin": (_pin, "a GPIO number or null"),
    "adc_pins": (lambda v: isinstance(v, list) and all(_is_int(p) and 0 <= p <= 48 for p in v),
                 "a list of GPIO numbers"),
    "seed": (lambda v: _is_int(v) and 0 <= v < 1000000, "an integer from 0 to 999999"),
}


def validate(raw):
    """(config, problems): every known field checked, defaults for the bad ones."""
    config = dict(DEFAULTS)
    problems = []
    if not isinstance(raw, dict):
        return config, ["config: expected a JSON object at the top level; using defaults"]
    for key, value in raw.items():
        check = CHECKS.get(key)
        if check is None:
            problems.append("config: unknown field %r ignored" % key)
        elif check[0](value):
            config[key] = value
        else:
            problems.append("config: %s: expected %s, got %s; using %s"
                            % (key, check[1], json.dumps(value), json.dumps(DEFAULTS[key])))
    return config, problems


def load(path=PATH):
    """Read and validate path. A missing file means defaults; so does bad JSON."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return dict(DEFAULTS), ["config: %s not found; using defaults" % path]
    try:
        raw = json.loads(text)
    except ValueError as e:
        return dict(DEFAULTS), ["config: %s is not valid JSON (%s); using defaults" % (path, e)]
    return validate(raw)
