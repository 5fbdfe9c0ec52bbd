# Runs after boot.py on the board (and as `micropython main.py` on the host).
import sys

if "lib" not in sys.path:
    sys.path.append("lib")

_BEFORE = set(sys.modules)

# app.main() returns only when the unix board woke from a simulated deep sleep
# or rebooted into an update: then the firmware starts afresh, every module of
# its own imported anew, with only what the board's storage kept (a real board
# resets instead). The board module stays: it is the hardware, whose clock and
# sensed world ran on.
while True:
    import bootguard  # noqa: E402

    # An update's journal first: finish a swap, roll back what did not come up
    bootguard.boot()
    try:
        import app  # noqa: E402

        # A config file named on the command line must exist; a board's own config.json may not
        again = app.main(sys.argv[1], required=True) if len(sys.argv) > 1 else app.main()
    except (Exception, SystemExit) as e:  # a new version on trial that fails is rolled back
        if not bootguard.failed(e):
            raise
        again = True
    if not again:
        break
    if again == "reset":  # app.RESET: an update in place, a reboot asked for
        import machine

        if hasattr(machine, "reset"):  # a board: boot.py and main.py on a fresh heap
            machine.soft_reset()
    for _name in list(sys.modules):
        if _name not in _BEFORE and _name != "board":
            del sys.modules[_name]
    app = None
