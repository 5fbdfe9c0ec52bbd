"""coap.blockput (and coap.oscoreclient) against aiocoap-fileserver --write:
the unix port PUTs a 3 KB body block-wise (RFC 7959 §2.5), in plain CoAP and
over OSCORE, and reads it back block-wise; the file on the server's disk is
the body."""

import json
import os
import subprocess
import time

import pytest

from boardsim import MICROPYTHON, ROOT, ping
from support import free_port, stop_process

FILESERVER = os.path.join(ROOT, ".venv", "bin", "aiocoap-fileserver")
SECRET, SALT, BOARD, FILES = "0102030405060708090a0b0c0d0e0f10", "9e7ca92223786340", "0a", "0b"
SIZE = 3000


def body():
    return bytes((i * 31 + 7) & 0xFF for i in range(SIZE))


@pytest.mark.parametrize("secure", [False, True], ids=["plain", "oscore"])
def test_put_block_wise_and_read_back(tmp_path, secure):
    root = tmp_path / "files"
    root.mkdir()
    port = free_port()
    cmd = [FILESERVER, "--write", "--bind", "127.0.0.1:%d" % port, str(root)]
    if secure:
        keys = tmp_path / "keys"
        keys.mkdir()
        (keys / "settings.json").write_text(json.dumps(
            {"sender-id_hex": FILES, "recipient-id_hex": BOARD, "secret_hex": SECRET,
             "salt_hex": SALT}))
        (tmp_path / "creds.json").write_text(json.dumps(
            {":board": {"oscore": {"basedir": str(keys) + "/"}}}))
        cmd += ["--credentials", str(tmp_path / "creds.json")]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while not ping("127.0.0.1", port):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        args = [MICROPYTHON, os.path.join(ROOT, "tests", "interop", "blockput_client.py"),
                "127.0.0.1", str(port), "up.bin", str(SIZE)]
        if secure:
            args += [SECRET, SALT, BOARD, FILES]
        out = subprocess.run(args, capture_output=True, text=True, timeout=120,
                             env=dict(os.environ, MICROPYPATH=os.path.join(ROOT, "lib")))
        assert out.stdout.split("\n")[0] in ("put 2.01 get 2.05 same True",
                                             "put 2.04 get 2.05 same True"), out
        assert (root / "up.bin").read_bytes() == body()
    finally:
        stop_process(proc)
