# aiocoap peer (CPython): GET /bench answers "abcd", Content-Format 0.
#
#   python bench/server_aiocoap.py PORT
import asyncio
import sys

import aiocoap
import aiocoap.resource as resource


class Bench(resource.Resource):
    async def render_get(self, request):
        return aiocoap.Message(payload=b"abcd", content_format=0)


async def main(port):
    site = resource.Site()
    site.add_resource(["bench"], Bench())
    await aiocoap.Context.create_server_context(site, bind=("127.0.0.1", port))
    await asyncio.get_running_loop().create_future()  # serve until killed


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
