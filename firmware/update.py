# App update over CoAP (docs/updates.md): fetch a manifest, then each changed
# file block by block into .update/new/, each SHA-256 checked as it streams;
# then swap them in (bootguard.py) and reboot. Driven by tick() from the serve
# loop, so the board keeps serving while it downloads.
#
# The manifest (appmanifest.py) is served next to the files it names: a
# file's URI is the manifest's with its last segment replaced by the path.
#
# Over OSCORE (RFC 8613) when the board has an update context (config
# "update_oscore", security.py): every request is protected and only answers
# that verify under that context reach the manifest parser or a file, so the
# manifest, and through its SHA-256s every file, comes from whoever holds the
# context. Without one an update is refused unless asked for in plain (?plain).
#
# LwM2M's Firmware Update object (lwm2mfirmware.py) splits it in two: start
# with hold=True stops once every file is in and verified ("downloaded"), and
# install() swaps them in when the server executes Update.

import hashlib
import json
from array import array
from binascii import hexlify

import bootguard
from sleep import Reboot
from appmanifest import INSTALLED, MAX_FILE, changed, entry, running, scan, version
from bootguard import NEW, OLD, exists
from coap.clock import ticks_diff, ticks_ms

try:
    from time import sleep_ms
except ImportError:  # CPython
    from time import sleep

    def sleep_ms(ms):
        sleep(ms / 1000)

_CONTENT = 69
_UNPROTECTED = -7  # coap.oscoreclient's: a plain answer to a protected request
#: the client's request buffer: a protected request fits it (Uri-Path, Block2, Size2)
_REQUEST = 256
MAX_MANIFEST = 16384
#: the largest answer read: a 512-byte block, its options, OSCORE's
_RX = 640
#: ticks in a row without room for a datagram before the update gives up
_STARVED = 20
#: resume()s of a transfer after a timeout before the update gives up
RESUMES = 3
#: ms of each serve-loop tick the download may take
TICK_MS = 50




class _FileSink:
    """Writes a file's blocks to its staging copy and hashes them as they come."""

    def __init__(self, path):
        bootguard.makedirs(NEW + path)
        self.path = NEW + path
        self.file = open(self.path, "wb")
        self.hash = hashlib.sha256()
        self.written = 0

    def __call__(self, pos, data, off, n):
        if pos == 0 and self.written:
            # again: a new representation (RFC 7959 §2.4), maybe shorter: a
            # file opened anew keeps no tail of the old one
            self.file.close()
            self.file = open(self.path, "wb")
            self.hash = hashlib.sha256()
            self.written = 0
        block = memoryview(data)[off:off + n]
        self.file.write(block)
        self.hash.update(block)
        self.written += n

    def close(self):
        self.file.close()
        return hexlify(self.hash.digest()).decode()


def _free():
    try:
        import gc

        gc.collect()
        return gc.mem_free()
    except AttributeError:  # CPython
        return -1


class Updater:
    """One update at a time. `connect(host, port)` gives a connect()ed,
    non-blocking UDP socket; status is the JSON object /board shows.
    context: None (the board has no update context), or a function that
    makes the board's oscorectx.Context for its file server (called at the
    first update, so that a board never updated keeps the heap; ValueError
    or OSError when the context is unusable)."""

    def __init__(self, connect, log=print, context=None):
        self.connect = connect
        self.log = log
        self.context = context
        self._ctx = None
        self.plain = False
        self.busy = False
        self.lowest = -1  # free heap, least of an update's (gc.mem_free after a collection)
        self.sock = None
        self.uri = None
        self.hold = False
        self.version = None
        # why the last update failed or was refused, one of KINDS (None: it did not)
        self.failure = None
        self.starts = 0  # updates started since boot, whichever trigger asked
        self.state = "idle"
        self.status = b'{"state":"idle"}'
        j = bootguard.read()
        if j is not None:
            self._say(j["state"], j["version"], why=j.get("why"))
            self.version = j["version"]
        self._confirm = j is not None and j["state"] == "trial"

    def _say(self, state, ver=None, why=None, file=None, done=-1, total=-1):
        self.state = state
        s = {"state": state}
        if ver:
            s["version"] = ver
        if file:
            s["file"] = file
        if done >= 0:
            s["done"], s["total"] = done, total
            if self.lowest >= 0:
                s["free_min"] = self.lowest  # the least free heap seen at a file's start
        if why:
            s["error"] = why
        if self.plain:
            s["plain"] = True  # fetched without OSCORE, as the trigger asked
        self.status = json.dumps(s).encode()

    def _refuse(self, kind, why):
        self.failure = kind
        return why

    def start(self, uri, force=False, plain=False, hold=False):
        """Begin an update from the manifest at uri; None, or why not (and
        self.failure says what kind of why). plain: fetch without OSCORE,
        which only a board without a context may do. hold: stop once every
        file is in ("downloaded"): install() swaps them in."""
        if self.busy:  # a retransmitted POST (no deduplication here) is no error
            return None if uri == self.uri else "an update is under way"
        if not exists("main.py"):
            return self._refuse("failed", "no main.py in the working directory: "
                                "not a deployed tree")
        if not uri.startswith("coap://"):
            return self._refuse("protocol", "bad manifest URI %s: not a coap:// URI" % uri)
        if self.context is None and not plain:
            return self._refuse("protocol", "no update_oscore context: nothing could tell "
                                "the manifest is authentic (?plain fetches it anyway)")
        if self.context is not None and plain:
            return self._refuse("protocol",
                                "the board has an update_oscore context: ?plain is refused")
        # What an update keeps (modules, context, buffers) is allocated after
        # a collection: packed into the lowest free heap, not scattered among
        # the garbage of the requests served so far, where it would leave no
        # room in one piece for a datagram (a fragmented RP2040 heap did)
        _free()
        ctx = None
        if self.context is not None:
            if self._ctx is None:
                try:
                    self._ctx = self.context()
                except (ValueError, OSError) as e:  # names fields and files, never keys
                    return self._refuse("failed", "update_oscore: %s" % e)
            ctx = self._ctx
        # The client's modules load with the first update, not at boot: a
        # board that is never updated keeps their heap
        from coap.blockget import BlockGet
        from coap.client import Client, parse_uri

        self.cancel()  # what an earlier one downloaded and held
        try:
            host, port, segs = parse_uri(uri)
            if not segs or len(segs) > 7:
                raise ValueError("no manifest path")
            self.sock = self.connect(host, port)
        except (ValueError, OSError) as e:
            return self._refuse("uri", "bad manifest URI %s: %s" % (uri, e))
        self.uri = uri
        self.hold = hold
        self.failure = None
        self.starts += 1
        self.base = segs[:-1]
        self.force = force
        self.busy = True
        self.lowest = -1
        self.version = None
        self.plain = plain
        client = Client(self.sock, _REQUEST)
        if ctx is not None:
            from coap.oscoreclient import Protector

            client.oscore = Protector(ctx, _REQUEST)
        # 512-byte blocks: each datagram read allocates its size, and a heap
        # that has served a while may have no 1.1 KB in one piece (RP2040)
        client.rx = _RX
        self.get = BlockGet(client, limit=MAX_MANIFEST)
        self.get.szx = 5
        self.starved = 0
        self.todo = None
        self.resumes = 0
        bootguard.remove_tree(NEW)
        # The manifest goes to a file as it comes, staged as the new app.json,
        # and is parsed from there: a board's heap, fragmented after hours of
        # serving, may have 60 KB free and no 4 KB in one piece
        self.sink = _FileSink(INSTALLED)
        self._fetch([segs[-1]], self.sink)
        self._say("manifest")
        self.log("update: fetching %s%s" % (uri, " in plain CoAP" if plain else " over OSCORE"))
        return None

    def _fetch(self, segs, sink):
        from coap.client import Path  # loaded by start() already

        p = Path(16, 64)
        for s in self.base + segs:
            if not p.add(s, 0, len(s)):
                raise ValueError("URI path too deep or a segment too long")
        self.get.start(p, sink)

    def tick(self):
        if self._confirm:  # serving: the new version came up (bootguard.py)
            self._confirm = False
            bootguard.confirm()
            self.log("update: %s confirmed" % running())
            self._say("done", running())
        if not self.busy:
            return
        # Blocks for up to TICK_MS of each tick (answers on a LAN come in a few
        # ms); then the serve loop has its turn
        t0 = ticks_ms()
        while ticks_diff(ticks_ms(), t0) < TICK_MS:
            try:
                r = self.get.poll()
            except MemoryError:  # no room for a datagram now: it waits in the stack
                self.starved += 1
                if self.starved < _STARVED:
                    _free()
                    return
                self.failure = "memory"
                return self._fail("out of memory (%d bytes free)" % _free())
            self.starved = 0
            if r is None:
                sleep_ms(1)
                continue
            try:
                if not self._done(r):
                    return
            except (ValueError, OSError) as e:
                return self._fail(str(e))
            except MemoryError:  # the manifest's files list, a file's buffers
                self.failure = "memory"
                return self._fail("out of memory (%d bytes free)" % _free())

    def _done(self, r):
        if r != _CONTENT:
            if r == -1 and self.resumes < RESUMES:  # TIMEOUT: from the last good block
                self.resumes += 1
                self.get.resume()
                return True
            from coap.blockget import describe  # loaded by start() already

            why = describe(r)
            if r == _UNPROTECTED:  # the file server's plain error says why
                why += " (%s)" % describe(self.get.client.oscore.plain_code)
            self.failure = _kind(r, self.todo is None)
            raise ValueError(why)
        if self.todo is None:
            return self._manifest()
        f = self._file(self.index)
        digest = self.sink.close()
        if self.get.pos != f["size"] or digest != f["sha256"]:
            self.failure = "integrity"
            raise ValueError("%s: SHA-256 or size differs from the manifest" % f["path"])
        self.index += 1
        return self._next()

    def _manifest(self):
        self.sink.close()
        self.failure = "package"
        # Of the files, only where each changed one is named stays in memory
        todo = array("I")

        def each(f, off, n):
            if changed(f):
                todo.append(off)
                todo.append(n)
        m = scan(NEW + INSTALLED, each)
        self.version = m["version"]
        self.failure = "version"
        now = running()
        if version(self.version) <= version(now) and not self.force:
            raise ValueError("manifest %s is not newer than %s (force to downgrade)"
                             % (self.version, now))
        self.failure = None
        self.todo = todo
        self.count = len(todo) // 2
        self.index = 0
        self.get.limit = MAX_FILE
        return self._next()

    def _file(self, k):
        # the k-th changed file's entry, read again from the staged manifest
        return entry(NEW + INSTALLED, self.todo[2 * k], self.todo[2 * k + 1])

    def _next(self):
        if self.index < self.count:
            free = _free()  # collected: the figure /board shows, and room for the next
            if free >= 0 and (self.lowest < 0 or free < self.lowest):
                self.lowest = free
            f = self._file(self.index)
            self.sink = _FileSink(f["path"])
            self.resumes = 0
            self._say("fetching", self.version, file=f["path"], done=self.index,
                      total=self.count)
            self._fetch([s.encode() for s in f["path"].split("/")], self.sink)
            return True
        if self.hold:  # every file in and verified: install() swaps them in
            self._close()
            self._say("downloaded", self.version, done=self.count, total=self.count)
            self.log("update: %s downloaded; waiting to install" % self.version)
            return False
        self._swap()
        return False

    def install(self):
        """Swap in what a held update downloaded and reboot (raises Reboot);
        why not, when nothing is downloaded."""
        if self.state != "downloaded":
            return "nothing downloaded to install"
        self._say("swap", self.version)
        self._swap()

    def cancel(self):
        """Drop an update under way or downloaded: the board stays as it is."""
        if self.busy or self.state == "downloaded":
            if self.busy and isinstance(self.sink, _FileSink):
                self.sink.file.close()
            self._close()
            bootguard.remove_tree(NEW)
            self.log("update: %s dropped" % (self.version or self.uri))
            self.plain = False
            self._say("idle")
        self.failure = None

    def _swap(self):
        paths = [self._file(k)["path"] for k in range(self.count)] + [INSTALLED]
        bootguard.remove_tree(OLD)
        j = {"state": "swap", "version": self.version, "previous": running(),
             "files": paths, "added": [p for p in paths if not exists(p)]}
        bootguard.write(j)
        bootguard.swap(j)
        self.log("update: %s in place (%d files); rebooting" % (self.version, len(paths) - 1))
        self._close()
        raise Reboot()

    def _fail(self, why):
        if self.failure is None:  # an OSError: most often the flash is full
            self.failure = "storage" if "ENOSPC" in why or "Errno 28" in why else "failed"
        if isinstance(self.sink, _FileSink):
            self.sink.file.close()
        self._close()
        bootguard.remove_tree(NEW)
        self.log("update: refused: %s; %s keeps running" % (why, running()))
        self._say("failed", self.version, why=why)

    def _close(self):
        self.busy = False
        if self.sock is not None:
            self.sock.close()
            self.sock = None


#: kinds of failure (Updater.failure), from the first request's or a later one's
KINDS = ("uri", "protocol", "connection", "integrity", "package", "version", "storage",
         "memory", "failed")


def _kind(r, manifest):
    """The kind of a poll() result other than 2.05 (coap.blockget)."""
    if r in (-1, -2, -3, -4, -6):  # no answer, reset, unreachable, changing, bad block
        return "connection"
    if r == -5:  # larger than allowed
        return "storage" if not manifest else "package"
    if r == _UNPROTECTED:  # a file server without the update context
        return "protocol"
    if r == -8:  # failed OSCORE verification
        return "integrity"
    if r == 132 and manifest:  # 4.04: no manifest there
        return "uri"
    return "failed"
