# Remote configuration over OSCORE (docs/remote-config.md): PUT /board/config
# takes a whole config.json block-wise (RFC 7959 Block1), checks it with
# config.loads, the check the board runs at boot and tools/deploy runs on the
# host, and writes it atomically; it takes effect at the next boot, which
# POST /board/reboot asks for. GET /board/config shows the stored file with
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
#: the paths served only under OSCORE, whatever "open" says
PATHS = ("board/config", "board/reboot")


class RemoteConfig:
    """The handlers of PUT/GET /board/config and POST /board/reboot, for the
    config file at path; running: the config the board runs on."""

    def __init__(self, path, running, log=print):
        self.path = path
        self.running = running
        self.log = log
        self.shown = None  # GET's answer, made at the first GET after a change
        self.rebooting = False
        self.open = open  # the tests' fault injection

    def get(self, req, resp):
        if req.secured is None:
            resp.error(_UNAUTHORIZED, b"OSCORE required")
            return
        if self.shown is None:
            self.shown = json.dumps(config.masked(self._stored())).encode()
        resp.payload(self.shown)

    def put(self, req, resp):
        if req.secured is None:  # the dispatcher refuses it before any block is kept
            resp.error(_UNAUTHORIZED, b"OSCORE required")
            return
        body = bytes(req.buf[req.payload_off:req.payload_off + req.payload_len])
        data, why = self.check(body, req.query_index(b"oscore") >= 0)
        if why is None:
            why = self.write(data)
            if why is not None:
                resp.error(_INTERNAL_ERROR, why.encode())
                return
            self.log("config: %s replaced (%d bytes); the next boot uses it"
                     % (self.path, len(data)))
            resp.set_code(_CHANGED)
            return
        resp.error(_BAD_REQUEST, why.encode())

    def check(self, body, oscore=False):
        """(what to write, None) when body is a config the board takes as it
        is, masked values (config.MASK) standing for the stored file's; else
        (None, one line naming the first bad field, never a secret). oscore:
        the config may drop or change the board's OSCORE context."""
        try:
            text = body.decode()
        except UnicodeError:
            return None, "config: not UTF-8 text"
        try:
            sent = config.parse(text, strict=True)
        except config.Unusable as e:
            return None, "config %s" % e
        raw = config.unmasked(sent, self._stored())
        cfg, problems = config.validate(raw)
        if problems:
            return None, _refusal(problems[0])
        left = _mask_in(raw)
        if left is not None:
            return None, "%s: %s stands for the board's value, and it has none" % (
                left, config.MASK)
        if not oscore and cfg["oscore"] != self.running["oscore"]:
            return None, ("oscore: the upload %s the board's context: the client's "
                          "credentials would not work after the next boot (PUT ?oscore "
                          "if that is meant)" % ("drops" if cfg["oscore"] is None
                                                 else "changes"))
        return (text if raw == sent else json.dumps(raw)), None

    def write(self, data):
        """Write data over the config file atomically: a temporary file renamed
        over the old one. None, or why not (the old file stays)."""
        data = data.encode()
        tmp = self.path + ".tmp"
        try:
            with self.open(tmp, "wb") as f:
                if f.write(data) != len(data):
                    raise OSError(28)  # ENOSPC
            _replace(tmp, self.path)
        except OSError as e:
            try:
                os.remove(tmp)
            except OSError:
                pass
            return "config not written (error %s); the old one stays" % (e.args[0],)
        self.shown = None
        return None

    def _stored(self):
        try:
            with open(self.path) as f:
                return json.loads(f.read(config.MAX_BYTES + 1))
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


def _replace(src, dst):
    try:
        os.rename(src, dst)  # POSIX and littlefs replace dst in one step
    except OSError:
        os.remove(dst)  # FAT does not: a power loss here leaves src only
        os.rename(src, dst)
