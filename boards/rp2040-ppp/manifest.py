# Everything the plain Pico on PPP needs, frozen into a MicroPython build
# that has network.PPP by `make firmware BOARD=rp2040-ppp BOARD_DIR=...`
# (FROZEN_MANIFEST: docs/flashing.md). It replaces the board's own manifest,
# so it first freezes what the rp2 boards do: the port's modules (_boot.py,
# which mounts the filesystem; dht and onewire, which the sensor drivers
# import) and, as on the Pico W, the networking bundle. No metadata() here, as
# in a port's board manifest: ours would tag the port's modules too.
include("$(PORT_DIR)/boards/manifest.py")
require("bundle-networking")
add_library("coap-firmware", "../../firmware")
require("firmware", library="coap-firmware")
module("board.py")
