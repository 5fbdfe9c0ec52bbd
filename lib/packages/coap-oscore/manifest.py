# Written by `python -m tools.layout` from its PACKAGES table: edit that.
metadata(description="OSCORE (RFC 8613) and its crypto for coap-core.", version="0.1.0")
require("coap-core")
package(
    "coap",
    files=(
        "ccm.py",
        "cose.py",
        "hkdf.py",
        "oscore.py",
        "oscoreclient.py",
        "oscorectx.py",
        "oscorekept.py",
    ),
    base_path="../..",
)
