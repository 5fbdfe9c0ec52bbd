# The firmware plus the ESP32 board module, to freeze into a MicroPython build.
# board.py imports dht: the port's own manifest (ports/esp32/boards/manifest.py)
# freezes it, so a build that replaces that manifest must include it as well.
metadata(description="Stateless CoAP sensor server for ESP32 boards.", version="0.1.0")
include("../../firmware/manifest.py")
module("board.py")
