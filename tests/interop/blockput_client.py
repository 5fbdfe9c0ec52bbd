# Run by tests/interop/test_blockput_aiocoap.py under the unix port: PUT a body
# block-wise to a file server (over OSCORE when given a context), then read it
# back block-wise; prints the two results and whether the body came back.
#   micropython blockput_client.py HOST PORT PATH SIZE [SECRET_HEX SALT_HEX SID RID]
import socket
import sys
import time

from coap.blockget import BlockGet
from coap.blockput import BlockPut
from coap.client import Client, Path


def unhex(s):
    return bytes(int(s[i:i + 2], 16) for i in range(0, len(s), 2))


host, port, name, size = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
body = bytes((i * 31 + 7) & 0xFF for i in range(size))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(socket.getaddrinfo(host, port)[0][-1])
s.setblocking(False)
c = Client(s, 1152)
if len(sys.argv) > 5:
    from coap.oscoreclient import Protector
    from coap.oscorectx import Context
    c.oscore = Protector(Context(unhex(sys.argv[5]), unhex(sys.argv[6]), unhex(sys.argv[7]),
                                 unhex(sys.argv[8])), 1152)
p = Path(2, 32)
p.add(name.encode(), 0, len(name))


def run(job):
    for _ in range(20000):
        r = job.poll()
        if r is not None:
            return r
        time.sleep_ms(1)
    return None


u = BlockPut(c)
u.szx = 4  # 256-byte blocks: several of them
u.start(3, p, body)
put = run(u)
got = bytearray()


def sink(pos, data, off, n):
    if not pos:
        got[0:] = b""
    for i in range(off, off + n):
        got.append(data[i])


g = BlockGet(c)
g.start(p, sink)
get = run(g)
print("put %d.%02d get %d.%02d same %s" % (put >> 5, put & 31, get >> 5, get & 31,
                                            bytes(got) == body))
