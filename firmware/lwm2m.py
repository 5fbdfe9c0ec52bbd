# Serving OMA LwM2M objects (LwM2M 1.1 Core TS) from a few table entries:
# one subtree Resource per object answers /<obj>[/<inst>[/<res>]], found
# from the request's path segments, and each observable resource has an
# entry of its own, so that Observe keeps its observers apart; an observed
# object, instance or other resource is observed through its object's
# entry, and notified by the attributes of its level (Group). An instance
# is a tuple, its resources a shared description per object type; values
# come from the subclass (lwm2mboard.Objects). Entries are unlisted: the
# registration and Discover describe them. See docs/lwm2m.md.
#
# Read: text/plain for a resource (its default), TLV and SenML JSON or CBOR
# (lwm2msenml) for any level, link format (40) for Discover. Write: text or TLV. Execute: POST to a
# resource described as executable. Nothing here allocates on a read.

from coap import Resource
from coap.clock import ticks_ms
from coap.parse import Request
from coap.tlv import FORMAT as TLV
from coap.tlv import INSTANCE, MULTIPLE, RESOURCE
from lwm2mattrs import Attrs, Group, Notifier

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

_TEXT = const(0)
_LINK = const(40)
_CHANGED = const(68)
_BAD_REQUEST = const(128)
_NOT_FOUND = const(132)
_METHOD_NOT_ALLOWED = const(133)
_NOT_ACCEPTABLE = const(134)
_SERVICE_UNAVAILABLE = const(163)
_SENML_JSON = const(110)
_SENML_CBOR = const(112)
_RES_CT = (_TEXT, TLV, _LINK, _SENML_JSON, _SENML_CBOR)
_LEVEL_CT = (TLV, _TEXT, _LINK, _SENML_JSON, _SENML_CBOR)  # TLV by default; text: resources

# resource types (LwM2M Core TS Appendix C), in a description's low bits
STRING = const(0)
INTEGER = const(1)
FLOAT = const(2)   # a fixed-point reading in hundredths
BOOLEAN = const(3)
_KIND = const(3)
# what a resource allows, in the same int
READ = const(4)
WRITE = const(8)
EXEC = const(16)
MULTI = const(32)  # a multiple resource, of one instance (0)
OBS = const(64)    # observable: an entry of its own


def _num(req, i):
    """Path segment i as a number of 1-5 digits, or -1 (no allocation)."""
    n = req.path_len[i]
    if n == 0 or n > 5:
        return -1
    off = req.path_off[i]
    v = 0
    for k in range(n):
        d = req.buf[off + k] - 48
        if d < 0 or d > 9:
            return -1
        v = v * 10 + d
    return v


def _put(t, kind, ident, v):
    if kind == STRING:
        t.string(ident, v)
    elif kind == FLOAT:
        t.fixed(ident, v, 2)
    elif kind == BOOLEAN:
        t.boolean(ident, v)
    else:
        t.integer(ident, v)


def _tlv_resource(t, tree, k, rid, spec):
    v = tree.value(k, rid)
    if v is None:
        return
    if spec & MULTI:
        t.begin(MULTIPLE, rid)
        _put(t, spec & _KIND, 0, v)
        t.end()
    else:
        _put(t, spec & _KIND, rid, v)


def _tlv_instance(t, tree, k):
    for rid, spec in tree.insts[k][2]:
        if spec & READ:
            _tlv_resource(t, tree, k, rid, spec)


def _tlv(t, tree):
    # what tree.k and tree.j name: an object (k < 0), an instance (j < 0), a resource
    k, j = tree.k, tree.j
    if k < 0:
        obj = tree.objs[tree.o]
        for k in range(len(tree.insts)):
            if tree.insts[k][0] == obj:
                t.begin(INSTANCE, tree.insts[k][1])
                _tlv_instance(t, tree, k)
                t.end()
    elif j < 0:
        _tlv_instance(t, tree, k)
    else:
        rid, spec = tree.insts[k][2][j]
        _tlv_resource(t, tree, k, rid, spec)


def _text(resp, kind, v):
    if kind == STRING:
        resp.payload(v)
    elif kind == FLOAT:
        resp.payload_fixed(v, 2)
    elif kind == BOOLEAN:
        resp.payload(b"1" if v else b"0")
    else:
        resp.payload_int(v)


class Tree:
    """The objects, from instances: (object id, instance id, its resources
    ((id, type | READ | WRITE | EXEC | MULTI | OBS), ...)), kept sorted with
    their first attribute level in self.insts. A subclass gives value(k, rid)
    (None: none now), write(k, rid, v), execute(k, rid) and missing(k, rid,
    resp) of instance k; execute returns None, or why not (a 4.00)."""

    def __init__(self, instances):
        instances.sort(key=lambda i: (i[0], i[1]))
        self.objs = []
        for obj, _, _ in instances:
            if obj not in self.objs:
                self.objs.append(obj)
        # attribute levels: each object, then each instance and its resources
        level = len(self.objs)
        self.insts = []
        for obj, iid, res in instances:
            self.insts.append((obj, iid, res, level))
            level += 1 + len(res)
        self.attrs = [None] * level  # lwm2mattrs.Attrs, made when first set
        self.tlv = None              # coap.tlv.Tlv and Reader: the subclass's
        self.reader = None
        self.senml = None            # lwm2msenml.Senml, made by the first SenML read
        self.o = self.k = self.j = -1  # the level a request names (_find)
        self.watched = []  # (instance, resource index, table entry, Notifier)
        # observed through an object's entry: a Group per level, made when
        # first observed; which level each observer's request names
        self.groups = [None] * level
        self.grouped = []
        self.entries = []  # the objects' table entries
        self._slot = None  # per observer table entry: its level, -1: none of ours
        self._seen = -1    # the observer table's version _slot is of
        self._req = None   # a coap.parse.Request for the observers' requests

    def _attrs(self, o, k, j):
        """The Attrs of a level, made with those above it on first use."""
        a = self.attrs
        if a[o] is None:
            a[o] = Attrs()
        if k < 0:
            return a[o]
        i = self.insts[k][3]
        if a[i] is None:
            a[i] = Attrs(a[o])
        if j >= 0 and a[i + 1 + j] is None:
            a[i + 1 + j] = Attrs(a[i])
        return a[i if j < 0 else i + 1 + j]

    def resources(self):
        """The table entries: each observable resource, then each object."""
        out = []
        for k in range(len(self.insts)):
            obj, iid, res, _ = self.insts[k]
            for j in range(len(res)):
                if res[j][1] & OBS:
                    e = Resource("%d/%d/%d" % (obj, iid, res[j][0]), get=self.get, put=self.put,
                                 ct=_RES_CT, obs=True, max_age=0, listed=False)
                    n = Notifier(self._attrs(self.objs.index(obj), k, j),
                                 self._reader(k, res[j][0]), ticks_ms)
                    self.watched.append((k, j, e, n))
                    out.append(e)
        for obj in self.objs:
            e = Resource("%d" % obj, get=self.get, put=self.put, post=self.post, obs=True,
                         ct=_LEVEL_CT, max_age=0, listed=False, subtree=True)
            self.entries.append(e)
            out.append(e)
        return out

    def _reader(self, k, rid):
        return lambda: self.value(k, rid)

    def _find(self, req):
        """Set o, k, j to the level the path names; False: no such level."""
        n = req.path_count
        obj = _num(req, 0)
        self.k = self.j = -1
        if n > 3 or obj not in self.objs:
            return False
        self.o = self.objs.index(obj)
        if n == 1:
            return True
        iid = _num(req, 1)
        for k in range(len(self.insts)):
            if self.insts[k][0] == obj and self.insts[k][1] == iid:
                self.k = k
                if n == 2:
                    return True
                rid = _num(req, 2)
                res = self.insts[k][2]
                for j in range(len(res)):
                    if res[j][0] == rid:
                        self.j = j
                        return True
        return False

    def _spec(self):
        return self.insts[self.k][2][self.j][1] if self.j >= 0 else 0

    def get(self, req, resp):
        if not self._find(req):
            resp.reset(_NOT_FOUND)
            return
        f = resp.format
        spec = self._spec()
        if self.j >= 0 and not spec & READ:
            resp.reset(_METHOD_NOT_ALLOWED)  # an Execute-only resource
            return
        if f == _LINK:
            self._discover(resp)
            return
        if self.j >= 0 and req.accept < 0 and f != _TEXT:
            f = _TEXT  # a resource without Accept: text (its default)
            resp.content_format(f)
        if req.observe == 0:
            self._observed()  # a registration, or a notification rendered
        if self.j < 0:
            if f == _TEXT:
                resp.reset(_NOT_ACCEPTABLE)  # an object or instance is not text
            else:
                self._render(resp, f)
            return
        rid = self.insts[self.k][2][self.j][0]
        v = self.value(self.k, rid)
        if v is None:
            self.missing(self.k, rid, resp)
        elif f == _TEXT:
            _text(resp, spec & _KIND, v)
        else:
            self._render(resp, f)

    def _render(self, resp, f):
        if f == TLV:
            self.tlv.render(resp, _tlv, self)
        else:  # SenML: the same walk, the same calls
            if self.senml is None:  # the first SenML read loads it: most servers read TLV
                from lwm2msenml import Senml
                self.senml = Senml()
            self.senml.render(resp, _tlv, self, f == _SENML_CBOR)

    def missing(self, k, rid, resp):
        resp.error(_SERVICE_UNAVAILABLE, b"no value")

    def _observed(self):
        for k, j, _, n in self.watched:
            if k == self.k and j == self.j:
                n.sent()
                return
        level = self._level()
        g = self.groups[level]
        if g is None:  # first observed: its resources' Notifiers (allocates, once)
            g = Group(self._attrs(self.o, self.k, self.j), self._parts(), ticks_ms)
            self.groups[level] = g
            self.grouped.append(g)
        g.sent()

    def _level(self):
        if self.k < 0:
            return self.o
        return self.insts[self.k][3] + (0 if self.j < 0 else 1 + self.j)

    def _parts(self):
        # a Notifier per numeric readable resource at or below the level
        o, k0, j0 = self.o, self.k, self.j
        obj = self.objs[o]
        parts = []
        for k in range(len(self.insts)):
            res = self.insts[k][2]
            if self.insts[k][0] != obj or (k0 >= 0 and k != k0):
                continue
            for j in range(len(res)):
                spec = res[j][1]
                if (j0 < 0 or j == j0) and spec & READ and spec & _KIND != STRING:
                    parts.append(Notifier(self._attrs(o, k, j), self._reader(k, res[j][0]),
                                          ticks_ms))
        return parts

    def _discover(self, resp):
        # §5.4.2: the links of this level and below, each with its own attributes
        o, k0, j0 = self.o, self.k, self.j
        obj = self.objs[o]
        first = k0 < 0
        if first:
            resp.payload(b"</")
            resp.payload_int(obj)
            resp.payload(b">")
            self._attrs_link(resp, o)
        for k in range(len(self.insts)):
            inst_obj, iid, res, level = self.insts[k]
            if inst_obj != obj or (k0 >= 0 and k != k0):
                continue
            for j in range(-1, len(res)):
                if j0 >= 0 and j != j0:
                    continue
                if first:
                    resp.payload(b",")
                first = True
                resp.payload(b"</")
                resp.payload_int(obj)
                resp.payload(b"/")
                resp.payload_int(iid)
                if j >= 0:
                    resp.payload(b"/")
                    resp.payload_int(res[j][0])
                resp.payload(b">")
                if j >= 0 and res[j][1] & MULTI:
                    resp.payload(b";dim=1")
                self._attrs_link(resp, level + 1 + j)

    def _attrs_link(self, resp, level):
        a = self.attrs[level]
        if a is not None:
            a.write_link(resp)

    def put(self, req, resp):
        """Write-Attributes (§5.4.4: only Uri-Query, no payload), or a Write."""
        if not self._find(req):
            resp.reset(_NOT_FOUND)
            return
        if req.payload_len == 0 and req.query_count:
            why = self._attrs(self.o, self.k, self.j).write(req)
            if why is None:
                resp.set_code(_CHANGED)
            else:
                resp.error(_BAD_REQUEST, why)
            return
        self._write(req, resp)

    def post(self, req, resp):
        """Execute a resource, or update an instance (a partial Write)."""
        if not self._find(req):
            resp.reset(_NOT_FOUND)
        elif self.j >= 0 and self._spec() & EXEC:
            why = self.execute(self.k, self.insts[self.k][2][self.j][0])
            if why is None:
                resp.set_code(_CHANGED)
            else:
                resp.error(_BAD_REQUEST, why)
        elif self.j < 0 and self.k >= 0:
            self._write(req, resp)
        else:
            resp.reset(_METHOD_NOT_ALLOWED)

    def _write(self, req, resp):
        """PUT (replace) or POST to an instance (partial update): §5.4.3.
        Only resources described as writable take a value."""
        k, j = self.k, self.j
        res = self.insts[k][2] if k >= 0 else ()
        if not (res[j][1] & WRITE if j >= 0 else any(s & WRITE for _, s in res)):
            resp.reset(_METHOD_NOT_ALLOWED)
            return
        resp.set_code(_CHANGED)
        if req.content_format == TLV:
            self._write_tlv(req, resp, k, res)
            return
        if j < 0:
            resp.error(_BAD_REQUEST, b"an instance is written as TLV")
            return
        kind = res[j][1] & _KIND
        if kind == STRING:
            v = bytes(req.buf[req.payload_off:req.payload_off + req.payload_len])
        else:
            v = req.payload_int()
        boolean = kind == BOOLEAN
        if v is None or (boolean and v not in (0, 1)):
            resp.error(_BAD_REQUEST, b"expected 0 or 1" if boolean else b"expected an integer")
            return
        why = self.check(k, res[j][0], v)
        if why is not None:
            resp.error(_BAD_REQUEST, why)
            return
        self.write(k, res[j][0], v)

    def check(self, k, rid, v):
        """None when v may be written to resource rid of instance k, else
        why not (a 4.00). The subclass's."""
        return None

    def _write_tlv(self, req, resp, k, res):
        rd = self.reader
        for check in (True, False):  # all or nothing: check every value first
            rd.start(req.buf, req.payload_off, req.payload_off + req.payload_len)
            while rd.next():
                if rd.kind != RESOURCE:
                    continue  # an instance header: its resources follow
                spec = -1
                for j in range(len(res)):
                    if res[j][0] == rd.ident and (self.j < 0 or j == self.j):
                        spec = res[j][1]
                if spec < 0 or not spec & WRITE:
                    resp.error(_NOT_FOUND if spec < 0 else _METHOD_NOT_ALLOWED,
                               b"no such resource" if spec < 0 else b"not writable")
                    return
                if spec & _KIND == STRING:
                    v = bytes(req.buf[rd.value_off:rd.value_off + rd.value_len])
                else:
                    v = rd.integer()
                if v is None or (spec & _KIND == BOOLEAN and v not in (0, 1)):
                    resp.error(_BAD_REQUEST, b"bad value")
                    return
                why = self.check(k, rd.ident, v)
                if why is not None:
                    resp.error(_BAD_REQUEST, why)
                    return
                if not check:
                    self.write(k, rd.ident, v)
            if rd.bad:
                resp.error(_BAD_REQUEST, b"TLV entry runs past the payload")
                return

    def notify_due(self, observers):
        """Tell observers of each observed resource whose attributes say a
        notification is due (lwm2mattrs.Notifier)."""
        for _, _, e, n in self.watched:
            if n.due():
                observers.changed(e)
                n.sent()
        fired = False
        for g in self.grouped:
            if g.due():
                g.fire = fired = True
        if not fired:
            return
        self._levels(observers)
        for i in range(observers.size):
            level = self._slot[i]
            if level >= 0 and self.groups[level] is not None and self.groups[level].fire:
                observers.changed_entry(i)
        for g in self.grouped:
            if g.fire:
                g.fire = False
                g.sent()

    def _levels(self, observers):
        """Which level each observer of an object's entry observes, from its
        request as the table keeps it (again only when the table changed)."""
        if self._slot is not None and self._seen == observers.version:
            return
        if self._slot is None:
            self._slot = [-1] * observers.size
            self._req = Request()
        req = self._req
        for i in range(observers.size):
            self._slot[i] = -1
            if observers.addr[i] is not None and observers.res[i] in self.entries:
                req.parse(observers.request[i], observers.request_len[i])
                if self._find(req):
                    self._slot[i] = self._level()
        self._seen = observers.version

    def registration_links(self):
        """The Register payload (§6.2.1): the root, then each instance."""
        return b",".join([b'</>;rt="oma.lwm2m";ct=11542'] +
                         [b"</%d/%d>" % (i[0], i[1]) for i in self.insts])
