# Everything the ESP32 firmware needs, frozen into MicroPython by
# `make firmware BOARD=esp32` (FROZEN_MANIFEST: docs/flashing.md). It
# replaces the board's own manifest, so it first freezes what ESP32_GENERIC
# does, the port's manifest: _boot.py (which mounts the filesystem), dht and
# onewire (which the sensor drivers import), the networking bundle. No
# metadata() here, as in a port's board manifest: ours would tag the port's
# modules with our __version__.
include("$(PORT_DIR)/boards/manifest.py")
add_library("coap-firmware", "../../firmware")
require("firmware", library="coap-firmware")
module("board.py")
