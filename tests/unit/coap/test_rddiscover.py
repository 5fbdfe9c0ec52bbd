# coap.rddiscover: finding a Resource Directory by multicast (RFC 9176 §4)
# over stand-ins for the board's unconnected UDP sockets, with a clock the
# test moves. (With coap.rd and real sockets on loopback: test_rd.)
import unittest

import coapmsg as m
from coap.client import TIMEOUT, UNREACHABLE
from coap.rddiscover import FOUND, UNUSABLE, Finder
from fake_time import Clock

EAGAIN, ECONNREFUSED, ENETUNREACH = 11, 111, 101
GROUP4 = ("224.0.1.187", 5683)  # All CoAP Nodes (RFC 7252 §12.8)
GROUP6 = ("ff02::fd", 5683)
RD = ("192.0.2.7", 5683)


class Udp:
    """An unconnected UDP socket: what was sent where, what will arrive."""

    def __init__(self, send_error=0):
        self.sent = []
        self.inbox = []
        self.send_error = send_error

    def sendto(self, buf, addr):
        if self.send_error:
            raise OSError(self.send_error)
        self.sent.append((m.decode(bytes(buf)), addr))

    def recvfrom(self, n):
        if self.inbox:
            return self.inbox.pop(0)
        raise OSError(EAGAIN)


class Finding(unittest.TestCase):
    def setUp(self):
        self.udp4, self.udp6 = Udp(), Udp()
        self.clock = Clock()
        self.log = []
        self.asked = []  # the URIs connect() was given
        self.accept = True
        self.finder = Finder([(self.udp4, GROUP4), (self.udp6, GROUP6)], self.connect,
                             wait_ms=6000, clock=self.clock, log=self.log.append)

    def connect(self, uri):
        self.asked.append(uri)
        return ("socket", b"coap://192.0.2.1:5683", [b"rd"]) if self.accept else None

    def answer(self, links, src=RD, code=69, token=None, udp=None):
        req = self.udp4.sent[-1][0]
        msg = m.encode(m.NON, code, 0x1111, req[3] if token is None else token,
                       [(12, b"\x28")], links)
        (udp or self.udp4).inbox.append((msg, src))

    def test_a_non_get_to_each_group(self):  # RFC 9176 §4
        self.assertIsNone(self.finder.send())
        for udp, group in ((self.udp4, GROUP4), (self.udp6, GROUP6)):
            (req, to), = udp.sent
            self.assertEqual((req[0], req[1], to), (m.NON, 1, group))
            self.assertEqual(req[4], [(11, b".well-known"), (11, b"core"), (15, b"rt=core.rd*")])
        self.assertIsNone(self.finder.poll())  # listening

    def test_the_rds_link_resolved_against_its_address(self):  # RFC 6690 §2.1
        self.finder.send()
        self.answer(b'</rd-lookup/ep>;rt="core.rd-lookup-ep",</rd>;rt="core.rd";ct=40')
        self.assertEqual(self.finder.poll(), FOUND)
        self.assertEqual(self.asked, ["coap://192.0.2.7:5683/rd"])
        self.assertEqual(self.finder.found,
                         ("socket", b"coap://192.0.2.1:5683", [b"rd"], "coap://192.0.2.7:5683/rd"))

    def test_an_answer_on_the_ipv6_socket(self):
        self.finder.send()
        self.answer(b'</rd>;rt=core.rd', src=("2001:db8::7", 61616), udp=self.udp6)
        self.assertEqual(self.finder.poll(), FOUND)
        self.assertEqual(self.asked, ["coap://[2001:db8::7]:61616/rd"])

    def test_answers_that_are_not_an_rds_are_ignored(self):
        self.finder.send()
        self.answer(b'</rd>;rt=core.rd', token=b"\x00\x00\x00\x00")   # another request's
        self.answer(b'</rd>;rt=core.rd', code=132)                   # 4.04
        self.answer(b'</x>;rt="core.rd-lookup-res"')                 # no registration link
        self.answer(b'</r\xff\xfe/>;rt="core.rd"')                   # not UTF-8 (RFC 6690 §2)
        self.udp4.inbox.append((b"\x51\x45\x11", RD))                # not a message
        while self.udp4.inbox:
            self.assertIsNone(self.finder.poll())
        self.assertEqual((self.asked, self.log), ([], []))

    def test_nothing_answers_in_wait_ms(self):
        self.finder.send()
        self.clock.advance(6000 - 1)
        self.assertIsNone(self.finder.poll())
        self.clock.advance(1)
        self.assertEqual(self.finder.poll(), TIMEOUT)
        self.assertIsNone(self.finder.poll())  # done

    def test_an_rd_that_cant_be_used(self):
        self.accept = False
        self.finder.send()
        self.answer(b'</rd>;rt=core.rd')
        self.assertIsNone(self.finder.poll())  # another RD may still answer
        self.clock.advance(6000)
        self.assertEqual(self.finder.poll(), UNUSABLE)

    def test_a_new_send_is_a_new_request(self):
        self.finder.send()
        first = self.udp4.sent[-1][0]
        self.finder.send()
        again = self.udp4.sent[-1][0]
        self.assertTrue(first[2] != again[2] and first[3] != again[3])
        self.answer(b'</rd>;rt=core.rd', token=first[3])  # a late answer to the first
        self.assertIsNone(self.finder.poll())

    def test_no_group_reachable(self):
        finder = Finder([(Udp(ENETUNREACH), GROUP4)], self.connect, clock=self.clock,
                        log=self.log.append)
        self.assertEqual(finder.send(), UNREACHABLE)
        self.assertEqual(len(self.log), 1)
        self.assertTrue(self.log[0].startswith("rd: multicast discovery: can't send: "))

    def test_one_group_reachable_is_enough(self):
        finder = Finder([(Udp(ENETUNREACH), GROUP6), (self.udp4, GROUP4)], self.connect,
                        clock=self.clock, log=self.log.append)
        self.assertIsNone(finder.send())
        self.assertEqual(len(self.udp4.sent), 1)


if __name__ == "__main__":
    unittest.main()
