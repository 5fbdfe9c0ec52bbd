# /.well-known/core: RFC 6690 link format generated from the table, with filters (§4.1).
import unittest

import coapmsg as m
from sample import make_server


def links(srv, *query, **kw):
    msg = m.get(".well-known/core", query=list(query), **kw)
    n = srv.handle(msg, len(msg))
    t, code, mid, tok, opts, payload = m.decode(bytes(srv.response.buf[:n]))
    return code, opts, payload


def hrefs(payload):
    return [link.split(b">")[0][1:] for link in payload.split(b",")] if payload else []


class WellKnownCore(unittest.TestCase):
    # The whole document in one answer, as a verified peer gets it (test_amplify.py: 3x rule)
    def setUp(self):
        self.srv = make_server(amplification_limit=False)

    def test_all_links_as_link_format(self):
        code, opts, payload = links(self.srv)
        self.assertEqual((code, opts), (69, [(12, b"\x28")]))  # ct=40
        self.assertEqual(hrefs(payload), [b"/sensors/temp", b"/actuators/led", b"/boom", b"/query", b"/big"])
        self.assertIn(b'</sensors/temp>;rt="temperature-c";if="sensor";ct="0 50";obs', payload)
        self.assertIn(b'</actuators/led>;rt="on-off";if="actuator";ct=0', payload)

    def test_rt_filter_exact_and_prefix(self):
        self.assertEqual(hrefs(links(self.srv, "rt=on-off")[2]), [b"/actuators/led"])
        self.assertEqual(hrefs(links(self.srv, "rt=temp*")[2]), [b"/sensors/temp"])
        self.assertEqual(hrefs(links(self.srv, "rt=temp")[2]), [])

    def test_if_filter(self):
        self.assertEqual(hrefs(links(self.srv, "if=sensor")[2]), [b"/sensors/temp"])

    def test_href_filter(self):
        self.assertEqual(hrefs(links(self.srv, "href=/sensors/*")[2]), [b"/sensors/temp"])
        self.assertEqual(hrefs(links(self.srv, "href=/boom")[2]), [b"/boom"])

    def test_ct_filter_matches_any_listed_format(self):
        self.assertEqual(hrefs(links(self.srv, "ct=50")[2]), [b"/sensors/temp"])

    def test_unknown_attribute_matches_nothing(self):
        code, opts, payload = links(self.srv, "sz=10")
        self.assertEqual((code, payload), (69, b""))

    def test_only_get(self):  # §5.8
        self.assertEqual(links(self.srv, code=2)[0], 133)

    def test_accept_other_than_link_format_is_4_06(self):  # §5.10.4
        self.assertEqual(links(self.srv, options=[(17, m.uint(50))])[0], 134)

    def test_largest_response_is_reported(self):
        n = len(links(self.srv)[2])
        self.assertTrue(n < self.srv.largest_response() <= n + 16)


class Unlisted(unittest.TestCase):
    def test_an_unlisted_resource_is_served_but_not_listed(self):
        from coap import Resource, Server

        def hello(req, resp):
            resp.payload(b"hi")
        srv = Server((Resource("shown", get=hello), Resource("3/0", get=hello, listed=False)),
                     amplification_limit=False)
        self.assertEqual(links(srv)[2], b"</shown>")
        self.assertTrue(len(b"</shown>") < srv.largest_response() <= len(b"</shown>") + 16)
        msg = m.get("3/0")
        n = srv.handle(msg, len(msg))
        self.assertEqual(m.decode(bytes(srv.response.buf[:n]))[5], b"hi")
