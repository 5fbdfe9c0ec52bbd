"""LwM2M registration into a second registrar: aiocoap-rd --lwm2m-compat,
which takes LwM2M clients' registrations at /rd (RFC 9176 Appendix A), on
loopback. The board registers its LwM2M objects from its serving socket
(so the RD's base is the board's address), and its De-register on Ctrl-C
removes it at once."""

import signal

from boardsim import SimulatedBoard
from rdpeer import ResourceDirectory, endpoints, resources, wait_for
from support import free_port


def test_lwm2m_registration_into_aiocoap_rd():
    with ResourceDirectory("127.0.0.1", free_port(), ["--lwm2m-compat"]) as rd:
        board = SimulatedBoard(config={"name": "lw-rd", "lwm2m": {
            "server": rd.uri, "lifetime_s": 60}}).start()
        try:
            listed = wait_for(lambda: 'ep="lw-rd"' in endpoints(rd.host, rd.port), 10)
            assert listed, board.output()
            eps = endpoints(rd.host, rd.port)
            assert 'base="coap://127.0.0.1:%d"' % board.port in eps, eps
            links = resources(rd.host, rd.port, "ep=lw-rd")
            assert "coap://127.0.0.1:%d/3303/0>" % board.port in links, links
            assert 'rt="oma.lwm2m"' in links, links
            # the RD lists it a moment before the board has read the 2.01
            assert wait_for(lambda: "lwm2m: registered as /reg/" in board.output(), 5)
            board.proc.send_signal(signal.SIGINT)
            board.proc.wait(5)
            gone = wait_for(lambda: 'ep="lw-rd"' not in endpoints(rd.host, rd.port), 3)
            assert gone, endpoints(rd.host, rd.port)
        finally:
            out = board.stop()
        assert "lwm2m: registered as /" in out and "lwm2m: de-registered" in out, out
