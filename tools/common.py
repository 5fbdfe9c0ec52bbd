"""What the host tools share: the repo root, finding executables, one-line refusals."""

import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class Refused(Exception):
    """A reason to stop, said in one line on stderr (the tool's name is prefixed)."""


def venv_tool(name):
    """The executable `name` next to this Python (the project's .venv), else on PATH;
    None when neither has it."""
    local = Path(sys.executable).parent / name
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    return shutil.which(name)


def run_cli(tool, main, argv):
    """Run main(argv); a Refused becomes `tool: reason` on stderr and exit status 1."""
    try:
        return main(argv) or 0
    except Refused as e:
        print("%s: %s" % (tool, e), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("%s: interrupted" % tool, file=sys.stderr)
        return 130
