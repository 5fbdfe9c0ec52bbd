# firmware/update.py, appmanifest.py and bootguard.py: an app update from a
# file server the test plays on a fake socket, into a board tree in a
# temporary folder; power lost at every rename of the swap and the roll-back.
import hashlib
import json
import os
import sys
import unittest
from binascii import hexlify

_here = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
for _p in (_here + "/../../../firmware",):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import bootguard  # noqa: E402
import appmanifest  # noqa: E402
import update  # noqa: E402
# update.py loads the client with the first update; these tests change the
# working directory, and the unit runner's module paths are relative
import coap.blockget  # noqa: E402,F401
import coap.client  # noqa: E402,F401
import coap.oscore  # noqa: E402,F401
import coap.oscoreclient  # noqa: E402,F401
from fake_fileserver import FileServer, body  # noqa: E402
from test_prepared import answers  # noqa: E402

OLD_TREE = {"main.py": b"# main\n", "app.py": b"print('v1')\n" * 300,
            "lib/coap/x.py": b"X = 1\n", "util.py": b"U = 1\n"}
NEW_FILES = {"app.py": b"print('v2')\n" * 400, "lib/coap/x.py": body(3000),
             "util.py": b"U = 1\n", "lib/new.py": b"N = 2\n"}


def sha(b):
    return hexlify(hashlib.sha256(b).digest()).decode()


def manifest(files, version="0.2.0", **wrong):
    out = []
    for path, data in sorted(files.items()):
        out.append({"path": path, "size": len(data), "sha256": wrong.get(path, sha(data))})
    return {"version": version, "files": out}


def tree():
    """Every file of the board (what is under .update/ aside): its SHA-256,
    app.json's version."""
    found = {}

    def walk(d):
        for name in os.listdir(d or "."):
            p = d + name
            if p == bootguard.DIR:
                continue
            if os.stat(p)[0] & 0x4000:
                walk(p + "/")
            else:
                with open(p, "rb") as f:
                    data = f.read()
                found[p] = json.loads(data)["version"] if p == "app.json" else sha(data)
    walk("")
    return found


def lay_out(files):
    for path, data in files.items():
        bootguard.makedirs(path)
        with open(path, "wb") as f:
            f.write(data)


class PowerLoss(BaseException):
    pass


class CutOs:
    """os, with the power lost at the n-th rename or remove."""

    def __init__(self, n):
        self.n = n

    def __getattr__(self, name):
        return getattr(os, name)

    def _cut(self):
        self.n -= 1
        if self.n < 0:
            raise PowerLoss()

    def rename(self, a, b):
        self._cut()
        os.rename(a, b)

    def remove(self, p):
        self._cut()
        os.remove(p)


class Board(unittest.TestCase):
    def setUp(self):
        self.cwd = os.getcwd()
        self.root = "/tmp/coap-update-test-%d" % (os.getpid() if hasattr(os, "getpid") else 0)
        bootguard.remove_tree(self.root)
        os.mkdir(self.root)
        os.chdir(self.root)
        lay_out(OLD_TREE)
        self.lines = []
        self.old = tree()
        bootguard.os = os

    def tearDown(self):
        bootguard.os = os
        os.chdir(self.cwd)
        bootguard.remove_tree(self.root)

    def serve(self, files, man):
        served = dict(("fw/" + k, v) for k, v in files.items())
        served["fw/manifest.json"] = json.dumps(man).encode()
        self.server = FileServer(served)
        return update.Updater(lambda host, port: self.server, log=self.lines.append)

    def run_update(self, u, uri="coap://files.example/fw/manifest.json", force=False):
        self.assertIsNone(u.start(uri, force, plain=u.context is None))
        for _ in range(200):
            try:
                u.tick()
            except update.Reboot:
                return True
            if not u.busy:
                return False
        self.fail("the update never ended")

    def new_tree(self):
        t = dict(self.old)
        t.update((p, sha(d)) for p, d in NEW_FILES.items())
        t["app.json"] = "0.2.0"
        return t

    def test_update_swap_trial_confirm(self):
        u = self.serve(NEW_FILES, manifest(NEW_FILES))
        self.assertTrue(self.run_update(u))
        self.assertNotIn("fw/util.py", self.server.paths)  # unchanged: not fetched
        self.assertEqual(set(tree()), set(self.new_tree()))
        self.assertEqual(tree()["app.py"], sha(NEW_FILES["app.py"]))
        self.assertEqual(bootguard.read()["state"], "trial")
        with open(bootguard.OLD + "app.py", "rb") as f:
            self.assertEqual(f.read(), OLD_TREE["app.py"])  # the previous version kept
        self.assertTrue(self.server.closed)
        bootguard.boot(self.lines.append)  # the reboot
        self.assertEqual(self.lines[-1], "update: trying 0.2.0 (was 0.1.0)")
        u = update.Updater(None, log=self.lines.append)
        self.assertEqual(json.loads(u.status), {"state": "trial", "version": "0.2.0"})
        u.tick()  # serving
        self.assertEqual(bootguard.read()["state"], "done")
        self.assertEqual(json.loads(u.status), {"state": "done", "version": "0.2.0"})
        self.assertEqual(update.running(), "0.2.0")
        bootguard.boot(self.lines.append)  # later boots leave it alone
        self.assertEqual(tree(), self.new_tree())

    def test_a_file_replaced_by_a_shorter_one_mid_transfer(self):
        # The server's app.py changes after 5 blocks of an older, longer
        # one: the new ETag starts it over (RFC 7959 §2.4), and what is
        # installed is the new file alone, with no tail of the old
        u = self.serve(NEW_FILES, manifest(NEW_FILES))
        server = self.server
        files = server.files
        files["fw/app.py"], right = body(6000, seed=5), files["fw/app.py"]
        serve = server._serve

        def swapping(buf):
            serve(buf)
            if server.paths[-1] == "fw/app.py" and server.requests[-1][1] == 4:
                files["fw/app.py"] = right
        server._serve = swapping
        self.assertTrue(self.run_update(u))
        with open("app.py", "rb") as f:
            got = f.read()
        self.assertEqual((len(got), sha(got)), (len(right), sha(right)))

    def test_no_room_for_a_datagram_waits_then_gives_up(self):
        # On the RP2040 recv found no 641 bytes in one piece for a while: the
        # update waits a tick at a time, and fails only if it goes on
        u = self.serve(NEW_FILES, manifest(NEW_FILES))
        server = self.server
        recv = server.recv
        short = [3]

        def tight(n):
            self.assertLessEqual(n, 640)  # 512-byte blocks: no 1.1 KB datagram
            if short[0]:
                short[0] -= 1
                raise MemoryError()
            return recv(n)
        server.recv = tight
        self.assertTrue(self.run_update(u))
        u = self.serve(NEW_FILES, manifest(NEW_FILES, "0.3.0"))
        self.server.recv = lambda n: (_ for _ in ()).throw(MemoryError())
        self.assertFalse(self.run_update(u))
        self.assertTrue(json.loads(u.status)["error"].startswith("out of memory ("))

    def test_a_new_version_with_no_changed_file(self):
        same = dict((p, d) for p, d in OLD_TREE.items() if p != "main.py")
        u = self.serve(same, manifest(same, "0.1.1"))
        self.assertTrue(self.run_update(u))
        self.assertEqual(self.server.paths, ["fw/manifest.json"])
        self.assertEqual(self.lines[-1], "update: 0.1.1 in place (0 files); rebooting")
        self.assertEqual(update.running(), "0.1.1")

    def test_bad_hash_refused_old_app_stays(self):
        u = self.serve(NEW_FILES, manifest(NEW_FILES, **{"lib/coap/x.py": "0" * 64}))
        self.assertFalse(self.run_update(u))
        self.assertEqual(tree(), self.old)
        st = json.loads(u.status)
        self.assertEqual((st["state"], st["error"]),
                         ("failed", "lib/coap/x.py: SHA-256 or size differs from the manifest"))
        self.assertEqual(self.lines[-1], "update: refused: lib/coap/x.py: SHA-256 or size "
                         "differs from the manifest; 0.1.0 keeps running")
        self.assertFalse(bootguard.exists(bootguard.NEW))
        self.assertIsNone(bootguard.read())

    def test_downgrade_refused_unless_forced(self):
        self.assertTrue(self.run_update(self.serve(NEW_FILES, manifest(NEW_FILES))))
        older = manifest(OLD_TREE, "0.1.5")
        older["files"] = [f for f in older["files"] if f["path"] != "main.py"]
        u = self.serve(OLD_TREE, older)
        self.assertFalse(self.run_update(u))
        self.assertEqual(json.loads(u.status)["error"],
                         "manifest 0.1.5 is not newer than 0.2.0 (force to downgrade)")
        self.assertEqual(tree(), self.new_tree())
        self.assertTrue(self.run_update(self.serve(OLD_TREE, older), force=True))
        self.assertEqual(update.running(), "0.1.5")

    def test_missing_file_and_bad_manifests(self):
        files = dict(NEW_FILES)
        del files["lib/new.py"]
        u = self.serve(files, manifest(NEW_FILES))
        self.assertFalse(self.run_update(u))
        self.assertEqual(json.loads(u.status)["error"], "4.04")
        for bad, why in (({"path": "../x", "size": 1, "sha256": "0" * 64},
                          "manifest: bad path '../x'"),
                         ({"path": "lib/", "size": 1, "sha256": "0" * 64},
                          "manifest: bad path 'lib/'"),
                         ({"path": "main.py", "size": 1, "sha256": "0" * 64},
                          "manifest: main.py is not updated over the air"),
                         ({"path": "a.py", "size": -1, "sha256": "0" * 64},
                          "manifest: a.py: bad size")):
            u = self.serve({}, {"version": "9.0.0", "files": [bad]})
            self.assertFalse(self.run_update(u))
            self.assertEqual(json.loads(u.status)["error"], why)
        u = self.serve({}, {"version": "v9", "files": []})
        self.assertFalse(self.run_update(u))
        self.assertEqual(json.loads(u.status)["error"], "version 'v9' is not major.minor.patch")
        self.assertEqual(u.start("http://x/m.json", plain=True),
                         "bad manifest URI http://x/m.json: not a coap:// URI")
        self.assertEqual(tree(), self.old)

    def test_not_confirmed_rolls_back(self):
        self.assertTrue(self.run_update(self.serve(NEW_FILES, manifest(NEW_FILES))))
        bootguard.boot(self.lines.append)  # the trial boot, which never serves
        self.assertEqual(tree(), self.new_tree())
        bootguard.boot(self.lines.append)
        self.assertEqual(self.lines[-1], "update: 0.2.0 did not come up; back to 0.1.0")
        self.assertEqual(tree(), self.old)
        self.assertEqual(json.loads(update.Updater(None).status),
                         {"state": "rolledback", "version": "0.2.0", "error": "did not come up"})

    def test_failure_at_start_rolls_back(self):
        self.assertTrue(self.run_update(self.serve(NEW_FILES, manifest(NEW_FILES))))
        bootguard.boot(self.lines.append)
        self.assertTrue(bootguard.failed(ImportError("no module named 'x'"), self.lines.append))
        self.assertEqual(tree(), self.old)
        self.assertFalse(bootguard.failed(ImportError("again"), self.lines.append))

    def test_power_lost_at_every_step(self):
        """At each rename or remove of the swap, then of the roll-back: the boot
        that follows finds the old tree or the new one, never a mix."""
        new = self.new_tree()
        for phase in ("swap", "rollback"):
            for n in range(40):
                os.chdir(self.cwd)
                bootguard.remove_tree(self.root)
                os.mkdir(self.root)
                os.chdir(self.root)
                lay_out(OLD_TREE)
                u = self.serve(NEW_FILES, manifest(NEW_FILES))
                if phase == "rollback":
                    self.run_update(u)
                    bootguard.boot(self.lines.append)
                bootguard.os = CutOs(n)
                try:
                    if phase == "swap":
                        self.run_update(u)
                    else:
                        bootguard.boot(self.lines.append)
                    cut = False
                except PowerLoss:
                    cut = True
                bootguard.os = os
                bootguard.boot(self.lines.append)
                got = tree()
                self.assertTrue(got == self.old or got == new, "%s, cut at %d: a mix" % (phase, n))
                if phase == "swap":
                    self.assertEqual(got, new if bootguard.read() else self.old)
                else:
                    self.assertEqual(got, self.old)
                if not cut:
                    break
            self.assertTrue(n > 5, "%s: only %d cuts" % (phase, n))


class SecureWire:
    """A connected socket whose peer is a file server under OSCORE: the
    library's own Server with a context, one resource per file."""

    def __init__(self, files, ctx):
        from coap import Resource, Server

        def serve(data):
            def get(req, resp):
                resp.payload(data)
            return get
        table = tuple(Resource(path, get=serve(files[path])) for path in sorted(files))
        self.srv = Server(table, log=None, oscore=[ctx], amplification_limit=False)
        self.inbox = []
        self.closed = False

    def send(self, buf):
        a = answers(self.srv, [bytes(buf)])[0]
        if a is not None:
            self.inbox.append(a)

    def recv(self, n):
        if not self.inbox:
            raise OSError(11)
        return self.inbox.pop(0)

    def close(self):
        self.closed = True


class OverOscore(Board):
    """The board's update context: the manifest and files come only from a
    file server that holds it."""

    def setUp(self):
        super().setUp()
        from coap import aes
        if not aes.available():
            raise unittest.SkipTest("this port has no cryptolib")

    def secure(self, files, man, secret=b"\x11" * 16, plain=False):
        from coap.oscorectx import Context
        served = dict(("fw/" + k, v) for k, v in files.items())
        served["fw/manifest.json"] = json.dumps(man).encode()
        if plain:
            self.server = FileServer(served)
        else:
            self.server = SecureWire(served, Context(secret, b"", b"\x01", b"\x02"))
        self.made = 0

        def context():
            self.made += 1
            return Context(b"\x11" * 16, b"", b"\x02", b"\x01")
        return update.Updater(lambda host, port: self.server, log=self.lines.append,
                              context=context)

    def test_update_over_oscore(self):
        u = self.secure(NEW_FILES, manifest(NEW_FILES))
        self.assertTrue(self.run_update(u))
        self.assertEqual(set(tree()), set(self.new_tree()))
        self.assertIn("update: fetching coap://files.example/fw/manifest.json over OSCORE",
                      self.lines)
        self.assertEqual(self.made, 1)

    def test_file_server_with_another_key_refused(self):
        u = self.secure(NEW_FILES, manifest(NEW_FILES), secret=b"\x22" * 16)
        self.assertFalse(self.run_update(u))
        self.assertEqual(json.loads(u.status), {
            "state": "failed", "error": "answer not protected by OSCORE (4.00)"})
        self.assertEqual(tree(), self.old)

    def test_plain_file_server_refused(self):
        u = self.secure(NEW_FILES, manifest(NEW_FILES), plain=True)
        self.assertFalse(self.run_update(u))
        # the fake's plain 4.04: the path it looked for is encrypted
        self.assertEqual(json.loads(u.status)["error"], "answer not protected by OSCORE (4.04)")
        self.assertEqual(tree(), self.old)

    def test_plain_refused_with_a_context(self):
        u = self.secure(NEW_FILES, manifest(NEW_FILES))
        self.assertEqual(u.start("coap://files.example/fw/manifest.json", plain=True),
                         "the board has an update_oscore context: ?plain is refused")
        self.assertFalse(u.busy)


class Trigger(unittest.TestCase):
    """POST /board/update and the "update" of /board, through the server."""

    def setUp(self):
        import resources
        from coap import Server
        from test_sensors import FakeBoard
        h = resources.SensorBoard(FakeBoard(), {"name": "greenhouse"})
        self.started = []
        h.updater = update.Updater(
            lambda host, port: self.started.append((host, port)) or FileServer({}),
            log=lambda line: None)
        self.h = h
        self.updater = h.updater
        h.app_version = b"0.1.0"
        # whole answers: no 3x limit (RFC 9175) for this test's one peer
        self.server = Server(resources.table(h, {}), log=None, amplification_limit=False)
        h.server = self.server

    def ask(self, msg):
        import coapmsg as m
        from test_prepared import answers
        return m.decode(answers(self.server, [msg])[0])

    def test_plain_post_refused(self):
        import coapmsg as m
        got = self.ask(m.get("board/update", code=2, payload=b"coap://127.0.0.1/fw/m.json"))
        # 4.01, on a board with no context at all
        self.assertEqual((got[1], got[5]), (129, b"OSCORE required"))
        self.assertEqual(self.started, [])

    def test_no_update_context_no_fetch_unless_plain(self):
        """Over the board's OSCORE, as a real trigger comes: without an update
        context the board fetches nothing, unless the POST says ?plain."""
        from coap import Server, aes
        if not aes.available():
            raise unittest.SkipTest("this port has no cryptolib")
        import coapmsg as m
        import resources
        from coap.oscorectx import Context
        from oscoreclient import BOARD_ID, CLIENT_ID, SALT, SECRET, Client
        from test_prepared import answers
        srv = Server(resources.table(self.h, {}), log=None, amplification_limit=False,
                     oscore=[Context(SECRET, SALT, BOARD_ID, CLIENT_ID)])
        self.h.server = srv
        client = Client()

        def post(query):
            echo = ()
            for _ in range(2):  # RFC 9175 §2.4: the first POST is asked for an Echo
                req = client.protect(m.get("board/update", code=2, query=query, options=echo,
                                           payload=b"coap://127.0.0.1/fw/m.json"))
                got = m.decode(client.open(answers(srv, [req])[0])[1])
                echo = [(252, m.option(got[4], 252))]
                if got[1] != 129:
                    return got
        cwd = os.getcwd()
        root = "/tmp/coap-update-trigger-%d" % (os.getpid() if hasattr(os, "getpid") else 0)
        bootguard.remove_tree(root)
        os.mkdir(root)
        os.chdir(root)
        try:
            lay_out({"main.py": b"# main\n"})
            got = post(())
            self.assertEqual(got[1], 128)
            self.assertEqual(got[5], b"no update_oscore context: nothing could tell the "
                             b"manifest is authentic (?plain fetches it anyway)")
            self.assertEqual(self.started, [])
            got = post(("plain",))
            self.assertEqual(got[1], 68)
            self.assertEqual(self.started, [("127.0.0.1", 5683)])
            self.assertEqual(json.loads(self.updater.status), {"state": "manifest", "plain": True})
        finally:
            os.chdir(cwd)
            bootguard.remove_tree(root)

    def test_board_shows_the_app_and_its_update(self):
        import coapmsg as m
        got = self.ask(m.get("board"))
        info = json.loads(got[5])
        self.assertEqual((info["app"], info["update"]), ("0.1.0", {"state": "idle"}))


class ManifestInPieces(unittest.TestCase):
    """appmanifest.scan reads a manifest without holding it whole: what it
    finds is what json.loads of the whole text finds, however it is laid out."""

    path = "/tmp/coap-manifest-test.json"

    def scan(self, text):
        with open(self.path, "w") as f:
            f.write(text)
        found = []
        top = appmanifest.scan(self.path, lambda f, off, n: found.append(
            (f, appmanifest.entry(self.path, off, n))))
        for f, again in found:
            self.assertEqual(f, again)  # read back from where scan() said it is
        return top, [f for f, _ in found]

    def tearDown(self):
        try:
            os.remove(self.path)
        except OSError:
            pass

    def test_any_layout_any_strings(self):
        files = [{"path": "app.mpy", "size": 12, "sha256": "ab" * 32},
                 {"sha256": "cd" * 32, "path": "lib/coap/x.mpy", "size": 0}]
        m = {"version": "1.2.3", "note": "a } ] [ { \" \\ in a string", "files": files,
             "files_also": [{"path": "not a file"}]}
        for text in (json.dumps(m), json.dumps(m).replace(", ", ",\n    ")):
            top, got = self.scan(text)
            self.assertEqual(got, files)
            self.assertEqual(top["version"], "1.2.3")
            self.assertEqual(top["note"], m["note"])
            self.assertEqual(top["files"], 2)
            self.assertEqual(top["files_also"], [{"path": "not a file"}])

    def test_refused(self):
        good = {"path": "a.py", "size": 1, "sha256": "00" * 32}
        for m, why in (
                ({"version": "1.0.0", "files": []}, "manifest: 1 to 128 files"),
                ({"version": "1.0", "files": [good]}, "version '1.0' is not major.minor.patch"),
                ({"version": "1.0.0", "files": [dict(good, path="../x")]},
                 "manifest: bad path '../x'"),
                ({"version": "1.0.0", "files": [dict(good, pad="x" * 600)]},
                 "manifest: a file's entry is over 512 bytes")):
            with self.assertRaises(ValueError) as e:
                self.scan(json.dumps(m))
            self.assertEqual(str(e.exception), why)
        with self.assertRaises(ValueError) as e:
            self.scan('{"version": "1.0.0", "files": [{"path": a.py}]}')
        self.assertEqual(str(e.exception), "manifest is not JSON")
