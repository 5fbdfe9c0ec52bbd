"""aiocoap-rd's own Resource Directory, listening on the All-CoAP-Nodes groups
as well (RFC 9176 §4: clients may find an RD by multicast). aiocoap-rd's command
line has no option for that, so this builds the same site it builds
(aiocoap.cli.rd.StandaloneResourceDirectory) on a server context that joins the
groups on one interface:

    python rd_multicast.py PORT INTERFACE

binds [::]:PORT (IPv4 too) and prints "ready" once it serves.
"""

import asyncio
import logging
import sys

import aiocoap
from aiocoap.cli.rd import StandaloneResourceDirectory

GROUPS = ("224.0.1.187", "ff02::fd")


async def main(port, interface):
    context = await aiocoap.Context.create_server_context(
        None, bind=("::", port), multicast=[(g, interface) for g in GROUPS],
        transports=["udp6"])
    site = StandaloneResourceDirectory(context=context, log=logging.getLogger("rd"))
    context.serversite = site
    print("ready", flush=True)
    try:
        await asyncio.Event().wait()  # until the test terminates the process
    finally:
        await site.shutdown()
        await context.shutdown()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
