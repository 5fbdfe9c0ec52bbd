# The "sensors" field of config.json, checked sensor by sensor at boot: a bad
# field gets one line naming the sensor and the field, that sensor is left out
# and the others are served (docs/sensors.md).
#
# Each entry is {"type": ..., more fields}; the type names a driver module
# (boards/common/drivers/<type>.py) that says which fields it needs. The old
# form, a list drawn from "temperature" and "humidity", still works: it is the
# board's default sensor served at /sensors/temp and /sensors/humidity.

from config import shown

LEGACY = {"temperature": "temp", "humidity": "humidity"}
COMMON = ("type", "name", "interval_ms", "quantities", "fail")
_NAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_-"
_UNIT_BAD = "\"\\,;<>"


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _pin(v):
    return (_is_int(v) and 0 <= v <= 48) or (isinstance(v, str) and 0 < len(v) <= 8)


def _i2c(v):
    if not isinstance(v, dict) or not _pin(v.get("sda")) or not _pin(v.get("scl")):
        return False
    for k, val in v.items():
        if k == "id":
            if not (_is_int(val) and 0 <= val <= 1):
                return False
        elif k == "freq":
            if not (_is_int(val) and 10000 <= val <= 1000000):
                return False
        elif k not in ("sda", "scl"):
            return False
    return True


def _scale(v):
    return (isinstance(v, list) and len(v) == 4 and all(_is_num(x) for x in v)
            and all(_is_int(x) and 0 <= x <= 4095 for x in v[:2]) and v[0] != v[1]
            and all(-1000000 <= x <= 1000000 for x in v[2:]))


def _name(v):
    return isinstance(v, str) and 0 < len(v) <= 16 and all(c in _NAME_CHARS for c in v)


def _unit(v):
    return (isinstance(v, str) and len(v) <= 8
            and all(" " < c <= "~" and c not in _UNIT_BAD for c in v))


# field: (check, what was expected)
FIELDS = {
    "name": (_name, "1-16 characters from a-z, 0-9, _ and -"),
    "pin": (_pin, "a GPIO number or a pin name"),
    "i2c": (_i2c, '{"sda": pin, "scl": pin} (optional "id": 0 or 1, "freq": 10000-1000000)'),
    "address": (lambda v: _is_int(v) and 8 <= v <= 119, "a 7-bit I2C address, 8 to 119"),
    "scale": (_scale, "[in_low, in_high, out_low, out_high], inputs 0-4095 and different"),
    "unit": (_unit, "a SenML unit such as \"%\" or \"V\" (at most 8 characters)"),
    "interval_ms": (lambda v: _is_int(v) and 100 <= v <= 86400000,
                    "an integer from 100 to 86400000 (ms)"),
    "quantities": (lambda v: isinstance(v, list) and len(v) > 0
                   and all(isinstance(q, str) for q in v), "a list of quantity names"),
    "fail": (lambda v: v is True or v is False, "true or false"),
    "rom": (lambda v: isinstance(v, str) and len(v) == 16
            and all(c in "0123456789abcdefABCDEF" for c in v),
            'a 1-Wire ROM code of 16 hex digits, family first, e.g. "28ff641e0e1c0a3c"'),
}


def driver(kind):
    """The driver module for a sensor type, or None."""
    if not _name(kind):
        return None
    try:
        return getattr(__import__("drivers." + kind), kind)
    except ImportError:
        return None


def _check(i, raw, names):
    """(spec, module) or a problem line."""
    where = "config: sensors[%d]" % i
    if not isinstance(raw, dict):
        return "%s: expected an object such as {\"type\": \"dht22\", \"pin\": 4}, got %s" % (
            where, shown("sensor", raw))
    kind = raw.get("type")
    mod = driver(kind) if isinstance(kind, str) else None
    if mod is None:
        return "%s: type: no driver for %s (boards/common/drivers/)" % (where, shown("type", kind))
    name = raw.get("name", kind)
    where = "%s (%s)" % (where, name if _name(name) else kind)
    allowed = COMMON + mod.FIELDS["required"] + mod.FIELDS["optional"]
    for field in mod.FIELDS["required"]:
        if field not in raw:
            return "%s: %s: missing (%s needs %s)" % (
                where, field, kind, ", ".join(mod.FIELDS["required"]))
    for field, value in raw.items():
        if field == "type":
            continue
        if field not in allowed:
            return "%s: %s: not a field of %s (it takes %s)" % (
                where, field, kind, ", ".join(allowed[1:]))
        check, expected = FIELDS[field]
        if not check(value):
            return "%s: %s: expected %s, got %s" % (where, field, expected, shown(field, value))
    if name in names:
        return "%s: name: %s is already used; give each sensor its own name" % (where, name)
    interval = raw.get("interval_ms")
    if interval is not None and interval < mod.MIN_INTERVAL_MS:
        return "%s: interval_ms: a %s reads at most every %d ms" % (
            where, kind, mod.MIN_INTERVAL_MS)
    spec = dict(raw)
    spec["name"] = name
    offered = [q[0] for q in mod.quantities(spec)]
    for q in raw.get("quantities") or ():
        if q not in offered:
            return "%s: quantities: %s measures %s, not %s" % (where, kind, ", ".join(offered), q)
    return spec, mod


def parse(sensors, dht_pin=None, default_type="mcu_temp"):
    """([(spec, driver module)], problems) for config's "sensors" list."""
    if all(isinstance(s, str) for s in sensors):
        if not sensors:
            return [], []
        kind = "dht22" if dht_pin is not None else default_type
        mod = driver(kind)
        if mod is None:
            return [], ["config: sensors: no driver for %s (boards/common/drivers/)" % kind]
        spec = {"type": kind, "name": "", "pin": dht_pin}
        offered = [q[0] for q in mod.quantities(spec)]
        spec["quantities"] = [LEGACY[s] for s in sensors if LEGACY.get(s) in offered]
        return ([(spec, mod)] if spec["quantities"] else []), []
    out, problems, names = [], [], []
    for i, raw in enumerate(sensors):
        got = _check(i, raw, names)
        if isinstance(got, str):
            problems.append(got + "; sensor left out")
        else:
            names.append(got[0]["name"])
            out.append(got)
    return out, problems
