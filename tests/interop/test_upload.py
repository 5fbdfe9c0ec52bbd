"""Block-wise uploads (RFC 7959 Block1) from libcoap and aiocoap to a resource
written on lib/coap's public API (tests/interop/apiserver.py): a 3 KB file
goes up in blocks and comes back byte for byte."""

import os
import random
import re
import subprocess

import pytest

from apiserver_fixture import ApiServer
from conformance import check

CLIENT = "coap-client-notls"
AIOCOAP = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), ".venv", "bin", "aiocoap-client")
SECTION = "RFC 7959 §2.3"
TD = {"put": "ETSI TD_COAP_BLOCK_03", "post": "ETSI TD_COAP_BLOCK_04"}


@pytest.fixture(scope="module")
def server():
    with ApiServer() as s:
        yield s


@pytest.fixture
def upload(tmp_path):
    """A 3 KB file of text lines, different each test."""
    rnd = random.Random()
    path = tmp_path / "upload.txt"
    path.write_text("".join(rnd.choice("abcdefghij0123456789 \n") for _ in range(3000)))
    return path


def uri(server, path="store"):
    return "coap://%s:%d/%s" % (server.host, server.port, path)


def libcoap(*args):
    return subprocess.run([CLIENT, "-B", "5", "-v", "6"] + list(args), capture_output=True,
                          timeout=30)


def read_back(server, tmp_path):
    out = tmp_path / "back.txt"
    subprocess.run([CLIENT, "-B", "5", "-m", "get", "-o", str(out), uri(server)], check=True,
                   timeout=30)
    return out.read_bytes()


@pytest.mark.parametrize("method,block", [("put", 64), ("put", 1024), ("post", 64)])
def test_libcoap_uploads_a_file_and_reads_it_back(server, upload, tmp_path, method, block):
    behaviour = "Block1 %s of 3 KB in %d-byte blocks (Size1, Request-Tag), read back (%s)" % (
        method.upper(), block, TD[method])
    with check(behaviour, SECTION, "libcoap"):
        proc = libcoap("-m", method, "-b", str(block), "-f", str(upload), uri(server))
        out = proc.stdout.decode("latin-1")
        assert "Request-Tag:" in out and "Size1:3000" in out, out  # what the client sent
        blocks = (3000 + block - 1) // block
        # §2.3: the final answer carries Block1 with the last block's number, M unset
        assert re.search(r"c:2\.04 .*Block1:%d/_/%d" % (blocks - 1, block), out), out
        assert read_back(server, tmp_path) == upload.read_bytes()


def test_libcoap_body_too_large_is_4_13_with_size1(server, tmp_path):
    big = tmp_path / "big.txt"
    big.write_text("x" * 5000)
    with check("Block1 body over the resource's size: 4.13 with Size1", "RFC 7959 §2.9.3",
               "libcoap"):
        out = libcoap("-m", "put", "-b", "64", "-f", str(big), uri(server)).stdout.decode()
        assert re.search(r"c:4\.13 .*Size1:4096", out), out


def test_aiocoap_uploads_a_file_and_reads_it_back(server, upload, tmp_path):
    with check("Block1 PUT of 3 KB (aiocoap-client --payload @file), read back (%s)"
               % TD["put"], SECTION,
               "aiocoap"):
        proc = subprocess.run([AIOCOAP, "-m", "PUT", "--payload", "@%s" % upload, uri(server)],
                              capture_output=True, text=True, timeout=30)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert read_back(server, tmp_path) == upload.read_bytes()
        proc = subprocess.run([AIOCOAP, uri(server)], capture_output=True, timeout=30)
        assert proc.stdout.rstrip(b"\n") == upload.read_bytes().rstrip(b"\n")
