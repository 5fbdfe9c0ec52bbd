"""One multicast GET, run inside the client namespace by fleetnet.Net:

    python mcast_get.py GROUP PORT VIA PATH QUERY NON|CON WAIT_S

VIA: the interface name (IPv6) or the local address (IPv4) to send from.
Prints every answer heard within WAIT_S as JSON [[source, code, payload], ...].
"""

import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "unit"))
import coapmsg as m  # noqa: E402


def main(group, port, via, path, query, mtype, wait):
    v6 = ":" in group
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
    if v6:
        dest = (group, int(port), 0, socket.if_nametoindex(via))
    else:
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(via))
        s.bind((via, 0))
        dest = (group, int(port))
    msg = m.get(path, mtype=m.NON if mtype == "NON" else m.CON, token=b"\x4d\x43",
                query=[query] if query else [])
    s.sendto(msg, dest)
    answers = []
    deadline = time.monotonic() + float(wait)
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            data, addr = s.recvfrom(1500)
        except socket.timeout:
            break
        if len(data) < 4:
            answers.append([addr[0], -1, data.hex()])
            continue
        t, code, mid, token, opts, payload = m.decode(data)
        answers.append([addr[0], code, payload.decode(errors="replace")])
    print(json.dumps(answers))


if __name__ == "__main__":
    main(*sys.argv[1:8])
