# The observer table as bytes, for non-volatile storage: observers keep their
# notifications across a reboot or a deep sleep without registering again,
# as libcoap's coap_persist does (RFC 7641 leaves restarts to the server).
#
# Where the bytes go is the board's business (boards/*/board.py: a file, or
# ESP32 RTC memory); this module only turns the table into bytes and back.
#
# Layout, big-endian: b"CO", format 2, the reserved Observe number (3 bytes),
# the entry count; then per entry: socket index, address kind (0: the bytes
# recvfrom gave, 1: a (host, port) tuple as lwIP ports give it), address
# length and bytes (a tuple as host text and 2 port bytes), resource index
# (a hint: a restore goes by the stored request's Uri-Path),
# Content-Format (2 bytes, 0xFFFF: none), deep sleeps missed, the OSCORE
# context's index (0xFF: plain) and the registration's Partial IV (4 bytes),
# request length and the registering request itself (its token included;
# of a protected one, the decrypted request). Format 1 lacks the OSCORE
# fields; it is still read.
#
# A protected observation is kept like a plain one (RFC 8613 §8.3): its
# notifications bind to the registration's Partial IV and go out under the
# board's own, which oscorectx.SequenceStore keeps unused across the reboot,
# so a client that does not register again (aiocoap) hears from it. No key
# material is saved: the context is found again by its place in the config.
#
# The Observe number is saved in chunks (as libcoap's save_freq): the stored
# value is one no notification has used yet, and a restored table starts
# there, so a client's §3.4 ordering check accepts what comes after a reboot
# without a write per notification, and registrations (60 k in 10 s, forged
# or not) don't write more than the table's own changes (at most every
# min_gap_ms).

from .clock import ticks_diff, ticks_ms

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

_MAGIC0 = const(0x43)  # "C"
_MAGIC1 = const(0x4F)  # "O"
_FORMAT = const(2)
_PLAIN = const(0xFF)  # no OSCORE context
_PIV_MAX = const(0x3FFFFFFF)  # a savable registration Partial IV: 4 bytes, a small int
_HEADER = const(7)
_ADDR_MAX = const(48)  # an IPv6 sockaddr (28), or "[...]" text of one plus a port
_SEQ_MASK = const(0xFFFFFF)
#: Observe numbers reserved by one save: a reboot skips at most this many,
#: half of what a client's §3.4 check still takes as newer (2**23). Every
#: number is a registration or a notification: using half of it in the
#: write floor's 10 s takes 200 k a second, more than the server answers, so
#: no traffic saves more often than a changing table does.
CHUNK = const(1 << 22)
_MARGIN = const(1 << 21)  # saved when this few are left: room for any tick's worth


def _addr_len(addr):
    return len(addr[0]) + 2 if isinstance(addr, tuple) else len(addr)


class ObserverStore:
    """Saves obs (an observe.Observers) through write(buf, n) when it changes.

    resources: the server's table (entries are saved by index); socks: the
    server's sockets, in the order the board binds them; min_gap_ms: flash
    wears, so a table that keeps changing (clients that come and go every few
    seconds) is saved at most this often. contexts: the server's OSCORE
    contexts (Server.oscore.contexts), for protected observations.
    """

    def __init__(self, obs, resources, socks, write, min_gap_ms=10000, contexts=()):
        self.obs = obs
        self.contexts = contexts
        self.resources = resources
        self.socks = socks
        self.write = write
        n = len(obs.request[0]) if obs.size else 0
        if n > 255:
            raise ValueError("observers' request_bytes above 255 can't be saved")
        self.entry_max = 14 + _ADDR_MAX + n
        self.buf = bytearray(_HEADER + obs.size * self.entry_max)
        self.addr = [bytearray(_ADDR_MAX) for _ in range(obs.size)]  # restored addresses
        self.version = obs.version
        self.reserved = (obs.seq + CHUNK) & _SEQ_MASK  # nothing to save yet
        self.min_gap_ms = min_gap_ms
        self.saved_at = None
        self.saves = 0

    def tick(self):
        """Save when an entry came or went (at most every min_gap_ms), or the
        Observe number nears the reserved one. Call between datagrams."""
        obs = self.obs
        ahead = (self.reserved - obs.seq) & _SEQ_MASK
        # Saved before the reserved number is reached, with room for what a
        # tick's traffic takes: no number past the saved one ever goes out.
        if _MARGIN < ahead <= CHUNK:
            if obs.version == self.version:
                return
            now = ticks_ms()
            if self.saved_at is not None and ticks_diff(now, self.saved_at) < self.min_gap_ms:
                return
        self.saved_at = ticks_ms()
        self.version = obs.version
        self.reserved = (obs.seq + CHUNK) & _SEQ_MASK
        n = self.dump()
        self.saves += 1
        self.write(self.buf, n)

    def sleeping(self, max_misses):
        """The board goes to deep sleep now: a CON notification still waiting
        for its ACK is a miss, and an observer that missed more than max_misses
        wakes in a row is removed (§4.5: retransmissions end with the sleep).
        Then the table is saved."""
        obs = self.obs
        for i in range(obs.size):
            if obs.addr[i] is None:
                continue
            if obs.tries[i]:
                obs.misses[i] += 1
                if obs.misses[i] > max_misses:
                    obs.remove(i)
            else:
                obs.misses[i] = 0
        self.version = -1  # save now, whatever changed
        self.saved_at = None
        self.tick()

    # --- bytes out -----------------------------------------------------------

    def dump(self):
        """Write the table into self.buf; returns its length."""
        obs = self.obs
        b = self.buf
        b[0] = _MAGIC0
        b[1] = _MAGIC1
        b[2] = _FORMAT
        r = self.reserved
        b[3] = (r >> 16) & 0xFF
        b[4] = (r >> 8) & 0xFF
        b[5] = r & 0xFF
        count = 0
        p = _HEADER
        for i in range(obs.size):
            if obs.addr[i] is None or not obs.proven[i]:
                continue  # free, or never verified (RFC 9175 §2.4): not worth a reboot
            sock = self._index(self.socks, obs.sock[i])
            res = self._index(self.resources, obs.res[i])
            ctx = _PLAIN
            if obs.secured[i] is not None:
                ctx = self._index(self.contexts, obs.secured[i])
                if ctx < 0 or not 0 <= obs.piv[i] <= _PIV_MAX:
                    continue  # no context to bind it to after the reboot
            if sock < 0 or res < 0 or _addr_len(obs.addr[i]) > _ADDR_MAX:
                continue  # nothing a reboot could use, or no room for its address
            b[p] = sock
            p = self._put_addr(b, p + 1, obs.addr[i])
            b[p] = res
            fmt = obs.fmt[i] & 0xFFFF
            b[p + 1] = fmt >> 8
            b[p + 2] = fmt & 0xFF
            b[p + 3] = min(obs.misses[i], 255)
            b[p + 4] = ctx
            piv = obs.piv[i] if ctx != _PLAIN else 0
            for k in range(4):
                b[p + 5 + k] = (piv >> (8 * (3 - k))) & 0xFF
            n = obs.request_len[i]
            b[p + 9] = n
            p += 10
            req = obs.request[i]
            for k in range(n):
                b[p + k] = req[k]
            p += n
            count += 1
        b[6] = count
        return p

    def _index(self, seq, item):
        for k in range(len(seq)):
            if seq[k] is item:
                return k
        return -1

    def _put_addr(self, b, p, addr):
        if isinstance(addr, tuple):  # lwIP: (host, port); this path allocates (a save)
            host = addr[0].encode()
            b[p] = 1
            b[p + 1] = len(host) + 2
            p += 2
            for k in range(len(host)):
                b[p + k] = host[k]
            p += len(host)
            b[p] = addr[1] >> 8
            b[p + 1] = addr[1] & 0xFF
            return p + 2
        b[p] = 0
        b[p + 1] = len(addr)
        p += 2
        for k in range(len(addr)):
            b[p + k] = addr[k]
        return p + len(addr)

    # --- bytes in ------------------------------------------------------------

    def _resource_of(self, i):
        # The resource the stored request names: the index saved may point
        # elsewhere once a firmware update changed the table.
        req = self.obs.req
        req.parse(self.obs.request[i], self.obs.request_len[i])
        for res in self.resources:
            path = res.path
            if len(path) == req.path_count and res.obs:
                for k in range(len(path)):
                    if not req.path_is(k, path[k]):
                        break
                else:
                    return res
        return None

    def restore(self, data, n):
        """Fill the (empty) table from data[0:n] as dump() wrote it; returns the
        number of observers restored, or -1 when data is not a saved table.
        Allocates nothing for byte addresses (the unix port's); a (host, port)
        address is rebuilt as one."""
        obs = self.obs
        if n < _HEADER or data[0] != _MAGIC0 or data[1] != _MAGIC1 or not 1 <= data[2] <= _FORMAT:
            return -1
        sec = 5 if data[2] == _FORMAT else 0  # format 1: no OSCORE fields
        count = data[6]
        p = _HEADER
        i = 0
        for _ in range(count):
            if i >= obs.size or p + 4 > n:
                break
            sock = data[p]
            kind = data[p + 1]
            alen = data[p + 2]
            a = p + 3
            p = a + alen
            if p + 5 + sec > n or alen > _ADDR_MAX:
                break
            fmt = (data[p + 1] << 8) | data[p + 2]  # data[p]: the resource index, a hint
            misses = data[p + 3]
            ctx = _PLAIN
            piv = 0
            if sec:
                ctx = data[p + 4]
                piv = (data[p + 5] << 24) | (data[p + 6] << 16) | (data[p + 7] << 8) | data[p + 8]
            rlen = data[p + 4 + sec]
            r = p + 5 + sec
            p = r + rlen
            if p > n or rlen > len(obs.request[i]) or rlen < 4 or 4 + (data[r] & 15) > rlen:
                break  # not a table this module wrote: keep what came before
            if sock >= len(self.socks):
                continue  # the board binds fewer addresses now: that observer is gone
            if ctx != _PLAIN and ctx >= len(self.contexts):
                continue  # its OSCORE context is gone: nothing could protect a notification
            if kind == 1:
                try:
                    addr = (bytes(data[a:a + alen - 2]).decode(),
                            (data[a + alen - 2] << 8) | data[a + alen - 1])
                except ValueError:  # not text: not a table this module wrote
                    break
            else:
                addr = self.addr[i]
                addr[0:] = b""
                for k in range(a, a + alen):
                    addr.append(data[k])
            obs.keep(i, data, r, rlen)
            res = self._resource_of(i)  # by its path: the saved index is only a hint
            if res is None:
                obs.remove(i)
                continue  # a firmware update took its resource away
            obs.restore(i, addr, self.socks[sock], res, -1 if fmt == 0xFFFF else fmt, misses,
                        None if ctx == _PLAIN else self.contexts[ctx], piv)
            i += 1
        r = (data[3] << 16) | (data[4] << 8) | data[5]
        obs.seq = r
        self.reserved = r  # reached: the next tick reserves a new chunk and saves
        self.version = obs.version
        return i
