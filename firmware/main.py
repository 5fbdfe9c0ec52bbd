# Runs after boot.py on the board (and as `micropython main.py` on the host).
import sys

if "lib" not in sys.path:
    sys.path.append("lib")

import app  # noqa: E402

# A config file named on the command line must exist; a board's own config.json may not
if len(sys.argv) > 1:
    app.main(sys.argv[1], required=True)
else:
    app.main()
