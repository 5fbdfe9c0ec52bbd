# One AES-128 block cipher (ECB, one block at a time): the primitive OSCORE's
# AES-CCM (RFC 8613 §3.2.1) and the Echo MAC (RFC 9175) are built on. The
# backend is chosen here and nowhere else: MicroPython's cryptolib on a board
# and on the unix port, the `cryptography` package under CPython.
#
# cryptolib.aes(key, 1).encrypt(src, dst) writes into dst without allocating
# (checked under micropython.heap_lock() in tests/unit/coap/test_aes.py), so a
# MAC or keystream built from it can run on the request path.

try:
    import cryptolib
except ImportError:  # CPython, or a port built without cryptolib
    cryptolib = None

_ECB = 1


class AES:
    """AES-128 encryption of single 16-byte blocks under one key."""

    def __init__(self, key):
        if len(key) != 16:
            raise ValueError("AES-128 needs a 16-byte key")
        if cryptolib is not None:
            self._aes = cryptolib.aes(bytes(key), _ECB)
            self._enc = None
        else:
            from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

            self._aes = None
            self._enc = Cipher(algorithms.AES(bytes(key)), modes.ECB()).encryptor()

    def block_function(self):
        """The fastest callable f(src, dst) doing encrypt_block: cryptolib's own
        method where there is one (kept once, at start-up, so that calling it
        per block costs no Python frame)."""
        return self._aes.encrypt if self._aes is not None else self.encrypt_block

    def encrypt_block(self, src, dst):
        """dst[0:16] = AES_K(src[0:16]); src and dst are 16-byte buffers (they may be the same)."""
        if self._aes is not None:
            self._aes.encrypt(src, dst)
        else:
            dst[0:16] = self._enc.update(bytes(src[0:16]))


def available():
    """True where a backend exists (a port without cryptolib and no CPython package: False)."""
    if cryptolib is not None:
        return True
    try:
        import cryptography  # noqa: F401
    except ImportError:
        return False
    return True
