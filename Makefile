# make run    a simulated sensor board serving CoAP on localhost:5683
# make test   every test (installs what they need first)
# make help   every target and the variables it takes; README.md has the rest.

VENV   ?= .venv
PY     := $(VENV)/bin/python
MPY    := $(VENV)/bin/micropython
BOARD  ?= unix
PORT   ?=
COAP_PORT ?=
FIRMWARE ?=
DRY_RUN ?=
MICROPYTHON ?=
# Where the simulated board finds its modules: the same names a real board has at its root
BOARD_PATH := firmware:boards/unix:boards/common:lib

.PHONY: help setup setup-test setup-bench peers run test test-target unit unit32 pytest build deploy flash firmware bench bench-quick bench-oscore size clean

help:
	@echo 'make run      a simulated board serving CoAP on localhost (Ctrl-C stops it)'
	@echo '              COAP_PORT=5684  the UDP port (default 5683, or "port" in CONFIG)'
	@echo '              CONFIG=file.json  a config file (README: Configuration)'
	@echo 'make test     every test (installs the test peers first); make unit, unit32, pytest'
	@echo 'make test-target  the firmware on the emulated RP2040 over PPP (needs root and'
	@echo '              ../shared/targets/rp2040-net, or RP2040_NET=<folder>)'
	@echo 'make flash    BOARD=esp32|rp2040|rp2040-ppp FIRMWARE=image PORT=/dev/ttyUSB0 (the serial'
	@echo '              device) DRIVE=mountpoint CHIP=esp32s3 DRY_RUN=1'
	@echo 'make deploy   BOARD=esp32|rp2040|rp2040-ppp PORT=/dev/ttyUSB0 CONFIG=config.json SOURCE=1 DRY_RUN=1'
	@echo 'make build    BOARD=esp32|rp2040|rp2040-ppp: the .mpy files deploy copies, in build/'
	@echo 'make firmware BOARD=esp32|rp2040|rp2040-ppp MICROPYTHON=<source tree>: MicroPython'
	@echo '              with the firmware frozen in (MICROPYTHON_BOARD=RPI_PICO_W or'
	@echo '              BOARD_DIR=<board folder>, JOBS=2, DRY_RUN=1); the image make flash takes'
	@echo 'make size     code size and heap of the library, and of each package on wasm32'
	@echo 'make bench    the side-by-side benchmark (make bench-quick, bench-oscore)'
	@echo 'make setup    what running a board needs, into VENV=.venv (requirements.txt);'
	@echo '              setup-test, setup-bench: and the tests, the benchmark packages'
	@echo 'make peers    also the test peers (libcoap3-bin, tmux, Node.js, node-coap, Node-RED, lwm2m-node-lib)'
	@echo 'make clean    remove build output and test caches'

# What each use needs: running a board < the tests < the benchmark (requirements*.txt)
setup:
	@tools/setup.sh

setup-test:
	@tools/setup.sh --test

setup-bench:
	@tools/setup.sh --bench

peers:
	@tools/setup.sh --peers

# PORT is the serial device of flash and deploy; the CoAP port is COAP_PORT.
# `make run PORT=5684` still works, with a line saying so.
RUN_PORT = $(or $(COAP_PORT),$(filter-out /%,$(PORT)))
run: setup
	@$(if $(PORT),$(if $(COAP_PORT),,echo "make run: PORT names the serial device of flash and deploy; the CoAP port is COAP_PORT$(if $(RUN_PORT), (taken as COAP_PORT=$(PORT) this time))" >&2))
	$(if $(RUN_PORT),COAP_PORT=$(RUN_PORT)) MICROPYPATH=$(BOARD_PATH) exec $(MPY) firmware/main.py $(CONFIG)

# 8 MB: every test module's imports stay loaded, and a late test (a 70 KB
# TLV value) found no room in one piece in the default heap
UNIT = $(MPY) -X heapsize=8m tests/unit/run.py

unit: setup
	$(UNIT)

# The same unit tests on a 32-bit (wasm32) MicroPython, as the boards run them
unit32: setup peers
	node tests/unit/run32.mjs

pytest: setup-test peers
	$(PY) -m pytest tests

test: setup-test peers
	$(UNIT)
	node tests/unit/run32.mjs
	$(PY) -m pytest tests

# The firmware on the emulated RP2040 over PPP (lwIP): needs ../shared/targets/rp2040-net
# (or RP2040_NET=<folder>), root, nodejs, npm, iproute2 and libcoap3-bin; docs/testing.md.
test-target: setup
	$(PY) tests/target/run.py

build: setup
	$(PY) -m tools.build --board $(BOARD)

deploy: setup
	$(PY) -m tools.deploy --board $(BOARD) $(if $(PORT),--port $(PORT)) $(if $(CONFIG),--config $(CONFIG)) $(if $(SOURCE),--source) $(if $(DRY_RUN),--dry-run)

firmware: setup
	$(PY) -m tools.firmware --board $(BOARD) $(if $(MICROPYTHON),--micropython $(MICROPYTHON)) $(if $(MICROPYTHON_BOARD),--mp-board $(MICROPYTHON_BOARD)) $(if $(BOARD_DIR),--board-dir $(BOARD_DIR)) $(if $(JOBS),--jobs $(JOBS)) $(if $(DRY_RUN),--dry-run)

flash: setup
	$(PY) -m tools.flash --board $(BOARD) $(if $(PORT),--port $(PORT)) $(if $(FIRMWARE),--firmware $(FIRMWARE)) $(if $(CHIP),--chip $(CHIP)) $(if $(DRIVE),--drive $(DRIVE)) $(if $(DRY_RUN),--dry-run)

size: setup peers
	$(PY) -m tools.size

bench: setup-bench peers
	$(PY) bench/run.py

bench-quick: setup-bench peers
	$(PY) bench/run.py --quick

bench-oscore: setup
	$(MPY) -X heapsize=8m bench/oscore.py

clean:
	rm -rf build .pytest_cache .hypothesis
