"""aiocoap's Resource Directory (aiocoap.cli.rd, in LwM2M compatibility mode)
behind aiocoap's OSCORE site wrapper, as `aiocoap-rd --credentials` is meant
to run it. aiocoap-rd 0.4.17 builds the wrapper around an empty site and
then replaces it with the bare RD (its Main.start sets
context.serversite), so protected registrations get a plain 4.04 there;
this runs the same two aiocoap classes the other way round.

    python rd_oscore.py --bind 127.0.0.1:5783 --credentials creds.json
"""

import argparse
import asyncio
import json
import signal

from aiocoap import Context
from aiocoap.cli.rd import StandaloneResourceDirectory
from aiocoap.credentials import CredentialsMap
from aiocoap.oscore_sitewrapper import OscoreSiteWrapper


async def main(host, port, path):
    creds = CredentialsMap()
    with open(path) as f:
        creds.load_from_dict(json.load(f))
    ctx = await Context.create_server_context(None, (host, port), server_credentials=creds)
    rd = StandaloneResourceDirectory(context=ctx, lwm2m_compat=True)
    ctx.serversite = OscoreSiteWrapper(rd, creds)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await rd.shutdown()
    await ctx.shutdown()


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--bind", required=True)
    p.add_argument("--credentials", required=True)
    a = p.parse_args()
    host, port = a.bind.rsplit(":", 1)
    asyncio.run(main(host.strip("[]"), int(port), a.credentials))
