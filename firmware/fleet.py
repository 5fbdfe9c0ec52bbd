# One board among many: answering multicast discovery (RFC 7252 §8) and staying
# registered with a Resource Directory (RFC 9176). app.start() calls start()
# after binding; both parts run from server.tick. See docs/fleet.md.

import select
import socket

import config as board_config

_WILDCARDS = ("0.0.0.0", "::")


def start(server, b, cfg, socks, addresses, log):
    """Set up what cfg asks for. Returns (sockets to serve as well, tick functions)."""
    extra = []
    ticks = []
    if cfg["multicast"]:
        extra = multicast(server, b, cfg, socks, addresses, ticks, log)
    if cfg["rd"]:
        register(server, b, cfg, addresses, ticks, log)
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
    from coap.multicast import GROUPS, Replier
    from coap.peeraddr import is_ipv6
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
    if cfg["bind"] is None and all(_loopback(host) for host, _ in addresses):
        # the unix board's default: joined on lo, while group requests, this host's
        # own too, leave by the interface of the group's route
        log('multicast: bound to loopback only, where group requests (this host\'s too) '
            'never arrive; to answer them set "bind" to this host\'s address, e.g. '
            '"bind": ["192.168.1.20"] (docs/fleet.md)')
    v4 = unicast.get(False, (None,))[0]
    v6 = unicast.get(True, (None,))[0]

    def send(buf, addr):
        (v6 if is_ipv6(addr) else v4).sendto(buf, addr)

    replier = Replier(send, cfg["multicast_leisure_ms"], server.buffer_size, log=log)
    server.multicast_socks = tuple(joined)
    server.on_multicast = replier.queue
    ticks.append(replier.tick)
    return joined


def _loopback(host):
    return host.startswith("127.") or host == "::1"


def register(server, b, cfg, addresses, ticks, log):
    """Register the board's links with cfg["rd"] and keep the registration fresh;
    "multicast" or "multicast:PORT" finds the RD first (RFC 9176 §4)."""
    from coap.rd import Registration
    links = b",".join(r.link for r in server.resources if r.link is not None)
    ep = cfg["name"].encode()
    rd = cfg["rd"]
    if rd.startswith("multicast"):
        finder = _finder(b, rd, addresses, log)
        if finder is None:
            return None
        reg = Registration(None, ep, links, cfg["rd_lifetime_s"], log=log, finder=finder)
        log("rd: looking for an RD by multicast as %s" % cfg["name"])
    else:
        got = _connect(rd, addresses, log)  # config.py has checked the URI
        if got is None:
            return None
        s, base, path = got
        from coap.client import parse_uri
        reg = Registration(s, ep, links, cfg["rd_lifetime_s"], base, path, log=log,
                           origin=parse_uri(rd)[:2])
        log("rd: registering with %s as %s, base %s" % (rd, cfg["name"], base.decode()))
    ticks.append(reg.tick)
    return reg


def lwm2m(server, cfg, socks, addresses, objects, log, b=None, ctx=None):
    """Register the LwM2M objects with cfg["lwm2m"]["server"] and keep the
    registration fresh (docs/lwm2m.md): coap.rd's Registration, with LwM2M's
    queries, from the socket the board serves on (coap.client.Shared), so
    that the server's requests come back to the address it saw. An Update
    follows a new address of the board (b.address(), where it has one); a
    clean stop De-registers and waits a little for the answer. ctx: the
    board's OSCORE context with the server (security.lwm2m_context), which
    protects every registration request; False: asked for, unusable, so
    the board does not register at all."""
    from coap.client import Shared, parse_uri
    from coap.rd import Registration
    lw = cfg["lwm2m"]
    uri = lw["server"]
    if ctx is False:
        log("lwm2m: no usable OSCORE context; not registering")
        return None
    try:  # config.py has checked the URI
        host, port, _ = parse_uri(uri)
        ai = socket.getaddrinfo(host, port, 0, socket.SOCK_DGRAM)[0]
    except OSError as e:
        log("lwm2m: can't use %s (%s); not registering" % (board_config.without_userinfo(uri), e))
        return None
    v6 = ai[0] == socket.AF_INET6
    sock = None
    for s, (h, _) in zip(socks, addresses):
        if (":" in h) == v6:
            sock = s
            break
    if sock is None:
        log("lwm2m: the board serves on no %s address to reach %s from; not registering"
            % ("IPv6" if v6 else "IPv4", uri))
        return None
    shared = Shared(sock, ai[-1])
    reg = Registration(shared, lw["endpoint"].encode(), objects.registration_links(),
                       lw["lifetime_s"], path=[b"rd"], log=log, origin=(host, port),
                       queries=(b"lwm2m=1.1", b"b=U"), name="lwm2m")
    shared.client = reg.client
    if ctx:
        from coap.oscoreclient import Protector
        reg.client.oscore = Protector(ctx, reg.client.msg.size)

    def on_answer(data, n, addr):
        if not shared.deliver(data, n, addr):
            return False
        # It answered a request only its address could have read (a random
        # token and Message ID): proven, so its reads are answered whole at
        # once, not within 3x until it shows an Echo (RFC 9175 §2.4)
        if server.proven is not None:
            server.proven.add(addr)
        return True
    server.on_answer = on_answer
    objects.on_update = reg.update
    reg.whereami = getattr(b, "address", None)
    poller = select.poll()
    poller.register(sock, select.POLLIN)

    def pump():  # the De-register's answer comes in on the server's socket
        if poller.poll(50):
            server.drain(sock, 8)
    server.on_stop = lambda: reg.deregister(pump)
    log("lwm2m: registering with %s as %s%s"
        % (uri, lw["endpoint"], " over OSCORE" if ctx else ""))
    return reg


def _own(addresses, v6):
    for h, p in addresses:
        if (":" in h) == v6 and h not in _WILDCARDS:
            return h, p
    return None


def _connect(uri, addresses, log, then="; not registering"):
    """(socket connect()ed to the RD, base, registration path or None) for an RD
    URI, or None after a line saying why not (and `then`)."""
    from coap.client import parse_uri
    try:
        host, port, path = parse_uri(uri)
        ai = socket.getaddrinfo(host, port, 0, socket.SOCK_DGRAM)[0]
    except (OSError, ValueError) as e:
        log("rd: can't use %s (%s)%s" % (board_config.without_userinfo(uri), e, then))
        return None
    v6 = ai[0] == socket.AF_INET6
    own = _own(addresses, v6)
    if own is None:
        log("rd: no %s address bound to tell the RD where this board is (bind a specific "
            "one)%s" % ("IPv6" if v6 else "IPv4", then))
        return None
    # Its own socket, so that the RD's answers don't reach the server: hence base=.
    s = socket.socket(ai[0], socket.SOCK_DGRAM)
    s.connect(ai[-1])
    s.setblocking(False)
    h, p = own
    return s, ("coap://%s:%d" % ("[%s]" % h if v6 else h, p)).encode(), path


def _finder(b, rd, addresses, log):
    """A coap.rddiscover.Finder asking the All-CoAP-Nodes group of each family
    the board has a specific address of, from a socket bound to that address."""
    from coap.multicast import GROUPS
    from coap.rddiscover import Finder
    port = int(rd[10:]) if rd[9:10] == ":" else 5683
    targets = []
    for group in GROUPS:
        own = _own(addresses, ":" in group)
        if own is None:
            continue
        dest = getattr(b, "group_address", None)  # a board may pick the interface
        dest = dest(group, port) if dest else socket.getaddrinfo(group, port)[0][-1]
        s = socket.socket(socket.AF_INET6 if ":" in group else socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(socket.getaddrinfo(own[0], 0)[0][-1])  # the group's answers come here
        s.setblocking(False)
        targets.append((s, dest))
    if not targets:
        log("rd: no address bound to look for an RD from (bind a specific one); "
            "not registering")
        return None
    return Finder(targets, lambda uri: _connect(uri, addresses, log, ""), log=log)
