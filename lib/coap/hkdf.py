# HKDF with SHA-256 (RFC 5869), which derives OSCORE's keys and Common IV
# (RFC 8613 §3.2.1). Start-up only: hashlib.sha256() allocates, and so does
# everything here.

import hashlib


def _hmac_sha256(key, msg):
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    k = bytes(key) + bytes(64 - len(key))
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in k))
    inner.update(msg)
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in k))
    outer.update(inner.digest())
    return outer.digest()


def hkdf_sha256(salt, ikm, info, length):
    """RFC 5869 HKDF with SHA-256: extract, then expand to length bytes."""
    prk = _hmac_sha256(salt if salt else bytes(32), ikm)
    out = b""
    t = b""
    i = 1
    while len(out) < length:
        t = _hmac_sha256(prk, t + info + bytes((i,)))
        out += t
        i += 1
    return out[:length]
