"""What a browser showing node-red-dashboard receives: its socket.io events,
read over engine.io v4 long polling with the standard library (the transport a
browser starts with before it upgrades to a websocket)."""

import json
import urllib.request

SEP = "\x1e"  # engine.io v4 puts packets of one poll side by side with this


class DashboardClient:
    def __init__(self, ui_url, timeout=30):
        self.url = ui_url.rstrip("/") + "/socket.io/?EIO=4&transport=polling"
        self.timeout = timeout
        opened = self._get(self.url)  # '0{"sid": ...}'
        assert opened.startswith("0"), opened
        self.url += "&sid=" + json.loads(opened[1:])["sid"]
        self._post("40")  # socket.io: connect to the default namespace

    def _get(self, url):
        with urllib.request.urlopen(url, timeout=self.timeout) as r:
            return r.read().decode()

    def _post(self, packet):
        req = urllib.request.Request(self.url, data=packet.encode(), method="POST")
        with urllib.request.urlopen(req, timeout=self.timeout) as r:
            r.read()

    def events(self):
        """The socket.io events of one poll, as (name, data); answers pings on the way."""
        got = []
        for packet in self._get(self.url).split(SEP):
            if packet == "2":  # ping: without a pong the server drops the client
                self._post("3")
            elif packet.startswith("42"):
                name, data = json.loads(packet[2:])[:2]
                got.append((name, data))
        return got
