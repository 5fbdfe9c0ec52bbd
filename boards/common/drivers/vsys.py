# The Pico W's supply voltage (VSYS, through the board's 3:1 divider on
# ADC 3): the board module reads it, since GPIO29 is shared with the radio.

FIELDS = {"required": (), "optional": ()}
MIN_INTERVAL_MS = 0

_QUANTITIES = (("voltage", "voltage", "V", "voltage-v", 450, 520),)


def quantities(spec):
    return _QUANTITIES


class Driver:
    def __init__(self, spec, board):
        if not hasattr(board, "vsys_millivolts"):
            raise OSError("only the Pico W measures VSYS")
        self._board = board

    def read(self, out):
        out[0] = (self._board.vsys_millivolts() + 5) // 10  # hundredths of a volt
        return True
