# Written by `python -m tools.layout` from its PACKAGES table: edit that.
metadata(description="Prepared answers to repeated GETs for coap-core.", version="0.1.0")
require("coap-core")
package(
    "coap",
    files=(
        "prepared.py",
    ),
    base_path="../..",
)
