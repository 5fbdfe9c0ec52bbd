# PPP as the board's network (boards/common/ppplink.py), on the plain Pico
# board (boards/rp2040-ppp) and the ESP32, against the fakes in tests/unit/fakes.
import unittest

from boardcases import (Log, fake_machine, fake_network, fake_rp2, fake_socket, fake_time, load,
                        no_alloc)

pico = load("rp2040-ppp")
esp32 = load("esp32")
picow = load("rp2040")

DIAL = ["AT", "ATE0", 'AT+CGDCONT=1,"IP","internet"', "ATD*99#"]


class PppBoard(unittest.TestCase):
    def setUp(self):
        fake_time.reset()
        fake_machine.reset()
        fake_rp2.reset()
        fake_network.reset(3, 0)
        fake_network.reset_ppp()

    def make(self, board=pico, **ppp):
        ppp.setdefault("uart", 0)
        return board.Board({"ppp": ppp}, clock=fake_time)

    def written(self):
        return [w for u in fake_machine.uarts for w in u.written]

    # -- bring-up

    def test_direct_link_binds_all_interfaces(self):
        log = Log()
        got = self.make(baud=115200, tx=0, rx=1).connect(log)
        self.assertEqual(got, [("0.0.0.0", 5683)])
        self.assertEqual(log.lines, ["ppp: connected as 10.77.0.2"])
        u = fake_machine.uarts[0]
        self.assertEqual((u.id, u.baudrate, u.kw), (0, 115200, {"tx": 0, "rx": 1}))
        self.assertEqual(self.written(), [])  # no dial: nothing but PPP on the wire
        self.assertIs(fake_network.ppps[0].stream, u)

    def test_waits_for_ipv4_not_only_isconnected(self):
        # IPV6CP is up at 100 ms (isconnected() True), IPCP only at 400 ms
        fake_network.ppp_scripts.append([(0, 3, "0.0.0.0"), (100, 4, "0.0.0.0"),
                                         (400, 4, "10.77.0.2")])
        del fake_socket.made[:]
        self.make().connect(Log())
        self.assertEqual(fake_time.now, 400)
        # lwIP's timers kept running meanwhile (no netif is up yet): one socket
        # of the link's own, waited on for 1 ms at each poll
        self.assertEqual([s.timeout for s in fake_socket.made], [0.001])

    def test_multicast_binds_the_ppp_address(self):
        b = pico.Board({"ppp": {"uart": 0}, "multicast": True}, clock=fake_time)
        self.assertEqual(b.connect(Log()), [("10.77.0.2", 5683)])

    def test_dial_script_then_ppp(self):
        self.make(uart=1, dial=DIAL).connect(Log())
        self.assertEqual(self.written(), [c.encode() + b"\r" for c in DIAL])
        self.assertEqual(fake_network.ppp_calls, [("connect",)])

    def test_dial_waits_for_connect_not_ok(self):
        # ATD answers OK on some modems when it failed to dial data: not enough
        fake_machine.modem["ATD*99#"] = b"\r\nOK\r\n"
        with self.assertRaises(pico.NetworkDown) as cm:
            self.make(dial=DIAL).connect(Log())
        self.assertIn("dial step 4 (ATD*99#): no CONNECT after", str(cm.exception))
        self.assertEqual(fake_network.ppps, [])

    def test_dial_error_names_the_step_not_its_arguments(self):
        cmd = 'AT+CGAUTH=1,1,"user","hunter2"'
        fake_machine.modem[cmd] = b"\r\n+CME ERROR: 4\r\n"
        with self.assertRaises(pico.NetworkDown) as cm:
            self.make(dial=["AT", cmd, "ATD*99#"]).connect(Log())
        msg = str(cm.exception)
        self.assertEqual(msg, "ppp: dial step 2 (AT+CGAUTH) answered +CME ERROR: 4")
        self.assertEqual(len(self.written()), 2)  # stopped there: no ATD
        self.assertNotIn("hunter2", msg)

    def test_dial_no_answer(self):
        fake_machine.modem["AT"] = None  # a modem switched off, or the wrong pins
        with self.assertRaises(pico.NetworkDown) as cm:
            self.make(dial=DIAL, timeout_ms=60000).connect(Log())
        self.assertEqual(str(cm.exception), "ppp: dial step 1 (AT): no OK after 10000 ms")

    def test_timeout(self):
        fake_network.ppp_scripts.append([(0, 3, "0.0.0.0")])
        b = self.make(timeout_ms=2000)
        with self.assertRaises(pico.NetworkDown) as cm:
            b.connect(Log())
        self.assertEqual(str(cm.exception),
                         "ppp: no IPv4 address after 2000 ms: connecting (3)")
        self.assertEqual(fake_time.now, 2000)
        # the next attempt closes the one still negotiating, then starts afresh
        b.connect(Log())
        self.assertEqual(fake_network.ppp_calls, [("connect",), ("disconnect",), ("connect",)])
        self.assertEqual(len(fake_network.ppps), 1)  # lwIP has room for one link

    def test_a_failed_negotiation_ends_the_attempt_early(self):
        fake_network.ppp_scripts.append([(0, 3, "0.0.0.0"), (300, -7, "0.0.0.0")])
        with self.assertRaises(pico.NetworkDown) as cm:
            self.make().connect(Log())
        self.assertIn("authentication failed (PPPERR_AUTHFAIL) (-7)", str(cm.exception))
        self.assertEqual(fake_time.now, 300)

    def test_a_uart_the_board_refuses(self):
        class Refusing(fake_machine.UART):
            def __init__(self, id, baudrate=9600, **kw):
                raise ValueError("bad UART")

        saved = fake_machine.UART
        fake_machine.UART = Refusing
        try:
            with self.assertRaises(pico.NetworkDown) as cm:
                self.make(uart=7).connect(Log())
        finally:
            fake_machine.UART = saved
        self.assertEqual(str(cm.exception), "ppp: the board refuses UART 7: bad UART")

    def test_no_ppp_config_on_a_board_without_wifi(self):
        with self.assertRaises(pico.NetworkDown) as cm:
            pico.Board({}, clock=fake_time).connect(Log())
        self.assertIn('add "ppp"', str(cm.exception))
        self.assertEqual(fake_machine.uarts, [])

    def test_esp32_and_pico_w_bring_up_ppp_instead_of_wifi(self):
        for board in (esp32, picow):
            fake_network.reset(3, 0)
            b = board.Board({"ppp": {"uart": 1}, "wifi": {"ssid": "home"}}, clock=fake_time)
            self.assertEqual(b.connect(Log()), [("0.0.0.0", 5683)])
            self.assertEqual(fake_network.calls, [], board.NAME)  # Wi-Fi left off

    # -- a dropped link

    def up(self, **ppp):
        b = self.make(**ppp)
        b.log = Log()
        b.connect(b.log)
        return b

    def test_link_tick_only_with_ppp(self):
        self.assertIsNone(pico.Board({}, clock=fake_time).link_tick)
        self.assertIsNone(esp32.Board({"wifi": {"ssid": "x"}}, clock=fake_time).link_tick)

    def test_reconnects_after_a_drop(self):
        b = self.up(dial=DIAL)
        b.link_tick()
        fake_time.advance(1000)
        b.link_tick()
        self.assertEqual(fake_network.ppp_calls, [("connect",)])  # up: nothing done
        fake_network.ppps[0].drop()
        fake_time.advance(1000)
        b.link_tick()
        self.assertEqual(b.log.lines[1:], [
            "ppp: link down: connection lost (PPPERR_CONNECT) (-6); reconnecting",
            "ppp: reconnected as 10.77.0.2"])
        # the dropped link closed (connect() first: the port's disconnect()
        # ignores the error state), the modem dialled again, PPP started again
        self.assertEqual(fake_network.ppp_calls[1:], [("connect",), ("disconnect",),
                                                      ("connect",)])
        self.assertEqual(self.written(), [c.encode() + b"\r" for c in DIAL] * 2)
        self.assertTrue(fake_network.ppps[0].isconnected())

    def test_a_direct_link_restarts_without_closing(self):
        b = self.up()
        fake_network.ppps[0].drop()
        fake_time.advance(1000)
        b.link_tick()
        self.assertEqual(fake_network.ppp_calls, [("connect",), ("connect",)])
        self.assertEqual(b.log.lines[-1], "ppp: reconnected as 10.77.0.2")

    def attempts(self):
        return fake_network.ppp_calls.count(("connect",))

    def test_reconnect_backs_off(self):
        b = self.up()
        fake_network.ppps[0].drop()
        fake_network.ppp_scripts.extend([[(0, 3, "0.0.0.0")]] * 3)
        fake_time.advance(1000)
        starts = []
        for _ in range(40):  # ticks 1 s apart
            n, before = self.attempts(), fake_time.now
            b.link_tick()
            if self.attempts() > n:
                starts.append(before)
            fake_time.advance(1000)
        # each attempt waits timeout_ms (30 s by default), then 1 s, 2 s, 4 s more
        self.assertEqual(starts, [1000, 32000, 64000, 98000])
        self.assertEqual(b.log.lines[-1], "ppp: reconnected as 10.77.0.2")
        self.assertIn("next attempt in 1 s", b.log.lines[2])
        self.assertIn("next attempt in 2 s", b.log.lines[3])

    def test_reconnect_backoff_doubles(self):
        b = self.up(timeout_ms=1000)
        fake_network.ppps[0].drop()
        fake_network.ppp_scripts.extend([[(0, 3, "0.0.0.0")]] * 4)
        fake_time.advance(1000)
        for _ in range(60):
            b.link_tick()
            fake_time.advance(500)
        waits = [line.rsplit(" ", 2)[-2] for line in b.log.lines if "next attempt" in line]
        self.assertEqual(waits, ["1", "2", "4", "8"])
        self.assertEqual(b.log.lines[-1], "ppp: reconnected as 10.77.0.2")

    # -- before a soft reset

    def test_disconnect_closes_the_link(self):
        self.up()
        pico.disconnect()
        self.assertEqual(fake_network.ppp_calls, [("connect",), ("disconnect",), ("stream", None)])
        self.assertEqual(fake_network.ppps[0].status(), 0)
        pico.disconnect()  # twice: nothing more
        self.assertEqual(len(fake_network.ppp_calls), 3)

    def test_disconnect_of_a_dropped_link(self):
        # the port's disconnect() ignores a link in the error state: connect() first
        self.up()
        fake_network.ppps[0].drop()
        pico.disconnect()
        self.assertEqual(fake_network.ppps[0].status(), 0)
        self.assertEqual(fake_network.ppp_calls[-1], ("stream", None))

    # -- the plain Pico: LED and VSYS (GPIO25 is the LED, not a radio)

    def test_led_is_gpio25(self):
        b = pico.Board({}, clock=fake_time)
        b.set_led(1)
        self.assertEqual(fake_machine.pins["LED"].v, 1)

    def test_vsys_does_not_touch_the_led(self):
        b = pico.Board({}, clock=fake_time)
        fake_machine.u16[3] = 30000
        fake_machine.trace = True
        self.assertEqual(b.vsys_millivolts(), 4532)
        self.assertEqual(fake_machine.events, [("read", 3)])
        fake_machine.trace = False
        self.assertEqual(no_alloc(self, "vsys", b.vsys_millivolts), 4532)

    def test_temperature_and_free_heap(self):
        fake_machine.u16[4] = 14089
        b = pico.Board({}, clock=fake_time)
        self.assertEqual(b.mcu_temp_centi(), 2500)
        import gc
        self.assertIs(pico.gc, gc)  # what free_heap() calls is imported
        if hasattr(gc, "mem_free"):  # MicroPython (CPython's gc has no heap figures)
            self.assertTrue(b.free_heap() > 0)
