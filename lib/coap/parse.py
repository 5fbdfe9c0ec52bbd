# In-place parser for one CoAP message (RFC 7252 §3).
#
#     0                   1                   2                   3
#     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
#    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
#    |Ver| T |  TKL  |      Code     |          Message ID           |
#    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
#    |   Token (if any, TKL bytes) ...
#    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
#    |   Options (if any) ...
#    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
#    |1 1 1 1 1 1 1 1|    Payload (if any) ...
#    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
#
# Nothing is copied: the request keeps int offsets into the datagram, in lists
# allocated once. parse() never raises on bad input; it returns a status.

from array import array

from .loops import same, uint, walk

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

# parse() results
OK = const(0)
IGNORE = const(-1)        # too short for a header, or not version 1 (§3): silence
FORMAT_ERROR = const(-2)  # §3, §3.1: reject (RST for CON, silence otherwise)

_MAX_PATH = const(8)
# loops.walk's state array: private copies of loops_py's S_* (test_loops checks them)
_S_NUM = const(0)
_S_REPEAT = const(1)
_S_OFF = const(2)
_S_LEN = const(3)
_S_NEXT = const(4)
_S_PATHS = const(5)
_S_PAYLOAD = const(6)
_S_PATH_OFF = const(8)
_S_PATH_LEN = const(16)
_STATE_SIZE = const(24)
_IF_MATCH = const(1)
_URI_HOST = const(3)
_ETAG = const(4)
_IF_NONE_MATCH = const(5)
_OBSERVE = const(6)
_URI_PORT = const(7)
_OSCORE = const(9)
_URI_PATH = const(11)
_CONTENT_FORMAT = const(12)
_URI_QUERY = const(15)
_ACCEPT = const(17)
_BLOCK2 = const(23)
_BLOCK1 = const(27)
_PROXY_URI = const(35)
_PROXY_SCHEME = const(39)
_ECHO = const(252)
_MAX_TAGS = const(4)

# Request.conditions: which of the options below came (0: none, the common case)
C_ETAG = const(1)
C_IF_MATCH = const(2)
C_IF_NONE_MATCH = const(4)
# Where ETag and If-Match values are kept: in the walker's state array, after
# the walker's part (one attribute more of a Request slows every lookup of
# the others, 1 % of a GET): the counts, then (offset, length) pairs
_T_ETAGS = const(24)  # _STATE_SIZE
_T_IF_MATCHES = const(25)
_T_ETAG_AT = const(26)
_T_IF_MATCH_AT = const(34)  # _T_ETAG_AT + 2 * _MAX_TAGS
_ST_ROOM = const(42)  # _T_IF_MATCH_AT + 2 * _MAX_TAGS


class Request:
    """A view of one received datagram. Valid until the next parse()."""

    #: Uri-Path segments kept; a deeper path can't be in the table, so it is a 4.04.
    #: Fixed: the option walker (loops.walk) keeps them in its state array.
    max_path = _MAX_PATH
    #: Uri-Query segments kept; later ones are recognised and not looked at.
    max_query = 8
    #: ETag and If-Match values kept, each; later ones are recognised and not
    #: compared (a match among them is missed: 2.05, or 4.12, never a wrong 2.03)
    max_tags = _MAX_TAGS

    def __init__(self):
        self.buf = b""
        self.length = 0
        self.peer = None  # the sender's address, as recvfrom gave it
        self.verified = False  # it came with a valid Echo (set by the server, RFC 9175 §2.4)
        #: the OSCORE context that verified the request, and its Partial IV (RFC
        #: 8613 §8.3): set and reset by the OSCORE layer around the answer
        self.secured = None
        self.piv = -1
        #: changes with every datagram parsed: a handler run more than once for one
        #: request (block-wise passes) can tell the runs of one request from a new one
        self.serial = 0
        self.type = 0
        self.tkl = 0
        self.code = 0
        self.mid = 0
        #: The option walker's state (loops.walk): Uri-Path is kept there, and
        #: path_off and path_len are views of its path slots; beyond the
        #: walker's slots, the ETag / If-Match / If-None-Match offsets
        self.state = array("i", [0] * _ST_ROOM)
        self.path_off = memoryview(self.state)[_S_PATH_OFF:_S_PATH_OFF + _MAX_PATH]
        self.path_len = memoryview(self.state)[_S_PATH_LEN:_S_PATH_LEN + _MAX_PATH]
        self.query_off = [0] * self.max_query
        self.query_len = [0] * self.max_query
        self.parse(b"", 0)  # every per-datagram field at its "absent" value

    def parse(self, buf, n):
        """Read the header, token and options of buf[0:n]; OK or an error status."""
        self.buf = buf
        self.length = n
        self.serial = (self.serial + 1) & 0x3FFFFFFF
        # Every option's field cleared here, not in a helper: one call less per datagram
        self.path_count = 0      # may exceed max_path; then only the first ones are kept
        self.query_count = 0     # likewise
        self.content_format = -1  # -1: option absent
        self.accept = -1
        self.observe = -1
        self.block2 = -1
        self.block1 = -1         # RFC 7959 §2.3: a block of the request's body
        self.bad_option = 0      # first unrecognised critical option (§5.4.1), 0 = none
        self.proxy = False       # Proxy-Uri or Proxy-Scheme present (§5.10.2)
        self.echo_off = 0        # the Echo option's value (RFC 9175 §2.2.1), 0 bytes: absent
        self.echo_len = 0
        self.payload_off = 0
        self.payload_len = 0
        self.oscore_off = -1     # OSCORE option value (RFC 8613 §6.1), -1: absent
        self.oscore_len = 0
        self.conditions = 0      # C_* bits: ETag, If-Match, If-None-Match present
        if n < 4:
            return IGNORE
        b0 = buf[0]
        if b0 >> 6 != 1:
            return IGNORE
        self.type = (b0 >> 4) & 3
        tkl = b0 & 15
        self.tkl = tkl
        self.code = buf[1]
        self.mid = (buf[2] << 8) | buf[3]
        if tkl > 8 or n < 4 + tkl:
            return FORMAT_ERROR  # §3: TKL 9-15 "MUST be processed as a message format error"
        if self.code == 0:
            # §4.1: an Empty message has TKL 0 and nothing after the Message ID
            return OK if n == 4 else FORMAT_ERROR
        if self.code >> 5:
            return OK  # not a request: the dispatcher answers with silence or RST
        # loops.walk keeps the Uri-Path segments itself and stops at any other
        # option (here, not in a helper: one call less per datagram)
        st = self.state
        st[_S_NUM] = 0
        st[_S_PATHS] = 0
        r = walk(buf, 4 + tkl, n, st)
        while r == 1:
            self._option(st[_S_NUM], st[_S_REPEAT], buf, st[_S_OFF], st[_S_LEN])
            r = walk(buf, st[_S_NEXT], n, st)
        self.path_count = st[_S_PATHS]
        if r < 0:
            return FORMAT_ERROR
        self.payload_off = st[_S_PAYLOAD]
        self.payload_len = n - self.payload_off
        return OK

    def _option(self, num, repeated, buf, off, olen):
        # §5.4.5: a repeat of a non-repeatable option, and §5.4.3: a value length
        # out of range, are treated like an unrecognised option.
        if num == _URI_PATH:
            self.unrecognised(num)  # longer than 255 bytes: walk() keeps the others
        elif num == _URI_QUERY:
            if olen > 255:
                self.unrecognised(num)
            else:
                i = self.query_count
                if i < self.max_query:
                    self.query_off[i] = off
                    self.query_len[i] = olen
                self.query_count = i + 1
        elif num == _CONTENT_FORMAT:
            if not repeated and olen <= 2:
                self.content_format = uint(buf, off, olen)
        elif num == _ACCEPT:
            if repeated or olen > 2:
                self.unrecognised(num)
            else:
                self.accept = uint(buf, off, olen)
        elif num == _OBSERVE:
            if not repeated and olen <= 3:
                self.observe = uint(buf, off, olen)
        elif num == _BLOCK2:
            if repeated or olen > 3:
                self.unrecognised(num)
            else:
                self.block2 = uint(buf, off, olen)
        elif num == _URI_HOST:
            if repeated or olen < 1 or olen > 255:
                self.unrecognised(num)
        elif num == _URI_PORT:
            if repeated or olen > 2:
                self.unrecognised(num)
        elif num == _OSCORE:
            if repeated or olen > 255:
                self.unrecognised(num)
            else:
                self.oscore_off = off
                self.oscore_len = olen
        elif num == _PROXY_URI or num == _PROXY_SCHEME:
            if repeated or olen < 1 or olen > (1034 if num == _PROXY_URI else 255):
                self.unrecognised(num)
            else:
                self.proxy = True
        elif num == _ECHO:
            # elective: a repeat (§5.4.5) or a length outside 1..40 (RFC 9175
            # §2.2.1, §5.4.3) is ignored
            if not repeated and 0 < olen <= 40:
                self.echo_off = off
                self.echo_len = olen
        elif num == _BLOCK1:
            if repeated or olen > 3:
                self.unrecognised(num)
            else:  # Size1 and Request-Tag: coap/block1.py reads them
                self.block1 = uint(buf, off, olen)
        elif num == _ETAG or num == _IF_MATCH:
            self._tag(num, repeated, off, olen)
        elif num == _IF_NONE_MATCH:
            if repeated or olen:  # §5.10.8.2: empty, not repeatable
                self.unrecognised(num)
            else:
                self.conditions |= C_IF_NONE_MATCH
        elif num & 1:
            self.unrecognised(num)

    def _tag(self, num, repeated, off, olen):
        # §5.10.6.1: an ETag is 1-8 bytes; §5.10.8.1: If-Match 0-8 (0: "exists").
        # Repeats are consecutive (options ascend), so the first one starts the count.
        if olen > 8 or (num == _ETAG and not olen):
            self.unrecognised(num)  # elective ETag: ignored; If-Match: 4.02
            return
        # Kept in state past the walker's state: valid only while `conditions`
        # has their bit, so parse() clears that one field, not these
        t = self.state
        if num == _ETAG:
            k, at, bit = _T_ETAGS, _T_ETAG_AT, C_ETAG
        else:
            k, at, bit = _T_IF_MATCHES, _T_IF_MATCH_AT, C_IF_MATCH
        if not repeated:
            t[k] = 0
            self.conditions |= bit
        i = t[k]
        if i < _MAX_TAGS:
            t[at + 2 * i] = off
            t[at + 2 * i + 1] = olen
        t[k] = i + 1

    def etags(self):
        """How many ETag options the request has (§5.10.6.2; 0: none); the
        first max_tags are at etag_off(i), etag_len(i) in buf."""
        return self.state[_T_ETAGS] if self.conditions & C_ETAG else 0

    def etag_off(self, i):
        return self.state[_T_ETAG_AT + 2 * i]

    def etag_len(self, i):
        return self.state[_T_ETAG_AT + 2 * i + 1]

    def if_match(self):
        """How many If-Match options it has (§5.10.8.1; 0: none), at
        if_match_off(i), if_match_len(i); an empty one means "exists"."""
        return self.state[_T_IF_MATCHES] if self.conditions & C_IF_MATCH else 0

    def if_match_off(self, i):
        return self.state[_T_IF_MATCH_AT + 2 * i]

    def if_match_len(self, i):
        return self.state[_T_IF_MATCH_AT + 2 * i + 1]

    def if_none_match(self):
        """True when it has If-None-Match (§5.10.8.2)."""
        return bool(self.conditions & C_IF_NONE_MATCH)

    def unrecognised(self, num):
        """Option num is not understood here (§5.4.1)."""
        # Electives are ignored; only critical ones (odd numbers) fail the request.
        if num & 1 and not self.bad_option:
            self.bad_option = num

    # --- for handlers: read the request without allocating --------------------

    def path_is(self, i, segment):
        """True when Uri-Path segment i equals the bytes `segment`."""
        return i < self.path_count and i < _MAX_PATH and same(
            self.buf, self.path_off[i], self.path_len[i], segment)

    def payload_is(self, s):
        """True when the payload equals the bytes s."""
        return same(self.buf, self.payload_off, self.payload_len, s)

    def payload_int(self, default=None):
        """The payload as a decimal integer ("-12"), or default when it is not one."""
        return _decimal(self.buf, self.payload_off, self.payload_len, default)

    def query_index(self, name):
        """Index of the first Uri-Query segment `name=...` (or exactly `name`), or -1."""
        buf = self.buf
        k = len(name)
        for i in range(min(self.query_count, self.max_query)):
            off = self.query_off[i]
            n = self.query_len[i]
            if n >= k and same(buf, off, k, name) and (n == k or buf[off + k] == 61):  # '='
                return i
        return -1

    def query_is(self, name, value):
        """True when the request has Uri-Query `name=value`."""
        i = self.query_index(name)
        if i < 0:
            return False
        k = len(name) + 1
        return same(self.buf, self.query_off[i] + k, self.query_len[i] - k, value)

    def query_int(self, name, default=None):
        """The decimal value of Uri-Query `name=N`, or default."""
        i = self.query_index(name)
        if i < 0:
            return default
        k = len(name) + 1
        return _decimal(self.buf, self.query_off[i] + k, self.query_len[i] - k, default)


def _decimal(buf, off, n, default):
    if n <= 0 or n > 9:  # 9 digits stay a small int on 32-bit ports
        return default
    neg = buf[off] == 45  # '-'
    i = off + 1 if neg else off
    if i == off + n:
        return default
    v = 0
    while i < off + n:
        d = buf[i] - 48
        if d < 0 or d > 9:
            return default
        v = v * 10 + d
        i += 1
    return -v if neg else v
