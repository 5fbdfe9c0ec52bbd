# An OSCORE security context (RFC 8613 §3): keys derived once at start-up with
# HKDF-SHA256 (allocation is fine there), the board's Sender Sequence Number
# kept safe across reboots (Appendix B.1.1), and the replay window of the
# client's requests (§7.4), re-established after a reboot with Echo (B.1.2;
# the values are the server's own, coap/echo.py, bound to the address).
#
# Per request nothing here allocates: the window is a bytearray (no 32-bit
# bitmask, which would be a heap int on a board's 31-bit small ints) and
# sequence numbers stay below 2**30.

import os

from .ccm import CCM, NONCE
from .cose import nonce_base
from .hkdf import hkdf_sha256
from .loops import same

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

_ALG_AES_CCM_16_64_128 = const(10)
MAX_ID = const(7)           # nonce length - 6 (§5.2): longer IDs can't make a nonce
SSN_LIMIT = const(0x3FFFFFFF)  # the board's own limit (RFC: < 2**40), a small int everywhere
_SEQ_TEXT_MAX = const(24)  # the saved SSN's digits (< 2**40: 13) and spaces
_FRESH = const(0)
_SEEN = const(1)
_OLD = const(2)
_UNKNOWN = const(3)


def _bstr(b):
    # CBOR byte string (RFC 8949 §3.1), lengths up to 255
    n = len(b)
    return (bytes((0x40 | n,)) if n < 24 else bytes((0x58, n))) + bytes(b)


def info(id_, id_context, type_, length):
    """The HKDF info of §3.2.1: [id, id_context, alg_aead, type, L] in CBOR."""
    t = type_.encode()
    return (b"\x85" + _bstr(id_) + (b"\xf6" if id_context is None else _bstr(id_context))
            + bytes((_ALG_AES_CCM_16_64_128, 0x60 | len(t))) + t + bytes((length,)))


def find(contexts, buf, kid_off, kid_len, ctx_off, ctx_len):
    """The index of the context a request's kid buf[kid_off:+kid_len] (and kid
    context at ctx_off, when >= 0) names (§8.2 step 2), or -1."""
    if kid_len > MAX_ID:
        return -1
    for i in range(len(contexts)):
        ctx = contexts[i]
        if not same(buf, kid_off, kid_len, ctx.recipient_id):
            continue
        if ctx_off >= 0 and (ctx.id_context is None
                             or not same(buf, ctx_off, ctx_len, ctx.id_context)):
            continue
        return i
    return -1


class SequenceStore:
    """Sender Sequence Numbers reserved in chunks of `chunk` in a file
    (Appendix B.1.1): the file holds a number no SSN has reached yet, written
    before the first SSN at or above the previous one is used, so after a
    reboot the board starts from the file's number and never reuses a nonce."""

    def __init__(self, path, chunk=64):
        if chunk < 1:
            raise ValueError("chunk must be positive")
        self.path = path
        self.chunk = chunk

    def load(self):
        try:
            with open(self.path) as f:
                text = f.read(_SEQ_TEXT_MAX + 1)  # bounded: never a MemoryError at boot
        except OSError:
            return 0  # a new context: nothing used yet
        text = text.strip() if len(text) <= _SEQ_TEXT_MAX else ""
        if not text.isdigit():
            raise ValueError("sequence number file %s is corrupt" % self.path)
        return int(text)

    def save(self, value):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(value))
        os.rename(tmp, self.path)  # the old number stays until the new one is whole


class ReplayWindow:
    """The Partial IVs of a client's requests already accepted (RFC 8613
    §7.4): `top` is the newest; seen[p % size] marks p in (top - size, top].
    top = -1: unknown (after a reboot), so a request must first return an
    Echo (Appendix B.1.2). Fixed memory; nothing allocates."""

    def __init__(self, size=32, known=False):
        self.size = size
        self.top = 0 if known else -1
        self.seen = bytearray(size)

    def check(self, piv):
        """FRESH, SEEN, OLD (below the window) or UNKNOWN (no window yet)."""
        top = self.top
        if top < 0:
            return _UNKNOWN
        if piv > top:
            return _FRESH
        if piv <= top - self.size:
            return _OLD
        return _SEEN if self.seen[piv % self.size] else _FRESH

    def accept(self, piv):
        """Record an authenticated request's Partial IV (call after check)."""
        w = self.size
        seen = self.seen
        top = self.top
        if top < 0 or piv - top >= w:
            # After Echo (B.1.2) this piv is the window's lower limit: everything
            # below it counts as seen. After a jump ahead nothing in it was.
            mark = 1 if top < 0 else 0
            for i in range(w):
                seen[i] = mark
            self.top = piv
        elif piv > top:
            for p in range(top + 1, piv + 1):
                seen[p % w] = 0
            self.top = piv
        seen[piv % w] = 1


class Context:
    """The board's side of one OSCORE context (AES-CCM-16-64-128, HKDF-SHA256).

    sender_id is the board's Sender ID, recipient_id the client's. store: a
    SequenceStore, or None to keep the SSN in RAM only (tests; never on a board
    that can reboot, since a reused SSN reuses a nonce).
    """

    #: replay window size (§7.4 default 32)
    window = 32
    #: how old an Echo value may be when it comes back: an unsafe request
    #: (PUT, POST, ...) acts only if made this recently (RFC 9175 §2.4)
    echo_max_age_ms = 30000

    def __init__(self, secret, salt=b"", sender_id=b"", recipient_id=b"", id_context=None,
                 store=None):
        if not secret:
            raise ValueError("secret is empty")
        if len(sender_id) > MAX_ID or len(recipient_id) > MAX_ID:
            raise ValueError("sender_id and recipient_id are at most 7 bytes")
        if bytes(sender_id) == bytes(recipient_id):
            raise ValueError("sender_id and recipient_id must differ")
        if id_context is not None and len(id_context) > 255:
            raise ValueError("id_context is at most 255 bytes")
        self.sender_id = bytes(sender_id)
        self.recipient_id = bytes(recipient_id)
        self.id_context = None if id_context is None else bytes(id_context)
        ctx = self.id_context
        self.sender_key = hkdf_sha256(salt, secret, info(sender_id, ctx, "Key", 16), 16)
        self.recipient_key = hkdf_sha256(salt, secret, info(recipient_id, ctx, "Key", 16), 16)
        self.common_iv = hkdf_sha256(salt, secret, info(b"", ctx, "IV", NONCE), NONCE)
        self.sender = CCM(self.sender_key)
        self.recipient = CCM(self.recipient_key)
        # §5.2: the nonce of a Partial IV made by the board, and by the client
        self.sender_nonce = nonce_base(self.common_iv, self.sender_id)
        self.recipient_nonce = nonce_base(self.common_iv, self.recipient_id)
        self.store = store
        self.ssn = 0
        self.reserved = SSN_LIMIT
        if store is not None:
            self.ssn = store.load()
            self.reserved = self.ssn
            self._reserve()
        # A board starts every boot with the window unknown, the first one
        # included: a wiped filesystem looks like a new context, and must not
        # accept old requests. Only a RAM-only context (tests) starts empty (§7.4.1).
        self.replay = ReplayWindow(self.window, known=store is None)

    # --- the board's own Sender Sequence Number (§7.2, B.1.1) ----------------

    def _reserve(self):
        nxt = self.reserved + self.store.chunk
        if nxt > SSN_LIMIT:
            nxt = SSN_LIMIT
        self.store.save(nxt)
        self.reserved = nxt

    def next_ssn(self):
        """The next SSN to use, or -1 when the context is exhausted (§7.2.1).
        May write the store (once per chunk): an OSError from it propagates."""
        ssn = self.ssn
        if ssn >= SSN_LIMIT:
            return -1
        if ssn >= self.reserved:
            self._reserve()
        self.ssn = ssn + 1
        return ssn
