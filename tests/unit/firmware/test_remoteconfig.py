# firmware/remoteconfig.py: PUT/GET /board/config and POST /board/reboot
# through the server with an OSCORE context, the client's half played by
# tests/unit/oscoreclient.py: a body in Block1 blocks inside OSCORE (each
# block its own protected request with an Echo, RFC 9175 §2.4), refusals that
# name the field and never a secret, masking, and an atomic write.
import json
import os
import sys
import unittest

_here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
for _p in (_here + "/../../../firmware",):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import config  # noqa: E402
import remoteconfig  # noqa: E402
import resources  # noqa: E402
import update  # noqa: E402
import coapmsg as m  # noqa: E402
from coap import Server, aes  # noqa: E402
from coap.oscorectx import Context  # noqa: E402
from oscoreclient import BOARD_ID, CLIENT_ID, SALT, SECRET, Client  # noqa: E402
from test_sensors import FakeBoard  # noqa: E402

PATH = "/tmp/coap-remoteconfig-test.json"
OSCORE = {"secret": "0102030405060708090a0b0c0d0e0f10", "salt": "9e7ca92223786340",
          "sender_id": "01", "recipient_id": "02"}
OLD = {"name": "before", "oscore": OSCORE, "open": ["board"],
       "wifi": {"ssid": "greenhouse", "password": "hunter22"}}
PEER = ("127.0.0.1", 40000)  # an address as the unix port's recvfrom gives it
_BLOCK1 = 27
_ECHO = 252


def remove(*paths):
    for p in paths:
        try:
            os.remove(p)
        except OSError:
            pass


class Board(unittest.TestCase):
    """A board running on OLD, with the remote config resources."""

    def setUp(self):
        if not aes.available():
            raise unittest.SkipTest("this port has no cryptolib")
        remove(PATH + ".tmp")
        with open(PATH, "w") as f:
            f.write(json.dumps(OLD))
        self.old = self.stored()
        self.lines = []
        cfg, _ = config.validate(OLD)
        h = resources.SensorBoard(FakeBoard(), cfg)
        h.remote = self.remote = remoteconfig.RemoteConfig(PATH, cfg, self.lines.append)
        ctx = Context(SECRET, SALT, BOARD_ID, CLIENT_ID)
        self.server = Server(resources.table(h, cfg), log=None, oscore=[ctx], open=["board"],
                             uploads=1, amplification_limit=False)
        self.client = Client()
        self.echo = None
        self.mid = 0x100

    def tearDown(self):
        remove(PATH, PATH + ".tmp")

    def stored(self):
        with open(PATH, "rb") as f:
            return f.read()

    def send(self, msg):
        self.server.request.peer = PEER
        n = self.server.handle(msg, len(msg))
        return bytes(self.server.response.buf[:n])

    def protected(self, path, code=1, payload=b"", options=(), query=()):
        """The inner answer (type, code, mid, token, options, payload) to a
        protected request, with a fresh Echo as aiocoap gets one."""
        for _ in range(2):
            self.mid += 1
            opts = list(options) + ([(_ECHO, self.echo)] if self.echo else [])
            msg = m.get(path, code=code, mid=self.mid, payload=payload, options=opts,
                        query=query)
            _, inner = self.client.open(self.send(self.client.protect(msg)))
            got = m.decode(inner)
            echo = m.option(got[4], _ECHO)
            if got[1] != 129 or echo is None:
                return got
            self.echo = echo
        return got

    def put(self, body, szx=2, query=()):
        """body in Block1 blocks of 16 << szx bytes; the last block's answer."""
        size = 16 << szx
        num = 0
        while True:
            chunk = body[num * size:(num + 1) * size]
            more = (num + 1) * size < len(body)
            got = self.protected("board/config", 3, chunk, query=query, options=[
                (_BLOCK1, m.uint(num << 4 | (8 if more else 0) | szx))])
            if not more or got[1] != 95:  # 2.31 Continue
                return got
            num += 1


class Upload(Board):
    def test_plain_put_is_refused_before_a_block_is_kept(self):
        got = m.decode(self.send(m.get("board/config", code=3, payload=b"{" * 64,
                                       options=[(_BLOCK1, m.uint(0x0A))])))
        self.assertEqual((got[1], got[5]), (129, b"OSCORE required"))
        self.assertRaises(OSError, os.stat, PATH + ".tmp")  # nothing kept
        self.assertEqual(self.stored(), self.old)

    def test_a_config_in_blocks_inside_oscore_is_written(self):
        new = dict(OLD, name="after", max_age_s=30)
        body = json.dumps(new).encode() + b" " * 300
        got = self.put(body)
        self.assertEqual(got[1], 68, got)  # 2.04
        self.assertEqual(self.stored(), body)
        self.assertEqual(self.lines[-1], "config: %s replaced; the next boot uses it" % PATH)
        self.assertEqual(json.loads(self.protected("board/config")[5])["name"], "after")

    def test_masked_values_stand_for_the_stored_ones(self):
        shown = json.loads(self.protected("board/config")[5])
        shown["name"] = "after"
        got = self.put(json.dumps(shown).encode())
        self.assertEqual(got[1], 68, got)
        self.assertEqual(json.loads(self.stored()), dict(OLD, name="after"))

    def test_one_message_or_1024_byte_blocks(self):
        for body, szx in ((json.dumps(dict(OLD, name="one")).encode(), None),
                          (json.dumps(dict(OLD, name="big")).encode() + b" " * 2000, 6)):
            if szx is None:
                got = self.protected("board/config", 3, body)
            else:
                got = self.put(body, szx)
            self.assertEqual(got[1], 68, got)
            self.assertEqual(self.stored(), body)

    def test_a_block_out_of_order_is_4_08_and_block_0_starts_again(self):
        body = json.dumps(dict(OLD, name="after")).encode()
        self.assertEqual(self.protected("board/config", 3, body[:64], options=[
            (_BLOCK1, m.uint(0x0A))])[1], 95)
        got = self.protected("board/config", 3, body[128:192], options=[
            (_BLOCK1, m.uint(0x2A))])  # block 2 before block 1
        self.assertEqual(got[1], 136)
        self.assertEqual(self.put(body)[1], 68)
        self.assertEqual(self.stored(), body)

    def test_a_heap_without_a_block_of_the_bodys_size_reads_it_streamed(self):
        class Starved:  # a read of the whole file finds no free block that large
            def __init__(self, path, mode):
                self.f = open(path, mode)
                self.mode = mode

            def read(self, *n):
                raise MemoryError

            def __getattr__(self, name):
                return getattr(self.f, name)

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.f.close()

        self.remote.open = lambda path, mode: Starved(path, mode) if mode == "rb" \
            else open(path, mode)
        self.assertEqual(self.put(json.dumps(dict(OLD, name="after")).encode())[1], 68)
        self.assertEqual(json.loads(self.stored())["name"], "after")
        self.assertIn("is not valid JSON", self.put(b'{"name": ')[5].decode())

    def test_too_large_is_4_13(self):
        got = self.put(b" " * (self.remote.upload_max + 64), szx=6)
        self.assertEqual(got[1], 141)  # 4.13
        self.assertEqual(m.to_uint(m.option(got[4], 60)), self.remote.upload_max)  # Size1
        self.assertEqual(self.stored(), self.old)


class Refused(Board):
    def refused(self, body, query=()):
        got = self.put(body, query=query)
        self.assertEqual(got[1], 128, got)  # 4.00
        self.assertEqual(self.stored(), self.old)
        return got[5].decode()

    def test_the_first_bad_field_is_named(self):
        why = self.refused(json.dumps(dict(OLD, port="80", seed=-1)).encode())
        self.assertEqual(why, 'port: expected an integer from 1 to 65535, got "80"')

    def test_secrets_are_never_echoed(self):
        for cfg, start in (
                (dict(OLD, oscore=dict(OSCORE, secret="00ff")), "oscore.secret: expected"),
                (dict(OLD, wifi={"ssid": "x", "password": 7}), "wifi: expected"),
                (dict(OLD, oscore=dict(OSCORE, id_context=config.MASK)),
                 "oscore.id_context: expected"),
                (dict(OLD, lwm2m={"server": "coap://h", "endpoint": config.MASK}),
                 "lwm2m.endpoint: *** stands for the board's value, and it has none")):
            why = self.refused(json.dumps(cfg).encode())
            self.assertTrue(why.startswith(start), why)
            self.assertNotIn("00ff", why)
            self.assertNotIn("hunter", why)

    def test_not_json_names_where(self):
        why = self.refused(b'{"name": "x"\n "port": 80}')
        self.assertIn("is not valid JSON at line 2, column 2", why)
        self.assertEqual(self.refused(b"\xff\xfe"), "config is not UTF-8 text")

    def test_unknown_field_refused(self):
        why = self.refused(json.dumps(dict(OLD, colour="blue")).encode())
        self.assertEqual(why, "unknown field 'colour'")

    def test_dropping_or_changing_oscore_needs_the_query(self):
        dropped = dict(OLD)
        del dropped["oscore"]
        changed = dict(OLD, oscore=dict(OSCORE, secret="ff" * 16))
        self.assertIn("the upload drops the board's context", self.refused(
            json.dumps(dropped).encode()))
        why = self.refused(json.dumps(changed).encode())
        self.assertIn("the upload changes the board's context", why)
        self.assertNotIn("ffff", why)
        got = self.put(json.dumps(changed).encode(), query=["oscore"])
        self.assertEqual(got[1], 68)
        self.assertEqual(json.loads(self.stored())["oscore"]["secret"], "ff" * 16)


class Show(Board):
    def test_plain_get_refused(self):
        got = m.decode(self.send(m.get("board/config")))
        self.assertEqual(got[1], 129)

    def test_secrets_masked(self):
        got = self.protected("board/config")
        self.assertEqual((got[1], m.option(got[4], 12)), (69, b"\x32"))  # JSON
        shown = json.loads(got[5])
        self.assertEqual(shown["oscore"], dict(OSCORE, secret="***", salt="***"))
        self.assertEqual(shown["wifi"], {"ssid": "greenhouse", "password": "***"})
        for secret in (OSCORE["secret"], OSCORE["salt"], "hunter22"):
            self.assertNotIn(secret.encode(), got[5])

    def test_masked_and_unmasked(self):
        v = {"ppp": {"uart": 1, "dial": ["AT", "ATD*99#user:pw"]}, "a": [{"psk": "x"}],
             "u": "coap://user:pw@192.0.2.1/x"}
        shown = config.masked(v)
        self.assertEqual(shown, {"ppp": {"uart": 1, "dial": "***"}, "a": [{"psk": "***"}],
                                 "u": "coap://***@192.0.2.1/x"})
        self.assertEqual(config.unmasked(shown, v), v)
        self.assertEqual(config.unmasked({"ppp": {"dial": "***"}}, {}), {"ppp": {"dial": "***"}})


class Write(Board):
    def test_a_failed_write_leaves_the_old_file(self):
        class Full:
            def __init__(self, path, mode):
                self.f = open(path, mode)

            def write(self, data):
                self.f.write(data[:10])
                return 10  # the disk is full

            def seek(self, n):
                self.f.seek(n)

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.f.close()

        self.remote.open = Full
        got = self.put(json.dumps(dict(OLD, name="after")).encode())
        self.assertEqual(got[1], 160)  # 5.00
        self.assertEqual(got[5], b"config not written (error 28); the old one stays")
        self.assertEqual(self.stored(), self.old)
        self.assertRaises(OSError, os.stat, PATH + ".tmp")


class Reboot(Board):
    def test_plain_post_refused(self):
        got = m.decode(self.send(m.get("board/reboot", code=2)))
        self.assertEqual(got[1], 129)
        self.remote.tick()  # nothing happens

    def test_answered_then_rebooted_at_the_next_tick(self):
        got = self.protected("board/reboot", code=2)
        self.assertEqual(got[1], 68)
        self.assertRaises(update.Reboot, self.remote.tick)
        self.assertEqual(self.lines[-1], "board: rebooting (POST /board/reboot)")
        self.remote.tick()  # once


if __name__ == "__main__":
    unittest.main()
