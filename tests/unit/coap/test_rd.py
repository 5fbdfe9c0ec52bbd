# coap.rd: registration with a Resource Directory (RFC 9176) through
# coap.client, against an RD the test plays by hand on a loopback UDP socket;
# time is a clock the test moves. (The client on its own: test_client.)
import socket
import sys
import unittest

import coapmsg as m
from coap import client, multicast, numbers, rd, rddiscover
from coap.client import parse_uri
from coap.rd import Registration
from coap.peeraddr import host_port
from coap.rddiscover import Finder
from fake_time import Clock
from freeport import bound
from heaplock import heap_lock, locked

LINKS = b'</sensors/temp>;rt="temperature-c";ct="0 50",</actuators/led>;rt="core.a"'
BASE = b"coap://127.0.0.1:5683"


class RD:
    """The RD's side of the conversation: receive a request, answer it."""

    def __init__(self):
        self.sock, self.addr = bound()
        self.sock.setblocking(False)
        self.peer = None

    def request(self):
        """The next datagram as decoded by coapmsg, or None when nothing came."""
        try:
            data, self.peer = self.sock.recvfrom(1500)
        except OSError:
            return None
        return m.decode(data)

    def answer(self, req, code, options=(), payload=b"", mtype=m.ACK, mid=None, token=None):
        self.sock.sendto(m.encode(mtype, code, req[2] if mid is None else mid,
                                  req[3] if token is None else token, options, payload), self.peer)


def path_of(opts):
    return [v for n, v in opts if n == 11]


def queries(opts):
    return [v for n, v in opts if n == 15]


class Registering(unittest.TestCase):
    def setUp(self):
        self.rd = RD()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.connect(self.rd.addr)
        self.sock.setblocking(False)
        self.clock = Clock()
        self.log = []

    def tearDown(self):
        self.rd.sock.close()
        self.sock.close()

    def make(self, **kw):
        kw.setdefault("lifetime_s", 60)
        return Registration(self.sock, b"node-1", LINKS, base=BASE, clock=self.clock,
                            log=self.log.append, **kw)

    def register(self, reg):
        """Discovery and registration, answered the way aiocoap-rd answers."""
        reg.tick()
        req = self.rd.request()
        self.assertEqual((req[0], req[1]), (m.CON, 1))
        self.assertEqual(path_of(req[4]), [b".well-known", b"core"])
        self.assertEqual(queries(req[4]), [b"rt=core.rd"])
        self.rd.answer(req, 69, [(12, b"\x28")], b'</resourcedirectory/>;ct=40;rt="core.rd"')
        reg.tick()  # reads the answer
        reg.tick()  # registers
        req = self.rd.request()
        self.assertEqual((req[0], req[1]), (m.CON, 2))
        self.assertEqual(path_of(req[4]), [b"resourcedirectory", b""])
        self.assertEqual(m.option(req[4], 12), b"\x28")
        self.assertEqual(queries(req[4]), [b"ep=node-1", b"lt=60", b"base=" + BASE])
        self.assertEqual(req[5], LINKS)
        self.rd.answer(req, 65, [(8, b"reg"), (8, b"7"), (8, b"")])
        reg.tick()
        self.assertTrue(reg.registered)
        return req

    def test_discover_register_refresh(self):
        reg = self.make()
        self.register(reg)
        self.assertEqual(self.log, ["rd: registered as /reg/7/, lifetime 60 s"])
        reg.tick()
        self.assertIsNone(self.rd.request())  # nothing until half the lifetime
        self.clock.advance(30000 - 1)
        reg.tick()
        self.assertIsNone(self.rd.request())
        self.clock.advance(1)
        reg.tick()
        req = self.rd.request()
        self.assertEqual((req[1], path_of(req[4]), queries(req[4]), req[5]),
                         (2, [b"reg", b"7", b""], [], b""))  # §5.3.1: an empty POST
        self.rd.answer(req, 68)
        reg.tick()
        self.assertEqual((reg.refreshes, reg.registered), (1, True))

    def test_a_4_01_with_echo_is_repeated_once_with_it(self):
        # RFC 9175 §2.4, RFC 8613 B.1.2: a server that wants proof of
        # freshness (or lost its replay window) answers 4.01 with an Echo;
        # the same request goes again at once, carrying it, and only once
        reg = self.make()
        reg.tick()
        self.rd.answer(self.rd.request(), 69, payload=b"</resourcedirectory/>;rt=core.rd")
        reg.tick()
        reg.tick()
        req = self.rd.request()
        self.rd.answer(req, 129, [(252, b"\x0e\xc4\x01")])
        reg.tick()
        reg.tick()
        again = self.rd.request()
        self.assertEqual((again[1], queries(again[4]), dict(again[4]).get(252), again[5]),
                         (2, queries(req[4]), b"\x0e\xc4\x01", req[5]))
        self.assertEqual(self.log, [])  # no failure: just the Echo
        self.rd.answer(again, 65, [(8, b"reg"), (8, b"7"), (8, b"")])
        reg.tick()
        self.assertTrue(reg.registered)
        # an Update with a new lifetime keeps its lt= across the Echo
        reg.update(lifetime_s=90)
        reg.tick()
        req = self.rd.request()
        self.rd.answer(req, 129, [(252, b"\x01")])
        reg.tick()
        reg.tick()
        again = self.rd.request()
        self.assertEqual((queries(again[4]), dict(again[4]).get(252)), ([b"lt=90"], b"\x01"))
        self.rd.answer(again, 129, [(252, b"\x02")])  # again: refused, not a loop
        reg.tick()
        self.assertEqual(self.log[-1], "rd: refresh: refused with 4.01 ; retrying in 5 s")

    def test_refresh_answered_not_found_registers_again(self):
        reg = self.make()
        self.register(reg)
        self.clock.advance(30000)
        reg.tick()
        self.rd.answer(self.rd.request(), 132)
        reg.tick()
        self.assertFalse(reg.registered)
        reg.tick()  # straight to the known registration interface, no discovery
        req = self.rd.request()
        self.assertEqual(path_of(req[4]), [b"resourcedirectory", b""])
        self.assertIn("no longer knows", self.log[-1])

    def test_retransmits_four_times_then_backs_off(self):
        reg = self.make()
        reg.tick()
        first = self.rd.request()
        sent = [first]
        start = self.clock.now
        for _ in range(200):  # 1 s steps; the series lasts 31 ACK timeouts (< 93 s)
            if self.log:
                break
            self.clock.advance(1000)
            reg.tick()
            req = self.rd.request()
            if req:
                sent.append(req)
        self.assertEqual(len(sent), 5)
        self.assertTrue(all(r[2] == first[2] and r[3] == first[3] for r in sent))
        waited = self.clock.ticks_diff(self.clock.now, start)
        self.assertTrue(62000 <= waited <= 94000, waited)  # §4.8: 31 x ACK_TIMEOUT x [1, 1.5)
        self.assertEqual(self.log, ["rd: discovery: no answer; retrying in 5 s"])
        self.clock.advance(5000 - 1)
        reg.tick()
        self.assertIsNone(self.rd.request())
        self.clock.advance(1)
        reg.tick()
        again = self.rd.request()
        self.assertNotEqual((again[2], again[3]), (first[2], first[3]))  # a new exchange

    def test_back_off_doubles(self):
        reg = self.make()
        for delay in (5, 10, 20):
            reg.tick()
            self.rd.answer(self.rd.request(), 0, mtype=m.RST)
            reg.tick()
            self.assertEqual(self.log[-1], "rd: discovery: reset; retrying in %d s" % delay)
            self.clock.advance(delay * 1000)

    def test_unreachable_rd_fails_without_waiting(self):
        self.rd.sock.close()  # nothing listens there now: ICMP port unreachable
        reg = self.make()
        for _ in range(20):
            reg.tick()
            if self.log:
                break
        self.assertEqual(self.log, ["rd: discovery: unreachable; retrying in 5 s"])
        self.rd = RD()  # for tearDown

    def test_separate_response_is_acknowledged(self):
        reg = self.make(path=[b"rd"])  # a path given: no discovery
        reg.tick()
        req = self.rd.request()
        self.assertEqual(path_of(req[4]), [b"rd"])
        self.rd.answer(req, 0)  # empty ACK (§5.2.2)
        self.clock.advance(10000)
        reg.tick()
        self.assertIsNone(self.rd.request())  # acknowledged: no retransmission
        self.rd.answer(req, 65, [(8, b"rd"), (8, b"x1")], mtype=m.CON, mid=0x7777)
        reg.tick()
        ack = self.rd.request()
        self.assertEqual((ack[0], ack[1], ack[2]), (m.ACK, 0, 0x7777))
        self.assertTrue(reg.registered)
        self.assertEqual(reg.location.text(), "/rd/x1")

    def test_strangers_are_ignored_or_reset(self):
        reg = self.make(path=[b"rd"])
        reg.tick()
        req = self.rd.request()
        self.rd.answer(req, 65, [(8, b"a")], token=b"\x00\x00\x00\x00")  # wrong token
        self.rd.answer(req, 65, mid=req[2] ^ 1)                          # wrong MID
        self.rd.answer(req, 1, mtype=m.CON, mid=0x4242, token=b"")      # a request to us
        reg.tick()
        rst = self.rd.request()
        self.assertEqual((rst[0], rst[2]), (m.RST, 0x4242))
        self.assertFalse(reg.registered)
        self.rd.answer(req, 65, [(8, b"b")])
        reg.tick()
        self.assertEqual(reg.location.text(), "/b")

    def discovered(self, links, **kw):
        # the registration interface found in the RD's answer `links`
        reg = self.make(**kw)
        reg.tick()
        self.rd.answer(self.rd.request(), 69, [(12, b"\x28")], links)
        reg.tick()
        reg.tick()
        return path_of(self.rd.request()[4])

    def test_absolute_links_resolve_against_the_rd(self):
        # RFC 6690 §2.1, RFC 3986 §5.2: an absolute href keeps its host; the RD's
        # socket reaches only the RD, so a link elsewhere is not registered at
        rd = ("192.0.2.7", 5683)
        self.assertEqual(self.discovered(b'<coap://192.0.2.7/r/../d/>;rt=core.rd', origin=rd),
                         [b"d", b""])
        self.assertEqual(self.discovered(b'<coap://192.0.2.9/d/>;rt=core.rd', origin=rd),
                         [b"rd"])
        self.assertEqual(self.log[-2:], [
            "rd: the RD lists its registration interface on another host "
            "(coap://192.0.2.9/d/)",
            "rd: the RD lists no registration interface; trying /rd"])
        self.assertEqual(self.discovered(b'</a/./b?x=1>;rt=core.rd'), [b"a", b"b"])

    def test_malformed_separate_response_is_reset_not_taken(self):
        # RFC 7252 §4.2: a CON with a message format error is rejected (RST)
        reg = self.make(path=[b"rd"])
        reg.tick()
        req = self.rd.request()
        bad = m.encode(m.CON, 65, 0x4343, req[3], [(8, b"a")])[:-1]  # value cut short
        self.rd.sock.sendto(bad, self.rd.peer)
        reg.tick()
        rst = self.rd.request()
        self.assertEqual((rst[0], rst[2]), (m.RST, 0x4343))
        self.assertFalse(reg.registered)
        self.rd.answer(req, 65, [(8, b"b")])
        reg.tick()
        self.assertEqual(reg.location.text(), "/b")

    def test_refused_registration_backs_off_and_rediscovers_after_404(self):
        reg = self.make()
        reg.tick()
        self.rd.answer(self.rd.request(), 69, [], b"")  # lists no interface: /rd then
        reg.tick()
        reg.tick()
        req = self.rd.request()
        self.assertEqual(path_of(req[4]), [b"rd"])
        self.rd.answer(req, 132, payload=b"no rd here")
        reg.tick()
        self.assertEqual(self.log[-2:], [
            "rd: the RD lists no registration interface; trying /rd",
            "rd: registration: refused with 4.04 no rd here; retrying in 5 s"])
        self.clock.advance(5000)
        reg.tick()
        req = self.rd.request()
        self.assertEqual(path_of(req[4]), [b".well-known", b"core"])
        self.rd.answer(req, 132)  # no filtered discovery either: /rd again
        reg.tick()
        reg.tick()
        req = self.rd.request()
        self.assertEqual(path_of(req[4]), [b"rd"])
        self.rd.answer(req, 160, payload=b"\xff\xfe")  # a diagnostic that isn't UTF-8
        reg.tick()
        self.assertEqual(self.log[-1],
                         "rd: registration: refused with 5.00 (2 bytes); retrying in 10 s")

    def test_a_location_path_that_is_not_utf8_is_refused_with_back_off(self):
        # RFC 7252 §3.2, §5.10.7: Location-Path is a string, UTF-8; a hostile
        # RD's 2.01 must neither raise inside the tick nor make it post again
        reg = self.make(path=[b"rd"])
        for delay in (5, 10):
            reg.tick()
            self.rd.answer(self.rd.request(), 65, [(8, b"reg"), (8, b"\xff\xfe")])
            reg.tick()
            self.assertFalse(reg.registered)
            self.assertEqual(self.log[-1], "rd: registration: refused with 2.01 and a "
                             "Location-Path that is not UTF-8; retrying in %d s" % delay)
            self.clock.advance(delay * 1000 - 1)
            reg.tick()
            self.assertIsNone(self.rd.request())  # not before the back-off ends
            self.clock.advance(1)

    def test_an_error_inside_an_exchange_is_contained_and_backed_off(self):
        class Broken:
            sent = 0

            def send(self, data):
                self.sent += 1
                raise TypeError("broken driver")

        reg = self.make()
        broken = reg.client.sock = Broken()
        reg.tick()  # raises nothing
        self.assertEqual(self.log, ["rd: discovery: TypeError: broken driver; retrying in 5 s"])
        self.clock.advance(5000 - 1)
        reg.tick()
        self.assertEqual(broken.sent, 1)
        self.clock.advance(1)
        reg.tick()
        self.assertEqual((broken.sent, self.log[-1][-16:]), (2, "retrying in 10 s"))

    def test_refresh_allocates_nothing(self):
        if heap_lock is None:
            raise unittest.SkipTest("heap_lock exists only in MicroPython")
        reg = self.make()
        self.register(reg)
        self.clock.advance(30000)
        with locked(self, "refresh"):
            reg.tick()  # writes and sends the refresh
        self.assertEqual(path_of(self.rd.request()[4]), [b"reg", b"7", b""])


class FindingByMulticast(unittest.TestCase):
    """RFC 9176 §4: a NON GET to the group; the RD answers from its own address.
    A socket bound here stands for the group; the RD answers from another one."""

    def setUp(self):
        self.group, self.group_addr = bound()
        self.group.setblocking(False)
        self.rd = RD()
        self.mine, _ = bound()  # the board's discovery socket: unconnected
        self.mine.setblocking(False)
        self.clock = Clock()
        self.log = []
        self.uris = []

    def tearDown(self):
        for s in (self.group, self.rd.sock, self.mine):
            s.close()

    def connect(self, uri):
        self.uris.append(uri)
        host, port, path = parse_uri(uri)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.connect(socket.getaddrinfo(host, port, 0, socket.SOCK_DGRAM)[0][-1])
        s.setblocking(False)
        return s, b"coap://127.0.0.1:5683", path

    def make(self):
        finder = Finder([(self.mine, self.group_addr)], self.connect, wait_ms=6000,
                        clock=self.clock, log=self.log.append)
        return Registration(None, b"node-1", LINKS, 60, clock=self.clock,
                            log=self.log.append, finder=finder)

    def asked(self):
        """The request the group got, checked; the board's address for answers."""
        try:
            data, src = self.group.recvfrom(1500)
        except OSError:
            return None, None
        req = m.decode(data)
        self.assertEqual((req[0], req[1]), (m.NON, 1))
        self.assertEqual(path_of(req[4]), [b".well-known", b"core"])
        self.assertEqual(queries(req[4]), [b"rt=core.rd*"])
        return req, src

    def test_found_registers_there(self):
        reg = self.make()
        reg.tick()
        req, src = self.asked()
        links = (b'</endpoint-lookup/>;rt="core.rd-lookup-ep",'
                 b'</rd/>;ct=40;rt="core.rd";title="a, b"')
        self.rd.peer = src
        self.rd.answer(req, 69, payload=links, token=b"\x00\x00\x00\x00", mtype=m.NON)
        self.rd.answer(req, 69, payload=b'</x>;rt="core.rd-lookup-res"', mtype=m.NON)
        reg.tick()
        self.assertEqual((self.uris, reg.registered), ([], False))  # neither one will do
        self.rd.answer(req, 69, payload=links, mtype=m.NON)
        reg.tick()
        rd_port = host_port(self.rd.addr)[1]
        self.assertEqual(self.uris, ["coap://127.0.0.1:%d/rd/" % rd_port])
        self.assertEqual(self.log, ["rd: found %s by multicast" % self.uris[0]])
        reg.tick()
        post = self.rd.request()  # straight to the registration interface found
        self.assertEqual((post[0], post[1], path_of(post[4])), (m.CON, 2, [b"rd", b""]))
        self.assertEqual(queries(post[4]), [b"ep=node-1", b"lt=60", b"base=coap://127.0.0.1:5683"])
        self.rd.answer(post, 65, [(8, b"reg"), (8, b"1")])
        reg.tick()
        self.assertTrue(reg.registered)
        reg.client.sock.close()

    def test_an_answer_whose_link_is_not_utf8_is_ignored(self):
        reg = self.make()
        reg.tick()
        req, src = self.asked()
        self.rd.peer = src
        self.rd.answer(req, 69, payload=b'</r\xff\xfe/>;rt="core.rd"', mtype=m.NON)
        reg.tick()  # raises nothing; a stranger on the link can't stop the board
        self.assertEqual((self.uris, self.log), ([], []))
        self.rd.answer(req, 69, payload=b'</rd/>;rt="core.rd"', mtype=m.NON)
        reg.tick()
        self.assertEqual(self.uris, ["coap://127.0.0.1:%d/rd/" % host_port(self.rd.addr)[1]])
        reg.client.sock.close()

    def test_nothing_answers_backs_off_then_an_rd_fails_so_find_again(self):
        reg = self.make()
        for delay in (5, 10):
            reg.tick()
            self.assertTrue(self.asked()[0] is not None)
            self.clock.advance(6000 - 1)
            reg.tick()
            self.assertEqual(len(self.log), delay // 10)  # still listening
            self.clock.advance(1)
            reg.tick()
            self.assertEqual(self.log[-1],
                             "rd: multicast discovery: no answer; retrying in %d s" % delay)
            self.clock.advance(delay * 1000 - 1)
            reg.tick()
            self.assertIsNone(self.asked()[0])  # not before the back-off ends
            self.clock.advance(1)
        reg.tick()
        req, src = self.asked()
        self.rd.peer = src
        self.rd.answer(req, 69, payload=b"</rd>;rt=core.rd", mtype=m.NON)
        reg.tick()
        reg.tick()
        self.rd.answer(self.rd.request(), 0, mtype=m.RST)  # that RD won't have it
        reg.tick()
        self.assertEqual(self.log[-1], "rd: registration: reset; retrying in 20 s")
        self.clock.advance(20000)
        reg.tick()
        self.assertTrue(self.asked()[0] is not None)  # the group is asked again
        reg.client.sock.close()


class FleetLines(unittest.TestCase):
    def test_an_rd_uri_with_userinfo_is_shown_masked(self):
        # an RD found by multicast may name one (its href); #21 finding 9
        firmware = (__file__.rsplit("/", 1)[0] if "/" in __file__ else ".") + "/../../../firmware"
        if firmware not in sys.path:
            sys.path.insert(0, firmware)
        import fleet
        lines = []
        got = fleet._connect("coap://admin:hunter2@127.0.0.1:5683/rd",
                             [("127.0.0.1", 5683)], lines.append)
        self.assertIsNone(got)
        self.assertEqual(len(lines), 1)
        self.assertTrue(lines[0].startswith("rd: can't use coap://***@127.0.0.1:5683/rd ("),
                        lines[0])


class FleetLwM2M(unittest.TestCase):
    """firmware/fleet.lwm2m() wires the registration to the board and the
    server: the board's address() is watched, and a clean stop sends the
    De-register from the server's socket and waits, bounded, for it."""

    def test_wiring(self):
        firmware = (__file__.rsplit("/", 1)[0] if "/" in __file__ else ".") + "/../../../firmware"
        if firmware not in sys.path:
            sys.path.insert(0, firmware)
        import fleet
        from coap import Server
        lwm2m = RD()
        sock, addr = bound()
        sock.setblocking(False)
        log = []

        class Objects:
            on_update = None

            def registration_links(self):
                return b'</>;rt="oma.lwm2m"'

        class Board:
            def address(self):
                return "192.0.2.5"
        try:
            server = Server((), log=log.append, amplification_limit=False)
            cfg = {"lwm2m": {"server": "coap://%s:%d" % host_port(lwm2m.addr), "endpoint": "b1",
                             "lifetime_s": 60}}
            objects = Objects()
            reg = fleet.lwm2m(server, cfg, [sock], [host_port(addr)], objects, log.append,
                              Board())
            self.assertEqual((reg.whereami(), objects.on_update), ("192.0.2.5", reg.update))
            reg.tick()
            req = lwm2m.request()
            self.assertEqual(lwm2m.peer, addr)  # from the server's own socket
            lwm2m.answer(req, 65, [(8, b"rd"), (8, b"9")])
            server.drain(sock, 8)
            reg.tick()
            self.assertTrue(reg.registered)
            reg.deregister_wait_ms = 300  # a server that no longer answers
            server.on_stop()
            req = lwm2m.request()
            self.assertEqual((req[1], path_of(req[4])), (4, [b"rd", b"9"]))
            self.assertEqual(log[-1], "lwm2m: de-register /rd/9: no answer in 0 s; "
                                      "the lifetime ends it")
        finally:
            lwm2m.sock.close()
            sock.close()

    def test_protected_registration_and_an_unusable_context(self):
        # With the board's context for the server every registration request
        # goes out protected (RFC 8613 §8.1): outer POST, the path inside;
        # a plain refusal is never taken as the answer (§8.4). A context
        # asked for but unusable registers nothing, never plainly.
        firmware = (__file__.rsplit("/", 1)[0] if "/" in __file__ else ".") + "/../../../firmware"
        if firmware not in sys.path:
            sys.path.insert(0, firmware)
        import fleet
        from coap import Server
        from coap.oscorectx import Context
        lwm2m = RD()
        sock, addr = bound()
        sock.setblocking(False)
        log = []

        class Objects:
            on_update = None

            def registration_links(self):
                return b'</>;rt="oma.lwm2m"'
        try:
            server = Server((), log=log.append, amplification_limit=False)
            cfg = {"lwm2m": {"server": "coap://%s:%d" % host_port(lwm2m.addr), "endpoint": "b1",
                             "lifetime_s": 60}}
            self.assertIsNone(fleet.lwm2m(server, cfg, [sock], [host_port(addr)], Objects(),
                                          log.append, None, False))
            self.assertEqual(log, ["lwm2m: no usable OSCORE context; not registering"])
            ctx = Context(bytes(range(16)), b"", b"\x01", b"\x02")
            reg = fleet.lwm2m(server, cfg, [sock], [host_port(addr)], Objects(), log.append,
                              None, ctx)
            self.assertTrue(log[-1].endswith(" as b1 over OSCORE"), log[-1])
            reg.tick()
            req = lwm2m.request()
            nums = [n for n, _ in req[4]]
            self.assertEqual((req[1], nums), (2, [9]))  # POST, OSCORE only
            self.assertEqual(dict(req[4])[9][-1:], b"\x01")  # kid: the board's Sender ID
            self.assertNotIn(b"oma.lwm2m", req[5])  # the links travel encrypted
            lwm2m.answer(req, 129, payload=b"Security context not found")
            server.drain(sock, 8)
            reg.tick()
            self.assertEqual(log[-1], "lwm2m: registration: a plain 4.01 to a protected "
                                      "request; retrying in 5 s")
            self.assertFalse(reg.registered)
        finally:
            lwm2m.sock.close()
            sock.close()


class Constants(unittest.TestCase):
    def test_private_copies_agree_with_numbers(self):
        if sys.implementation.name == "micropython":
            raise unittest.SkipTest("MicroPython compiles const() away: checked under CPython")
        checked = 0
        for mod in (client, multicast, rd, rddiscover):
            for k in dir(mod):
                v = getattr(mod, k)
                name = k[1:]
                if k[0] == "_" and name.isupper() and isinstance(v, int) and hasattr(numbers, name):
                    self.assertEqual(v, getattr(numbers, k[1:]), mod.__name__ + "." + k)
                    checked += 1
        self.assertTrue(checked >= 14, checked)


class LwM2MRegistration(unittest.TestCase):
    """LwM2M's registration interface: the same Registration, sent from the
    socket the server answers on (client.Shared), so the LwM2M server's
    requests come back to the address it saw."""

    def setUp(self):
        from coap import Resource, Server
        self.lwm2m = RD()
        self.sock, self.addr = bound()
        self.sock.setblocking(False)
        self.clock = Clock()
        self.log = []

        def device(req, resp):
            resp.payload(b"coap-board")
        self.server = Server((Resource("3/0/0", get=device, listed=False),),
                             log=self.log.append, amplification_limit=False)
        self.shared = client.Shared(self.sock, self.lwm2m.addr)
        self.reg = Registration(self.shared, b"node-1", b'</>;rt="oma.lwm2m",</3/0>', 60,
                                path=[b"rd"], clock=self.clock, log=self.log.append,
                                queries=(b"lwm2m=1.1", b"b=U"), name="lwm2m")
        self.shared.client = self.reg.client
        self.server.on_answer = self.shared.deliver

    def tearDown(self):
        self.lwm2m.sock.close()
        self.sock.close()

    def serve(self):
        self.server.drain(self.sock, 8)
        self.reg.tick()

    def register(self):
        self.reg.tick()
        req = self.lwm2m.request()
        self.assertEqual(self.lwm2m.peer, self.addr)  # from the server's own socket
        self.assertEqual((req[1], path_of(req[4])), (2, [b"rd"]))
        self.assertEqual(queries(req[4]), [b"ep=node-1", b"lt=60", b"lwm2m=1.1", b"b=U"])
        self.assertEqual(req[5], b'</>;rt="oma.lwm2m",</3/0>')
        self.lwm2m.answer(req, 65, [(8, b"rd"), (8, b"5a3f")])
        self.serve()
        self.assertTrue(self.reg.registered)

    def test_register_then_the_server_reads_then_update_then_deregister(self):
        self.register()
        self.assertEqual(self.log, ["lwm2m: registered as /rd/5a3f, lifetime 60 s"])
        # the LwM2M server's own request to the address it saw is answered
        self.lwm2m.sock.sendto(m.get("3/0/0", mid=7), self.addr)
        self.serve()
        got = self.lwm2m.request()
        self.assertEqual((got[1], got[5]), (69, b"coap-board"))
        self.clock.advance(30000)  # Update at half the lifetime
        self.reg.tick()
        req = self.lwm2m.request()
        self.assertEqual((req[1], path_of(req[4]), req[5]), (2, [b"rd", b"5a3f"], b""))
        self.lwm2m.answer(req, 68)
        self.serve()
        self.assertEqual(self.reg.refreshes, 1)
        self.reg.update()  # Execute on 1/0/8: an Update now
        self.reg.tick()
        self.assertEqual(self.lwm2m.request()[1], 2)
        self.reg.client.busy = False
        self.reg.deregister()
        req = self.lwm2m.request()
        self.assertEqual((req[0], req[1], path_of(req[4])), (m.CON, 4, [b"rd", b"5a3f"]))
        self.assertFalse(self.reg.registered)

    def test_a_forgotten_board_registers_again(self):
        self.register()
        self.clock.advance(30000)
        self.reg.tick()
        self.lwm2m.answer(self.lwm2m.request(), 132)
        self.serve()
        self.assertIn("lwm2m: the server no longer knows this board", self.log[-1])
        self.reg.tick()
        self.assertEqual(path_of(self.lwm2m.request()[4]), [b"rd"])

    def test_a_new_lifetime_and_links_go_in_the_update(self):
        self.register()
        self.reg.update(lifetime_s=120, links=b'</>;rt="oma.lwm2m",</3/0>,</3303/0>')
        self.reg.tick()
        req = self.lwm2m.request()  # §6.2.2: lt= and the objects, at once
        self.assertEqual((req[1], path_of(req[4]), queries(req[4])),
                         (2, [b"rd", b"5a3f"], [b"lt=120"]))
        self.assertEqual((m.option(req[4], 12), req[5]),
                         (b"\x28", b'</>;rt="oma.lwm2m",</3/0>,</3303/0>'))
        self.lwm2m.answer(req, 68)
        self.serve()
        self.clock.advance(60000 - 1)  # then half the new lifetime
        self.reg.tick()
        self.assertIsNone(self.lwm2m.request())
        self.clock.advance(1)
        self.reg.tick()
        req = self.lwm2m.request()  # a plain Update again
        self.assertEqual((queries(req[4]), req[5]), ([], b""))

    def test_a_new_lifetime_while_unregistered_goes_in_the_register(self):
        self.reg.update(lifetime_s=90)
        self.reg.tick()
        self.assertIn(b"lt=90", queries(self.lwm2m.request()[4]))

    def test_a_new_lifetime_during_an_exchange_follows_it(self):
        self.reg.tick()
        req = self.lwm2m.request()  # the Register, still with lt=60
        self.reg.update(lifetime_s=90)
        self.lwm2m.answer(req, 65, [(8, b"rd"), (8, b"5a3f")])
        self.serve()
        self.reg.tick()
        req = self.lwm2m.request()  # then at once an Update with it
        self.assertEqual((path_of(req[4]), queries(req[4])), ([b"rd", b"5a3f"], [b"lt=90"]))
        self.reg.update(lifetime_s=120)  # and again while that Update is out
        self.lwm2m.answer(req, 68)
        self.serve()
        self.reg.tick()
        req = self.lwm2m.request()
        self.assertEqual(queries(req[4]), [b"lt=120"])
        self.reg.update()  # Execute of 1/0/8 while that one is out: one more
        self.lwm2m.answer(req, 68)
        self.serve()
        self.reg.tick()
        req = self.lwm2m.request()
        self.assertEqual((path_of(req[4]), queries(req[4])), ([b"rd", b"5a3f"], []))
        self.lwm2m.answer(req, 68)
        self.serve()
        self.reg.tick()
        self.assertIsNone(self.lwm2m.request())  # then none till half the lifetime

    def test_a_new_address_sends_an_update(self):
        where = ["192.0.2.5"]
        self.reg.whereami = lambda: where[0]
        self.register()
        self.clock.advance(5000)
        self.reg.tick()
        self.assertIsNone(self.lwm2m.request())  # the same address: nothing
        where[0] = "192.0.2.77"  # e.g. a new DHCP lease
        self.clock.advance(4999)
        self.reg.tick()
        self.assertIsNone(self.lwm2m.request())  # looked at every 5 s
        self.clock.advance(1)
        self.reg.tick()
        self.reg.tick()
        req = self.lwm2m.request()
        self.assertEqual((req[1], path_of(req[4]), req[5]), (2, [b"rd", b"5a3f"], b""))
        self.assertEqual(self.log[-1], "lwm2m: the board's address is now 192.0.2.77; updating")

    def test_deregister_waits_for_the_answer(self):
        self.register()
        answered = []

        def pump():  # the LwM2M server answers the DELETE on the second look
            req = self.lwm2m.request()
            if req is not None:
                self.assertEqual((req[1], path_of(req[4])), (4, [b"rd", b"5a3f"]))
                answered.append(req)
            elif answered and len(answered) == 1:
                self.lwm2m.answer(answered[0], 66)
                answered.append(None)
            self.server.drain(self.sock, 8)
            self.clock.advance(10)
        self.assertEqual(self.reg.deregister(pump), 66)
        self.assertEqual(self.log[-1], "lwm2m: de-registered /rd/5a3f (2.02)")
        self.assertFalse(self.reg.registered)

    def test_deregister_waits_no_longer_than_its_bound(self):
        self.register()
        pumped = []

        def pump():  # a server that is gone
            self.server.drain(self.sock, 8)
            self.clock.advance(100)
            pumped.append(1)
        self.assertIsNone(self.reg.deregister(pump))
        self.assertEqual(len(pumped), 50)  # 5 s
        self.assertEqual(self.log[-1], "lwm2m: de-register /rd/5a3f: no answer in 5 s; "
                                       "the lifetime ends it")

    def test_only_answers_to_its_request_are_taken(self):
        self.reg.tick()
        req = self.lwm2m.request()
        other = m.encode(m.ACK, 0, (req[2] + 1) & 0xFFFF)  # e.g. a notification's ACK
        self.assertFalse(self.shared.deliver(other, len(other), self.lwm2m.addr))
        ack = m.encode(m.ACK, 0, req[2])
        self.assertFalse(self.shared.deliver(ack, len(ack), self.addr))  # someone else
        self.assertTrue(self.shared.deliver(ack, len(ack), self.lwm2m.addr))
