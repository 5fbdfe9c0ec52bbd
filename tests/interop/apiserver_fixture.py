"""Start tests/interop/apiserver.py (resources written on lib/coap's public
API) on the MicroPython unix port, on a free port of 127.0.0.1."""

import os
import subprocess
import time

from boardsim import MICROPYTHON, ROOT, ping
from support import free_port


class ApiServer:
    def __init__(self):
        self.port = free_port()
        self.host = "127.0.0.1"
        self.proc = None

    def __enter__(self):
        env = dict(os.environ, MICROPYPATH=os.path.join(ROOT, "lib"))
        self.proc = subprocess.Popen(
            [MICROPYTHON, os.path.join(ROOT, "tests", "interop", "apiserver.py"), str(self.port)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
        deadline = time.monotonic() + 10
        while not ping(self.host, self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                raise RuntimeError("apiserver did not start:\n%s" % self.proc.communicate()[0])
            time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
