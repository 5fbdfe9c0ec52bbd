"""tools.publish: the folder aiocoap-fileserver serves as an update (the
update itself, triggered, is tests/e2e/test_app_update.py); its refusals."""

import hashlib
import json

from hostutil import one_line_error, run_tool
from tools.layout import compiled, files_for


def test_build_and_manifest(tmp_path):
    out = tmp_path / "files"
    result = run_tool("publish", "--board", "esp32", "--version", "1.2.3", "--out", out)
    assert result.returncode == 0, result.stderr
    m = json.loads((out / "manifest.json").read_text())
    assert m["version"] == "1.2.3"
    paths = [f["path"] for f in m["files"]]
    expected = sorted(compiled(dest) for _, dest in files_for("esp32")
                      if dest not in ("main.py", "boot.py", "bootguard.py"))
    assert paths == expected  # what rolls back is never replaced over the air
    assert "bootguard.mpy" not in paths and "app.mpy" in paths
    for f in m["files"]:
        data = (out / f["path"]).read_bytes()
        assert (f["size"], f["sha256"]) == (len(data), hashlib.sha256(data).hexdigest())
    assert result.stdout == "publish: esp32 1.2.3: %d files and manifest.json in %s\n" % (
        len(paths), out)


def test_source_files(tmp_path):
    out = tmp_path / "files"
    assert run_tool("publish", "--board", "unix", "--version", "0.2.0", "--out", out,
                    "--source").returncode == 0
    m = json.loads((out / "manifest.json").read_text())
    assert "app.py" in [f["path"] for f in m["files"]]


def test_refusals(tmp_path):
    out = tmp_path / "files"
    cases = (
        (["--board", "unix", "--version", "v2", "--out", out],
         "publish: version 'v2' is not major.minor.patch (e.g. 0.2.0)"),
        (["--board", "pdp11", "--version", "0.2.0", "--out", out],
         "publish: unknown board 'pdp11' (known: esp32, rp2040, rp2040-ppp, unix)"),
        (["--board", "unix", "--version", "0.2.0", "--out", out, "--trigger", "coap://x"],
         "publish: --trigger needs --files: where the board finds the manifest"),
        (["--board", "unix", "--version", "0.2.0", "--out", out, "--source", "--files",
          "coap://127.0.0.1/u", "--trigger", "coap://127.0.0.1", "--credentials", tmp_path],
         "publish: --credentials %s: no settings.json there (docs/security.md)" % tmp_path),
        (["--board", "unix", "--version", "0.2.0", "--out", out, "--source", "--files",
          "coap://127.0.0.1/u", "--trigger", "http://x", "--credentials", tmp_path],
         "publish: --trigger http://x: expected coap://host[:port]"),
    )
    for args, line in cases:
        assert one_line_error(run_tool("publish", *args)) == line
