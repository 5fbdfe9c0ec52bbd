# Bosch BMP280 (temperature, pressure) over I2C: the BME280 driver without
# humidity; chip id 0x58 (BMP280 datasheet §4.3.1). Same fields.

from drivers import bme280

FIELDS = bme280.FIELDS
MIN_INTERVAL_MS = bme280.MIN_INTERVAL_MS

_QUANTITIES = (bme280.quantities(None)[0], bme280.quantities(None)[2])


def quantities(spec):
    return _QUANTITIES


class Driver(bme280.Driver):
    chip_id = 0x58
    humidity = False
