"""The version is written once, in lib/coap/__init__.py: what else names it
takes it from there (firmware, package.json) or must agree (the manifests)."""

import ast
import json
import re
import subprocess

from hostutil import ROOT
from tools.layout import PACKAGE_JSON, version

PACKAGE_MANIFESTS = [ROOT / "firmware" / "manifest.py"] + sorted(
    ROOT.glob("lib/packages/*/manifest.py"))
#: Build manifests (FROZEN_MANIFEST): no metadata(), or the port's modules
#: would be tagged with our __version__ too
BOARD_MANIFESTS = sorted(ROOT.glob("boards/*/manifest.py"))


def manifest_version(path):
    """The version= of a manifest's metadata(...) call."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "metadata":
            return next(k.value.value for k in node.keywords if k.arg == "version")
    return None


def test_the_version_is_a_release_number():
    assert re.fullmatch(r"\d+\.\d+\.\d+", version())


def test_every_package_manifest_names_the_version():
    assert len(PACKAGE_MANIFESTS) >= 6
    for path in PACKAGE_MANIFESTS:
        assert manifest_version(path) == version(), path.relative_to(ROOT)


def test_the_board_manifests_name_none():
    assert len(BOARD_MANIFESTS) >= 3
    for path in BOARD_MANIFESTS:
        assert manifest_version(path) is None, path.relative_to(ROOT)


def test_package_json_has_the_version():
    data = json.loads((ROOT / PACKAGE_JSON).read_text())
    assert data["version"] == version(), "firmware/package.json is stale: run python -m tools.layout"


def test_no_other_file_writes_the_version_out():
    pattern = re.compile(r"""["']%s["']""" % re.escape(version()))
    found = []
    for folder in ("lib", "firmware", "boards"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name != "manifest.py" and path.relative_to(ROOT).as_posix() != "lib/coap/__init__.py":
                if pattern.search(path.read_text()):
                    found.append(str(path.relative_to(ROOT)))
    assert not found, found


def test_the_board_reports_the_version(board):
    """/board's "firmware" field, as a user reads it with libcoap's client."""
    out = subprocess.run(["coap-client-notls", "-B", "10", "-m", "get",
                          "coap://127.0.0.1:%d/board" % board.port],
                         capture_output=True, text=True, timeout=30)
    assert json.loads(out.stdout)["firmware"] == version(), out
