# Written by `python -m tools.layout` from its PACKAGES table: edit that.
metadata(description="Separate responses (RFC 7252 §5.2.2) for coap-core.", version="0.1.0")
require("coap-core")
package(
    "coap",
    files=(
        "later.py",
    ),
    base_path="../..",
)
