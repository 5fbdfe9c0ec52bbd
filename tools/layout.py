"""The deployed layout: which file of the repo goes where on a board.

Every board gets the same tree at its filesystem root:

    boot.py, main.py, ...   firmware/*.py (all but manifest.py)
    board.py                boards/<board>/board.py
    wifiboard.py, ...       boards/common/*.py (what the boards share)
    drivers/*.py            boards/common/drivers/*.py (sensor drivers)
    lib/coap/*.py           lib/coap/*.py (less testing.py: host-side only)
    config.json             the user's config, when one is given

build, deploy and the manifest test all take the list from files_for(), so that
what is compiled, what is copied and what the package manifests list cannot drift.

The library is also nine installable packages (PACKAGES below, one table from
module to package): `python -m tools.layout` writes each one's manifest.py and
package.json under lib/packages/, and firmware/package.json; `--check` says
which of them differ from what it would write.
"""

import json
import os
import re
import sys
from pathlib import Path

from .common import ROOT, Refused, run_cli

#: Boards and the mpy-cross architecture of their native emitter ("host": the
#: unix port on the machine that runs mpy-cross).
#: rp2040 is the Pico W (Wi-Fi), rp2040-ppp a plain Pico on PPP (a modem on a UART).
BOARDS = {"esp32": "xtensawin", "rp2040": "armv6m", "rp2040-ppp": "armv6m", "unix": "host"}

#: The .mpy version the firmware imports: MicroPython 1.29 reads v6.3.
MPY_VERSION = "6.3"

#: Run as source: MicroPython looks for these by their .py names.
SOURCE_ONLY = ("boot.py", "main.py")

CONFIG = "config.json"

#: Every module of lib/coap, in the package that installs it. One Python package
#: (`coap`, import paths unchanged) split into installable parts, as aioble is:
#: each part names its files and requires the parts its modules import. A module
#: a Server imports at module level is core: with the 3x rule on by default
#: (amplify, echo, and the aes of Echo's tag), and pending (PROVEN). Observe,
#: prepared answers, uploads, separate responses and OSCORE are imported by
#: the server only when its table or context asks for them. A new lib/coap
#: module must be listed here (a check refuses one that is not).
PACKAGES = (
    ("coap-core", (), "Stateless CoAP server: parse, dispatch, write, serve.", (
        "__init__.py", "aes.py", "amplify.py", "blockwise.py", "clock.py", "conditional.py",
        "dispatch.py", "echo.py", "loops.py", "loops_py.py", "loops_viper.py", "numbers.py",
        "parse.py", "peeraddr.py", "pending.py", "resource.py", "server.py", "serveloop.py",
        "wellknown.py", "write.py")),
    ("coap-observe", ("coap-core",), "CoAP Observe (RFC 7641) for coap-core.", (
        "notify.py", "observe.py", "observestore.py")),
    ("coap-block1", ("coap-core",), "Block-wise uploads (RFC 7959 Block1) for coap-core.", (
        "block1.py",)),
    ("coap-separate", ("coap-core",), "Separate responses (RFC 7252 §5.2.2) for coap-core.", (
        "later.py",)),
    ("coap-prepared", ("coap-core",), "Prepared answers to repeated GETs for coap-core.", (
        "prepared.py",)),
    ("coap-oscore", ("coap-core",), "OSCORE (RFC 8613) and its crypto for coap-core.", (
        "ccm.py", "cose.py", "hkdf.py", "oscore.py", "oscoreclient.py", "oscorectx.py",
        "oscorekept.py")),
    ("coap-fleet", ("coap-core",), "CoAP client, Resource Directory and multicast.", (
        "blockget.py", "blockput.py", "client.py", "linkformat.py", "multicast.py", "rd.py",
        "rddiscover.py")),
    ("coap-lwm2m", ("coap-core",), "OMA LwM2M: TLV (11542) written and read for coap-core.", (
        "tlv.py",)),
    ("coap-testing", ("coap-core",), "Run coap-core resources in tests, no socket.", (
        "testing.py",)),
)

#: Where each package's manifest.py and package.json live
PACKAGES_DIR = "lib/packages"

#: lib/coap modules that stay on the host: coap.testing runs resources there.
HOST_ONLY = dict((p[0], p[3]) for p in PACKAGES)["coap-testing"]


def check_board(board):
    if board not in BOARDS:
        raise Refused("unknown board %r (known: %s)" % (board, ", ".join(sorted(BOARDS))))


def files_for(board, root=ROOT, config=None):
    """[(source path, destination path on the board)], sorted by destination.

    Sources are .py files (config aside); destinations are relative to the board's root."""
    check_board(board)
    root = Path(root)
    pairs = [(p, p.name) for p in (root / "firmware").glob("*.py") if p.name != "manifest.py"]
    pairs.append((root / "boards" / board / "board.py", "board.py"))
    common = root / "boards" / "common"
    pairs += [(p, p.name) for p in common.glob("*.py")]
    pairs += [(p, "drivers/" + p.name) for p in (common / "drivers").glob("*.py")]
    pairs += [(p, "lib/coap/" + p.name) for p in (root / "lib" / "coap").glob("*.py")
              if p.name not in HOST_ONLY]
    if config is not None:
        pairs.append((Path(config), CONFIG))
    return sorted(pairs, key=lambda pair: pair[1])


def compiled(dest):
    """The destination name of dest once built: modules become .mpy."""
    if dest in SOURCE_ONLY or not dest.endswith(".py"):
        return dest
    return dest[:-3] + ".mpy"


def counterpart(dest):
    """The other form of a module (x.py <-> x.mpy), or None. A board holding both
    imports the .py, so a deploy of one form removes the other."""
    if dest in SOURCE_ONLY:
        return None
    if dest.endswith(".py"):
        return dest[:-3] + ".mpy"
    if dest.endswith(".mpy"):
        return dest[:-4] + ".py"
    return None


PACKAGE_JSON = "firmware/package.json"
VERSION_FILE = "lib/coap/__init__.py"


def version(root=ROOT):
    """The version, as lib/coap/__init__.py writes it (read, not imported:
    the tools run without lib/ on the path)."""
    text = (Path(root) / VERSION_FILE).read_text()
    return re.search(r'^__version__ = "([^"]+)"$', text, re.M).group(1)


def _json(data):
    return json.dumps(data, indent=2) + "\n"


def firmware_package_json(root=ROOT):
    """firmware/package.json: the version (version()) and urls (for mip) from
    files_for(), every file but board.py, each relative to the package.json.
    mip puts a package's files under its target, /lib by default: the
    firmware's go to the board's root, so it installs with `--target .`."""
    root = Path(root)
    base = root / "firmware"
    urls = [[dest, os.path.relpath(src, base)]
            for src, dest in files_for("unix", root) if dest != "board.py"]
    return _json({"urls": urls, "version": version(root), "_comment": (
        "mpremote mip install --target . firmware/package.json, then copy "
        "boards/<board>/board.py as board.py (docs/install.md)")})


def check_table(root=ROOT):
    """Refuse a lib/coap module no package lists, or a listed one that is not there."""
    on_disk = {p.name for p in (Path(root) / "lib" / "coap").glob("*.py")}
    listed = [f for _, _, _, files in PACKAGES for f in files]
    unlisted = sorted(on_disk - set(listed))
    if unlisted:
        raise Refused("lib/coap/%s is in no package: add it to PACKAGES in tools/layout.py"
                      % unlisted[0])
    missing = sorted(set(listed) - on_disk)
    if missing:
        raise Refused("PACKAGES in tools/layout.py lists lib/coap/%s, which does not exist"
                      % missing[0])
    twice = sorted(f for f in set(listed) if listed.count(f) > 1)
    if twice:
        raise Refused("PACKAGES in tools/layout.py lists lib/coap/%s twice" % twice[0])


def requires(name):
    """The packages `name` needs, itself included, each before what needs it."""
    table = {p[0]: p for p in PACKAGES}
    order = []

    def visit(n):
        for dep in table[n][1]:
            visit(dep)
        if n not in order:
            order.append(n)
    visit(name)
    return order


_GENERATED = "# Written by `python -m tools.layout` from its PACKAGES table: edit that.\n"


def package_manifest(name, root=ROOT):
    """A freeze manifest as aioble's: metadata, require() of the packages it
    needs (found by add_library() in the manifest that includes it), its files."""
    _, deps, about, files = {p[0]: p for p in PACKAGES}[name]
    lines = [_GENERATED,
             'metadata(description="%s", version="%s")\n' % (about, version(root))]
    lines += ['require("%s")\n' % dep for dep in deps]
    lines.append('package(\n    "coap",\n    files=(\n')
    lines += ['        "%s",\n' % f for f in files]
    lines.append('    ),\n    base_path="../..",\n)\n')
    return "".join(lines)


def package_json(name, root=ROOT):
    """Its files and those of the packages it requires: mip takes deps only as
    index names or full URLs, never relative to the package.json, so a package
    that carries its requirements' files installs from a checkout and from the
    repository's URL alike."""
    table = {p[0]: p for p in PACKAGES}
    needed = requires(name)
    urls = [["coap/" + f, "../../coap/" + f] for n in needed for f in table[n][3]]
    comment = "%s: %s" % (name, table[name][2])
    if len(needed) > 1:
        comment += " With what it requires: %s." % ", ".join(needed[:-1])
    return _json({"urls": urls, "version": version(root), "_comment": comment})


def generated(root=ROOT):
    """{path relative to root: text} of every file this module writes."""
    check_table(root)
    out = {PACKAGE_JSON: firmware_package_json(root)}
    for name, _, _, _ in PACKAGES:
        out["%s/%s/manifest.py" % (PACKAGES_DIR, name)] = package_manifest(name, root)
        out["%s/%s/package.json" % (PACKAGES_DIR, name)] = package_json(name, root)
    return out


def stale(root=ROOT):
    """The generated files whose text differs from what generated() would write."""
    root = Path(root)
    return [rel for rel, text in generated(root).items()
            if not (root / rel).is_file() or (root / rel).read_text() != text]


def write(root=ROOT):
    """Write what is stale; returns the paths written."""
    root = Path(root)
    written = stale(root)
    texts = generated(root)
    for rel in written:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(texts[rel])
    return written


def main(argv):
    if argv == ["--check"]:
        old = stale()
        if old:
            raise Refused("%s differs from its table: run python -m tools.layout"
                          % ", ".join(old))
        print("layout: %d files match the table" % len(generated()))
    elif not argv:
        for rel in write():
            print("%s: written" % rel)
    else:
        raise Refused("takes no arguments, or --check")


if __name__ == "__main__":
    sys.exit(run_cli("layout", main, sys.argv[1:]))
