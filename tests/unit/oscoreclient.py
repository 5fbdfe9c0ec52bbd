# The client's half of OSCORE for the unit tests: protects requests and opens
# responses, written from RFC 8613 §5 directly (allocation is fine here). The
# board's side is checked against the RFC's vectors and aiocoap; this only
# drives it from inside the unix port.
from coap.ccm import CCM
from coap.oscorectx import Context

import coapmsg as m

SECRET = bytes(range(1, 17))
SALT = b"\x9e\x7c\xa9\x22\x23\x78\x63\x40"
BOARD_ID = b"\x01"
CLIENT_ID = b"\x02"


def _bstr(b):
    return bytes([0x40 | len(b)]) + b


def piv_bytes(v):
    out = []
    while True:
        out.insert(0, v & 0xFF)
        v >>= 8
        if not v:
            return bytes(out)


def aad(kid, piv):
    ext = b"\x85\x01\x81\x0a" + _bstr(kid) + _bstr(piv) + b"\x40"
    return b"\x83\x68Encrypt0\x40" + _bstr(ext)


def nonce(iv, id_, piv):
    raw = bytes([len(id_)]) + bytes(7 - len(id_)) + id_ + bytes(5 - len(piv)) + piv
    return bytes(a ^ b for a, b in zip(raw, iv))


class Client:
    def __init__(self, secret=SECRET, salt=SALT, sender_id=CLIENT_ID, recipient_id=BOARD_ID):
        self.ctx = Context(secret, salt, sender_id, recipient_id)
        self.ssn = 0

    def protect(self, plain, piv=None, oscore=None, outer=()):
        """The protected form of the plain request `plain` (bytes from coapmsg)."""
        if piv is None:
            piv = self.ssn
            self.ssn += 1
        p = piv_bytes(piv)
        c = self.ctx
        tkl = plain[0] & 15
        text = bytes([plain[1]]) + plain[4 + tkl:]
        out = bytearray(len(text) + 8)
        out[0:] = b""
        a = aad(c.sender_id, p)
        c.sender.encrypt(nonce(c.common_iv, c.sender_id, p), a, len(a), text, 0, len(text), out)
        self.last_piv = p
        if oscore is None:
            oscore = bytes([0x08 | len(p)]) + p + c.sender_id
        typ = (plain[0] >> 4) & 3
        mid = (plain[2] << 8) | plain[3]
        return m.encode(typ, 2, mid, plain[4:4 + tkl], [(9, oscore)] + list(outer), bytes(out))

    def open(self, resp, request_piv=None):
        """(outer code, inner message bytes) of a protected response, or None
        when it does not verify."""
        c = self.ctx
        mtype, code, mid, token, opts, payload = m.decode(resp)
        value = [v for n, v in opts if n == 9]
        if not value:
            return None
        v = value[0]
        rp = self.last_piv if request_piv is None else request_piv
        if v:
            pn = v[0] & 7
            n = nonce(c.common_iv, c.recipient_id, v[1:1 + pn])
        else:
            n = nonce(c.common_iv, c.sender_id, rp)
        a = aad(c.sender_id, rp)
        plain = bytearray(len(payload) - 8)
        if not c.recipient.decrypt(n, a, len(a), payload, 0, len(payload), plain, 0):
            return None
        inner = bytes(resp[:4 + len(token)]) + bytes(plain[1:])
        inner = inner[:1] + bytes([plain[0]]) + inner[2:]
        return code, inner
