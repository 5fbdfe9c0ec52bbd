# Sensor drivers, one module per config.json "type" (docs/sensors.md).
#
# A driver module has:
#   FIELDS         the config fields the type needs (required) and may have
#                  (optional), checked by firmware/sensors.py before open();
#   quantities(spec)  what it measures: a tuple of QUANTITY tuples below;
#   Driver(spec, board)  the open sensor; read(out) puts one fixed-point int
#                  (hundredths) per quantity into out and returns True, returns
#                  False while no reading is ready yet, and raises OSError with
#                  a short reason when the sensor fails.
# read() runs from the board's refresh schedule, never per request.
#
# QUANTITY: (path suffix, JSON key, SenML unit (RFC 8428 §12.1), rt,
#            low, high): low..high (hundredths) is the range the unix board
#            simulates.
