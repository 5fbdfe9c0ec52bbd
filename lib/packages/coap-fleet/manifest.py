# Written by `python -m tools.layout` from its PACKAGES table: edit that.
metadata(description="CoAP client, Resource Directory and multicast.", version="0.1.0")
require("coap-core")
package(
    "coap",
    files=(
        "blockget.py",
        "blockput.py",
        "client.py",
        "linkformat.py",
        "multicast.py",
        "rd.py",
        "rddiscover.py",
    ),
    base_path="../..",
)
