# Everything the Pico W firmware needs, frozen into MicroPython by
# `make firmware BOARD=rp2040` (FROZEN_MANIFEST: docs/flashing.md).
# It replaces RPI_PICO_W's own manifest, so it first freezes what that one
# does: the port's modules (_boot.py, which mounts the filesystem; dht and
# onewire, which the sensor drivers import) and the networking bundle (mip,
# ntptime, requests, webrepl); not aioble. No metadata() here, as in a port's
# board manifest: ours would tag the port's modules with our __version__.
include("$(PORT_DIR)/boards/manifest.py")
require("bundle-networking")
add_library("coap-firmware", "../../firmware")
require("firmware", library="coap-firmware")
module("board.py")
