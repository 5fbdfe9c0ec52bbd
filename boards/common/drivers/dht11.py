# DHT11 on one GPIO, through MicroPython's dht module. Its frame holds whole
# units and tenths: humidity, humidity tenths, temperature, temperature tenths
# (bit 7 of the tenths byte is the sign on newer parts).

from drivers import dht22

FIELDS = dht22.FIELDS
MIN_INTERVAL_MS = 2000  # the datasheet asks for at least 1 s; 2 s like the DHT22


def quantities(spec):
    return dht22.quantities(spec)


def decode(b, out):
    t = b[2] * 100 + (b[3] & 0x7F) * 10
    out[0] = -t if b[3] & 0x80 else t
    out[1] = b[0] * 100 + b[1] * 10


class Driver(dht22.Driver):
    decode = staticmethod(decode)
    kind = "DHT11"
