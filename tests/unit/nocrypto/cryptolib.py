# AES-128 encryption (FIPS-197) in plain Python, for the unit tests on ports
# built without cryptolib (the 32-bit wasm and i686 unix builds): it lets the
# CCM and OSCORE tests, and their heap_lock checks, run on 31-bit small ints.
# tests/unit/run.py puts this folder on the path only when `import cryptolib`
# fails. Slow and not constant-time: never shipped to a board.
#
# encrypt() in ECB mode works in preallocated bytearrays and allocates nothing.

_SBOX = bytearray(256)


def _xtime(a):
    a <<= 1
    return (a ^ 0x11B) if a & 0x100 else a


def _make_sbox():
    # multiplicative inverse in GF(2**8), then the affine map (FIPS-197 §5.1.1)
    p = q = 1
    _SBOX[0] = 0x63
    while True:
        p = p ^ _xtime(p)                   # p *= 3
        q ^= q << 1                          # q /= 3
        q ^= q << 2
        q ^= q << 4
        q &= 0xFF
        if q & 0x80:
            q ^= 0x09
        x = q ^ ((q << 1) | (q >> 7)) ^ ((q << 2) | (q >> 6)) ^ ((q << 3) | (q >> 5)) \
            ^ ((q << 4) | (q >> 4))
        _SBOX[p] = (x ^ 0x63) & 0xFF
        if p == 1:
            break


_make_sbox()


class aes:
    def __init__(self, key, mode, iv=None):
        # mode 1: ECB; mode 2: CBC from iv (encryption only, whole blocks)
        if mode not in (1, 2) or len(key) != 16 or (mode == 2 and len(iv) != 16):
            raise ValueError("ECB or CBC with a 16-byte key and IV only")
        self._mode = mode
        self._iv = bytearray(iv) if mode == 2 else None
        w = bytearray(176)  # the expanded key, 11 round keys (FIPS-197 §5.2)
        for i in range(16):
            w[i] = key[i]
        rcon = 1
        for i in range(16, 176, 4):
            a, b, c, d = w[i - 4], w[i - 3], w[i - 2], w[i - 1]
            if i % 16 == 0:
                a, b, c, d = _SBOX[b] ^ rcon, _SBOX[c], _SBOX[d], _SBOX[a]
                rcon = _xtime(rcon)
            w[i] = w[i - 16] ^ a
            w[i + 1] = w[i - 15] ^ b
            w[i + 2] = w[i - 14] ^ c
            w[i + 3] = w[i - 13] ^ d
        self._w = w
        self._s = bytearray(16)
        self._t = bytearray(16)

    def encrypt(self, src, dst):
        if self._mode == 1:
            self._block(src, dst)
            return
        iv = self._iv  # CBC: each block XORed with the previous ciphertext first
        x = bytearray(16)
        for b in range(0, len(src), 16):
            for i in range(16):
                x[i] = src[b + i] ^ iv[i]
            self._block(x, iv)
            for i in range(16):
                dst[b + i] = iv[i]

    def _block(self, src, dst):
        s = self._s
        t = self._t
        w = self._w
        for i in range(16):
            s[i] = src[i] ^ w[i]
        for rnd in range(1, 11):
            for c in range(4):  # SubBytes and ShiftRows: row r moves left by r
                for r in range(4):
                    t[r + 4 * c] = _SBOX[s[r + 4 * ((c + r) & 3)]]
            k = 16 * rnd
            if rnd == 10:
                for i in range(16):
                    dst[i] = t[i] ^ w[k + i]
                return
            for c in range(0, 16, 4):  # MixColumns, then AddRoundKey
                a0 = t[c]
                a1 = t[c + 1]
                a2 = t[c + 2]
                a3 = t[c + 3]
                x = a0 ^ a1 ^ a2 ^ a3
                s[c] = a0 ^ x ^ _xtime(a0 ^ a1) ^ w[k + c]
                s[c + 1] = a1 ^ x ^ _xtime(a1 ^ a2) ^ w[k + c + 1]
                s[c + 2] = a2 ^ x ^ _xtime(a2 ^ a3) ^ w[k + c + 2]
                s[c + 3] = a3 ^ x ^ _xtime(a3 ^ a0) ^ w[k + c + 3]
