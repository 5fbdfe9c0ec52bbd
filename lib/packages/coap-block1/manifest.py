# Written by `python -m tools.layout` from its PACKAGES table: edit that.
metadata(description="Block-wise uploads (RFC 7959 Block1) for coap-core.", version="0.1.0")
require("coap-core")
package(
    "coap",
    files=(
        "block1.py",
    ),
    base_path="../..",
)
