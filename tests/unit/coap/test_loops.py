# coap.loops: the viper byte loops give the same results as their plain-Python
# twins (loops_py, the reference) on many inputs, deterministic from a seed.
import sys
import unittest
from array import array

import coapmsg as m
from coap import loops, loops_py as py

try:
    from coap import loops_viper as viper
except (ImportError, SyntaxError, ValueError):  # CPython, or a port without the emitter
    viper = None

_MICROPYTHON = sys.implementation.name == "micropython"


class Rand:
    """A small LCG: the same inputs on every interpreter and word size."""

    def __init__(self, seed):
        self.x = seed

    def next(self, n):
        self.x = (self.x * 1103515245 + 12345) & 0x7FFFFFFF
        return (self.x >> 8) % n

    def data(self, n):
        return bytes(self.next(256) for _ in range(n))


def options(r):
    """A plausible option sequence (Uri-Path heavy), sometimes damaged."""
    msg = bytearray()
    num = 0
    for _ in range(r.next(8)):
        new = num + (11 - num if num < 11 and r.next(2) else r.next(300))
        delta = new - num
        num = new
        olen = r.next(20) if r.next(10) else r.next(400)
        dn = delta if delta < 13 else (13 if delta < 269 else 14)
        ln = olen if olen < 13 else (13 if olen < 269 else 14)
        msg.append(dn << 4 | ln)
        for nib, v in ((dn, delta), (ln, olen)):
            if nib == 13:
                msg.append(v - 13)
            elif nib == 14:
                msg.append((v - 269) >> 8)
                msg.append((v - 269) & 0xFF)
        msg.extend(r.data(olen))
    if r.next(3) == 0:
        msg.append(0xFF)
        msg.extend(r.data(r.next(4)))
    if r.next(5) == 0 and msg:  # damage: a random byte anywhere, or cut short
        if r.next(2):
            msg[r.next(len(msg))] = r.next(256)
        else:
            msg = msg[:r.next(len(msg))]
    return bytes(msg)


def walk_all(fn, buf):
    """Every result walk gives on buf, and the state at each."""
    st = array("i", [0] * py.STATE_SIZE)
    seen = []
    p = 0
    for _ in range(100):
        r = fn(buf, p, len(buf), st)
        seen.append((r, list(st)))
        if r != 1:
            break
        p = st[py.S_NEXT]
    return seen


class Twins(unittest.TestCase):
    def setUp(self):
        if viper is None:
            if _MICROPYTHON and sys.platform == "linux":
                self.fail("the unix port has the viper emitter; loops_viper must load")
            raise unittest.SkipTest("no viper emitter on this interpreter: loops_py runs")

    def test_loops_picks_the_emitter(self):
        self.assertEqual(loops.EMITTER, "viper")
        self.assertTrue(loops.walk is viper.walk)

    def test_state_layout_agrees(self):
        for name in ("S_NUM", "S_REPEAT", "S_OFF", "S_LEN", "S_NEXT", "S_PATHS",
                     "S_PAYLOAD", "S_PATH_OFF", "S_PATH_LEN"):
            self.assertEqual(getattr(viper, name), getattr(py, name), name)

    def test_walk(self):
        r = Rand(1)
        for i in range(600):
            buf = options(r)
            self.assertEqual(walk_all(viper.walk, buf), walk_all(py.walk, buf), buf)

    def test_same(self):
        r = Rand(2)
        for _ in range(500):
            buf = r.data(r.next(12) + 8)
            s = bytes(buf[3:3 + r.next(5)]) if r.next(2) else r.data(r.next(5))
            off, n = r.next(4), r.next(6)
            self.assertEqual(bool(viper.same(buf, off, n, s)), py.same(buf, off, n, s))

    def test_uint(self):
        r = Rand(3)
        for _ in range(500):
            buf = r.data(6)
            off, n = r.next(3), r.next(4)
            self.assertEqual(viper.uint(buf, off, n), py.uint(buf, off, n))

    def test_digits(self):
        r = Rand(4)
        cases = [(0, 0), (0, 2), (-1, 1), (999999999, 0), (-999999999, 10), (5, 3), (-205, 2)]
        a = bytearray(30)
        b = bytearray(30)
        for i in range(800 + len(cases)):  # generated one at a time: small boards' heaps
            v, places = cases[i] if i < len(cases) else (
                r.next(2000000000) - 1000000000, r.next(11))
            na = viper.digits(a, 2, v, places)
            nb = py.digits(b, 2, v, places)
            self.assertEqual((na, a), (nb, b), (v, places))

    def test_copy_tail(self):
        r = Rand(6)
        for _ in range(300):
            src = r.data(r.next(64) + 1)
            i = r.next(len(src))
            n = r.next(len(src) - i + 1)
            head = r.data(r.next(8))
            a = bytearray(head + bytes(n))
            b = bytearray(head + bytes(n))
            viper.copy_tail(a, src, i, n)
            py.copy_tail(b, src, i, n)
            self.assertEqual(a, b)
            self.assertEqual(bytes(a), head + src[i:i + n])

    def test_hash31(self):
        r = Rand(5)
        for _ in range(300):
            data = r.data(r.next(200))
            i = r.next(len(data) + 1)
            j = i + r.next(len(data) - i + 1)
            h = r.next(1 << 24)
            self.assertEqual(viper.hash31(data, i, j, h), py.hash31(data, i, j, h))


IMPLS = (py,) if viper is None else (py, viper)


class Known(unittest.TestCase):
    """Fixed answers, for every implementation this interpreter has."""

    def test_walk_keeps_path_segments(self):
        buf = b"\xb3abc\x02xy\x01z\x14wxyz\xffpay"
        for impl in IMPLS:
            self.check_walk(impl, buf)

    def check_walk(self, impl, buf):
        got = walk_all(impl.walk, buf)
        r, st = got[0]
        self.assertEqual((r, st[py.S_NUM], st[py.S_OFF], st[py.S_LEN]), (1, 12, 10, 4))
        self.assertEqual(st[py.S_PATHS], 3)
        self.assertEqual(st[py.S_PATH_OFF:py.S_PATH_OFF + 3], [1, 5, 8])
        self.assertEqual(st[py.S_PATH_LEN:py.S_PATH_LEN + 3], [3, 2, 1])
        self.assertEqual(got[1][0], 0)
        self.assertEqual(got[1][1][py.S_PAYLOAD], 15)

    def test_digits_read_as_the_number(self):
        b = bytearray(30)
        for impl in IMPLS:
            for v, places, text in ((-205, 2, b"-2.05"), (7, 3, b"0.007"), (42, 0, b"42")):
                n = impl.digits(b, 0, v, places)
                self.assertEqual(bytes(b[:n]), text)


class MatchPath(unittest.TestCase):
    # loops.match_path: the request's Uri-Path, as walk() kept it, against a
    # table of paths; each implementation that this interpreter has

    PATHS = ((b".well-known", b"core"), (b"actuators", b"led"), (b"board",),
             (b"board", b"log"), (b"sensors", b"temp"), (b"sensors", b"t"), (),
             (b"a", b"b", b"c", b"d", b"e", b"f", b"g", b"h"), (b"x" * 255,))

    def impls(self):
        return [py.match_path] + ([viper.match_path] if viper is not None else [])

    def index(self, fn, segments, table=None):
        msg = m.get("/".join(s.decode() for s in segments)) if segments else m.get("")
        st = array("i", [0] * py.STATE_SIZE)
        r = loops.walk(msg, 4 + (msg[0] & 15), len(msg), st)
        while r == 1:
            r = loops.walk(msg, st[py.S_NEXT], len(msg), st)
        return fn(msg, st, table or loops.paths_table(self.PATHS))

    def test_every_path_finds_its_own_entry(self):
        for fn in self.impls():
            for i, path in enumerate(self.PATHS):
                self.assertEqual(self.index(fn, path), i, path)

    def test_prefixes_and_near_misses_find_nothing(self):
        for fn in self.impls():
            for path in ((b"sensors",), (b"sensors", b"tem"), (b"sensors", b"temp", b"x"),
                         (b"Board",), (b"board", b"lo"), (b"x" * 254,),
                         (b"a", b"b", b"c", b"d", b"e", b"f", b"g", b"i")):
                self.assertEqual(self.index(fn, path), -1, path)

    def test_twins_agree_on_random_paths(self):
        if viper is None:
            raise unittest.SkipTest("no viper emitter on this interpreter: loops_py runs")
        r = Rand(11)
        words = (b"a", b"b", b"ab", b"sensors", b"temp", b"t", b"board")
        for _ in range(300):
            path = tuple(words[r.next(len(words))] for _ in range(r.next(4)))
            self.assertEqual(self.index(viper.match_path, path),
                             self.index(py.match_path, path), path)

    def test_a_subtree_entry_takes_its_path_and_those_below(self):
        paths = ((b"sensors", b"temp"), (b"3303",), (b"3",), ())
        table = loops.paths_table(paths, (False, True, True, False))
        for fn in self.impls():
            for segments, i in (((b"3303",), 1), ((b"3303", b"0", b"5700"), 1),
                                ((b"3", b"0"), 2), ((b"sensors", b"temp"), 0),
                                ((), 3), ((b"33",), -1), ((b"3304", b"0"), -1),
                                ((b"sensors", b"temp", b"x"), -1)):
                self.assertEqual(self.index(fn, segments, table), i, segments)

    def test_a_path_no_request_can_reach_is_refused(self):
        with self.assertRaises(ValueError):
            loops.paths_table(((b"a",) * 9,))
        with self.assertRaises(ValueError):
            loops.paths_table(((b"x" * 256,),))


class ReplayTwins(unittest.TestCase):
    """loops.replay: the same slot and the same patched answer from both."""

    def setUp(self):
        if viper is None:
            raise unittest.SkipTest("no viper emitter on this interpreter: loops_py runs")

    def test_slot_layout_agrees(self):
        from coap import prepared
        for name in ("SLOT_TKL", "SLOT_KEY_LEN", "SLOT_KEY", "ENTRY", "KEY_ROOM"):
            for twin in (viper, py):
                self.assertEqual(getattr(twin, name), getattr(prepared, name), name)

    def test_replay(self):
        from coap.prepared import ENTRY, KEY_ROOM
        r = Rand(7)
        entries = 4
        keys = [r.data(r.next(KEY_ROOM + 1)) for _ in range(3)] + [b""]
        for _ in range(300):
            table = bytearray(ENTRY * entries)
            for e in range(entries):
                key = keys[r.next(len(keys))]
                table[e * ENTRY] = r.next(10)  # free, or a token length + 1 (9: TKL 8)
                table[e * ENTRY + 1] = len(key) if r.next(8) else r.next(40)
                table[e * ENTRY + 2:e * ENTRY + 2 + len(key)] = key
            tkl = r.next(10)
            msg = bytearray([0x40 | tkl if r.next(6) else r.next(256),
                             1 if r.next(6) else r.next(4)]) + r.data(2 + tkl)
            msg += keys[r.next(len(keys))]
            if r.next(8) == 0:
                msg = msg[:r.next(len(msg) + 1)]
            answers_v = [bytearray(r.data(12 + r.next(20))) for _ in range(entries)]
            answers_p = [bytearray(a) for a in answers_v]
            got_v = viper.replay(table, answers_v, bytes(msg), len(msg))
            got_p = py.replay(table, answers_p, bytes(msg), len(msg))
            self.assertEqual(got_v, got_p, bytes(msg))
            self.assertEqual(answers_v, answers_p)

    def test_copy_at(self):
        r = Rand(8)
        for _ in range(200):
            src = r.data(r.next(16))
            n = r.next(len(src) + 1)
            at = r.next(8)
            a = bytearray(r.data(at + n + r.next(4)))
            b = bytearray(a)
            viper.copy_at(a, at, src, n)
            py.copy_at(b, at, src, n)
            self.assertEqual(a, b)
            self.assertEqual(bytes(a[at:at + n]), src[:n])

    def test_copy_in(self):
        r = Rand(10)
        for _ in range(200):
            src = r.data(r.next(40))
            off = r.next(len(src) + 1)
            n = r.next(len(src) - off + 1)
            at = r.next(8)
            a = bytearray(r.data(at + n + r.next(4)))
            b = bytearray(a)
            viper.copy_in(a, at, src, off, n)
            py.copy_in(b, at, src, off, n)
            self.assertEqual(a, b)
            self.assertEqual(bytes(a[at:at + n]), src[off:off + n])

    def test_copy_in_moves_bytes_down_within_one_buffer(self):
        for f in (viper.copy_in, py.copy_in):
            a = bytearray(b"..abcdef")
            f(a, 0, a, 2, 6)
            self.assertEqual(a, bytearray(b"abcdefef"))

    def test_xor_at(self):
        r = Rand(9)
        for _ in range(200):
            src = r.data(r.next(40))
            off = r.next(len(src) + 1)
            n = r.next(len(src) - off + 1)
            at = r.next(8)
            a = bytearray(r.data(at + n + r.next(4)))
            b = bytearray(a)
            want = bytearray(a)
            for k in range(n):
                want[at + k] ^= src[off + k]
            viper.xor_at(a, at, src, off, n)
            py.xor_at(b, at, src, off, n)
            self.assertEqual((a, b), (want, want))


class Options(unittest.TestCase):
    # loops.options: a whole message listed by walk(), for clients and tests
    def listed(self, msg):
        found = loops.options(msg, len(msg))
        return [(num, bytes(msg[off:off + n])) for num, off, n in found[0]], found[1]

    def test_every_option_in_order_and_the_payload(self):
        opts = [(4, b"e"), (11, b"a"), (11, b"x" * 20), (12, b"\x28"), (300, b"y" * 300)]
        msg = m.encode(m.NON, 69, 1, b"abcd", opts, b"P")
        got, at = self.listed(msg)
        self.assertEqual(got, opts)
        self.assertEqual(bytes(msg[at:]), b"P")

    def test_no_payload_and_no_options(self):
        msg = m.encode(m.ACK, 69, 1, b"abcd", [(8, b"rd")])
        self.assertEqual(self.listed(msg), ([(8, b"rd")], len(msg)))
        msg = m.encode(m.ACK, 0, 1)
        self.assertEqual(self.listed(msg), ([], 4))

    def test_malformed_options(self):
        # §3.1: a value running past the end, nibble 15; §3: an empty payload
        for msg in (m.encode(m.NON, 69, 1, b"", [(8, b"rd")])[:-1],
                    m.encode(m.NON, 69, 1) + b"\xf1x",
                    m.encode(m.NON, 69, 1, b"", [(8, b"rd")]) + b"\xff"):
            self.assertIsNone(loops.options(msg, len(msg)), msg)


class StateCopies(unittest.TestCase):
    def test_private_copies_of_the_walk_state_agree(self):
        # parse.py, prepared.py, loops.py and client.py keep const copies of loops_py's S_* (a const
        # with a leading underscore leaves no name behind to compare at run time)
        import coap
        base = coap.__file__.rsplit("/", 1)[0]
        for module in ("parse.py", "prepared.py", "loops.py", "client.py"):
            found = 0
            with open(base + "/" + module) as f:
                for line in f:
                    if line.startswith("_S_") and "= const(" in line:
                        found += 1
                        name, value = line.split("=", 1)
                        name = name.strip()[1:]
                        value = int(value.split("const(", 1)[1].split(")", 1)[0])
                        if name == "STATE_SIZE":
                            self.assertTrue(value >= py.STATE_SIZE, module)
                        else:
                            self.assertEqual(value, getattr(py, name), module + " " + name)
            self.assertTrue(found >= 6, module)
