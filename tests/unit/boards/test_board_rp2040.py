# boards/rp2040/board.py (Pico W) against the fakes in tests/unit/fakes.
import sys
import unittest

from boardcases import (BoardCases, Log, backoffs, fake_machine, fake_network,
                        fake_rp2, fake_time, load, no_alloc)

board = load("rp2040")


def exact_centi(raw):
    """27 - (raw * 3.3 / 65535 - 0.706) / 0.001721 in centi-°C, rounded, with big ints."""
    num = 2700 * 65535 * 1721 - (raw * 3300000 - 706000 * 65535) * 100
    den = 65535 * 1721
    return (2 * num + den) // (2 * den)


class Rp2040(BoardCases, unittest.TestCase):
    board = board
    GOT_IP = 3
    IDLE = 0
    CONNECTING = 1
    LED_PIN = "LED"

    # -- what survives a reset (#14)

    def test_observers_kept_in_a_file_replaced_whole(self):
        import os
        path = "/tmp/coap-rp2040-test-observers.bin"
        try:
            b = self.make()
            b.state_file = path
            self.assertIsNone(b.load_state())
            b.save_state(bytearray(b"CO-first") + bytearray(10), 8)
            b.save_state(bytearray(b"CO-second"), 9)
            self.assertEqual(b.load_state(), b"CO-second")
            self.assertNotIn("coap-rp2040-test-observers.bin.new", os.listdir("/tmp"))
            b.deep_sleep(5000)
            self.assertEqual(fake_machine.deep_sleeps[-1], 5000)
        finally:
            try:
                os.remove(path)
            except OSError:
                pass

    # -- temperature

    def test_adc_to_centi_by_hand(self):
        # V = raw * 3.3 / 65535; T = 27 - (V - 0.706) / 0.001721
        cases = (
            (14089, 2500),    # 0.709442 V: 2 * 1.721 mV above 0.706 V -> 25.00 °C
            (14020, 2702),    # 0.705974 V -> 27.0152 °C (0.706 V itself is raw 14020.6)
            (14021, 2699),    # 0.706024 V -> 26.9859 °C
            (13000, 5686),    # 0.654612 V -> 56.8594 °C
            (0, 43723),       # 0 V -> 437.2266 °C
            (65535, -148026),  # 3.3 V -> -1480.2632 °C
        )
        for raw, centi in cases:
            self.assertEqual(board.adc_to_centi(raw), centi, "raw %d" % raw)

    def test_adc_to_centi_every_raw_value(self):
        for raw in range(65536):
            got = board.adc_to_centi(raw)
            if got != exact_centi(raw):
                self.fail("raw %d: %d, want %d" % (raw, got, exact_centi(raw)))

    def test_temperature_from_adc4(self):
        fake_machine.u16[4] = 14089
        b = self.make()
        self.assertEqual(b.mcu_temp_centi(), 2500)
        self.assertEqual(no_alloc(self, "temperature", b.mcu_temp_centi), 2500)

    def test_free_heap(self):
        import gc
        self.assertIs(board.gc, gc)  # what free_heap() calls is imported
        if hasattr(gc, "mem_free"):  # MicroPython (CPython's gc has no heap figures)
            gc.collect()
            free = self.make().free_heap()
            self.assertTrue(0 < free <= gc.mem_free() + gc.mem_alloc())

    # -- VSYS

    def test_vsys_millivolts(self):
        b = self.make()
        for raw, mv in ((30000, 4532), (32768, 4950), (65535, 9900), (0, 0)):
            fake_machine.u16[3] = raw  # raw * 3 * 3.3 V / 65535
            self.assertEqual(b.vsys_millivolts(), mv, "raw %d" % raw)

    def test_vsys_leaves_radio_pins_alone_until_read(self):
        self.make()
        self.assertEqual((fake_machine.pins[25].mode, fake_machine.pins[29].mode), (None, None))

    def test_vsys_with_the_radio_held_off(self):
        b = self.make()
        fake_machine.u16[3] = 30000
        fake_machine.trace = True
        b.vsys_millivolts()
        self.assertEqual(fake_machine.events, [
            ("irq", "off"),
            ("value", 25, 1),                     # CS high: divider on, radio deselected
            ("init", 29, fake_machine.Pin.IN),    # GPIO29 off the PIO
            ("read", 3),
            ("read", 3),
            ("irq", "on"),
        ])
        self.assertIsNone(fake_machine.pins[29].pull)

    def test_vsys_enables_irq_when_the_read_fails(self):
        b = self.make()  # no reading for ADC3: read_u16() raises KeyError
        with self.assertRaises(KeyError):
            b.vsys_millivolts()
        self.assertFalse(fake_machine.irq_off)

    def test_vsys_does_not_allocate(self):
        b = self.make()
        fake_machine.u16[3] = 32768
        b.vsys_millivolts()
        self.assertEqual(no_alloc(self, "vsys", b.vsys_millivolts), 4950)

    # -- Wi-Fi

    def test_country_worldwide_by_default_before_the_radio_starts(self):
        self.wifi().connect(Log())
        self.assertEqual(fake_network.calls[:2], [("country", "XX"), ("active", True)])

    def test_country_from_config(self):
        self.wifi(country="DE").connect(Log())
        self.assertEqual(fake_network.calls[0], ("country", "DE"))

    def test_country_on_firmware_without_network_country(self):
        saved = fake_network.country
        del fake_network.country
        try:
            self.wifi(country="NZ").connect(Log())
        finally:
            fake_network.country = saved
        self.assertEqual(fake_rp2.countries, ["NZ"])
        self.assertEqual(fake_network.calls[0], ("active", True))

    def test_describe(self):
        self.assertEqual(board.describe(-2), "no AP found (STAT_NO_AP_FOUND, -2)")
        self.assertEqual(board.describe(-1), "connection failed (STAT_CONNECT_FAIL, -1)")
        self.assertEqual(board.describe(2), "joined, waiting for an address (LINK_NOIP, 2)")
        self.assertEqual(board.describe(9), "unknown status 9")

    def test_wrong_password_ends_the_attempt_early(self):
        fake_network.scripts.append([(0, 1), (800, -3)])
        log = Log()
        with self.assertRaises(board.NetworkDown):
            self.wifi(timeout_ms=15000, retries=0).connect(log)
        self.assertEqual(
            log.lines,
            ["wifi: attempt 1/1 to home failed after 800 ms: "
             "wrong password (STAT_WRONG_PASSWORD, -3)"])

    def test_no_address_yet_is_still_waiting(self):
        fake_network.scripts.append([(0, 1), (300, 2), (900, 3)])
        log = Log()
        self.wifi().connect(log)
        self.assertIn("as 192.168.1.42", log.lines[-1])
        self.assertEqual((fake_time.now, backoffs(board)), (900, []))

    def test_no_ap_then_success(self):
        fake_network.scripts.extend([[(0, 1), (200, -2)], [(0, 1), (400, 3)]])
        log = Log()
        self.wifi().connect(log)
        self.assertIn("no AP found (STAT_NO_AP_FOUND, -2)", log.lines[0])
        self.assertEqual(backoffs(board), [1000])  # after a 200 ms attempt
        self.assertEqual(fake_time.now, 200 + 1000 + 400)
