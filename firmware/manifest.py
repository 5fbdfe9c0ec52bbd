# Frozen firmware: what deploy copies to every board, less board.py (each
# boards/<board>/manifest.py includes this file and adds its own board.py).
# tests/host/test_deploy.py checks this list against tools/layout.py.
metadata(description="Stateless CoAP sensor server firmware.", version="0.1.0")

module("boot.py")
module("main.py")
module("app.py")
module("appmanifest.py")
module("bootguard.py")
module("config.py")
module("fleet.py")
module("jsonpos.py")
module("logring.py")
module("lwm2m.py")
module("lwm2mattrs.py")
module("lwm2mboard.py")
module("lwm2mfirmware.py")
module("lwm2msenml.py")
module("remoteconfig.py")
module("resources.py")
module("security.py")
module("sleep.py")
module("senml.py")
module("sensorconfig.py")
module("sensors.py")
module("update.py")

# What the boards share (boards/common), and every sensor driver in it
module("ppplink.py", base_path="../boards/common")
module("rp2040adc.py", base_path="../boards/common")
module("statefile.py", base_path="../boards/common")
module("wifiboard.py", base_path="../boards/common")
package("drivers", base_path="../boards/common")

# The library, as its packages (lib/packages): every one but coap-testing,
# which runs on the host. The board still imports only what its config uses.
add_library("coap-board", "../lib/packages")
require("coap-core")
require("coap-observe")
require("coap-prepared")
require("coap-separate")
require("coap-block1")
require("coap-oscore")
require("coap-fleet")
require("coap-lwm2m")
