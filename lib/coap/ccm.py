# AES-CCM-16-64-128 (COSE algorithm 10, RFC 8152 §10.2; CCM is RFC 3610):
# L = 2 (messages up to 64 KiB), M = 8 (an 8-byte tag), a 13-byte nonce.
# OSCORE's one mandatory AEAD (RFC 8613 §3.2.1). MicroPython has no CCM and
# often no CTR, so both halves are built here over one AES block: CBC-MAC for
# the tag and the CTR keystream for the ciphertext.
#
# Every buffer is allocated in __init__; encrypt() and decrypt() only index,
# XOR and call the block cipher, so they run with the heap locked. The XOR
# goes 16 bytes per call through loops.xor_at (machine code where the port
# has viper), and decrypt() takes each block's keystream and CBC-MAC step in
# one pass: a forged 1 KB ciphertext is refused at about the cost of its AES
# blocks, not of a Python loop per byte.

from .aes import AES
from .loops import copy_at, xor_at

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

TAG = const(8)
NONCE = const(13)
_B0_FLAGS = const(0x19)  # 8*((M-2)/2) + (L-1), RFC 3610 §2.2; + 0x40 with AAD
_A_FLAGS = const(0x01)   # L-1, RFC 3610 §2.3


class CCM:
    """AES-CCM with M=8, L=2 under one 16-byte key."""

    def __init__(self, key):
        self._block = AES(key).block_function()  # f(src, dst): one AES block
        self._x = bytearray(16)    # CBC-MAC state
        self._a = bytearray(16)    # counter block A_i
        self._s = bytearray(16)    # keystream block S_i
        self._pos = 0              # bytes absorbed into _x since the last block

    # --- CBC-MAC (RFC 3610 §2.2) -----------------------------------------------

    def _absorb(self, src, off, n):
        x = self._x
        pos = self._pos
        end = off + n
        while off < end:
            k = 16 - pos
            if k > end - off:
                k = end - off
            xor_at(x, pos, src, off, k)
            off += k
            pos += k
            if pos == 16:
                self._block(x, x)
                pos = 0
        self._pos = pos

    def _absorb_byte(self, b):
        x = self._x
        x[self._pos] ^= b
        self._pos += 1
        if self._pos == 16:
            self._block(x, x)
            self._pos = 0

    def _pad(self):
        # zero padding to the block boundary: XOR with zeros, then the block
        if self._pos:
            self._block(self._x, self._x)
            self._pos = 0

    def _mac_head(self, nonce, aad, aad_n, n):
        # B_0 and the encoded AAD, padded: what precedes the message's blocks
        x = self._x
        x[0] = _B0_FLAGS | (0x40 if aad_n else 0)
        for i in range(NONCE):
            x[1 + i] = nonce[i]
        x[14] = (n >> 8) & 0xFF
        x[15] = n & 0xFF
        self._block(x, x)
        self._pos = 0
        if aad_n:
            self._absorb_byte(aad_n >> 8)  # l(a) < 2**16 - 2**8: two bytes, §2.2
            self._absorb_byte(aad_n & 0xFF)
            self._absorb(aad, 0, aad_n)
            self._pad()

    def _mac(self, nonce, aad, aad_n, src, off, n):
        self._mac_head(nonce, aad, aad_n, n)
        self._absorb(src, off, n)
        self._pad()

    # --- CTR (RFC 3610 §2.3) ---------------------------------------------------

    def _counter(self, nonce):
        a = self._a
        a[0] = _A_FLAGS
        for k in range(NONCE):
            a[1 + k] = nonce[k]

    def _keystream(self, i):
        # S_i = E(A_i); the nonce is in A already (_counter)
        a = self._a
        a[14] = (i >> 8) & 0xFF
        a[15] = i & 0xFF
        self._block(a, self._s)

    # --- AEAD ------------------------------------------------------------------

    def encrypt(self, nonce, aad, aad_n, src, off, n, dst):
        """Append the ciphertext of src[off:off+n] and its 8-byte tag to the
        bytearray dst (which must have room: appends within capacity)."""
        if n > 0xFFFF or aad_n >= 0xFF00:
            raise ValueError("CCM length out of range")
        self._mac(nonce, aad, aad_n, src, off, n)
        self._counter(nonce)
        s = self._s
        block = 0
        for k in range(n):
            j = k & 15
            if j == 0:
                block += 1
                self._keystream(block)
            dst.append(src[off + k] ^ s[j])
        self._keystream(0)
        x = self._x
        for j in range(TAG):
            dst.append(x[j] ^ s[j])

    def decrypt(self, nonce, aad, aad_n, src, off, n, dst, dst_off):
        """Decrypt ciphertext+tag src[off:off+n] into dst[dst_off:dst_off+n-8]
        and check the tag. False (and dst holds garbage) when it does not match."""
        m = n - TAG
        if m < 0 or m > 0xFFFF or aad_n >= 0xFF00:
            return False
        # One pass: each block's keystream gives its plaintext, which the
        # CBC-MAC takes at once (a short last block: zero padding, §2.2)
        self._counter(nonce)
        self._mac_head(nonce, aad, aad_n, m)
        a = self._a
        s = self._s
        x = self._x
        block = self._block
        done = 0
        i = 0
        while done < m:
            i += 1
            a[14] = i >> 8
            a[15] = i & 0xFF
            block(a, s)
            k = m - done
            if k > 16:
                k = 16
            xor_at(s, 0, src, off + done, k)
            copy_at(dst, dst_off + done, s, k)
            xor_at(x, 0, s, 0, k)
            block(x, x)
            done += k
        self._keystream(0)
        x = self._x
        s = self._s
        diff = 0
        for j in range(TAG):  # every byte compared: no early exit to time
            diff |= x[j] ^ s[j] ^ src[off + m + j]
        return diff == 0
