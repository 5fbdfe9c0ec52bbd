# One board among many: answering multicast discovery (RFC 7252 §8) and staying
# registered with a Resource Directory (RFC 9176). app.start() calls start()
# after binding; both parts run from server.tick. See docs/fleet.md.

import os
import socket

import config as board_config

_WILDCARDS = ("0.0.0.0", "::")


def start(server, b, cfg, socks, addresses, log):
    """Set up what cfg asks for. Returns (sockets to serve as well, tick functions)."""
    getenv = getattr(os, "getenv", None)  # the unix port has an environment
    if getenv is not None:
        for p in board_config.from_env(cfg, getenv):
            log(p)
    extra = []
    ticks = []
    if cfg["multicast"]:
        extra = multicast(server, b, cfg, socks, addresses, ticks, log)
    if cfg["rd"]:
        register(server, cfg, addresses, ticks, log)
    return extra, ticks


def compose(*ticks):
    """One server.tick calling each component's tick in turn (None: no tick)."""
    ticks = tuple(t for t in ticks if t is not None)
    if len(ticks) < 2:
        return ticks[0] if ticks else None

    def tick():
        for t in ticks:
            t()
    return tick


def multicast(server, b, cfg, socks, addresses, ticks, log):
    """Join the All-CoAP-Nodes group of each family the board serves; answers
    wait for a random leisure and leave from the unicast socket of their family."""
    from coap.multicast import GROUPS, Replier, is_ipv6
    join = getattr(b, "multicast_socket", None)
    if join is None:
        log("multicast: the %s board can't join groups (see boards/README.md)" % b.name)
        return []
    unicast = {}  # is IPv6 -> (socket, port)
    for s, (host, port) in zip(socks, addresses):
        if (":" in host) not in unicast:
            unicast[":" in host] = (s, port)
    joined = []
    for group in GROUPS:
        if (":" in group) not in unicast:
            continue
        port = unicast[":" in group][1]
        try:
            joined.append(join(group, port))
            log("multicast: listening on %s port %d" % (group, port))
        except OSError as e:
            log("multicast: can't join %s port %d: %s" % (group, port, e))
    if not joined:
        return []
    v4 = unicast.get(False, (None,))[0]
    v6 = unicast.get(True, (None,))[0]

    def send(buf, addr):
        (v6 if is_ipv6(addr) else v4).sendto(buf, addr)

    replier = Replier(send, cfg["multicast_leisure_ms"], server.buffer_size, log=log)
    server.multicast_socks = tuple(joined)
    server.on_multicast = replier.queue
    ticks.append(replier.tick)
    return joined


def register(server, cfg, addresses, ticks, log):
    """Register the board's links with cfg["rd"] and keep the registration fresh."""
    from coap.client import parse_uri
    from coap.rd import Registration
    host, port, path = parse_uri(cfg["rd"])  # config.py has checked it
    try:
        ai = socket.getaddrinfo(host, port, 0, socket.SOCK_DGRAM)[0]
    except OSError as e:
        log("rd: can't resolve %s (%s); not registering" % (host, e))
        return None
    v6 = ai[0] == socket.AF_INET6
    own = None
    for h, p in addresses:
        if (":" in h) == v6 and h not in _WILDCARDS:
            own = (h, p)
            break
    if own is None:
        log("rd: no %s address bound to tell the RD where this board is (bind a specific "
            "one); not registering" % ("IPv6" if v6 else "IPv4"))
        return None
    # Its own socket, so that the RD's answers don't reach the server: hence base=.
    s = socket.socket(ai[0], socket.SOCK_DGRAM)
    s.connect(ai[-1])
    s.setblocking(False)
    h, p = own
    base = "coap://%s:%d" % ("[%s]" % h if v6 else h, p)
    links = b",".join(r.link for r in server.resources)
    reg = Registration(s, cfg["name"].encode(), links, cfg["rd_lifetime_s"], base.encode(),
                       path, log=log)
    log("rd: registering with %s as %s, base %s" % (cfg["rd"], cfg["name"], base))
    ticks.append(reg.tick)
    return reg
