"""The README's first promise: `make run`, then the two client lines it prints work."""

import os
import subprocess

from boardsim import ROOT, make_run, ping, stop_make_run
from support import NUMBER, free_port

VENV_BIN = os.path.join(ROOT, ".venv", "bin")


def _client(args, timeout=20):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout)


def test_make_run_serves_coap_on_localhost():
    assert not ping("127.0.0.1", 5683), "something already answers CoAP on port 5683"
    proc = make_run([], 5683)  # the first time it installs what it needs
    try:
        assert ping("::1", 5683), "the board does not answer on ::1"

        wkc = _client(["coap-client-notls", "-B", "5", "-m", "get",
                       "coap://127.0.0.1/.well-known/core"])
        assert wkc.returncode == 0, wkc.stderr
        links = wkc.stdout.strip()
        assert '</sensors/temp>;rt="temperature-c"' in links
        assert "</actuators/led>" in links and "</board>" in links

        temp = _client([os.path.join(VENV_BIN, "aiocoap-client"), "coap://localhost/sensors/temp"])
        assert temp.returncode == 0, temp.stderr
        assert NUMBER.fullmatch(temp.stdout.strip()), temp.stdout
        celsius = float(temp.stdout)
        assert 18.5 <= celsius <= 24.5  # the unix board's simulated range
    finally:
        out = stop_make_run(proc)
    assert "coap-client-notls -m get coap://127.0.0.1/.well-known/core" in out


def test_make_run_takes_the_coap_port():
    port = free_port()
    out = stop_make_run(make_run(["COAP_PORT=%d" % port], port))
    assert "coap: serving on coap://127.0.0.1:%d" % port in out


def test_make_run_port_is_taken_as_the_coap_port_with_a_line_saying_so():
    # PORT is the serial device of flash and deploy
    port = free_port()
    out = stop_make_run(make_run(["PORT=%d" % port], port))
    assert "the CoAP port is COAP_PORT" in out


def test_make_help_lists_the_targets_and_their_variables():
    out = subprocess.run(["make", "--no-print-directory", "help"], cwd=ROOT,
                         capture_output=True, text=True, timeout=30).stdout
    for target in ("run", "test", "flash", "deploy", "build", "size", "bench", "setup"):
        assert "make %s " % target in out, target
    for variable in ("COAP_PORT=", "CONFIG=", "BOARD=", "PORT=", "FIRMWARE=", "DRY_RUN="):
        assert variable in out, variable
