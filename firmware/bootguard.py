# The app update's journal, and what a boot does with it (docs/updates.md).
# An update stages every new file under .update/new/ and verifies it; then
# this module swaps them in by renames, keeping each replaced file under
# .update/old/, and the journal (one JSON file, replaced by a rename) says how
# far it got:
#
#     swap      the files are being swapped: a boot finishes the swap
#     trial     the new version is on trial: a boot counts it; the second boot
#               without confirm() (or a failure at start-up) rolls it back
#     done      the new version served: kept, its predecessor under .update/old/
#     rolledback  the new version failed: the previous one is back
#
# Each step is a rename of one file, repeated safely after a power loss: a
# file still under .update/new/ has not been swapped in, a file still under
# .update/old/ has not been restored. So a boot finds the old tree or the new
# one, never a mix. Kept out of the update itself: main.py, boot.py and this
# module (what rolls back must not be what failed).

import json
import os

DIR = ".update"
NEW = DIR + "/new/"
OLD = DIR + "/old/"
JOURNAL = DIR + "/journal.json"
#: what an update may not replace
FIXED = ("main.py", "boot.py", "bootguard.py", "bootguard.mpy")
#: boots a new version gets to confirm() itself: the first one
TRIAL_BOOTS = 1


def exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def makedirs(path):
    """Every folder of path (a file's path: its last part is not made)."""
    parts = path.split("/")[:-1]
    for i in range(len(parts)):
        d = "/".join(parts[:i + 1])
        if d and not exists(d):
            os.mkdir(d)


def remove_tree(path):
    if not exists(path):
        return
    if os.stat(path)[0] & 0x4000:  # S_IFDIR
        for name in os.listdir(path):
            remove_tree(path + "/" + name)
        os.rmdir(path)
    else:
        os.remove(path)


def read():
    """The journal, or None when there is none (or it is unreadable)."""
    try:
        with open(JOURNAL) as f:
            j = json.load(f)
        return j if isinstance(j, dict) and "state" in j else None
    except (OSError, ValueError):
        return None


def write(j):
    # A rename replaces the journal whole: a power loss leaves the old or the new
    makedirs(JOURNAL)
    with open(JOURNAL + ".tmp", "w") as f:
        json.dump(j, f)  # written as it is made: a whole app's paths need no 3 KB string
    os.rename(JOURNAL + ".tmp", JOURNAL)


def _move(src, dst):
    if exists(dst):  # FAT's rename does not replace; littlefs's and POSIX's do
        os.remove(dst)
    makedirs(dst)
    os.rename(src, dst)


def swap(j):
    """Swap the staged files in (journal state "swap"), then "trial"."""
    for path in j["files"]:
        if not exists(NEW + path):
            continue  # swapped before a power loss
        if exists(path) and not exists(OLD + path):
            _move(path, OLD + path)
        _move(NEW + path, path)
    j["state"] = "trial"
    j["boots"] = 0
    write(j)


def rollback(j, why):
    """The previous version back: each kept file restored, each added one removed."""
    for path in j["files"]:
        if exists(OLD + path):
            _move(OLD + path, path)
        elif path in j["added"] and exists(path):
            os.remove(path)
    j["state"] = "rolledback"
    j["why"] = why
    write(j)


def boot(log=print):
    """At every boot, before the app is imported: finish a swap, count a
    trial boot, roll back a version that did not confirm itself."""
    j = read()
    if j is None:
        return
    if j["state"] == "swap":
        swap(j)
    if j["state"] == "trial":
        j["boots"] += 1
        if j["boots"] > TRIAL_BOOTS:
            log("update: %s did not come up; back to %s" % (j["version"], j["previous"]))
            rollback(j, "did not come up")
        else:
            write(j)
            log("update: trying %s (was %s)" % (j["version"], j["previous"]))


def failed(e, log=print):
    """The app failed to start: roll back a version on trial (True: start
    again, the previous version is back), else False."""
    j = read()
    if j is None or j["state"] != "trial":
        return False
    log("update: %s failed at start-up (%r); back to %s" % (j["version"], e, j["previous"]))
    rollback(j, "failed at start-up: %r" % (e,))
    return True


def confirm():
    """The new version serves: no roll-back from now on."""
    j = read()
    if j is not None and j["state"] == "trial":
        j["state"] = "done"
        write(j)
