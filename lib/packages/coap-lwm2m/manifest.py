# Written by `python -m tools.layout` from its PACKAGES table: edit that.
metadata(description="OMA LwM2M: TLV (11542) written and read for coap-core.", version="0.1.0")
require("coap-core")
package(
    "coap",
    files=(
        "tlv.py",
    ),
    base_path="../..",
)
