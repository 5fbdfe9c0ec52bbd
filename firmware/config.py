# The board's configuration: config.json on the board's flash, checked field by
# field. A bad field gets one line naming it and what was expected, and its
# default is used instead, so a typo never makes the board crash-loop.

import json

PATH = "config.json"

#: The most config.json may hold: read more and the parser runs the board out of
#: RAM before it serves (a board has ~100 KB); a real config is well under 1 KB.
MAX_BYTES = 4096

#: Fields whose value may hold a secret (a Wi-Fi password, OSCORE keys): a
#: problem line names the field and never shows its value. Any field whose
#: value has a key from SECRET_KEYS (at any depth) is treated the same way.
SECRET_FIELDS = ("wifi", "oscore", "update_oscore")
SECRET_KEYS = ("password", "secret", "salt", "key", "psk")

#: Fields that name a GPIO pin, checked again by the board (app.make_board). A
#: sensor's pins (dht_pin too) are checked when its driver opens them: a pin the
#: board refuses becomes that sensor's diagnostic (firmware/sensors.py).
PIN_FIELDS = ("led_pin",)

DEFAULTS = {
    "name": "coap-board",
    "port": 5683,
    "bind": None,          # None: the board's own choice (all interfaces; localhost on unix)
    "wifi": None,          # {"ssid", "password", "country", "timeout_ms", "retries"}
    "ppp": None,           # {"uart", "baud", "tx", "rx", "dial", "timeout_ms"}: PPP, not Wi-Fi
    "sensors": ["temperature", "humidity"],
    "led_pin": None,
    "dht_pin": None,
    "seed": 0,             # unix board: phase of the simulated sensors
    "multicast": False,    # join the All-CoAP-Nodes groups (docs/fleet.md)
    "multicast_leisure_ms": 5000,  # RFC 7252 §8.2 DEFAULT_LEISURE
    "rd": None,            # "coap://host[:port]" of a Resource Directory, or "multicast"
    "rd_lifetime_s": 3600,
    "observers": 4,        # Observe table entries (RFC 7641); 0 turns Observe off
    "observe_threshold": 10,  # notify when a reading moves this much (centi-units)
    "observe_con_every": 20,  # every Nth notification is CON: finds gone clients; 0: NON only
    "amplification_limit": True,  # answers to unverified peers within 3x (RFC 9175 §2.4)
    "held_requests": 2,  # large GETs from unproven peers held for a ping's RST (coap/pending.py)
    "oscore": None,        # the board's OSCORE context (docs/security.md); None: no security
    "update_oscore": None,  # the board's own context for its update file server (docs/updates.md)
    "open": [],            # with a context: paths served without OSCORE, e.g. "sensors/humidity"
    "max_age_s": 60,       # how long a sensor reading stays fresh (Max-Age, RFC 7252)
    "sleep": None,         # {"awake_s": 5, "sleep_s": 300}: deep sleep between awake times
    "lwm2m": None,         # {"server": "coap://host", "endpoint", ...}: docs/lwm2m.md
}

#: config["oscore"] when a context was asked for but is unusable: the protected
#: resources are then refused, never left open
INVALID = "invalid"
# field: (hex bytes at least, at most, required)
_OSCORE_FIELDS = {"secret": (16, 64, True), "salt": (0, 32, False), "sender_id": (0, 7, True),
                  "recipient_id": (0, 7, True), "id_context": (0, 32, False)}

SENSORS = ("temperature", "humidity")
_WIFI_FIELDS = {"ssid": str, "password": str, "country": str, "timeout_ms": int, "retries": int}


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _printable(s):
    # /board serves the name inside a JSON string: no control characters (RFC 8259 §7)
    for c in s:
        if ord(c) < 0x20 or ord(c) == 0x7F or c == '"' or c == "\\":
            return False
    return True


def _has_secret(v, depth=0):
    if depth > 8:
        return True  # too deep to look through: don't show it
    if isinstance(v, dict):
        for k, val in v.items():
            if k in SECRET_KEYS or _has_secret(val, depth + 1):
                return True
    elif isinstance(v, list):
        for val in v:
            if _has_secret(val, depth + 1):
                return True
    return False


def without_userinfo(text):
    """text with a URI's user:password@ shown as ***@ (RFC 3986 §3.2.1: never
    rendered in the clear)."""
    i = text.find("://")
    if i < 0:
        return text
    i += 3
    end = len(text)
    for c in "/?#":
        j = text.find(c, i)
        if 0 <= j < end:
            end = j
    at = text.rfind("@", i, end)
    return text if at < 0 else text[:i] + "***" + text[at:]


def shown(key, value):
    """How a problem line shows a field's value: never a secret, never a page."""
    if key in SECRET_FIELDS or _has_secret(value):
        return "a value not shown (it may hold a secret)"
    if isinstance(value, str):
        value = without_userinfo(value)
    try:
        text = json.dumps(value)
    except Exception:  # RuntimeError: nested too deep to print
        return "a value too deeply nested to show"
    return text if len(text) <= 60 else "a value of %d characters" % len(text)


#: What GET /board/config shows for a secret (remoteconfig.py); sent back in a
#: PUT it stands for the value the board has
MASK = "***"
#: a list of fields that may hold a password as a whole (ppp.dial: the APN's)
_SECRET_LISTS = ("dial",)


def masked(v, key=None, depth=0):
    """v with every secret shown as MASK: the values of SECRET_KEYS and
    _SECRET_LISTS at any depth, a URI's user:password@, what is nested too deep."""
    if key in SECRET_KEYS or key in _SECRET_LISTS or depth > 8:
        return MASK
    if isinstance(v, dict):
        return {k: masked(x, k, depth + 1) for k, x in v.items()}
    if isinstance(v, list):
        return [masked(x, None, depth + 1) for x in v]
    return without_userinfo(v) if isinstance(v, str) else v


def unmasked(new, old, key=None, depth=0):
    """new, where a value is what masked() shows of old's value there: old's."""
    if isinstance(new, dict) and isinstance(old, dict) and depth <= 8:
        return {k: unmasked(x, old[k], k, depth + 1) if k in old else x
                for k, x in new.items()}
    if new != old and new == masked(old, key, depth):
        return old
    return new


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


# PPP on a UART (boards/common/ppplink.py): field -> (check, what was expected)
_PPP_FIELDS = {
    "uart": (lambda v: _is_int(v) and 0 <= v <= 9, "a UART number such as 1"),
    "baud": (lambda v: _is_int(v) and 300 <= v <= 4000000, "a baud rate from 300 to 4000000"),
    "tx": (lambda v: _is_int(v) and 0 <= v <= 48, "a GPIO number"),
    "rx": (lambda v: _is_int(v) and 0 <= v <= 48, "a GPIO number"),
    "dial": (lambda v: isinstance(v, list) and len(v) <= 16 and all(
        isinstance(c, str) and 2 <= len(c) <= 100 and c[:2].upper() == "AT" and _printable(c)
        for c in v), "a list of at most 16 AT commands such as [\"AT\", \"ATD*99#\"]"),
    "timeout_ms": (lambda v: _is_int(v) and 1000 <= v <= 300000,
                   "an integer from 1000 to 300000 (ms)"),
}


def _ppp_problem(v):
    """What is wrong with a "ppp" value, naming the field; None when usable.
    A dial command may hold the APN's password: never shown."""
    if not isinstance(v, dict):
        return "ppp: expected an object such as {\"uart\": 1, \"baud\": 115200}, got %s" % (
            shown("ppp", v))
    if "uart" not in v:
        return "ppp.uart: missing (the UART the modem is on, such as 1)"
    for key, val in v.items():
        check = _PPP_FIELDS.get(key)
        if check is None:
            return "ppp: unknown field %r" % key
        if not check[0](val):
            return "ppp.%s: expected %s, got %s" % (
                key, check[1], "a value not shown (it may hold a secret)" if key == "dial"
                else shown(key, val))
    return None


def _sleep(v):
    if v is None:
        return True
    return (isinstance(v, dict) and sorted(v) == ["awake_s", "sleep_s"]
            and _is_int(v["awake_s"]) and 1 <= v["awake_s"] <= 3600
            and _is_int(v["sleep_s"]) and 1 <= v["sleep_s"] <= 86400)


def _rd(v):
    if v is None:
        return True
    if not isinstance(v, str) or len(v) > 100:
        return False
    if v.startswith("multicast"):  # find it (RFC 9176 §4); a port other than 5683 after ':'
        port = v[10:]
        return v == "multicast" or (v[9] == ":" and port.isdigit() and 0 < int(port) < 65536)
    from coap.client import parse_uri  # only a board that uses an RD loads the client
    try:
        parse_uri(v)
    except ValueError:
        return False
    return True


# "oscore" is checked by validate(), as the top-level one is
_LWM2M_FIELDS = ("server", "endpoint", "lifetime_s", "update_plain", "oscore")
LWM2M_LIFETIME_S = 300


def _lwm2m(v):
    if v is None:
        return True
    return (isinstance(v, dict) and "server" in v and all(k in _LWM2M_FIELDS for k in v)
            and v["server"] != "multicast" and _rd(v["server"])
            and (isinstance(v.get("endpoint", "x"), str)
                 and 0 < len(v.get("endpoint", "x")) <= 64 and _printable(v.get("endpoint", "x")))
            and _is_int(v.get("lifetime_s", 60)) and 1 <= v.get("lifetime_s", 60) <= 604800
            and isinstance(v.get("update_plain", False), bool))


def unhex(v):
    """bytes of a hex string, or None when it is not one."""
    if not isinstance(v, str) or len(v) % 2:
        return None
    out = bytearray()
    for i in range(0, len(v), 2):
        try:
            out.append(int(v[i:i + 2], 16))
        except ValueError:
            return None
        if v[i] in "+- " or v[i + 1] in "+- ":
            return None
    return bytes(out)


def _oscore_problem(v, name="oscore"):
    """What is wrong with an "oscore" (or "update_oscore") value, naming the
    field but never its value (it holds the secret); None when it is usable."""
    if not isinstance(v, dict):
        return "%s: expected an object with secret, sender_id and recipient_id" % name
    for key in v:
        if key not in _OSCORE_FIELDS:
            return "%s: unknown field %r" % (name, key)
    for key, (low, high, required) in _OSCORE_FIELDS.items():
        if key not in v:
            if required:
                return "%s.%s: missing" % (name, key)
            continue
        b = unhex(v[key])
        if b is None or not low <= len(b) <= high:
            return "%s.%s: expected a hex string of %d to %d bytes" % (name, key, low, high)
    if unhex(v["sender_id"]) == unhex(v["recipient_id"]):
        return "%s: sender_id and recipient_id must differ" % name
    return None


def _paths(v):
    return isinstance(v, list) and all(isinstance(p, str) and 0 < len(p) <= 64 for p in v)


# field: (check, what was expected)
CHECKS = {
    "name": (lambda v: isinstance(v, str) and 0 < len(v) <= 32 and _printable(v),
             "a name of 1-32 characters without quotes, backslashes or control characters"),
    "port": (lambda v: _is_int(v) and 0 < v < 65536, "an integer from 1 to 65535"),
    "bind": (lambda v: v is None or (isinstance(v, list) and len(v) > 0
                                     and all(isinstance(a, str) and a for a in v)),
             'a list of addresses such as ["0.0.0.0"], or null'),
    "wifi": (_wifi, 'null or {"ssid": "...", "password": "...", "country": "GB"} '
                    "(optional timeout_ms, retries: integers)"),
    # Each sensor object is checked on its own by sensorconfig.py
    "sensors": (lambda v: isinstance(v, list) and (all(s in SENSORS for s in v)
                                                   or all(isinstance(s, dict) for s in v)),
                'a list of sensor objects ({"type": ...}) or of %s' % ", ".join(SENSORS)),
    "led_pin": (_pin, "a GPIO number, a pin name such as \"LED\", or null"),
    "dht_pin": (_pin, "a GPIO number or null"),  # the old sensors form's DHT22
    "seed": (lambda v: _is_int(v) and 0 <= v < 1000000, "an integer from 0 to 999999"),
    "multicast": (lambda v: v is True or v is False, "true or false"),
    "multicast_leisure_ms": (lambda v: _is_int(v) and 0 <= v <= 60000,
                             "an integer from 0 to 60000 (ms)"),
    "rd": (_rd, 'null or a URI such as "coap://192.0.2.1" or "coap://[2001:db8::1]:5783", '
                'or "multicast" ("multicast:PORT")'),
    # RFC 9176 asks for at least 60 s; shorter lifetimes are for tests. At most a
    # week: half of it in ms must stay within the ticks range (2**29).
    "rd_lifetime_s": (lambda v: _is_int(v) and 1 <= v <= 604800,
                      "an integer from 1 to 604800 (seconds; RFC 9176 asks for at least 60)"),
    "observers": (lambda v: _is_int(v) and 0 <= v <= 16, "an integer from 0 to 16"),
    "observe_threshold": (lambda v: _is_int(v) and 1 <= v <= 10000,
                          "an integer from 1 to 10000 (hundredths of a unit)"),
    "observe_con_every": (lambda v: _is_int(v) and 0 <= v <= 1000,
                          "an integer from 0 to 1000 (0: NON only, one CON a day)"),
    "amplification_limit": (lambda v: isinstance(v, bool), "true or false"),
    "held_requests": (lambda v: _is_int(v) and 0 <= v <= 8, "an integer from 0 to 8"),
    "open": (_paths, 'a list of resource paths such as ["sensors/humidity"]'),
    "max_age_s": (lambda v: _is_int(v) and 0 <= v <= 86400,
                  "an integer from 0 to 86400 (seconds)"),
    "ppp": (lambda v: v is None or _ppp_problem(v) is None,
            'null or {"uart": 1, "baud": 115200, "tx": 17, "rx": 16, "dial": [...]}'),
    "sleep": (_sleep, 'null or {"awake_s": 1-3600, "sleep_s": 1-86400}'),
    # The endpoint defaults to "name", the lifetime to 300 s (validate() fills them in)
    "lwm2m": (_lwm2m, 'null or {"server": "coap://host[:port]", "endpoint": "1-64 '
                      'characters", "lifetime_s": 1-604800, "update_plain": false, '
                      '"oscore": {...}}'),
}


def validate(raw):
    """(config, problems): every known field checked, defaults for the bad ones."""
    config = dict(DEFAULTS)
    problems = []
    if not isinstance(raw, dict):
        return config, ["config: expected a JSON object at the top level; using defaults"]
    for key, value in raw.items():
        check = CHECKS.get(key)
        if key == "oscore":
            problem = None if value is None else _oscore_problem(value)
            if problem:  # asked for and unusable: refuse, and never print the value
                problems.append("config: %s; OSCORE-protected resources are refused" % problem)
                value = INVALID
            config[key] = value
        elif key == "update_oscore":
            problem = None if value is None else _oscore_problem(value, key)
            if problem:  # asked for and unusable: no update at all, never a plain one
                problems.append("config: %s; updates are refused" % problem)
                value = INVALID
            config[key] = value
        elif key == "ppp" and value is not None and _ppp_problem(value):
            problems.append("config: %s; using null (no PPP)" % _ppp_problem(value))
        elif check is None:
            problems.append("config: unknown field %r ignored" % key)
        elif check[0](value):
            config[key] = value
        else:
            problems.append("config: %s: expected %s, got %s; using %s"
                            % (key, check[1], shown(key, value), json.dumps(DEFAULTS[key])))
    if config["lwm2m"] is not None:
        lw = config["lwm2m"]
        sec = lw.get("oscore")
        problem = None if sec is None else _oscore_problem(sec, "lwm2m.oscore")
        if problem:  # asked for and unusable: never a plain registration nor plain objects
            problems.append("config: %s; not registering, the LwM2M objects are refused"
                            % problem)
            sec = INVALID
        config["lwm2m"] = {"server": lw["server"], "endpoint": lw.get("endpoint", config["name"]),
                           "lifetime_s": lw.get("lifetime_s", LWM2M_LIFETIME_S),
                           "update_plain": lw.get("update_plain", False), "oscore": sec}
    return config, problems


class Missing(OSError):
    """A config file named on the command line that is not there."""


class Unusable(ValueError):
    """A config file named on the command line that can't be read as one."""


def load(path=PATH, required=False):
    """Read and validate path. A missing file means defaults; so do bad JSON
    and a file over MAX_BYTES, with one line. required: path was named on the
    command line, where each of these is an error (Missing, Unusable) instead."""
    try:
        with open(path) as f:
            text = f.read(MAX_BYTES + 1)
    except OSError:
        if required:
            raise Missing("config file %s not found" % path)
        return dict(DEFAULTS), ["config: %s not found; using defaults" % path]
    try:
        return validate(parse(text, strict=required))
    except Unusable as e:
        if required:
            raise Unusable("config file %s %s" % (path, e))
        return dict(DEFAULTS), ["config: %s %s; using defaults" % (path, e)]


def parse(text, strict=False):
    """The JSON value of a config file's text, for validate(); Unusable(why)
    when it can't be read as one. strict: checked by jsonpos first (the host,
    an upload), since MicroPython's json lets a missing comma pass and never
    says where it failed."""
    if len(text) > MAX_BYTES:
        raise Unusable("is larger than %d bytes" % MAX_BYTES)
    where = _json_error(text) if strict else None
    try:
        raw = json.loads(text) if where is None else None
    except ValueError:
        where = _json_error(text) or ()
    except (MemoryError, RuntimeError):  # nested deeper than the parser's stack allows
        raise Unusable("is nested too deeply to read")
    if where is not None:
        raise Unusable("is not valid JSON" + (
            " at line %d, column %d (%s)" % where if where else ""))
    return raw


def _json_error(text):
    from jsonpos import error_position  # only the host, or a broken file, pays for it
    return error_position(text)


#: Settings the environment may give, where the port has one (the unix board:
#: `make run COAP_PORT=5684`, `COAP_RD=coap://127.0.0.1:5783 make run`); they
#: override config.json.
ENV = {"COAP_PORT": "port", "COAP_RD": "rd"}


def from_env(config, getenv):
    """Apply the ENV settings getenv(name) has, checked like the file's fields;
    returns the problem lines."""
    problems = []
    for name, key in ENV.items():
        value = getenv(name)
        if not value:
            continue
        typed = int(value) if _is_int(DEFAULTS[key]) and value.isdigit() else value
        if CHECKS[key][0](typed):
            config[key] = typed
        else:
            problems.append("config: %s: expected %s, got %s; using %s"
                            % (name, CHECKS[key][1], shown(key, value), json.dumps(config[key])))
    return problems
