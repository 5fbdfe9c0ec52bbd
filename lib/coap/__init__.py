"""A minimal, stateless CoAP server (RFC 7252) for MicroPython and CPython.

    from coap import Server, Resource
    server = Server((Resource("sensors/temp", get=read_temp, ct=0),))
    server.serve(sock)

See README.md, "Writing a resource", and docs/handlers.md.
"""

from .resource import Resource
from .server import Server
from .write import ResponseTooLarge

# The one place the version is written: firmware/resources.py and package.json
# take it from here; tests/host/test_version.py holds the manifests to it.
__version__ = "0.1.0"
