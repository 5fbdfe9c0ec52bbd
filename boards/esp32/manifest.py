# The firmware plus the ESP32 board module, to freeze into a MicroPython build.
# The sensor drivers (boards/common/drivers, frozen with the firmware) import
# dht and onewire when a sensor of that type is configured: the port's own
# manifest (ports/esp32/boards/manifest.py) freezes both, so a build that replaces
# that manifest must include them as well.
metadata(description="Stateless CoAP sensor server for ESP32 boards.", version="0.1.0")
include("../../firmware/manifest.py")
module("board.py")
