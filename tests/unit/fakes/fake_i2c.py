# I2C for the driver tests: one device with a 256-byte register file at an
# address, reached through readfrom_mem_into / writeto_mem like machine.I2C.

class Device:
    def __init__(self, address, regs=None):
        self.address = address
        self.regs = bytearray(256)
        for reg, data in (regs or {}).items():
            self.regs[reg:reg + len(data)] = data
        self.writes = []   # (reg, bytes) in order
        self.reads = []    # (reg, n) in order


#: the devices a bus made next will see
devices = []
#: the buses made: (kind, args)
made = []


class SoftI2C:
    kind = "soft"

    def __init__(self, *args, **kw):
        made.append((self.kind, args, kw))
        self.devices = {d.address: d for d in devices}

    def _dev(self, addr):
        d = self.devices.get(addr)
        if d is None:
            raise OSError(19)  # ENODEV: no ACK at that address
        return d

    def readfrom_mem_into(self, addr, reg, buf):
        d = self._dev(addr)
        if d.reads is not None:  # None: not recorded (a list that grows allocates)
            d.reads.append((reg, len(buf)))
        for i in range(len(buf)):
            buf[i] = d.regs[(reg + i) & 0xFF]

    def writeto_mem(self, addr, reg, data):
        d = self._dev(addr)
        if d.writes is not None:
            d.writes.append((reg, bytes(data)))
        for i in range(len(data)):
            d.regs[(reg + i) & 0xFF] = data[i]


class I2C(SoftI2C):
    kind = "hw"
