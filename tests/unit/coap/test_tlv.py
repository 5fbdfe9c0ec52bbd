# coap.tlv: LwM2M TLV (Content-Format 11542), against the examples of the
# OMA LwM2M TS (1.0 §6.4.3.1 and §6.4.3.2; 1.1 Core §7.4.3).
import struct
import unittest

import coapmsg as m
from heaplock import no_alloc
from coap.tlv import INSTANCE, MULTIPLE, RES_INSTANCE, RESOURCE, Reader, Tlv, double
from coap.write import Response

# Read /3/0 of the TS's Device object example, as the TS lists it
DEVICE_EXAMPLE = bytes.fromhex(
    "C800144F70656E204D6F62696C6520416C6C69616E6365"
    "C801164C69676874776569676874204D324D20436C69656E74"
    "C80209333435303030313233"
    "C303312E30"
    "8606410001410105"
    "88070842000ED842011388"
    "870841007D42010384"
    "C10964"
    "C10A0F"
    "830B410000"
    "C40D5182428F"
    "C60E2B30323A3030"
    "C11055")

# Read /2 of the TS's Access Control example: two instances, a 16-bit
# resource instance identifier (0x0136) in the second
ACL_EXAMPLE = bytes.fromhex(
    "08000EC10001C101008302417F07C1037F"
    "080212C10003C101008702417F0761013601C1037F")


def device(t, arg):
    t.string(0, b"Open Mobile Alliance")
    t.string(1, b"Lightweight M2M Client")
    t.string(2, b"345000123")
    t.string(3, b"1.0")
    t.begin(MULTIPLE, 6)
    t.integer(0, 1)
    t.integer(1, 5)
    t.end()
    t.begin(MULTIPLE, 7)
    t.integer(0, 3800)
    t.integer(1, 5000)
    t.end()
    t.begin(MULTIPLE, 8)
    t.integer(0, 125)
    t.integer(1, 900)
    t.end()
    t.integer(9, 100)
    t.integer(10, 15)
    t.begin(MULTIPLE, 11)
    t.integer(0, 0)
    t.end()
    t.integer(13, 1367491215 if arg is None else arg)
    t.string(14, b"+02:00")
    t.string(16, b"U")


def acl(t, arg):
    for inst, obj, extra in ((0, 1, False), (2, 3, True)):
        t.begin(INSTANCE, inst)
        t.integer(0, obj)
        t.integer(1, 0)
        t.begin(MULTIPLE, 2)
        t.integer(127, 7)
        if extra:
            t.integer(310, 1)
        t.end()
        t.integer(3, 127)
        t.end()


def rendered(f, arg=None, size=256):
    w = Response(size, block_size=size)
    w.begin(m.ACK, 69, 1, b"", 0, 0)
    w.content_format(11542)
    t = Tlv()
    n = t.render(w, f, arg)
    opts, payload = m.decode(bytes(w.buf))[4:]
    return opts, payload, n


class Writer(unittest.TestCase):
    def test_device_object_example(self):
        opts, payload, n = rendered(device)
        self.assertEqual(opts, [(12, b"\x2d\x16")])  # 11542
        self.assertEqual(payload, DEVICE_EXAMPLE)
        self.assertEqual(n, len(DEVICE_EXAMPLE))

    def test_multiple_instances_example(self):
        self.assertEqual(rendered(acl)[1], ACL_EXAMPLE)

    def test_length_fields_of_8_16_and_24_bits(self):
        for n, head in ((7, b"\xc7\x05"), (8, b"\xc8\x05\x08"), (255, b"\xc8\x05\xff"),
                        (256, b"\xd0\x05\x01\x00"), (70000, b"\xd8\x05\x01\x11\x70")):
            def f(t, arg):
                t.string(5, arg)
            payload = rendered(f, b"x" * n, n + 16)[1]
            self.assertEqual(payload[:len(head)], head)
            self.assertEqual(len(payload), len(head) + n)

    def test_integers_in_the_fewest_bytes(self):
        cases = ((0, b"\x00"), (-1, b"\xff"), (127, b"\x7f"), (128, b"\x00\x80"),
                 (-129, b"\xff\x7f"), (32768, b"\x00\x00\x80\x00"),
                 (-(2 ** 31), b"\x80\x00\x00\x00"), (2 ** 31, b"\x00\x00\x00\x00\x80\x00\x00\x00"))
        for v, enc in cases:
            def f(t, arg):
                t.integer(1, arg)
            head = bytes([0xC0 | len(enc), 1]) if len(enc) < 8 else b"\xc8\x01\x08"
            self.assertEqual(rendered(f, v)[1], head + enc)

    def test_floats_are_doubles_of_the_fixed_point_reading(self):
        for v, places in ((2312, 2), (-205, 2), (1, 0), (0, 2), (101325, 2), (5, 3),
                          (-1, 6), (999999999, 2), (12345, 4), (3, 1), (1073741823, 0)):
            out = bytearray(8)
            double(out, v, places)
            self.assertEqual(bytes(out), struct.pack(">d", v / 10 ** places), (v, places))

    def test_boolean_and_16_bit_identifier(self):
        def f(t, arg):
            t.boolean(5850, True)
            t.begin(INSTANCE, 300)
            t.boolean(1, False)
            t.end()
        self.assertEqual(rendered(f)[1], b"\xe1\x16\xda\x01\x23\x01\x2c\xc1\x01\x00")

    def test_unbalanced_containers_are_a_programming_error(self):
        def f(t, arg):
            t.begin(INSTANCE, 0)
        with self.assertRaises(ValueError):
            rendered(f)

    def test_block_window_keeps_its_part(self):
        w = Response(256)
        w.begin(m.ACK, 69, 1, b"", 0, 0)
        w.window(16, 32, False)
        Tlv().render(w, device, None)
        self.assertEqual(m.decode(bytes(w.buf))[5], DEVICE_EXAMPLE[16:32])
        self.assertEqual(w.total, len(DEVICE_EXAMPLE))

    def test_no_allocation(self):
        # the example's time is a long int on 32-bit ports (allocated when
        # shifted): a 4-byte time that is a small int everywhere instead
        w = Response(256)
        t = Tlv()
        time = 0x3182428F

        def run():
            w.begin(m.ACK, 69, 1, b"", 0, 0)
            t.render(w, device, time)
            t.fixed(5700, -2312, 2)  # outside render: written straight through
            return len(w.buf)
        run()
        self.assertEqual(no_alloc(self, "TLV render", run), 4 + 1 + len(DEVICE_EXAMPLE) + 12)


class Reading(unittest.TestCase):
    def test_walks_the_example_in_order(self):
        r = Reader()
        r.start(ACL_EXAMPLE, 0, len(ACL_EXAMPLE))
        seen = []
        while r.next():
            seen.append((r.kind, r.ident, r.integer() if r.kind & 0x40 else r.value_len))
        self.assertFalse(r.bad)
        self.assertEqual(seen, [
            (INSTANCE, 0, 14), (RESOURCE, 0, 1), (RESOURCE, 1, 0), (MULTIPLE, 2, 3),
            (RES_INSTANCE, 127, 7), (RESOURCE, 3, 127),
            (INSTANCE, 2, 18), (RESOURCE, 0, 3), (RESOURCE, 1, 0), (MULTIPLE, 2, 7),
            (RES_INSTANCE, 127, 7), (RES_INSTANCE, 310, 1), (RESOURCE, 3, 127)])

    def test_truncated_entry_is_bad(self):
        r = Reader()
        r.start(b"\xc8\x05\x09abc", 0, 6)
        self.assertFalse(r.next())
        self.assertTrue(r.bad)

    def test_integer_widths(self):
        r = Reader()
        for data, v in ((b"\xc1\x00\xff", -1), (b"\xc2\x00\x01\x00", 256),
                        (b"\xc3\x00\x01\x02\x03", None)):
            r.start(data, 0, len(data))
            self.assertTrue(r.next())
            self.assertEqual(r.integer(), v)

    def test_reading_allocates_nothing(self):
        r = Reader()

        def walk():
            r.start(DEVICE_EXAMPLE, 0, len(DEVICE_EXAMPLE))
            total = 0
            while r.next():
                if r.kind == RES_INSTANCE:
                    total += r.integer()
            return total
        self.assertEqual(no_alloc(self, "TLV read", walk), 1 + 5 + 3800 + 5000 + 125 + 900)
