"""Check commit messages in micropython-lib's form (its tools/verifygitlog.py):

    area: Capitalised sentence.      subject: at most 72 characters
                                     then a blank line
    Body lines of at most 75 characters.

    python -m tools.commitcheck [RANGE]

RANGE defaults to the commits since the last release tag (v*), or, with none
yet, the commits after BASE. Prints one line per fault; exits 1 on any.
"""

import re
import subprocess
import sys

# The last commit of the history published before this check existed: 51 of
# the commits up to it break the rule, and published history is not
# rewritten. Every commit after it keeps the rule, so only those are checked.
BASE = "51e402c"  # tests: One /board observer probe and one garbage counter, not ...
SUBJECT_MAX = 72
BODY_MAX = 75
SUBJECT = re.compile(r"[\w./,+-]+(, [\w./+-]+)*: [A-Z0-9`]")


def faults(message):
    """What is wrong with one commit message: a list of short sentences."""
    lines = message.rstrip("\n").split("\n")
    subject = lines[0]
    found = []
    if len(subject) > SUBJECT_MAX:
        found.append("subject is %d characters (at most %d)" % (len(subject), SUBJECT_MAX))
    if not SUBJECT.match(subject):
        found.append("subject is not 'area: Capitalised sentence.'")
    if not subject.endswith("."):
        found.append("subject does not end with a full stop")
    if len(lines) > 1 and lines[1]:
        found.append("no blank line after the subject")
    for n, line in enumerate(lines[2:], 3):
        # a long URL cannot be wrapped (micropython-lib lets them pass too)
        if len(line) > BODY_MAX and not re.search(r"https?://\S{40,}", line):
            found.append("line %d is %d characters (at most %d)" % (n, len(line), BODY_MAX))
    return found


def default_range(cwd=None):
    tag = subprocess.run(["git", "describe", "--tags", "--abbrev=0", "--match", "v*"],
                         cwd=cwd, capture_output=True, text=True)
    return (tag.stdout.strip() if tag.returncode == 0 else BASE) + "..HEAD"


def commits(rng, cwd=None):
    """(short hash, message) of each commit in rng, merges left out."""
    out = subprocess.run(["git", "log", "--no-merges", "--format=%h%x00%B%x01", rng],
                         cwd=cwd, capture_output=True, text=True, check=True).stdout
    for entry in out.split("\x01"):
        if entry.strip():
            sha, message = entry.lstrip("\n").split("\x00", 1)
            yield sha, message


def main(argv):
    rng = argv[0] if argv else default_range()
    start = rng.split("..")[0]
    if subprocess.run(["git", "cat-file", "-e", start + "^{commit}"],
                      capture_output=True).returncode:
        print("commitcheck: %s is not in this clone (a shallow one?): "
              "git fetch --unshallow" % start, file=sys.stderr)
        return 2
    bad = 0
    for sha, message in commits(rng):
        for fault in faults(message):
            print("%s %s: %s" % (sha, message.split("\n", 1)[0][:40], fault))
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
