# The request path's byte loops: machine code from the viper emitter where the
# port has it, else the plain-Python twins (CPython, a port without the
# emitter, or an .mpy built for another architecture). EMITTER says which.

try:
    from .loops_viper import (walk, same, uint, digits, copy_tail, hash31, replay, copy_at,
                              xor_at)
    EMITTER = "viper"
except (ImportError, SyntaxError, ValueError):  # pragma: no cover - port-dependent
    from .loops_py import (walk, same, uint, digits, copy_tail, hash31, replay, copy_at,
                           xor_at)
    EMITTER = None

__all__ = ("walk", "same", "uint", "digits", "copy_tail", "hash31", "replay", "copy_at", "xor_at",
           "EMITTER")
