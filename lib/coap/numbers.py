# CoAP numbers (RFC 7252 §12, RFC 7641, RFC 7959), named as aiocoap names them.
# Codes are the raw byte: class << 5 | detail, so CONTENT = 69 is "2.05".
# Hot modules keep private `_X = const()` copies; tests/unit/coap/test_numbers.py checks they agree.

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

# Message types (§3)
CON = const(0)
NON = const(1)
ACK = const(2)
RST = const(3)

# Method codes (§12.1.1, RFC 8132)
EMPTY = const(0)
GET = const(1)
POST = const(2)
PUT = const(3)
DELETE = const(4)
FETCH = const(5)
PATCH = const(6)
IPATCH = const(7)

# Response codes (§12.1.2)
CREATED = const(65)                       # 2.01
DELETED = const(66)                       # 2.02
VALID = const(67)                         # 2.03
CHANGED = const(68)                       # 2.04
CONTENT = const(69)                       # 2.05
CONTINUE = const(95)                      # 2.31
BAD_REQUEST = const(128)                  # 4.00
UNAUTHORIZED = const(129)                 # 4.01
BAD_OPTION = const(130)                   # 4.02
FORBIDDEN = const(131)                    # 4.03
NOT_FOUND = const(132)                    # 4.04
METHOD_NOT_ALLOWED = const(133)           # 4.05
NOT_ACCEPTABLE = const(134)               # 4.06
REQUEST_ENTITY_INCOMPLETE = const(136)    # 4.08
PRECONDITION_FAILED = const(140)          # 4.12
REQUEST_ENTITY_TOO_LARGE = const(141)     # 4.13
UNSUPPORTED_CONTENT_FORMAT = const(143)   # 4.15
INTERNAL_SERVER_ERROR = const(160)        # 5.00
NOT_IMPLEMENTED = const(161)              # 5.01
SERVICE_UNAVAILABLE = const(163)          # 5.03
PROXYING_NOT_SUPPORTED = const(165)       # 5.05

# Option numbers (§12.2); odd numbers are critical (§5.4.6)
IF_MATCH = const(1)
URI_HOST = const(3)
ETAG = const(4)
IF_NONE_MATCH = const(5)
OBSERVE = const(6)
URI_PORT = const(7)
LOCATION_PATH = const(8)
OSCORE = const(9)                         # RFC 8613 §2
URI_PATH = const(11)
CONTENT_FORMAT = const(12)
MAX_AGE = const(14)
URI_QUERY = const(15)
ACCEPT = const(17)
LOCATION_QUERY = const(20)
BLOCK2 = const(23)
BLOCK1 = const(27)
SIZE2 = const(28)
PROXY_URI = const(35)
PROXY_SCHEME = const(39)
SIZE1 = const(60)
ECHO = const(252)                         # RFC 9175

# Content-Formats (§12.3, RFC 6690, RFC 7049)
TEXT_PLAIN = const(0)
LINK_FORMAT = const(40)
OCTET_STREAM = const(42)
JSON = const(50)
CBOR = const(60)


def code_text(code):
    """'2.05' for 69: for logs and tests, never on the hot path."""
    return "%d.%02d" % (code >> 5, code & 31)
