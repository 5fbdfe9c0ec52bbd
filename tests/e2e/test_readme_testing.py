"""docs/testing.md's "Testing your resources" example runs as printed, under
the unix port and under CPython."""

import re
import subprocess
import sys

import pytest

from boardsim import MICROPYTHON, ROOT


def _example():
    text = open(ROOT + "/docs/testing.md").read()
    section = text.split("## Testing your resources", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.mark.parametrize("python", [MICROPYTHON, sys.executable])
def test_readme_example_runs(python, tmp_path):
    path = tmp_path / "test_greenhouse.py"
    path.write_text(_example())
    out = subprocess.run([python, str(path)], cwd=ROOT, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip() == "ok"


def test_readme_example_is_a_pytest_test(tmp_path):
    # it used to collect no test under pytest, which then exits 5
    path = tmp_path / "test_greenhouse.py"
    path.write_text(_example())
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          str(path)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 passed" in out.stdout
