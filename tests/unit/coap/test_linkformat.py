# coap.linkformat: links of a link-format payload (RFC 6690 §2) and their
# targets resolved against the origin they came from (RFC 3986 §5.2).
import unittest

from coap.linkformat import link_href, resolve


class Resolving(unittest.TestCase):
    def test_hrefs_against_the_answers_source(self):
        for href, want in (
                (b"/rd", "coap://192.0.2.1:5683/rd"),
                (b"rd/x/", "coap://192.0.2.1:5683/rd/x/"),   # the base's path is empty
                (b"/a/../b/./c", "coap://192.0.2.1:5683/b/c"),
                (b"/rd?d=x#f", "coap://192.0.2.1:5683/rd"),
                (b"//rd.example:61616/rd", "coap://rd.example:61616/rd"),
                (b"coap://[2001:db8::1]:5783/resourcedirectory/",
                 "coap://[2001:db8::1]:5783/resourcedirectory/"),
                (b"coap://h/a/../b", "coap://h/b"),             # §5.2.2: dots removed
                (b"//h:5783/./c", "coap://h:5783/c"),
                (b"COAP://h", "coap://h"),
                (b"coaps://192.0.2.9/rd", None),
                (b"http://192.0.2.9/rd", None)):
            self.assertEqual(resolve(href, "192.0.2.1", 5683), want, href)
        self.assertEqual(resolve(b"/rd", "fd00::1", 61616), "coap://[fd00::1]:61616/rd")


class Links(unittest.TestCase):
    def test_the_link_with_an_rt(self):
        self.assertEqual(link_href(b'</x>;rt="core.rd-lookup-ep",</d,"x">;title="<a>, <b>";'
                                   b'rt="core.rd-group core.rd",</y>;rt=core.rd', b"core.rd"),
                         b'/d,"x"')
        self.assertEqual(link_href(b"</y>;if=core.rd,</z>;rt=core.rd", b"core.rd"), b"/z")
        for none in (b"", b"</x>;rt=core.rd-lookup-res", b"</x", b"rt=core.rd"):
            self.assertIsNone(link_href(none, b"core.rd"), none)

    def test_the_first_link(self):
        self.assertEqual(link_href(b'</a>;rt="x",</b>'), b"/a")
        self.assertIsNone(link_href(b"no links"))


if __name__ == "__main__":
    unittest.main()
