# A small resource table like a sensor board's, shared by the unit tests.
from coap import Resource, Server

TEXT, JSON = 0, 50


class Board:
    """Fixed-point state the handlers read and write, as firmware would."""

    def __init__(self):
        self.temp_centi = 2312
        self.led = 0
        self.calls = 0


board = Board()


def temp_get(req, resp):
    board.calls += 1
    v = board.temp_centi
    if req.query_is(b"unit", b"F"):
        v = v * 9 // 5 + 3200
    if resp.format == JSON:
        resp.payload(b'{"temp":')
        resp.payload_fixed(v, 2)
        resp.payload(b"}")
    else:
        resp.payload_fixed(v, 2)


def led_get(req, resp):
    resp.payload(b"1" if board.led else b"0")


def led_put(req, resp):
    if req.payload_is(b"on") or req.payload_is(b"1"):
        board.led = 1
    elif req.payload_is(b"off") or req.payload_is(b"0"):
        board.led = 0
    else:
        resp.error(128, b"expected on, off, 1 or 0")


def boom(req, resp):
    raise RuntimeError("sensor unplugged")


def echo_query(req, resp):
    resp.payload_int(req.query_int(b"n", -1))


def big(req, resp):
    for _ in range(200):
        resp.payload(b"0123456789")


RESOURCES = (
    Resource("sensors/temp", get=temp_get, ct=(TEXT, JSON), rt="temperature-c", if_="sensor", obs=True),
    Resource("actuators/led", get=led_get, put=led_put, ct=TEXT, accepts=TEXT, rt="on-off", if_="actuator"),
    Resource("boom", get=boom),
    Resource("query", get=echo_query, post=echo_query),
    Resource("big", get=big, post=big),
)


def make_server(**kw):
    logged = []
    srv = Server(RESOURCES, log=logged.append, **kw)
    srv.logged = logged
    return srv

