"""Helpers for the host tools' tests: run a tool, read its one-line refusal,
read a MicroPython manifest.

(Not in conftest.py: tests/ has more than one conftest, and a plain import of
`conftest` could find another one.)"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run_tool(module, *args, cwd=ROOT, timeout=120, env=None):
    """`python -m tools.<module> ARGS`; the CompletedProcess (text)."""
    return subprocess.run([sys.executable, "-m", "tools." + module] + [str(a) for a in args],
                          cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def one_line_error(result):
    """The refusal a tool printed: exactly one line on stderr, with a non-zero exit."""
    assert result.returncode != 0, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


class Manifest:
    """What a MicroPython manifest.py freezes, read as MicroPython's
    tools/manifestfile.py reads it, without a MicroPython tree: the project's
    files it names (sources), and what comes from the tree, named only
    (ports: includes of "$(PORT_DIR)/..." and such; requires: packages in no
    add_library() folder, so micropython-lib's). As manifestfile.py does, it
    refuses a second metadata() in one package: include() shares the
    includer's package, require() starts one."""

    def __init__(self, path):
        self.sources, self.ports, self.requires = set(), set(), set()
        self._libraries = {}
        self._visited = set()
        self._files = []  # [(manifest path, its package's [metadata calls])]
        self._exec(Path(path).resolve(), [0])

    def _exec(self, path, package):
        if path in self._visited:  # as manifestfile.py: each file once
            return
        self._visited.add(path)
        self._files.append((path, package))
        api = {name: getattr(self, name) for name in
               ("module", "package", "include", "require", "add_library", "metadata")}
        api["options"] = type("Options", (), {})()
        exec(path.read_text(), api)
        self._files.pop()

    def _here(self):
        return self._files[-1][0].parent

    def metadata(self, **kw):
        package = self._files[-1][1]
        if package[0]:
            raise ValueError("%s: duplicate call to metadata()" % self._files[-1][0])
        package[0] += 1

    def module(self, name, base_path=".", opt=None):
        self.sources.add((self._here() / base_path / name).resolve())

    def package(self, name, files=None, base_path=".", opt=None):
        top = self._here() / base_path / name
        found = [top / f for f in files] if files else top.rglob("*.py")
        self.sources.update(p.resolve() for p in found)

    def include(self, path, **kw):
        if path.startswith("$("):
            self.ports.add(path)
            return
        p = (self._here() / path).resolve()
        self._exec(p / "manifest.py" if p.is_dir() else p, self._files[-1][1])

    def add_library(self, name, path, prepend=False):
        self._libraries[name] = (self._here() / path).resolve()

    def require(self, name, library=None, **kw):
        # As manifestfile.py: the first <library>/**/<name>/manifest.py, in the
        # named library or in any; one in none is micropython-lib's
        for lib in [self._libraries[library]] if library else self._libraries.values():
            for root, _, files in os.walk(lib):
                if Path(root).name == name and "manifest.py" in files:
                    self._exec(Path(root) / "manifest.py", [0])
                    return
        if library:
            raise ValueError("package %r not found in library %r" % (name, library))
        self.requires.add(name)
