# The LwM2M objects of this board (lwm2m.py serves them): what the Device
# and Server objects say, one IPSO instance per reading of the configured
# sensors, the LED as Light Control. app.start() builds them only when the
# config has "lwm2m" (docs/lwm2m.md has the map).

import time

import sleep as deep_sleep
from coap import Resource, __version__
from coap.tlv import FORMAT as TLV
from coap.tlv import Reader, Tlv
from coap.clock import ticks_ms
from lwm2m import BOOLEAN, FLOAT, GENERIC, INTEGER, IPSO, STRING, Entry, Instance, MinMax, Res
from lwm2mattrs import Attrs, Notifier

_TEXT = 0
_LINK = 40
_KNOWN_TIME = 1600000000  # a clock before 2020 has not been set
_PERIPHERAL = 8  # Device 11, Error Code: "Peripheral Malfunction"
_READ_CT = (_TEXT, TLV, _LINK)
_LEVEL_CT = (TLV, _LINK)
#: observable resources: the sensors' values and the LED
_OBSERVABLE = (5700, 5850)


class Reboot(deep_sleep.GoToSleep):
    """Raised from the server's tick once an Execute on 3/0/4 was answered.
    It takes deep sleep's way out of app.run(): the sockets closed, then a
    real board resets and the unix board starts the firmware afresh."""

    def __init__(self, b):
        super().__init__(b, None, 0)

    def sleep(self, socks, log):
        for s in socks:
            s.close()
        log("lwm2m: rebooting (Execute on /3/0/4)")
        try:
            import machine
            machine.reset()
        except (ImportError, AttributeError):
            pass  # the unix port has no reset: main.py starts the firmware again


class Objects:
    def __init__(self, b, cfg, sensors):
        self.board = b
        self.server = None  # set once the server exists: Memory Free reads its heap
        self.lifetime_s = cfg["lwm2m"]["lifetime_s"]
        self.tlv = Tlv()
        self.reader = Reader()
        self.minmax = []
        self.reboot_asked = False
        self.on_update = None  # Execute 1/0/8: the registration's update
        self.watched = []      # (table entry, Notifier) of each observable resource
        self.instances = [self._server(), self._device(b, cfg, sensors)]
        counts = {}
        for r in sensors.readings if sensors is not None else ():
            obj = IPSO.get(r.sensor.quantities[r.index][0], GENERIC)
            counts[obj] = counts.get(obj, -1) + 1
            self.instances.append(self._ipso(obj, counts[obj], r))
        self.instances.append(Instance(3311, 0, [
            Res(5850, BOOLEAN, lambda: 1 if b.led() else 0, lambda v: b.set_led(v))]))
        self.instances.sort(key=lambda i: (i.obj, i.iid))

    def _server(self):
        return Instance(1, 0, [
            Res(0, INTEGER, lambda: 1),                  # Short Server ID
            Res(1, INTEGER, lambda: self.lifetime_s),    # Lifetime
            Res(6, BOOLEAN, lambda: 0),                  # Notification Storing
            Res(7, STRING, lambda: b"U"),                # Binding
            Res(8, INTEGER, execute=self._update)])      # Registration Update Trigger

    def _device(self, b, cfg, sensors):
        model = b.name.encode()
        serial = cfg["name"].encode()
        version = __version__.encode()
        self.sensors = sensors.sensors if sensors is not None else ()
        return Instance(3, 0, [
            Res(0, STRING, lambda: b"coap-board"),       # Manufacturer
            Res(1, STRING, lambda: model),               # Model Number
            Res(2, STRING, lambda: serial),              # Serial Number
            Res(3, STRING, lambda: version),             # Firmware Version
            Res(4, INTEGER, execute=self._reboot),       # Reboot
            Res(10, INTEGER, self._free_kib),            # Memory Free
            Res(11, INTEGER, self._error, multiple=True),  # Error Code
            Res(13, INTEGER, _now),                      # Current Time, where known
            Res(16, STRING, lambda: b"U")])              # Supported Binding and Modes

    def _ipso(self, obj, iid, r):
        mm = MinMax(r)
        self.minmax.append(mm)
        s = r.sensor
        res = [Res(5700, FLOAT, lambda: r.value() if s.ok else None, sensor=s),
               Res(5601, FLOAT, lambda: mm.low if mm.seen else None),
               Res(5602, FLOAT, lambda: mm.high if mm.seen else None),
               Res(5605, INTEGER, execute=mm.reset)]
        if r.unit:
            unit = r.unit.encode()
            res.insert(1, Res(5701, STRING, lambda: unit))
        return Instance(obj, iid, res)

    def _free_kib(self):
        return self.server.heap.free // 1024 if self.server is not None else None

    def _error(self):
        for s in self.sensors:
            if not s.ok:
                return _PERIPHERAL
        return 0

    def _reboot(self):
        self.reboot_asked = True

    def _update(self):
        if self.on_update is not None:
            self.on_update()

    def tick(self):
        """Min and max, the notifications the attributes ask for (lwm2mattrs),
        and a reboot asked for."""
        for mm in self.minmax:
            mm.update()
        obs = self.server.observers if self.server is not None else None
        if obs is not None and obs.active:
            for res, notifier in self.watched:
                if notifier.due():
                    obs.changed(res)
                    notifier.sent()
        if self.reboot_asked:
            raise Reboot(self.board)

    def resources(self):
        """The table entries: every object, instance and resource (unlisted)."""
        out = []
        objs = []
        for inst in self.instances:
            if inst.obj not in objs:
                objs.append(inst.obj)
        for obj in objs:
            insts = [i for i in self.instances if i.obj == obj]
            top = Entry(self, insts, attrs=Attrs())
            top.link = b"</%d>" % obj
            below = [top]
            out.append(self._entry("%d" % obj, top, top.put, None, _LEVEL_CT))
            for inst in insts:
                e = Entry(self, insts, inst, attrs=Attrs(top.attrs))
                e.link = b"</%d/%d>" % (obj, inst.iid)
                writable = any(r.write is not None for r in inst.resources)
                out.append(self._entry(e.link[2:-1].decode(), e, e.put,
                                       e.write if writable else None, _LEVEL_CT))
                level = [e]
                for r in inst.resources:
                    out.append(self._resource(inst, r, e))
                    level.append(out[-1].entry)
                    level[-1].discover = (level[-1],)
                e.discover = tuple(level)
                below += level
            top.discover = tuple(below)
        return out

    def _resource(self, inst, r, up):
        e = Entry(self, up.insts, inst, r, Attrs(up.attrs))
        e.link = b"</%d/%d/%d>" % (inst.obj, inst.iid, r.rid) + (b";dim=1" if r.multiple else b"")
        post = e.execute if r.execute is not None else None
        res = self._entry("%d/%d/%d" % (inst.obj, inst.iid, r.rid), e, e.put, post,
                          _READ_CT if r.read is not None else None, r.rid in _OBSERVABLE)
        if r.rid in _OBSERVABLE:
            e.notifier = Notifier(e.attrs, r.read, ticks_ms)
            self.watched.append((res, e.notifier))
        return res

    def _entry(self, path, e, put, post, ct, obs=False):
        res = Resource(path, get=e.get if e.res is None or e.res.read is not None else None,
                       put=put, post=post, ct=ct, obs=obs, max_age=0, listed=False)
        res.entry = e
        return res

    def registration_links(self):
        """The Register payload (§6.2.1): the root, then each instance."""
        return b",".join([b'</>;rt="oma.lwm2m";ct=11542'] +
                         [b"</%d/%d>" % (i.obj, i.iid) for i in self.instances])


def _now():
    t = time.time()
    return int(t) if t > _KNOWN_TIME else None
