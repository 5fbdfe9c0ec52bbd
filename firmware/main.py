# Runs after boot.py on the board (and as `micropython main.py` on the host).
import sys

if "lib" not in sys.path:
    sys.path.append("lib")

import app  # noqa: E402

app.main(sys.argv[1] if len(sys.argv) > 1 else app.board_config.PATH)
