"""Every module of lib/coap, firmware/ and boards/ has its unit test module in
its room of tests/unit (tests/unit/run.py): test_<module>.py, or the test
module named below with the reason it lives there. A new module without one
fails here, and so does an entry below whose module or test is gone."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UNIT = ROOT / "tests" / "unit"

# lib/coap modules tested in another module's test file
LIB_ELSEWHERE = {
    # the package's exports (Server, Resource, ResponseTooLarge), which every
    # server test imports; its __version__: tests/host/test_version.py
    "__init__": "test_server",
    # the two implementations behind loops.py, checked against each other
    "loops_py": "test_loops",
    "loops_viper": "test_loops",
    # notifications as the observer table sends them: rendered, limited, pinged
    "notify": "test_observe",
}

# firmware modules tested in another module's test file
FIRMWARE_ELSEWHERE = {
    "config": "test_configload",       # loading and validating config.json
    "jsonpos": "test_configload",      # where a JSON error is, for config's message
    "security": "test_config_oscore",  # the OSCORE part of the config
    "resources": "test_sensors",       # the resource table, read through the sensors
    "senml": "test_sensors",           # SenML answers of the sensor resources
    "sensorconfig": "test_sensors",    # sensors as the config declares them
    "appmanifest": "test_update",      # an update's manifest, checked before a fetch
    "bootguard": "test_update",        # trial boots and roll-back of an update
}

# firmware modules with no unit test, and where they are tested instead
FIRMWARE_EXEMPT = {
    # start-up scripts: importing them starts the board; tests/robustness
    # (test_startup_errors), tests/e2e and tests/host/test_deploy run them
    "boot": "runs the board",
    "main": "runs the board",
    # a build script for mpy-cross and the frozen manifest: tests/host/test_build.py
    "manifest": "build script",
    # several boards on a network: tests/fleet/; its log line: test_rd.FleetLines
    "fleet": "needs a network of boards",
}

# boards/: each board folder's board.py, and the shared modules in boards/common
BOARD_TESTS = {
    "esp32/board.py": "test_board_esp32",
    "rp2040/board.py": "test_board_rp2040",
    "rp2040-ppp/board.py": "test_board_ppp",
    "unix/board.py": "test_board_unix",
    "common/ppplink.py": "test_board_ppp",
    "common/rp2040adc.py": "test_board_rp2040",
    "common/wifiboard.py": "test_board_esp32",  # the Wi-Fi bring-up of esp32 and rp2040
    "common/statefile.py": "test_statefiles",
    "common/drivers/*.py": "test_drivers",
}
# build scripts (tests/host/test_build.py), never imported on a board
BOARD_EXEMPT = ("*/manifest.py",)


def modules(folder):
    return sorted(p.stem for p in (ROOT / folder).glob("*.py"))


def has_test(room, name):
    return (UNIT / room / (name + ".py")).is_file()


def missing(folder, room, elsewhere, exempt=()):
    found = []
    for mod in modules(folder):
        if mod in exempt:
            continue
        test = elsewhere.get(mod, "test_" + mod)
        if not has_test(room, test):
            found.append("%s/%s.py: no tests/unit/%s/%s.py" % (folder, mod, room, test))
    return found


def test_every_library_module_has_its_test():
    assert not missing("lib/coap", "coap", LIB_ELSEWHERE)


def test_every_firmware_module_has_its_test():
    assert not missing("firmware", "firmware", FIRMWARE_ELSEWHERE, FIRMWARE_EXEMPT)


def test_every_board_module_has_its_test():
    found = []
    for path in sorted((ROOT / "boards").rglob("*.py")):
        rel = path.relative_to(ROOT / "boards")
        if any(rel.match(p) for p in BOARD_EXEMPT):
            continue
        tests = [t for pattern, t in BOARD_TESTS.items() if rel.match(pattern)]
        if not tests:
            found.append("boards/%s: not in BOARD_TESTS" % rel)
        elif not has_test("boards", tests[0]):
            found.append("boards/%s: no tests/unit/boards/%s.py" % (rel, tests[0]))
    assert not found, "\n".join(found)


def test_the_maps_name_only_what_exists():
    stale = []
    for folder, entries in (("lib/coap", LIB_ELSEWHERE),
                            ("firmware", {**FIRMWARE_ELSEWHERE, **FIRMWARE_EXEMPT})):
        stale += ["%s/%s.py" % (folder, mod) for mod in entries if mod not in modules(folder)]
    for pattern in BOARD_TESTS:
        if not list((ROOT / "boards").glob(pattern)):
            stale.append("boards/" + pattern)
    # a module that got its own test file needs no entry any more
    stale += ["%s (test_%s exists)" % (mod, mod) for mod, test in LIB_ELSEWHERE.items()
              if has_test("coap", "test_" + mod)]
    stale += ["%s (test_%s exists)" % (mod, mod) for mod in FIRMWARE_ELSEWHERE
              if has_test("firmware", "test_" + mod)]
    assert not stale, stale


def test_the_check_sees_a_module_without_a_test(tmp_path, monkeypatch):
    lib = tmp_path / "lib" / "coap"
    lib.mkdir(parents=True)
    (lib / "parse.py").write_text("")
    (lib / "newthing.py").write_text("")
    (tmp_path / "tests" / "unit" / "coap").mkdir(parents=True)
    (tmp_path / "tests" / "unit" / "coap" / "test_parse.py").write_text("")
    here = sys.modules[__name__]
    monkeypatch.setattr(here, "ROOT", tmp_path)
    monkeypatch.setattr(here, "UNIT", tmp_path / "tests" / "unit")
    assert missing("lib/coap", "coap", {}) == [
        "lib/coap/newthing.py: no tests/unit/coap/test_newthing.py"]
