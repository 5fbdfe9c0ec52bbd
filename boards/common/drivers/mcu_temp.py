# The microcontroller's own temperature sensor: the board module knows how to
# read it (RP2040: ADC 4; ESP32: esp32.mcu_temperature or the raw °F sensor).
# It measures the die, a few degrees above the air around it.

FIELDS = {"required": (), "optional": ()}
MIN_INTERVAL_MS = 0

_QUANTITIES = (("temp", "temperature", "Cel", "temperature-c", 1850, 2450),)


def quantities(spec):
    return _QUANTITIES


class Driver:
    def __init__(self, spec, board):
        if not hasattr(board, "mcu_temp_centi"):
            raise OSError("this board has no MCU temperature sensor")
        self._board = board

    def read(self, out):
        out[0] = self._board.mcu_temp_centi()
        return True
