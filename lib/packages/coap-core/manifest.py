# Written by `python -m tools.layout` from its PACKAGES table: edit that.
metadata(description="Stateless CoAP server: parse, dispatch, write, serve.", version="0.1.0")
package(
    "coap",
    files=(
        "__init__.py",
        "aes.py",
        "amplify.py",
        "blockwise.py",
        "clock.py",
        "conditional.py",
        "dispatch.py",
        "echo.py",
        "loops.py",
        "loops_py.py",
        "loops_viper.py",
        "numbers.py",
        "parse.py",
        "peeraddr.py",
        "pending.py",
        "resource.py",
        "server.py",
        "serveloop.py",
        "wellknown.py",
        "write.py",
    ),
    base_path="../..",
)
