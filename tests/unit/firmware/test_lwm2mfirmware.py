# firmware/lwm2mfirmware.py: LwM2M object 5 through the real request path,
# on a real update.Updater fetching from a fake file server into a board tree
# in a temporary folder: the state machine (Idle, Downloading, Downloaded,
# Updating), the Update Result of each failure, the reboot into the new
# version with Result 1, a roll-back with Result 8.
import json
import os
import sys
import unittest

_here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
_root = _here + "/../../.."
for _p in (_root + "/firmware", _root + "/boards/common"):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import bootguard  # noqa: E402
import config as board_config  # noqa: E402
import lwm2mboard  # noqa: E402
import update  # noqa: E402
from coap import Server  # noqa: E402
# loaded on first use; these tests change the working directory, and the
# unit runner's module paths are relative
import coap.notify  # noqa: E402,F401
import coap.observe  # noqa: E402,F401
import coap.blockget  # noqa: E402,F401
import coap.client  # noqa: E402,F401
import lwm2mfirmware  # noqa: E402,F401  (lwm2mboard loads it on object 5's first use)
from coap.testing import PEER, request  # noqa: E402
from heaplock import no_alloc  # noqa: E402
from test_lwm2m import Board, call, entries  # noqa: E402
from test_update import NEW_FILES, OLD_TREE, FileServer, lay_out, manifest, tree  # noqa: E402

TLV = 11542
URI = b"coap://files.example/fw/manifest.json"


class Object5(unittest.TestCase):
    def setUp(self):
        self.cwd = os.getcwd()
        self.root = "/tmp/coap-lwm2m5-test-%d" % (os.getpid() if hasattr(os, "getpid") else 0)
        bootguard.remove_tree(self.root)
        os.mkdir(self.root)
        os.chdir(self.root)
        lay_out(OLD_TREE)
        self.old = tree()
        self.lines = []
        self.files = FileServer({})
        self.serve(NEW_FILES, manifest(NEW_FILES))
        self.build()

    def tearDown(self):
        os.chdir(self.cwd)
        bootguard.remove_tree(self.root)

    def serve(self, files, man):
        served = dict(("fw/" + k, v) for k, v in files.items())
        served["fw/manifest.json"] = json.dumps(man).encode()
        self.files.files = self.files.data = served

    def build(self, plain=True, context=None):
        lw = {"server": "coap://192.0.2.9"}
        if plain:
            lw["update_plain"] = True
        cfg, problems = board_config.validate({"name": "shed", "lwm2m": lw})
        assert not problems, problems
        self.updater = update.Updater(lambda host, port: self.files, log=self.lines.append,
                                      context=context)
        self.objects = lwm2mboard.Objects(Board(), cfg, None, self.updater, b"0.1.0",
                                          log=self.lines.append)
        self.srv = Server(tuple(self.objects.resources()), log=lambda line: None,
                          amplification_limit=False)
        self.objects.server = self.srv

    def read(self, rid):
        r = call(self.srv, "GET", "5/0/%d" % rid)
        self.assertEqual(str(r.code), "2.05")
        return r.payload

    def state_result(self):
        return int(self.read(3)), int(self.read(5))

    def write(self, uri):
        return call(self.srv, "PUT", "5/0/1", uri, content_format=0)

    def download(self):
        """Ticks the updater until it stops fetching."""
        for _ in range(200):
            self.updater.tick()
            if not self.updater.busy:
                return
        self.fail("the download never ended")

    def test_write_download_execute_reboot_success(self):
        self.assertEqual(self.state_result(), (0, 0))
        self.assertEqual(str(self.write(URI).code), "2.04")
        self.assertEqual(self.state_result(), (1, 0))  # Downloading
        self.download()
        self.assertEqual(self.state_result(), (2, 0))  # Downloaded: nothing swapped yet
        self.assertEqual((self.read(6), self.read(7)), (b"app", b"0.2.0"))
        self.assertEqual(tree(), self.old)
        self.assertEqual(str(call(self.srv, "POST", "5/0/2").code), "2.04")
        self.assertEqual(self.state_result(), (3, 0))  # Updating, the answer went out
        with self.assertRaises(update.Reboot):
            self.objects.tick()
        self.assertEqual(update.running(), "0.2.0")
        bootguard.boot(self.lines.append)  # the reboot into the new version
        self.build()
        self.assertEqual(self.state_result(), (3, 0))  # on trial until it serves
        self.updater.tick()
        self.assertEqual(self.state_result(), (0, 1))  # Idle, firmware updated
        self.assertEqual(self.read(7), b"0.2.0")

    def test_update_executed_only_when_downloaded(self):
        r = call(self.srv, "POST", "5/0/2")
        self.assertEqual((str(r.code), r.payload),
                         ("4.00", b"no package downloaded (State is not 2)"))
        self.write(URI)
        self.assertEqual(str(call(self.srv, "POST", "5/0/2").code), "4.00")  # Downloading
        self.objects.tick()  # nothing to swap
        self.assertEqual(tree(), self.old)

    def test_empty_uri_drops_the_download_held(self):
        self.write(URI)
        self.download()
        self.assertTrue(bootguard.exists(bootguard.NEW))
        self.assertEqual(str(self.write(b"").code), "2.04")
        self.assertEqual(self.state_result(), (0, 0))
        self.assertFalse(bootguard.exists(bootguard.NEW))
        self.assertEqual(str(call(self.srv, "POST", "5/0/2").code), "4.00")
        self.assertEqual(tree(), self.old)

    def test_a_new_uri_while_downloading_is_refused_empty_cancels(self):
        self.write(URI)
        r = self.write(b"coap://other.example/m.json")
        self.assertEqual(str(r.code), "4.00")
        self.assertEqual(str(self.write(b"").code), "2.04")
        self.assertEqual((self.state_result(), self.updater.busy), ((0, 0), False))

    def test_bad_hash_is_result_5(self):
        self.serve(NEW_FILES, manifest(NEW_FILES, **{"lib/coap/x.py": "0" * 64}))
        self.write(URI)
        self.download()
        self.assertEqual(self.state_result(), (0, 5))
        self.assertEqual(tree(), self.old)

    def test_each_failure_has_its_result(self):
        cases = ((b"http://files.example/m.json", 9),   # not coap://
                 (b"coap:///m.json", 7),                 # no host
                 (b"coap://files.example/fw/none.json", 7))  # 4.04: no manifest there
        for uri, result in cases:
            self.write(uri)
            self.download()
            self.assertEqual(self.state_result(), (0, result), uri)
        self.serve({}, {"version": "0.0.9", "files": [{"path": "a.py", "size": 0,
                                                       "sha256": "0" * 64}]})
        self.write(URI)
        self.download()
        self.assertEqual(self.state_result(), (0, 8))  # not newer
        self.files.files = self.files.data = {"fw/manifest.json": b"<html>"}
        self.write(URI)
        self.download()
        self.assertEqual(self.state_result(), (0, 6))  # not a manifest
        self.write(b"")
        self.assertEqual(self.state_result(), (0, 0))

    def test_out_of_memory_is_result_3_and_the_board_goes_on(self):
        self.write(URI)
        done = self.updater._done

        def full(r):
            self.updater._done = done
            raise MemoryError()
        self.updater._done = full
        self.download()
        self.assertEqual(self.state_result(), (0, 3))
        self.assertTrue(json.loads(self.updater.status)["error"].startswith("out of memory ("))
        self.assertFalse(bootguard.exists(bootguard.NEW))
        self.write(URI)  # a later try goes through
        self.download()
        self.assertEqual(self.state_result(), (2, 0))

    def test_no_context_and_no_update_plain_is_result_9(self):
        self.build(plain=False)
        self.assertEqual(str(self.write(URI).code), "2.04")
        self.assertEqual(self.state_result(), (0, 9))
        self.assertIn("no update_oscore context", self.lines[-1])

    def test_a_refusal_lasts_until_an_update_starts_by_any_trigger(self):
        self.write(b"coap:///m.json")
        self.assertEqual(self.state_result(), (0, 7))
        self.serve(NEW_FILES, manifest(NEW_FILES, **{"app.py": "0" * 64}))
        self.assertIsNone(self.updater.start(URI.decode(), plain=True))  # POST /board/update
        self.assertEqual(self.state_result(), (1, 0))
        self.download()
        self.assertEqual(self.state_result(), (0, 5))  # that update's result, not the 7

    def test_rolled_back_is_result_8(self):
        self.write(URI)
        self.download()
        call(self.srv, "POST", "5/0/2")
        with self.assertRaises(update.Reboot):
            self.objects.tick()
        bootguard.boot(self.lines.append)  # the trial boot, which never serves
        bootguard.boot(self.lines.append)
        self.build()
        self.assertEqual(self.state_result(), (0, 8))
        self.assertEqual(tree(), self.old)

    def test_instance_as_tlv_and_in_the_registration(self):
        self.assertIn(b"</5/0>", self.objects.registration_links())
        got = entries(call(self.srv, "GET", "5/0", accept=TLV).payload)
        ids = [e[1] for e in got if e[2] is not None]
        self.assertEqual(ids, [1, 3, 5, 6, 7, 0, 9])  # 8 is a multiple resource: 8/0
        self.assertEqual(str(call(self.srv, "GET", "5/0/0").code), "4.05")  # write-only

    def test_package_uri_reads_back_and_push_is_refused(self):
        self.assertEqual(self.read(1), b"")
        self.write(URI)
        self.assertEqual(self.read(1), URI)
        r = call(self.srv, "PUT", "5/0/0", b"\x00" * 16, content_format=42)
        self.assertEqual((str(r.code), r.payload),
                         ("4.00", b"push delivery is not supported: write a coap:// URI to /5/0/1"))
        self.assertEqual(str(self.write(b"coap://h/" + b"x" * 250).code), "4.00")

    def test_state_observed_notifies_each_change(self):
        # through object 5's entry: no entry of its own (heap on every board)
        paths = [b"/".join(r.path) for r in self.srv.resources if r.path[0] == b"5"]
        self.assertEqual(paths, [b"5"])
        r = call(self.srv, "GET", "5/0/3", observe=0)
        self.assertEqual((str(r.code), r.payload), ("2.05", b"0"))
        changed = []
        obs = self.srv.observers
        obs.changed_entry = changed.append
        self.write(URI)
        self.objects.tick()
        self.assertEqual(changed, [0])  # Downloading
        self.objects.tick()
        self.assertEqual(changed, [0])  # nothing new
        self.download()
        self.objects.tick()
        self.assertEqual(changed, [0, 0])  # Downloaded

    def test_reads_allocate_nothing(self):
        self.write(URI)
        self.download()  # Downloaded: PkgVersion has its bytes
        srv = self.srv
        for path, accept in (("5/0/3", None), ("5/0/5", None), ("5/0/7", None), ("5/0", TLV)):
            msg = request("GET", path, accept=accept)
            srv.request.peer = PEER
            srv.handle(msg, len(msg))  # warm-up
            no_alloc(self, "GET " + path, srv.handle, msg, len(msg))

if __name__ == "__main__":
    unittest.main()
