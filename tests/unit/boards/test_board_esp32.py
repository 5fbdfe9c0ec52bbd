# boards/esp32/board.py against the fakes in tests/unit/fakes.
import sys
import unittest

from boardcases import (BoardCases, Log, fake_esp32, fake_machine, fake_network,
                        fake_time, load, no_alloc)

board = load("esp32")


class Esp32(BoardCases, unittest.TestCase):
    board = board
    GOT_IP = 1010
    IDLE = 1000
    CONNECTING = 1001
    LED_PIN = 2

    # -- temperature

    def test_fahrenheit_to_centi(self):
        # (F - 32) * 5 / 9 * 100, rounded
        for f, centi in ((32, 0), (50, 1000), (100, 3778), (128, 5333), (212, 10000), (0, -1778)):
            self.assertEqual(board.f_to_centi(f), centi, "%d °F" % f)

    def test_classic_esp32_raw_sensor(self):
        fake_esp32.variant("classic")
        fake_esp32.fahrenheit = 131
        self.assertEqual(self.make().mcu_temp_centi(), 5500)

    def test_s2_s3_c3_sensor_in_celsius(self):
        fake_esp32.celsius = 31
        self.assertEqual(self.make().mcu_temp_centi(), 3100)
        fake_esp32.celsius = -4
        self.assertEqual(self.make().mcu_temp_centi(), -400)

    def test_observers_kept_in_rtc_memory_then_a_file(self):  # #14
        import os
        try:
            b = self.make()
            b.state_file = "/tmp/coap-esp32-test-observers.bin"
            fake_machine.rtc_memory[:] = b""
            self.assertIsNone(b.load_state())
            b.save_state(bytearray(b"CO-small-table") + bytearray(100), 14)
            self.assertEqual(b.load_state(), b"CO-small-table")
            big = bytearray(b"CO") + bytearray(2100)
            b.save_state(big, len(big))  # too large for RTC memory: the file
            self.assertEqual((len(fake_machine.rtc_memory), b.load_state()), (0, bytes(big)))
            b.deep_sleep(300000)
            self.assertEqual(fake_machine.deep_sleeps[-1], 300000)
        finally:
            try:
                os.remove("/tmp/coap-esp32-test-observers.bin")
            except OSError:
                pass

    def test_temperature_does_not_allocate(self):
        b = self.make()
        b.mcu_temp_centi()
        self.assertEqual(no_alloc(self, "mcu", b.mcu_temp_centi), 3100)
        fake_esp32.variant("classic")
        b = self.make()
        b.mcu_temp_centi()
        self.assertEqual(no_alloc(self, "raw", b.mcu_temp_centi), 5333)

    # -- Wi-Fi status

    def test_describe(self):
        self.assertEqual(board.describe(201), "no AP found (STAT_NO_AP_FOUND, 201)")
        self.assertEqual(board.describe(203), "association failed (STAT_CONNECT_FAIL, 203)")
        self.assertEqual(board.describe(1001), "connecting (STAT_CONNECTING, 1001)")
        self.assertEqual(board.describe(77), "unknown status 77")

    def test_wrong_password_decoded(self):
        fake_network.scripts.append([(0, 1001), (800, 202)])
        log = Log()
        with self.assertRaises(board.NetworkDown):
            self.wifi(retries=0).connect(log)
        self.assertEqual(
            log.lines,
            ["wifi: attempt 1/1 to home failed after 1000 ms: "
             "wrong password (STAT_WRONG_PASSWORD, 202)"])

    def test_waits_out_a_failure_status(self):
        # the driver keeps retrying and status() may still show the last failure
        fake_network.scripts.append([(0, 202), (1500, 1010)])
        log = Log()
        self.wifi(timeout_ms=3000).connect(log)
        self.assertIn("as 192.168.1.42", log.lines[-1])
        self.assertEqual(fake_time.now, 1500)
