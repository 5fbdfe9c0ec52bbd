# LwM2M Firmware Update, object 5 (LwM2M 1.1 Core TS, Appendix E.6), on the
# board's app update (update.py), pull only. Its state machine on the
# updater's two steps:
#
#     write 5/0/1 (a manifest's coap:// URI)  Idle -> Downloading (1): the
#         manifest and the changed files are fetched and each SHA-256 checked
#     every file in and verified              -> Downloaded (2), held
#     execute 5/0/2                            -> Updating (3): the swap, and
#         the reboot into the new version; once it serves: Idle, Result 1
#     write 5/0/1 ""                           -> Idle, Result 0: the download
#         under way or held is dropped
#
# A failure goes back to Idle with the Update Result of its kind (RESULTS).
# The fetch goes over the board's update_oscore context; a board without one
# fetches in plain CoAP only when its "lwm2m" config says "update_plain",
# else a URI written is refused with Result 9. docs/lwm2m.md, docs/updates.md.
# lwm2mboard describes the resources and loads this module on their first
# use: a board whose server never looks at object 5 keeps the heap.

# State (5/0/3)
IDLE = 0
DOWNLOADING = 1
DOWNLOADED = 2
UPDATING = 3

# Update Result (5/0/5) of each kind of update.Updater failure
RESULTS = {"storage": 2,      # Not enough flash memory for the new package
           "memory": 3,       # Out of RAM during downloading process
           "connection": 4,   # Connection lost during downloading
           "integrity": 5,    # Integrity check failure (a SHA-256, OSCORE)
           "package": 6,      # Unsupported package type (not a manifest)
           "uri": 7,          # Invalid URI
           "version": 8,      # Firmware update failed (not newer than the running one)
           "failed": 8,
           "protocol": 9}     # Unsupported protocol (no OSCORE, not coap://)
SUCCESS = 1
ROLLED_BACK = 8               # the new version did not come up: the old one is back

_STATES = {"manifest": DOWNLOADING, "fetching": DOWNLOADING, "downloaded": DOWNLOADED,
           "swap": UPDATING, "trial": UPDATING}


class Firmware:
    """Object 5 instance 0 on an update.Updater. plain: a board without an
    update context may fetch in plain CoAP (config "lwm2m" "update_plain")."""

    def __init__(self, updater, plain=False, log=print):
        self.updater = updater
        self.plain = plain and updater.context is None
        self.log = log
        self.refused = 0       # the Result of a URI refused before any fetch
        self.refused_at = 0    # ... until the updater starts again (updater.starts)
        self.cleared = False   # "" written: Result 0 until the next URI
        self.installing = False  # Update executed: the tick swaps
        self.uri = b""         # the Package URI written last
        self._ver = None       # the version PkgVersion shows, and its bytes
        self._ver_bytes = b""

    def state(self):
        if self.installing:
            return UPDATING
        return _STATES.get(self.updater.state, IDLE)

    def result(self):
        u = self.updater
        if self.cleared or u.busy or u.state == "downloaded" or self.installing:
            return 0
        if self.refused and self.refused_at == u.starts:
            return self.refused
        if u.state == "done":
            return SUCCESS
        if u.state == "rolledback":
            return ROLLED_BACK
        if u.state == "failed":
            return RESULTS.get(u.failure, 8)
        return 0

    def value(self, rid):
        if rid == 1:
            return self.uri
        if rid == 3:
            return self.state()
        if rid == 5:
            return self.result()
        if rid == 6:
            return b"app" if self._version() else b""
        if rid == 7:
            return self._version()
        return 0  # 8: CoAP, 9: pull

    def _version(self):
        v = self.updater.version
        if v is not self._ver:  # bytes made once per version, not per read
            self._ver = v
            self._ver_bytes = v.encode() if v else b""
        return self._ver_bytes

    def check(self, rid, v):
        if rid == 0:
            return b"push delivery is not supported: write a coap:// URI to /5/0/1"
        if v == b"":
            return None
        if len(v) > 255:
            return b"a Package URI is 0-255 bytes"
        if self.updater.busy or self.installing:
            return b"an update is under way: write \"\" to cancel it"
        try:
            v.decode()
        except UnicodeError:
            return b"the URI is not UTF-8"
        return None

    def write(self, rid, v):
        """Package URI: "" drops what is under way or held, a URI starts the
        download."""
        u = self.updater
        self.uri = v
        if v == b"":
            u.cancel()
            self.refused, self.cleared = 0, True
            return
        self.cleared = False
        why = u.start(v.decode(), plain=self.plain, hold=True)
        self.refused = 0 if why is None else RESULTS.get(u.failure, 8)
        self.refused_at = u.starts
        if why is not None:
            self.log("lwm2m: update refused: %s" % why)

    def execute(self, rid):
        """Update: only in Downloaded (None), else why not."""
        if self.state() != DOWNLOADED:
            return b"no package downloaded (State is not 2)"
        self.installing = True
        return None

    def tick(self):
        """Swaps and reboots once an executed Update was answered."""
        if self.installing:
            self.installing = False
            self.updater.install()  # raises update.Reboot
