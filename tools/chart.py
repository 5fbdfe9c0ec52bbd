"""What tools.watch shows: on a terminal, one line chart per sensor (asciichartpy),
redrawn in place; elsewhere (a pipe, a log file) one line per reading."""

import shutil
import time
from collections import deque

import asciichartpy

HOME, CLEAR_LINE, CLEAR_BELOW = "\x1b[H", "\x1b[K", "\x1b[J"
HIDE_CURSOR, SHOW_CURSOR = "\x1b[?25l", "\x1b[?25h"
LABEL = "{:9.2f} "  # the y axis labels: the board's readings have two decimals
MIN_SPAN = 0.2      # a flat series still gets a few rows
SPARKS = "▁▂▃▄▅▆▇█"  # one line per sensor when charts of 2 rows don't fit


class Screen:
    def __init__(self, out, live):
        self.out = out
        self.live = live
        self.origin = None
        self.sensors = []
        self.history = {}
        self.last = {}  # path -> (value or None, note, when)
        self.count = {}
        self.started = False

    def start(self, origin, sensors):
        self.origin, self.sensors, self.started = origin, sensors, True
        width = shutil.get_terminal_size().columns - len(LABEL.format(0)) - 3
        self.history = {s.path: deque(maxlen=max(width, 10)) for s in sensors}
        if self.live:
            self.out.write(HIDE_CURSOR + HOME + CLEAR_BELOW)
            self.draw()
        else:
            self.out.write("watching %s on %s\n"
                           % (", ".join(s.path for s in sensors), origin))
            self.out.flush()

    def reading(self, sensor, value, note):
        now = time.time()
        self.last[sensor.path] = (value, note, now)
        if value is not None:
            self.history[sensor.path].append(value)
            self.count[sensor.path] = self.count.get(sensor.path, 0) + 1
        if self.live:
            self.draw()
            return
        shown = "%.2f %s" % (value, sensor.unit) if value is not None else note
        self.out.write("%s %s %s\n" % (time.strftime("%H:%M:%S", time.localtime(now)),
                                       sensor.path, shown.strip()))
        self.out.flush()

    def draw(self):
        size = shutil.get_terminal_size()
        width = size.columns - len(LABEL.format(0)) - 3
        height = min(10, (size.lines - 2) // max(len(self.sensors), 1) - 3)
        lines = ["watch %s: %d sensors (Ctrl-C stops)" % (self.origin, len(self.sensors)), ""]
        for s in self.sensors:
            lines.append(self.title(s))
            series = list(self.history[s.path])[-max(width, 1):]
            if series and height >= 2:
                lo, hi = min(series), max(series)
                pad = max(0, MIN_SPAN - (hi - lo)) / 2
                lines += asciichartpy.plot(series, {"height": height, "format": LABEL,
                                                    "min": lo - pad, "max": hi + pad}
                                           ).splitlines()
                lines.append("")
            elif series:
                lo, span = min(series), max(max(series) - min(series), MIN_SPAN)
                lines.append("  " + "".join(SPARKS[int((v - lo) / span * 7)] for v in series))
        self.out.write(HOME + "".join(line[:size.columns] + CLEAR_LINE + "\n"
                                      for line in lines[:size.lines - 1]) + CLEAR_BELOW)
        self.out.flush()

    def title(self, sensor):
        value, note, when = self.last.get(sensor.path, (None, "waiting for a reading", None))
        shown = "%.2f %s" % (value, sensor.unit) if value is not None else note
        count = self.count.get(sensor.path, 0)
        at = time.strftime("%H:%M:%S", time.localtime(when)) if when else "-"
        return "%s  %s   (%d readings, last %s)" % (sensor.path, shown.strip(), count, at)

    def stop(self):
        if self.live and self.started:
            self.out.write(SHOW_CURSOR)
            self.out.flush()
            self.started = False
