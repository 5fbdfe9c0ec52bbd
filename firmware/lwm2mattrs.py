# LwM2M notification attributes (1.1 Core §5.1.2): pmin, pmax, gt, lt, st,
# epmin, epmax, set by Write-Attributes (a PUT with only Uri-Query options, §5.4.4) on an
# object, an instance or a resource, shown by Discover, and deciding when an
# observed resource (Notifier), instance or object (Group) notifies. A resource's own attribute wins over its
# instance's, which wins over its object's. Thresholds are hundredths, like
# the readings ("st=0.5" is 50). epmin and epmax bound how often a value is
# evaluated (read and compared): never sooner than epmin after the last
# evaluation, which holds in between; at least every epmax, which the tick
# (every 100 ms) always meets.

from coap.clock import ticks_diff

NAMES = (b"pmin", b"pmax", b"gt", b"lt", b"st", b"epmin", b"epmax")
_PMIN, _PMAX, _GT, _LT, _ST, _EPMIN, _EPMAX = 0, 1, 2, 3, 4, 5, 6


class Attrs:
    """The attributes of one object, instance or resource; `up` is those of
    the level above (None at the object)."""

    def __init__(self, up=None):
        self.up = up
        self.v = [None] * len(NAMES)  # None: not set here

    def get(self, k):
        a = self
        while a is not None:
            if a.v[k] is not None:
                return a.v[k]
            a = a.up
        return None

    def write(self, req):
        """Apply the request's Uri-Query attributes, all or none: None when
        applied, else what was wrong (for a 4.00). `name` alone unsets it."""
        new = list(self.v)
        for i in range(min(req.query_count, req.max_query)):
            off, n = req.query_off[i], req.query_len[i]
            q = bytes(req.buf[off:off + n])
            name, eq, value = q.partition(b"=")
            if name not in NAMES:
                return b"unknown attribute " + name
            k = NAMES.index(name)
            if not eq:
                new[k] = None
                continue
            v = _number(value, _hundredths(k))
            if v is None or v < 0 and k != _GT and k != _LT:
                return b"bad value of " + name
            new[k] = v
        pmin, pmax = new[_PMIN], new[_PMAX]
        if pmin is not None and pmax is not None and pmax < pmin:
            return b"pmax below pmin"
        epmin, epmax = new[_EPMIN], new[_EPMAX]
        if epmin is not None and epmax is not None and epmax <= epmin:
            return b"epmax must be above epmin"  # §5.1.2
        gt, lt, st = new[_GT], new[_LT], new[_ST]
        if gt is not None and lt is not None and (lt >= gt or st is not None and lt + 2 * st >= gt):
            return b"lt must be below gt (by more than 2 st)"  # §5.1.2
        self.v = new
        return None

    def write_link(self, resp):
        """Its own attributes as link-params (Discover)."""
        for k in range(len(NAMES)):
            v = self.v[k]
            if v is not None:
                resp.payload(b";")
                resp.payload(NAMES[k])
                resp.payload(b"=")
                if _hundredths(k):
                    resp.payload_fixed(v, 2)
                else:
                    resp.payload_int(v)


def _hundredths(k):
    return _GT <= k <= _ST  # the thresholds; the periods are whole seconds


def _number(text, hundredths):
    """An int (seconds), or hundredths of a decimal ("-2.5" -> -250); None
    when it is not one."""
    neg = text[:1] == b"-"
    whole, dot, frac = text[1 if neg else 0:].partition(b".")
    if not whole.isdigit() or (dot and not (hundredths and frac.isdigit() and len(frac) <= 2)):
        return None
    v = int(whole)
    if hundredths:
        v = v * 100 + (int(frac + b"0" * (2 - len(frac))) if frac else 0)
    return -v if neg else v


class Notifier:
    """When one observed resource notifies (§5.1.2): never sooner than pmin
    after the last notification; at pmax at the latest; between the two when
    the value crossed gt or lt, moved by st since the last one, or (none of
    the three set) changed at all. The value is evaluated no more often
    than epmin says."""

    def __init__(self, attrs, value, ticks_ms):
        self.attrs = attrs
        self.value = value  # returns the value now, or None
        self.ticks_ms = ticks_ms
        self.last = None
        self.at = ticks_ms()
        self.started = False  # nothing to measure from before an observation
        self.held = None      # the last evaluated value, and when it was read
        self.read_at = self.at

    def sent(self):
        """An observation began or a notification went: measure from now."""
        self.last = self.held = self.value()
        self.at = self.read_at = self.ticks_ms()
        self.started = True

    def sample(self):
        """The value now; before epmin has passed since the last read, that
        read's value (§5.1.2: the minimum evaluation period)."""
        now = self.ticks_ms()
        epmin = self.attrs.get(_EPMIN)
        if epmin and ticks_diff(now, self.read_at) < epmin * 1000:
            return self.held
        self.held = self.value()
        self.read_at = now
        return self.held

    def due(self):
        if not self.started:
            return False
        w = _when(self.attrs, ticks_diff(self.ticks_ms(), self.at))
        return w if w is not None else self.changed()

    def changed(self):
        """The value crossed gt or lt, moved by st, or (none set) changed
        since sent()."""
        a = self.attrs
        v, last = self.sample(), self.last
        if v is None or last is None:
            return v is not last
        gt, lt, st = a.get(_GT), a.get(_LT), a.get(_ST)
        if gt is None and lt is None and st is None:
            return v != last
        if gt is not None and (v > gt) != (last > gt):
            return True
        if lt is not None and (v < lt) != (last < lt):
            return True
        return st is not None and abs(v - last) >= st


def _when(a, since):
    """False before pmin, True at pmax, None in between (the values decide)."""
    pmin = a.get(_PMIN) or 0
    if since < pmin * 1000:
        return False
    pmax = a.get(_PMAX)
    if pmax is not None and pmax > 0 and since >= pmax * 1000:
        return True
    return None


class Group:
    """When an observed object or instance notifies (1.1 Core §5.1.2): its
    own pmin and pmax; in between when one of its resources changed as that
    resource's attributes (gt, lt, st, inherited from the levels above) say.
    parts: a Notifier per numeric resource, compared from the group's last
    notification, not from the resource's own."""

    def __init__(self, attrs, parts, ticks_ms):
        self.attrs = attrs
        self.parts = parts
        self.ticks_ms = ticks_ms
        self.at = ticks_ms()
        self.started = False
        self.fire = False  # due: its observers notify at this tick

    def sent(self):
        for p in self.parts:
            p.sent()
        self.at = self.ticks_ms()
        self.started = True

    def due(self):
        if not self.started:
            return False
        w = _when(self.attrs, ticks_diff(self.ticks_ms(), self.at))
        if w is not None:
            return w
        for p in self.parts:
            if p.changed():
                return True
        return False
