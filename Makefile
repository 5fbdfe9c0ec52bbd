# make run    a simulated sensor board serving CoAP on localhost:5683
# make test   every test (installs what they need first)
# See README.md for the rest.

VENV   ?= .venv
PY     := $(VENV)/bin/python
MPY    := $(VENV)/bin/micropython
BOARD  ?= unix
PORT   ?=
FIRMWARE ?=
DRY_RUN ?=
# Where the simulated board finds its modules: the same names a real board has at its root
BOARD_PATH := firmware:boards/unix:boards/common:lib

.PHONY: setup peers run test test-target unit unit32 pytest build deploy flash bench bench-quick bench-oscore size clean

setup:
	@tools/setup.sh

peers:
	@tools/setup.sh --peers

run: setup
	MICROPYPATH=$(BOARD_PATH) exec $(MPY) firmware/main.py $(CONFIG)

unit: setup
	$(MPY) tests/unit/run.py

# The same unit tests on a 32-bit (wasm32) MicroPython, as the boards run them
unit32: setup peers
	node tests/unit/run32.mjs

pytest: setup peers
	$(PY) -m pytest tests

test: setup peers
	$(MPY) tests/unit/run.py
	node tests/unit/run32.mjs
	$(PY) -m pytest tests

# The firmware on the emulated RP2040 over PPP (lwIP): needs ../shared/targets/rp2040-net
# (or RP2040_NET=<folder>), root, nodejs, npm, iproute2 and libcoap3-bin; README "Testing".
test-target: setup
	$(PY) tests/target/run.py

build: setup
	$(PY) -m tools.build --board $(BOARD)

deploy: setup
	$(PY) -m tools.deploy --board $(BOARD) $(if $(PORT),--port $(PORT)) $(if $(CONFIG),--config $(CONFIG)) $(if $(SOURCE),--source) $(if $(DRY_RUN),--dry-run)

flash: setup
	$(PY) -m tools.flash --board $(BOARD) $(if $(PORT),--port $(PORT)) $(if $(FIRMWARE),--firmware $(FIRMWARE)) $(if $(CHIP),--chip $(CHIP)) $(if $(DRIVE),--drive $(DRIVE)) $(if $(DRY_RUN),--dry-run)

size: setup
	$(PY) -m tools.size

bench: setup peers
	$(PY) bench/run.py

bench-quick: setup peers
	$(PY) bench/run.py --quick

bench-oscore: setup
	$(MPY) -X heapsize=8m bench/oscore.py

clean:
	rm -rf build .pytest_cache .hypothesis
