# Written by `python -m tools.layout` from its PACKAGES table: edit that.
metadata(description="CoAP Observe (RFC 7641) for coap-core.", version="0.1.0")
require("coap-core")
package(
    "coap",
    files=(
        "notify.py",
        "observe.py",
        "observestore.py",
    ),
    base_path="../..",
)
