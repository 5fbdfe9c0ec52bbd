"""libcoap's coap-client against the simulated board.

coap-client-notls -v 6 prints every PDU it sends and receives on stdout, one line each
("v:1 t:ACK c:2.05 i:1bb9 {616264} [ Content-Format:text/plain ] :: '18.89'"): the
tests read those lines rather than the client's exit status or its error text. -B
bounds every run, so a missing answer costs seconds, not a minute of retransmissions.
"""

import collections
import re
import subprocess

import pytest

import links
from conformance import check
from support import NUMBER, NUMBER_PATTERN

PEER = "libcoap"
CLIENT = "coap-client-notls"
PDU = re.compile(r"v:1 t:(CON|NON|ACK|RST) c:(\S+) i:([0-9a-f]+) \{([0-9a-f]*)\} "
                 r"\[ ?(.*?) ?\](?: :: (?:'(.*)'|binary data.*))?$")
Pdu = collections.namedtuple("Pdu", "type code mid token options payload")
RESOURCES = {  # path: (code by method, what a GET returns)
    "sensors/temp": ({"get": "2.05"}, NUMBER_PATTERN),
    "sensors/humidity": ({"get": "2.05"}, NUMBER_PATTERN),
    "actuators/led": ({"get": "2.05", "put": "2.04"}, "on|off"),
    "board": ({"get": "2.05"}, r'\{"name":"coap-board",.*\}'),
    ".well-known/core": ({"get": "2.05"}, r"</.*>.*"),
}
METHODS_RULE = "Each method on each resource: 2.05/2.04 if the table has it, else 4.05"
METHODS = ("get", "put", "post", "delete", "fetch", "patch", "ipatch")


def coap_client(board, path, *args, method="get", host="127.0.0.1", wait=3):
    """(request PDU, [response PDUs], stdout) of one coap-client run."""
    netloc = "[%s]" % host if ":" in host else host
    uri = "coap://%s:%d/%s" % (netloc, board.port, path)
    proc = subprocess.run([CLIENT, "-B", str(wait), "-v", "6", "-m", method] + list(args) + [uri],
                          capture_output=True, text=True, timeout=wait + 20)
    pdus = []
    for line in proc.stdout.splitlines():
        m = PDU.search(line)  # after a block's payload, which coap-client prints unterminated
        if m:
            opts = dict(o.split(":", 1) for o in m.group(5).split(", ") if o)
            pdus.append(Pdu(m.group(1), m.group(2), m.group(3), m.group(4), opts, m.group(6)))
    assert pdus, "coap-client printed no request:\n%s%s" % (proc.stdout, proc.stderr)
    responses = [p for p in pdus[1:] if re.fullmatch(r"\d\.\d\d", p.code)]
    return pdus[0], responses, proc.stdout


def one_response(board, path, *args, **kw):
    """(request, response); a block-wise answer (to an unverified peer, RFC 9175
    §2.4) as its first block's PDU with the whole payload."""
    req, responses, out = coap_client(board, path, *args, **kw)
    first = responses[0] if responses else None
    if first is not None and len(responses) > 1 and "Block2" in first.options:
        assert all("Block2" in r.options for r in responses), out
        whole = "".join(r.payload or "" for r in responses)
        return req, first._replace(payload=whole)
    assert len(responses) == 1, out
    return req, first


@pytest.mark.parametrize("non", [False, True], ids=["CON", "NON"])
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("path", sorted(RESOURCES))
def test_every_method_on_every_resource(board, path, method, non):
    codes, body = RESOURCES[path]
    args = ["-N"] if non else []
    if method not in ("get", "delete"):
        args += ["-e", "on"]
    req, resp = one_response(board, path, *args, method=method)
    with check(METHODS_RULE, "RFC 7252 §5.8", PEER):
        assert resp.code == codes.get(method, "4.05")
        if resp.code == "2.05":
            assert re.fullmatch(body, resp.payload)
    if non:
        with check("NON request answered with a NON response echoing the token",
                   "RFC 7252 §5.2.3", PEER):
            assert (req.type, resp.type, resp.token) == ("NON", "NON", req.token)
    else:
        with check("Piggybacked response: an ACK echoing MID and token", "RFC 7252 §5.2.1", PEER):
            assert (resp.type, resp.mid, resp.token) == ("ACK", req.mid, req.token)


@pytest.mark.parametrize("path,accept,code,ct", [
    ("sensors/temp", "0", "2.05", "text/plain"),
    ("sensors/temp", "50", "2.05", "application/json"),
    ("sensors/humidity", "50", "2.05", "application/json"),
    ("board", "50", "2.05", "application/json"),
    (".well-known/core", "40", "2.05", "application/link-format"),
    ("sensors/temp", "60", "4.06", None),
    ("actuators/led", "50", "4.06", None),
    ("board", "0", "4.06", None),
    (".well-known/core", "50", "4.06", None),
])
def test_accept(board, path, accept, code, ct):
    req, resp = one_response(board, path, "-A", accept)
    with check("Accept: the format asked for (Content-Format set), else 4.06",
               "RFC 7252 §5.10.4", PEER):
        assert resp.code == code
        assert resp.options.get("Content-Format") == ct
        if code == "2.05" and accept == "50":
            assert resp.payload.startswith("{") and resp.payload.endswith("}")


@pytest.mark.parametrize("fmt,code", [("0", "2.04"), ("50", "4.15"), ("42", "4.15")])
def test_content_format_of_put(board, fmt, code):
    req, resp = one_response(board, "actuators/led", "-t", fmt, "-e", "off", method="put")
    with check("Content-Format of a request payload not accepted: 4.15", "RFC 7252 §5.10.3",
               PEER):
        assert resp.code == code


@pytest.mark.parametrize("non", [False, True], ids=["CON", "NON"])
@pytest.mark.parametrize("length", range(1, 9))
def test_token_echoed(board, length, non):
    # libcoap 4.3 sends the token after the one given, and never an empty one:
    # 0-byte tokens are covered by the aiocoap and raw tests.
    req, resp = one_response(board, "sensors/temp", "-T", "t" * length, *(["-N"] if non else []))
    with check("Token of 0-8 bytes echoed in the response", "RFC 7252 §5.3.1", PEER):
        assert len(req.token) == 2 * length
        assert resp.token == req.token


def test_discovery_lists_the_board(board):
    req, resp = one_response(board, ".well-known/core")
    with check("/.well-known/core: all links, or those matching one filter", "RFC 6690 §4.1",
               PEER):
        assert resp.code == "2.05"
        assert resp.options.get("Content-Format") == "application/link-format"
        assert links.missing_board_links(links.parse(resp.payload)) == []


@pytest.mark.parametrize("query", links.FILTERS)
def test_discovery_filter(board, query):
    everything = links.parse(one_response(board, ".well-known/core")[1].payload)
    req, resp = one_response(board, ".well-known/core?" + query)
    with check("/.well-known/core: all links, or those matching one filter", "RFC 6690 §4.1",
               PEER):
        assert resp.code == "2.05"
        assert links.parse(resp.payload or "") == links.select(everything, query)


@pytest.mark.parametrize("behaviour,section,args,code", [
    ("PUT /actuators/led: on, off, 1 or 0 give 2.04, any other payload 4.00",
     "RFC 7252 §5.9.2.1", ("actuators/led", "-m", "put", "-e", "blink"), "4.00"),
    ("Unrecognised critical option in a CON request: 4.02", "RFC 7252 §5.4.1",
     ("sensors/temp", "-O", "2049,x"), "4.02"),
    ("Unrecognised critical option in a CON request: 4.02", "RFC 7252 §5.4.1",
     ("sensors/temp", "-O", "65001,0x00ff"), "4.02"),
    ("Unknown path: 4.04", "RFC 7252 §5.9.2.5", ("sensors/pressure",), "4.04"),
    (METHODS_RULE, "RFC 7252 §5.8",
     ("board", "-m", "delete"), "4.05"),
    ("Accept: the format asked for (Content-Format set), else 4.06", "RFC 7252 §5.10.4",
     ("sensors/humidity", "-A", "60"), "4.06"),
    ("Request payload over the server's limit: 4.13 with Size1", "RFC 7252 §5.9.2.9",
     ("actuators/led", "-m", "put", "-e", "x" * 1025), "4.13"),
    ("Content-Format of a request payload not accepted: 4.15", "RFC 7252 §5.10.3",
     ("actuators/led", "-m", "put", "-t", "50", "-e", "{}"), "4.15"),
    ("Proxy-Uri or Proxy-Scheme at a server that is not a proxy: 5.05", "RFC 7252 §5.10.2",
     ("sensors/temp", "-P", "{proxy}"), "5.05"),
], ids=["4.00", "4.02", "4.02-high", "4.04", "4.05", "4.06", "4.13", "4.15", "5.05"])
def test_error_codes(board, behaviour, section, args, code):
    path, rest = args[0], list(args[1:])
    method = "get"
    if "-m" in rest:
        i = rest.index("-m")
        method = rest[i + 1]
        del rest[i:i + 2]
    # -P: the request goes to the "proxy" (the board), the URI into Proxy-Uri
    rest = [a.replace("{proxy}", "coap://127.0.0.1:%d" % board.port) for a in rest]
    req, resp = one_response(board, path, *rest, method=method)
    with check(behaviour, section, PEER):
        assert (resp.type, resp.code, resp.mid) == ("ACK", code, req.mid)
        if code == "4.13":
            assert resp.options.get("Size1") == "1024"
        if code == "4.02":
            assert resp.payload  # §5.4.1: SHOULD carry a diagnostic payload
        if code == "5.05":
            assert "Proxy-Uri" in req.options


def test_unrecognised_critical_option_in_non_is_rejected(board):
    req, responses, out = coap_client(board, "sensors/temp", "-N", "-O", "2049,x", wait=1)
    with check("Unrecognised critical option in a NON request: rejected, no 4.02",
               "RFC 7252 §5.4.1", PEER):
        assert [r.code for r in responses if r.type != "RST"] == [], out


def test_block2_size_in_request_is_honoured(board):
    # RFC 7959 §2.4: "A server MUST use the block size indicated or a smaller size."
    # A server without block-wise transfers must treat Block2 (critical) as unrecognised.
    req, responses, out = coap_client(board, ".well-known/core", "-b", "16")
    with check("Block2 in a request: that block, of the size asked for or smaller",
               "RFC 7959 §2.4", PEER):
        assert "Block2" in req.options
        first = responses[0]
        assert first.code == "4.02" or (first.code == "2.05" and "Block2" in first.options
                                        and len(first.payload) <= 16), out


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_both_addresses(board, host):
    req, resp = one_response(board, "sensors/temp", host=host)
    assert (resp.type, resp.code, resp.token) == ("ACK", "2.05", req.token)
    assert NUMBER.fullmatch(resp.payload)
