# boards/esp32/board.py against the fakes in tests/unit/fakes.
import unittest

from boardcases import (BoardCases, Log, fake_dht, fake_esp32, fake_machine, fake_network,
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
        self.assertEqual(self.make().temperature_centi(), 5500)

    def test_s2_s3_c3_sensor_in_celsius(self):
        fake_esp32.celsius = 31
        self.assertEqual(self.make().temperature_centi(), 3100)
        fake_esp32.celsius = -4
        self.assertEqual(self.make().temperature_centi(), -400)

    def test_dht_replaces_the_chip_sensor(self):
        fake_dht.frames.append(fake_dht.frame(215, 400))
        fake_esp32.celsius = 45
        self.assertEqual(self.make(dht_pin=4).temperature_centi(), 2150)

    def test_temperature_does_not_allocate(self):
        b = self.make()
        b.temperature_centi()
        self.assertEqual(no_alloc(self, "mcu", b.temperature_centi), 3100)
        fake_esp32.variant("classic")
        b = self.make()
        b.temperature_centi()
        self.assertEqual(no_alloc(self, "raw", b.temperature_centi), 5333)

    # -- ADC

    def test_adc_pins_at_11_db(self):
        self.make(adc_pins=[32, 33])
        for p in (32, 33):
            self.assertEqual(fake_machine.adcs[p].attenuation, fake_machine.ADC.ATTN_11DB)

    def test_adc_millivolts_rounded(self):
        b = self.make(adc_pins=[32, 33])
        fake_machine.uv[32] = 1234567
        fake_machine.uv[33] = 499
        self.assertEqual((b.adc_millivolts(0), b.adc_millivolts(1)), (1235, 0))
        fake_machine.uv[33] = 500
        self.assertEqual(no_alloc(self, "adc", b.adc_millivolts, 1), 1)

    def test_no_adc_pins(self):
        self.make()
        self.assertEqual(fake_machine.adcs, {})

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
