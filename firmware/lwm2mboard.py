# The LwM2M objects of this board (lwm2m.py serves them): what the Device
# and Server objects say, one IPSO instance per reading of the configured
# sensors, the LED as Light Control, the app update as Firmware Update
# (lwm2mfirmware.py). app.start() builds them only when the config has
# "lwm2m" (docs/lwm2m.md has the map).

import time

import sleep as deep_sleep
from coap import __version__
from coap.tlv import Reader, Tlv
from lwm2m import (BOOLEAN, EXEC, FLOAT, INTEGER, MULTI, OBS, READ, STRING, WRITE, Tree)

_KNOWN_TIME = 1600000000  # a clock before 2020 has not been set
_LIFETIME_MAX_S = 604800  # as config.py allows
_PERIPHERAL = 8  # Device 11, Error Code: "Peripheral Malfunction"

#: IPSO object of a quantity; any other is a generic sensor (3300)
IPSO = {"temp": 3303, "humidity": 3304, "pressure": 3315, "voltage": 3316}
GENERIC = 3300

# The resources of each object: (id, type and what it allows)
_SERVER = ((0, INTEGER | READ),    # Short Server ID
           (1, INTEGER | READ | WRITE),  # Lifetime: an Update tells the server
           (6, BOOLEAN | READ),    # Notification Storing
           (7, STRING | READ | WRITE),   # Binding: U, the only one served
           (8, INTEGER | EXEC))    # Registration Update Trigger
_DEVICE = ((0, STRING | READ),     # Manufacturer
           (1, STRING | READ),     # Model Number
           (2, STRING | READ),     # Serial Number
           (3, STRING | READ),     # Firmware Version
           (4, INTEGER | EXEC),    # Reboot
           (10, INTEGER | READ),   # Memory Free
           (11, INTEGER | READ | MULTI),  # Error Code
           (13, INTEGER | READ),   # Current Time, where known
           (16, STRING | READ))    # Supported Binding and Modes
# IPSO sensor: Sensor Value, Units, Min/Max Measured, Reset Min and Max
_IPSO = ((5700, FLOAT | READ | OBS), (5701, STRING | READ), (5601, FLOAT | READ),
         (5602, FLOAT | READ), (5605, INTEGER | EXEC))
_IPSO_NO_UNIT = _IPSO[:1] + _IPSO[2:]
_LIGHT = ((5850, BOOLEAN | READ | WRITE | OBS),)  # Light Control: On/Off
# Firmware Update (lwm2mfirmware.py, loaded on first use). State and Update
# Result change a few times an update: observed through the object's entry,
# not entries of their own, which would cost heap on every board
_FIRMWARE = ((0, STRING | WRITE),          # Package: push delivery, refused
             (1, STRING | READ | WRITE),   # Package URI
             (2, INTEGER | EXEC),          # Update
             (3, INTEGER | READ),          # State
             (5, INTEGER | READ),          # Update Result
             (6, STRING | READ),           # PkgName
             (7, STRING | READ),           # PkgVersion: the manifest's version
             (8, INTEGER | READ | MULTI),  # Firmware Update Protocol Support: 0 CoAP
             (9, INTEGER | READ))          # Firmware Update Delivery Method: 0 pull


# Raised from the server's tick once an Execute on 3/0/4 was answered
Reboot = deep_sleep.Reboot


class Objects(Tree):
    """updater: the board's update.Updater (object 5), version: the app's."""

    def __init__(self, b, cfg, sensors, updater=None, version=None, log=print):
        self.board = b
        self.server = None  # set once the server exists: Memory Free reads its heap
        self.lifetime_s = cfg["lwm2m"]["lifetime_s"]
        self.model = b.name.encode()
        self.serial = cfg["name"].encode()
        self.version = version or __version__.encode()
        self.updater = updater
        self.update_plain = cfg["lwm2m"].get("update_plain", False)
        self.log = log
        self._firmware = None  # lwm2mfirmware.Firmware, made on first use
        self.sensors = sensors.sensors if sensors is not None else ()
        self.reboot_asked = False
        self.on_update = None  # the registration's update: Execute 1/0/8, Write 1/0/1
        found = [(1, 0, _SERVER), (3, 0, _DEVICE), (3311, 0, _LIGHT)]
        if updater is not None:
            found.append((5, 0, _FIRMWARE))
        fixed = len(found)
        readings = sensors.readings if sensors is not None else ()
        counts = {}
        for r in readings:
            obj = IPSO.get(r.sensor.quantities[r.index][0], GENERIC)
            counts[obj] = counts.get(obj, -1) + 1
            found.append((obj, counts[obj], _IPSO if r.unit else _IPSO_NO_UNIT))
        # per instance: its reading and units (None but for IPSO), min and max
        key = [(obj, iid) for obj, iid, _ in found]
        Tree.__init__(self, found)
        n = len(self.insts)
        self.reading = [None] * n
        self.unit = [None] * n
        self.low = [0] * n
        self.high = [0] * n
        self.seen = [False] * n
        for i in range(len(readings)):
            k = self._index(key[fixed + i])
            self.reading[k] = readings[i]
            self.unit[k] = readings[i].unit.encode() if readings[i].unit else None
        self.tlv = Tlv()
        self.reader = Reader()

    @property
    def firmware(self):
        if self._firmware is None:
            from lwm2mfirmware import Firmware
            self._firmware = Firmware(self.updater, self.update_plain, self.log)
        return self._firmware

    def _index(self, obj_iid):
        for k in range(len(self.insts)):
            if self.insts[k][:2] == obj_iid:
                return k
        return -1

    def value(self, k, rid):
        obj = self.insts[k][0]
        if obj == 1:
            return 1 if rid == 0 else self.lifetime_s if rid == 1 else 0 if rid == 6 else b"U"
        if obj == 3:
            if rid == 0:
                return b"coap-board"
            if rid == 1:
                return self.model
            if rid == 2:
                return self.serial
            if rid == 3:
                return self.version
            if rid == 10:
                return self.server.heap.free // 1024 if self.server is not None else None
            if rid == 11:
                return self._error()
            if rid == 13:
                return _now()
            return b"U"
        if obj == 3311:
            return 1 if self.board.led() else 0
        if obj == 5:
            return self.firmware.value(rid)
        if rid == 5700:
            r = self.reading[k]
            return r.value() if r.sensor.ok else None
        if rid == 5701:
            return self.unit[k]
        if not self.seen[k]:
            return None
        return self.low[k] if rid == 5601 else self.high[k]

    def missing(self, k, rid, resp):
        if rid == 5700:
            self.reading[k].sensor.unavailable(resp)  # says why, as /sensors does
        else:
            Tree.missing(self, k, rid, resp)

    def check(self, k, rid, v):
        if self.insts[k][0] == 5:
            return self.firmware.check(rid, v)
        if self.insts[k][0] != 1:
            return None
        if rid == 1 and not 1 <= v <= _LIFETIME_MAX_S:
            return b"lifetime: 1 to 604800 s"
        if rid == 7 and v != b"U":
            return b"binding: U (UDP) is the only one"
        return None

    def write(self, k, rid, v):
        if self.insts[k][0] == 3311:
            self.board.set_led(v)  # 5850
        elif self.insts[k][0] == 5:
            self.firmware.write(rid, v)
        elif rid == 1 and v != self.lifetime_s:  # Server 1/0/1 (1/0/7 stays U)
            self.lifetime_s = v
            if self.on_update is not None:
                self.on_update(lifetime_s=v)  # LwM2M §6.2.2: an Update with lt=

    def execute(self, k, rid):
        obj = self.insts[k][0]
        if obj == 5:
            return self.firmware.execute(rid)
        if obj == 3:
            self.reboot_asked = True
        elif obj == 1:
            if self.on_update is not None:
                self.on_update()
        else:
            self.seen[k] = False  # 5605: reset min and max
            self._minmax(k)
        return None

    def _minmax(self, k):
        # 5601/5602: the lowest and highest reading since start or the last 5605
        r = self.reading[k]
        if not r.sensor.ok:
            return
        v = r.value()
        if not self.seen[k]:
            self.low[k] = self.high[k] = v
            self.seen[k] = True
        elif v < self.low[k]:
            self.low[k] = v
        elif v > self.high[k]:
            self.high[k] = v

    def _error(self):
        for s in self.sensors:
            if not s.ok:
                return _PERIPHERAL
        return 0

    def tick(self):
        """Min and max, the notifications the attributes ask for (lwm2mattrs),
        and a reboot asked for."""
        for k in range(len(self.reading)):
            if self.reading[k] is not None:
                self._minmax(k)
        obs = self.server.observers if self.server is not None else None
        if obs is not None and obs.active:
            self.notify_due(obs)
        if self.reboot_asked:
            raise Reboot("lwm2m: rebooting (Execute on /3/0/4)")
        if self._firmware is not None:
            self._firmware.tick()  # an executed Update: swap and reboot


def _now():
    t = time.time()
    return int(t) if t > _KNOWN_TIME else None
