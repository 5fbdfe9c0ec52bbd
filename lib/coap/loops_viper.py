# The byte loops of loops_py.py compiled to machine code by MicroPython's viper
# emitter (x64 on the unix port, xtensawin on ESP32, armv6m on RP2040: mpy-cross
# -march=...). Same names, arguments and results as loops_py.py, which is the
# reference (tests/unit/coap/test_loops.py checks the two against each other).
# Viper ints are machine words: every value here stays below 2**30, so they
# agree with Python's ints on 32-bit boards too. None of them allocates.
import micropython
from micropython import const

# Viper indexes only with constants it can see: copies of loops_py's, which a
# test checks agree.
S_NUM = const(0)
S_REPEAT = const(1)
S_OFF = const(2)
S_LEN = const(3)
S_NEXT = const(4)
S_PATHS = const(5)
S_PAYLOAD = const(6)
S_PATH_OFF = const(8)
S_PATH_LEN = const(16)

_URI_PATH = const(11)
_MAX_PATH = const(8)
_SUBTREE = const(0x80)
_FORMAT_ERROR = const(-2)
_HASH_MASK = const(0xFFFFFF)


@micropython.viper
def walk(buf: ptr8, p: int, n: int, st: ptr32) -> int:
    num = st[S_NUM]
    while p < n:
        b = buf[p]
        if b == 0xFF:
            if p + 1 == n:
                return _FORMAT_ERROR
            st[S_PAYLOAD] = p + 1
            return 0
        p += 1
        delta = b >> 4
        olen = b & 15
        if delta == 13:  # §3.1 extended forms, as in loops_py.walk
            if p >= n:
                return _FORMAT_ERROR
            delta = buf[p] + 13
            p += 1
        elif delta == 14:
            if p + 1 >= n:
                return _FORMAT_ERROR
            delta = ((buf[p] << 8) | buf[p + 1]) + 269
            p += 2
        elif delta == 15:
            return _FORMAT_ERROR
        if olen == 13:
            if p >= n:
                return _FORMAT_ERROR
            olen = buf[p] + 13
            p += 1
        elif olen == 14:
            if p + 1 >= n:
                return _FORMAT_ERROR
            olen = ((buf[p] << 8) | buf[p + 1]) + 269
            p += 2
        elif olen == 15:
            return _FORMAT_ERROR
        if p + olen > n:
            return _FORMAT_ERROR
        num += delta
        if num == _URI_PATH and olen <= 255:
            i = st[S_PATHS]
            if i < _MAX_PATH:
                st[S_PATH_OFF + i] = p
                st[S_PATH_LEN + i] = olen
            st[S_PATHS] = i + 1
            p += olen
            continue
        st[S_REPEAT] = 1 if delta == 0 else 0
        st[S_NUM] = num
        st[S_OFF] = p
        st[S_LEN] = olen
        st[S_NEXT] = p + olen
        return 1
    st[S_NUM] = num
    st[S_PAYLOAD] = n
    return 0


@micropython.viper
def same(buf: ptr8, off: int, n: int, s) -> bool:
    if n != int(len(s)):
        return False
    q = ptr8(s)
    i = 0
    while i < n:
        if buf[off + i] != q[i]:
            return False
        i += 1
    return True


@micropython.viper
def uint(buf: ptr8, off: int, n: int) -> int:
    v = 0
    i = off
    while i < off + n:
        v = (v << 8) | buf[i]
        i += 1
    return v


@micropython.viper
def digits(b: ptr8, pos: int, v: int, places: int) -> int:
    i = pos
    if v < 0:
        b[i] = 45
        i += 1
        v = 0 - v
    start = i
    count = 0
    while v or count <= places:
        if count == places and places:
            b[i] = 46
            i += 1
        b[i] = 48 + v % 10
        i += 1
        v = v // 10
        count += 1
    end = i - 1
    while start < end:
        t = b[start]
        b[start] = b[end]
        b[end] = t
        start += 1
        end -= 1
    return i - pos


@micropython.viper
def copy_tail(dst, src: ptr8, i: int, n: int):
    d = int(len(dst)) - n
    p = ptr8(dst)
    k = 0
    while k < n:
        p[d + k] = src[i + k]
        k += 1


@micropython.viper
def hash31(src: ptr8, i: int, j: int, h: int) -> int:
    while i < j:
        h = (h * 31 + src[i]) & _HASH_MASK
        i += 1
    return h


SLOT_TKL = const(0)
SLOT_KEY_LEN = const(1)
SLOT_KEY = const(2)
ENTRY = const(64)
KEY_ROOM = const(62)


@micropython.viper
def replay(table: ptr8, answers, data: ptr8, n: int) -> int:
    if n < 4:
        return -1
    b0 = data[0]
    tkl = b0 & 15
    if (b0 & 0xF0) != 0x40 or data[1] != 1 or tkl > 8:
        return -1
    start = 4 + tkl
    k = n - start
    if k < 0 or k > KEY_ROOM:
        return -1
    entries = int(len(answers))
    e = 0
    while e < entries:
        base = e * ENTRY
        if table[base + SLOT_TKL] == tkl + 1 and table[base + SLOT_KEY_LEN] == k:
            key = base + SLOT_KEY
            i = 0
            while i < k and table[key + i] == data[start + i]:
                i += 1
            if i == k:
                a = ptr8(answers[e])
                a[0] = 0x60 | tkl
                a[2] = data[2]
                a[3] = data[3]
                j = 4
                while j < start:
                    a[j] = data[j]
                    j += 1
                return e
        e += 1
    return -1


@micropython.viper
def match_path(buf: ptr8, st: ptr32, table) -> int:
    t = ptr8(table)
    n = int(len(table))
    count = st[S_PATHS]
    p = 0
    idx = 0
    while p < n:
        c = t[p]
        p += 1
        ok = c == count
        if c > _MAX_PATH:  # a subtree entry: its own path, or longer
            c -= _SUBTREE
            ok = count >= c
        k = 0
        while k < c:
            ln = t[p]
            p += 1
            if ok:
                if st[S_PATH_LEN + k] != ln:
                    ok = False
                else:
                    off = st[S_PATH_OFF + k]
                    j = 0
                    while j < ln:
                        if buf[off + j] != t[p + j]:
                            ok = False
                            break
                        j += 1
            p += ln
            k += 1
        if ok:
            return idx
        idx += 1
    return -1


@micropython.viper
def copy_at(dst: ptr8, at: int, src: ptr8, n: int):
    k = 0
    while k < n:
        dst[at + k] = src[k]
        k += 1


@micropython.viper
def copy_in(dst: ptr8, at: int, src: ptr8, off: int, n: int):
    k = 0
    while k < n:
        dst[at + k] = src[off + k]
        k += 1


@micropython.viper
def xor_at(dst: ptr8, at: int, src: ptr8, off: int, n: int):
    k = 0
    while k < n:
        dst[at + k] ^= src[off + k]
        k += 1
