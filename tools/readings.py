"""What tools.watch reads from a board: its sensors, from /.well-known/core, and
the number in each answer, in whichever format the sensor offered."""

import json
from collections import namedtuple

from aiocoap.util.linkformat import parse
from aiocoap.util.vendored.link_header import ParseException

TEXT, JSON, SENML_JSON = 0, 50, 110
# Formats that carry a reading tools.watch can read, best first (text is the smallest)
READABLE = (TEXT, JSON, SENML_JSON)

Sensor = namedtuple("Sensor", "path unit formats")


def sensors(linkformat):
    """The observable sensors of a /.well-known/core payload (RFC 6690), in its
    order: links with `obs` (RFC 7641 §6) offering a readable format. A batch
    (if=core.b, such as /sensors) repeats its members' readings: left out.
    Links to another host are left out too. ValueError when not link format."""
    try:
        links = parse(linkformat).links
    except ParseException:
        raise ValueError("not link format: %r" % linkformat[:60])
    found = []
    for link in links:
        attrs = {}
        for key, value in link.attr_pairs:
            attrs.setdefault(key, value)
        href = link.href
        if "obs" not in attrs or ":" in href.split("/")[0] or href.startswith("//"):
            continue
        if "core.b" in (attrs.get("if") or "").split():
            continue
        try:
            formats = tuple(int(c) for c in (attrs.get("ct") or "0").split())
        except ValueError:
            continue
        if any(f in READABLE for f in formats):
            path = href if href.startswith("/") else "/" + href
            found.append(Sensor(path, attrs.get("u") or "", formats))
    return found


def pick_format(formats):
    """The Accept to ask a sensor for: the first readable format in READABLE's order."""
    return next(f for f in READABLE if f in formats)


def number(resp):
    """(value, None) for an answer with a reading, (None, why not) otherwise."""
    if not resp.code.is_successful():
        why = resp.payload.decode("utf-8", "replace")
        return None, "%s%s" % (resp.code.dotted, ": " + why if why else "")
    text = resp.payload.decode("utf-8", "replace")
    fmt = resp.opt.content_format
    try:
        if fmt == JSON:  # {"temp": 21.5, "unit": "Cel"}: its one number
            value = next(v for v in json.loads(text).values()
                         if isinstance(v, (int, float)) and not isinstance(v, bool))
        elif fmt == SENML_JSON:  # [{"n": "temp", "v": 21.5}]: the first record's value
            value = next(r["v"] for r in json.loads(text) if "v" in r)
        else:
            value = float(text)
    except (ValueError, StopIteration, AttributeError, TypeError, KeyError):
        return None, "not a number: %r" % text[:40]
    return float(value), None
