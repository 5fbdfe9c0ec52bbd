"""Link-format (RFC 6690) as the tests see it: parsed by aiocoap's parser, filtered by
the rules of RFC 6690 §4.1, and the links the sensor board must list.

Expected filter results are computed from the board's own unfiltered list, so a
resource added to the table later doesn't break the filter tests; the links below
must be there whatever else is.
"""

from aiocoap.util import linkformat

#: firmware/resources.py: each resource and attributes its link must carry
BOARD = {
    "/actuators/led": {"rt": "core.a", "if": "core.a", "ct": "0", "title": "LED: on or off"},
    "/board": {"rt": "board-info", "if": "core.rp", "ct": "50"},
    "/sensors/humidity": {"rt": "humidity-percent", "if": "core.s", "ct": "0 50 110 112",
                          "u": "%RH"},
    "/sensors/temp": {"rt": "temperature-c", "if": "core.s", "ct": "0 50 110 112", "u": "Cel"},
    "/sensors": {"rt": "sensors-senml", "if": "core.b", "ct": "110 112"},
}
FILTERS = ("rt=temperature*", "rt=core.a", "if=core.s", "if=core.*", "href=/sensors/*",
           "href=/board", "ct=50", "rt=no-such-type")
_LISTS = ("rt", "if", "ct", "rel", "rev")  # space-separated values, any of which may match


def parse(payload):
    """[(href, {attribute: value})] in order; a flag such as obs has the value None."""
    text = payload.decode() if isinstance(payload, bytes) else payload
    if not text:
        return []
    return [(link.href, dict(link.attr_pairs)) for link in linkformat.parse(text).links]


def matches(href, attrs, query):
    """True when the link passes the filter `name=value` (value* for a prefix)."""
    name, _, value = query.partition("=")
    prefix = value.endswith("*")
    value = value[:-1] if prefix else value
    if name == "href":
        values = [href]
    elif attrs.get(name) is None:
        return False
    else:
        values = attrs[name].split(" ") if name in _LISTS else [attrs[name]]
    return any(v.startswith(value) if prefix else v == value for v in values)


def select(links, query):
    return [(href, attrs) for href, attrs in links if matches(href, attrs, query)]


def missing_board_links(links):
    """Problems with the board's links in a parsed unfiltered list (empty: all there)."""
    problems = []
    hrefs = [href for href, _ in links]
    if len(set(hrefs)) != len(hrefs):
        problems.append("a link is listed twice: %s" % hrefs)
    got = dict(links)
    for href, want in sorted(BOARD.items()):
        if href not in got:
            problems.append("%s is not listed" % href)
            continue
        for name, value in want.items():
            if got[href].get(name) != value:
                problems.append("%s: %s=%r, expected %r"
                                % (href, name, got[href].get(name), value))
    return problems
