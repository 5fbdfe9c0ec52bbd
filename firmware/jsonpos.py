# Where a JSON text (RFC 8259) first goes wrong, for the config's error line:
# MicroPython's json.loads says only "syntax error in JSON", and lets some
# errors through (a missing comma or colon, a trailing comma). A board imports
# this only after json.loads has refused its config.json.

_WS = " \t\r\n"
_DIGITS = "0123456789"


class _Bad(Exception):
    """args[0]: the offset of the first character that can't be there."""


def error_position(text):
    """(line, column, what was found there), line and column from 1, of the
    first error in text; None when this scanner finds none."""
    try:
        i = _skip(text, _value(text, _skip(text, 0)))
        if i == len(text):
            return None
    except _Bad as e:
        i = e.args[0]
    except RuntimeError:  # nested deeper than the stack allows
        return None
    line = text.count("\n", 0, i) + 1
    column = i - (text.rfind("\n", 0, i) + 1) + 1
    return line, column, "end of file" if i >= len(text) else repr(text[i])


def _skip(t, i):
    while i < len(t) and t[i] in _WS:
        i += 1
    return i


def _expect(t, i, chars):
    if i >= len(t) or t[i] not in chars:
        raise _Bad(i)


def _value(t, i):
    _expect(t, i, '{["-0123456789tfn')
    c = t[i]
    if c == "{" or c == "[":
        return _container(t, i, "}" if c == "{" else "]")
    if c == '"':
        return _string(t, i)
    for word in ("true", "false", "null"):
        if t.startswith(word, i):
            return i + len(word)
    if c in "tfn":
        raise _Bad(i)
    return _number(t, i)


def _container(t, i, close):
    i = _skip(t, i + 1)
    if i < len(t) and t[i] == close:
        return i + 1
    while True:
        if close == "}":  # a member: "name": value
            _expect(t, i, '"')
            i = _skip(t, _string(t, i))
            _expect(t, i, ":")
            i = _skip(t, i + 1)
        i = _skip(t, _value(t, i))
        _expect(t, i, "," + close)
        if t[i] == close:
            return i + 1
        i = _skip(t, i + 1)


def _string(t, i):
    i += 1
    while i < len(t):
        c = t[i]
        if c == '"':
            return i + 1
        if c == "\\":
            i += 1
            _expect(t, i, '"\\/bfnrtu')
            if t[i] == "u":
                for _ in range(4):
                    i += 1
                    _expect(t, i, "0123456789abcdefABCDEF")
        elif c < " ":  # control characters must be escaped (§7)
            raise _Bad(i)
        i += 1
    raise _Bad(i)


def _number(t, i):
    if t[i] == "-":
        i += 1
    i = _digits(t, i)
    if i < len(t) and t[i] == ".":
        i = _digits(t, i + 1)
    if i < len(t) and t[i] in "eE":
        i += 1
        if i < len(t) and t[i] in "+-":
            i += 1
        i = _digits(t, i)
    return i


def _digits(t, i):
    _expect(t, i, _DIGITS)
    while i < len(t) and t[i] in _DIGITS:
        i += 1
    return i
