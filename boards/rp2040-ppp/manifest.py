# The firmware plus the plain Pico's PPP board module, to freeze into a
# MicroPython build that has network.PPP (docs/flashing.md). The port's own
# manifest freezes dht and onewire, which the sensor drivers import.
metadata(description="Stateless CoAP sensor server for the Raspberry Pi Pico on PPP.",
         version="0.1.0")
include("../../firmware/manifest.py")
module("board.py")
