# What the board reads back at boot (the Observe table, the OSCORE sequence
# number) is read with a size bound: a file far larger than any the firmware
# writes is refused with one line, never a MemoryError before serving (#21).
import os
import sys
import unittest

_here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
for _p in (_here + "/../../../boards/common", _here + "/../../../firmware"):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import statefile  # noqa: E402
from coap.oscorectx import SequenceStore  # noqa: E402

_PATH = "/tmp/coap-statefile-test"


def write(path, data, times=1):
    with open(path, "wb") as f:
        for _ in range(times):
            f.write(data)


class Oversized(unittest.TestCase):
    def tearDown(self):
        try:
            os.remove(_PATH)
        except OSError:
            pass

    def test_a_saved_table_is_read_back(self):
        statefile.write_file(_PATH, b"CO\x01\x00\x04\x00\x00", 7)
        self.assertEqual(statefile.read_file(_PATH), b"CO\x01\x00\x04\x00\x00")
        self.assertIsNone(statefile.read_file(_PATH + ".none"))  # never saved

    def test_an_observer_file_larger_than_any_table_is_refused_with_its_size(self):
        # a valid header, then 64 KB: the table of 16 observers is at most 5 KB
        write(_PATH, b"CO\x01\x00\x04\x00\x10" + bytes(1024), 64)
        with self.assertRaises(OSError) as ctx:  # sleep.keep_observers: one line
            statefile.read_file(_PATH)
        self.assertIn("over %d bytes" % statefile.MAX_BYTES, str(ctx.exception))

    def test_a_sequence_number_file_of_many_digits_is_corrupt(self):
        write(_PATH, b"1234567890" * 1024, 8)
        with self.assertRaises(ValueError) as ctx:  # security.py: one line, 4.01s
            SequenceStore(_PATH).load()
        self.assertIn("corrupt", str(ctx.exception))

    def test_a_sequence_number_file_is_read_back(self):
        SequenceStore(_PATH).save(4096)
        self.assertEqual(SequenceStore(_PATH).load(), 4096)
        write(_PATH, b" 12\n")
        self.assertEqual(SequenceStore(_PATH).load(), 12)


if __name__ == "__main__":
    unittest.main()
