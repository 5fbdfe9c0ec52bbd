# Remote configuration over OSCORE (docs/remote-config.md): PUT /board/config
# takes a whole config.json block-wise (RFC 7959 Block1), streamed into a
# temporary file, checks it with config.parse and config.validate (what the
# board runs at boot and tools/deploy on the host) and renames it over the
# old one; it takes effect at the next boot, which POST /board/reboot asks for. GET /board/config shows the stored file with
# its secrets masked. All three only under OSCORE: app.py leaves them out of
# "open", and each handler checks again.
#
# A config that drops or changes the board's OSCORE context would lock out
# the client that sent it: refused unless the PUT says ?oscore.

import json
import os

import config
import update

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

_JSON = const(50)
_CHANGED = const(68)
_BAD_REQUEST = const(128)
_UNAUTHORIZED = const(129)
_INTERNAL_ERROR = const(160)
_CONTINUE = const(95)
_INCOMPLETE = const(136)
_TOO_LARGE = const(141)
_SIZE1 = const(60)
#: the paths served only under OSCORE, whatever "open" says
PATHS = ("board/config", "board/reboot")


class RemoteConfig:
    """The handlers of PUT/GET /board/config and POST /board/reboot, for the
    config file at path; running: the config the board runs on."""

    #: The largest upload (4.13 beyond), what config.load reads
    upload_max = config.MAX_BYTES

    def __init__(self, path, running, log=print):
        self.path = path
        self.running = running
        self.log = log
        self.shown = None  # GET's answer, made at the first GET after a change
        self.rebooting = False
        self.at = -1  # the body bytes an upload has written so far; -1: none under way
        self.peer = None  # whose it is
        self.open = open  # the tests' fault injection

    def get(self, req, resp):
        if req.secured is None:
            resp.error(_UNAUTHORIZED, b"OSCORE required")
            return
        if self.shown is None:
            self.shown = json.dumps(config.masked(self._stored())).encode()
        resp.payload(self.shown)

    def put(self, req, resp):
        """The body block by block (RFC 7959 §2.3, Resource.blocks) into a
        temporary file, each block written where it belongs: no buffer of
        the body's size, which a board's heap after boot may not have. The
        last block checks the whole and renames it over the config file."""
        if req.secured is None:  # the dispatcher refuses it before any block is kept
            resp.error(_UNAUTHORIZED, b"OSCORE required")
            return
        b = req.block1  # -1: the body in one message
        n = req.payload_len
        szx = b & 7
        more = b >= 0 and b & 8
        start = (b >> 4) << (szx + 4) if b > 0 else 0
        if b >= 0 and (szx == 7 or n > (16 << szx) or more and n != (16 << szx)):
            resp.error(_BAD_REQUEST, b"Block1 size")  # §2.2: SZX 7; §2.3: M=1 is a whole block
            return
        if start + n > self.upload_max:
            self.at = -1
            resp.reset(_TOO_LARGE)
            resp.option_uint(_SIZE1, self.upload_max)  # §4: the largest body it takes
            return
        if start == 0:
            self.peer = req.peer
            self.at = 0
        elif self.at < 0 or start > self.at or req.peer != self.peer:
            resp.error(_INCOMPLETE, b"Block1 out of order")  # §2.5
            return
        tmp = self.path + ".tmp"
        why = self._block(tmp, "wb" if start == 0 else "r+b", start, req.buf,
                          req.payload_off, n)
        if why is None and more:
            self.at = max(self.at, start + n)
            resp.set_code(_CONTINUE)
            return
        self.at = -1
        if why is None:
            why = self.take(tmp, req.query_index(b"oscore") >= 0)
            if why is None:
                self.log("config: %s replaced; the next boot uses it" % self.path)
                resp.set_code(_CHANGED)
                return
        _remove(tmp)
        resp.error(_INTERNAL_ERROR if why.startswith("config not written") else _BAD_REQUEST,
                   why.encode())

    def _block(self, tmp, mode, start, buf, off, n):
        try:
            with self.open(tmp, mode) as f:
                f.seek(start)
                if f.write(memoryview(buf)[off:off + n]) != n:
                    raise OSError(28)  # ENOSPC
        except OSError as e:
            return "config not written (error %s); the old one stays" % (e.args[0],)
        return None

    def take(self, tmp, oscore=False):
        """Check the config in tmp and rename it over the config file: None,
        or one line naming the first bad field (never a secret). Masked values
        (config.MASK) stand for the stored file's. oscore: the config may drop
        or change the board's OSCORE context."""
        try:
            sent = self._read(tmp)
        except config.Unusable as e:
            return "config %s" % e
        raw = config.unmasked(sent, self._stored())
        cfg, problems = config.validate(raw)
        if problems:
            return _refusal(problems[0])
        left = _mask_in(raw)
        if left is not None:
            return "%s: %s stands for the board's value, and it has none" % (left, config.MASK)
        if not oscore and cfg["oscore"] != self.running["oscore"]:
            return ("oscore: the upload %s the board's context: the client's credentials "
                    "would not work after the next boot (PUT ?oscore if that is meant)"
                    % ("drops" if cfg["oscore"] is None else "changes"))
        try:
            if raw != sent:  # the keys themselves in place of the masks
                with self.open(tmp, "w") as f:
                    json.dump(raw, f)
            _replace(tmp, self.path)
        except OSError as e:
            return "config not written (error %s); the old one stays" % (e.args[0],)
        self.shown = None
        return None

    def _read(self, tmp):
        # config.parse, the check config.load runs; on a heap with no free
        # block of the file's size, json.load from the file instead
        try:
            with self.open(tmp, "rb") as f:
                data = f.read()
            text = str(data, "utf-8")
        except UnicodeError:
            raise config.Unusable("is not UTF-8 text")
        except MemoryError:
            text = data = None
        if text is not None:
            return config.parse(text, strict=True)
        try:
            with open(tmp) as f:
                return json.load(f)
        except ValueError:
            raise config.Unusable("is not valid JSON")

    def _stored(self):
        # The config file as JSON, streamed: no buffer of the file's size
        try:
            if os.stat(self.path)[6] > config.MAX_BYTES:
                return {}
            with open(self.path) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def reboot_post(self, req, resp):
        """Answered 2.04 at once; the board reboots at the next tick."""
        if req.secured is None:
            resp.error(_UNAUTHORIZED, b"OSCORE required")
            return
        self.rebooting = True
        resp.set_code(_CHANGED)

    def tick(self):
        if self.rebooting:
            self.rebooting = False
            self.log("board: rebooting (POST /board/reboot)")
            raise update.Reboot()


def _refusal(line):
    # A problem line of config.validate, as tools/deploy shows it, without
    # what the board would do instead ("; using 5683", "ignored"): the upload
    # is refused
    line = line[len("config: "):]
    if line.endswith(" ignored"):
        return line[:-len(" ignored")]
    i = line.rfind("; ")
    if i > 0 and (line.startswith("using ", i + 2) or line.startswith("OSCORE-", i + 2)):
        line = line[:i]
    return line


def _mask_in(v, where=""):
    # the first field still config.MASK after unmasked(): its dotted name
    if v == config.MASK:
        return where or "config"
    items = v.items() if isinstance(v, dict) else enumerate(v) if isinstance(v, list) else ()
    for k, x in items:
        found = _mask_in(x, "%s%s%s" % (where, "." if where else "", k))
        if found is not None:
            return found
    return None


def _remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


def _replace(src, dst):
    try:
        os.rename(src, dst)  # POSIX and littlefs replace dst in one step
    except OSError:
        os.remove(dst)  # FAT does not: a power loss here leaves src only
        os.rename(src, dst)
