# Written by `python -m tools.layout` from its PACKAGES table: edit that.
metadata(description="Run coap-core resources in tests, no socket.", version="0.1.0")
require("coap-core")
package(
    "coap",
    files=(
        "testing.py",
    ),
    base_path="../..",
)
