# The request path's byte loops: machine code from the viper emitter where the
# port has it, else the plain-Python twins (CPython, a port without the
# emitter, or an .mpy built for another architecture). EMITTER says which.
# walk() is the library's one option walker; options() lists a whole message
# with it for code off the request path (clients, discovery, tests).

from array import array

try:
    from .loops_viper import (walk, same, uint, digits, copy_tail, hash31, replay, copy_at,
                              copy_in, xor_at, match_path)
    EMITTER = "viper"
except (ImportError, SyntaxError, ValueError):  # pragma: no cover - port-dependent
    from .loops_py import (walk, same, uint, digits, copy_tail, hash31, replay, copy_at,
                           copy_in, xor_at, match_path)
    EMITTER = None

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

__all__ = ("walk", "same", "uint", "digits", "copy_tail", "hash31", "replay", "copy_at", "copy_in",
           "xor_at", "match_path", "paths_table", "options", "EMITTER")

# walk()'s state array: private copies of loops_py's S_* (test_loops checks them)
_S_NUM = const(0)
_S_OFF = const(2)
_S_LEN = const(3)
_S_NEXT = const(4)
_S_PATHS = const(5)
_S_PAYLOAD = const(6)
_S_PATH_OFF = const(8)
_S_PATH_LEN = const(16)
_STATE_SIZE = const(24)
_URI_PATH = const(11)
_MAX_PATH = const(8)
_SUBTREE = const(0x80)  # loops_py's, on a subtree path's segment count


def options(buf, n):
    """([(number, offset, length)] of every option of the CoAP message buf[0:n],
    where its payload starts (n: none)), or None when its options are malformed
    (RFC 7252 §3.1). walk() keeps Uri-Path itself; they are listed in their
    place (only the first 8 of a run). Allocates: not for the request path."""
    st = array("i", [0] * _STATE_SIZE)
    found = []
    r = walk(buf, 4 + (buf[0] & 15), n, st)
    while True:
        # §3.1: options come in order of their numbers, so the Uri-Path segments
        # walk() kept since it last stopped come right before where it stopped
        for i in range(min(st[_S_PATHS], _MAX_PATH)):
            found.append((_URI_PATH, st[_S_PATH_OFF + i], st[_S_PATH_LEN + i]))
        st[_S_PATHS] = 0
        if r != 1:
            break
        found.append((st[_S_NUM], st[_S_OFF], st[_S_LEN]))
        r = walk(buf, st[_S_NEXT], n, st)
    return None if r < 0 else (found, st[_S_PAYLOAD])


def paths_table(paths, subtrees=()):
    """match_path()'s table for paths, each a tuple of byte segments (up to
    _MAX_PATH of up to 255 bytes): per path its count (+ _SUBTREE where
    subtrees, a true value per path, says it also takes the paths below it),
    then each segment's length and bytes. Built once, at start-up."""
    out = bytearray()
    for i, path in enumerate(paths):
        if len(path) > _MAX_PATH or any(len(seg) > 255 for seg in path):
            raise ValueError("path too deep or a segment too long to match")
        out.append(len(path) + (_SUBTREE if i < len(subtrees) and subtrees[i] else 0))
        for seg in path:
            out.append(len(seg))
            out.extend(seg)
    return bytes(out)
