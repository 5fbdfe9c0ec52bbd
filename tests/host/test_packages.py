"""The library's installable packages (lib/packages, from tools/layout.py's table):
generated files current, every module in one package, each package's imports
within what it requires, and a mip install onto a board on a pty."""

import ast
import subprocess

import pytest

from hostutil import BIN, ROOT, run_tool
from tools.common import Refused
from tools.layout import PACKAGES, check_table, requires, stale

TABLE = {name: files for name, _, _, files in PACKAGES}
#: Imports inside a function that reach another package: the server loads these
#: only when its table or its context asks (docs/install.md says so).
OPTIONAL = {("coap-core", "coap-observe"), ("coap-core", "coap-prepared"),
            ("coap-core", "coap-oscore"), ("coap-core", "coap-block1"),
            ("coap-core", "coap-separate")}


def test_generated_files_match_the_table():
    result = run_tool("layout", "--check")
    assert result.returncode == 0, result.stderr
    assert "19 files match the table" in result.stdout


def test_a_module_in_no_package_is_refused(src_tree):
    (src_tree / "lib" / "coap" / "extra.py").write_text("")
    with pytest.raises(Refused, match=r"^lib/coap/extra\.py is in no package: add it "
                       r"to PACKAGES in tools/layout\.py$"):
        check_table(src_tree)


def test_a_listed_module_that_is_gone_is_refused(src_tree):
    (src_tree / "lib" / "coap" / "prepared.py").unlink()
    with pytest.raises(Refused, match=r"lists lib/coap/prepared\.py, which does not exist"):
        check_table(src_tree)


def test_a_hand_edited_manifest_is_stale(src_tree):
    manifest = src_tree / "lib" / "packages" / "coap-observe" / "manifest.py"
    manifest.write_text(manifest.read_text().replace('"observestore.py",\n', ""))
    assert stale(src_tree) == ["lib/packages/coap-observe/manifest.py"]


def _imports(path):
    """[(module of coap it imports, at module level?)] of one lib/coap file."""
    tree = ast.parse(path.read_text())
    nested = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            nested.update(id(n) for n in ast.walk(node) if n is not node)
    found = []
    for node in ast.walk(tree):
        top = id(node) not in nested
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            names = [node.module] if node.module else [a.name for a in node.names]
            found += [(n, top) for n in names]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("coap."):
            found.append((node.module[5:], top))
        elif isinstance(node, ast.Import):
            found += [(a.name[5:], top) for a in node.names if a.name.startswith("coap.")]
    return found


def test_each_package_imports_only_what_it_requires():
    home = {f[:-3]: name for name, files in TABLE.items() for f in files}
    optional = set()
    for name, files in TABLE.items():
        allowed = set(requires(name))
        for f in files:
            for module, top in _imports(ROOT / "lib" / "coap" / f):
                assert module in home, "coap/%s imports coap.%s, in no package" % (f, module)
                if home[module] in allowed:
                    continue
                assert not top, "coap/%s (%s) imports coap.%s (%s) without requiring it" % (
                    f, name, module, home[module])
                optional.add((name, home[module]))
    assert optional == OPTIONAL


def mpremote(port, *args):
    return subprocess.run([str(BIN / "mpremote"), "connect", port] + list(args), cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


ON_THE_BOARD = """
from coap import Resource, Server
def get(req, resp):
    resp.payload(b"21.50")
s = Server((Resource("t", get=get, obs=True),), log=None)
print("observers", s.observers is not None)
try:
    import coap.oscore
except ImportError:
    print("no coap.oscore")
"""


def test_mip_installs_core_and_observe_onto_a_board(pty_board):
    board = pty_board()
    result = mpremote(board.port, "mip", "install", "lib/packages/coap-observe/package.json")
    assert result.returncode == 0, result.stdout + result.stderr
    landed = {p.name for p in (board.root / "lib" / "coap").iterdir()}
    assert landed == set(TABLE["coap-core"] + TABLE["coap-observe"])
    assert sorted(p.name for p in board.root.iterdir()) == ["lib"]  # nothing else, no main.py
    ran = mpremote(board.port, "exec", ON_THE_BOARD)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert ran.stdout.split() == ["observers", "True", "no", "coap.oscore"]


def test_mip_installs_the_firmware_at_the_boards_root(pty_board):
    board = pty_board()
    result = mpremote(board.port, "mip", "install", "--target", ".", "firmware/package.json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (board.root / "main.py").read_bytes() == (ROOT / "firmware" / "main.py").read_bytes()
    assert not (board.root / "lib" / "main.py").exists()
    assert (board.root / "lib" / "coap" / "oscore.py").is_file()
    assert not (board.root / "lib" / "coap" / "testing.py").exists()
