// Runs tests/unit on a 32-bit MicroPython, as a board would run them:
//   node tests/unit/run32.mjs [test_module ...]
// The interpreter is npm's wasm32 build (31-bit small ints, heap_lock works, no
// sockets, no cryptolib and no os.urandom, which is added here from `random`). The tree's Python files are copied into its
// in-memory filesystem and tests/unit/run.py runs there unchanged; modules that
// need sockets cannot import on this port and are left to the unix port.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { randomInt } from "node:crypto";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const wasm = join(root, "tools", "node", "node_modules", "@micropython",
    "micropython-webassembly-pyscript", "micropython.mjs");

// Modules that import the socket module (real UDP, or the firmware's start-up):
// the unix port runs them.
const NEEDS_SOCKETS = new Set(["test_app", "test_board_unix", "test_rd", "test_serveloop", "test_udp"]);

let loadMicroPython;
try {
    ({ loadMicroPython } = await import(wasm));
} catch (e) {
    console.error("run32: wasm32 MicroPython missing; run `make peers` (tools/setup.sh --peers)");
    process.exit(2);
}

let out = "";
const mp = await loadMicroPython({
    heapsize: 8 * 1024 * 1024,
    stdout: (line) => { out += line + "\n"; process.stdout.write(line + "\n"); },
    stderr: (line) => process.stderr.write(line + "\n"),
});

function copyTree(dir) {
    for (const name of readdirSync(dir)) {
        if (name === "__pycache__" || name === "node_modules" || name.startsWith(".")) continue;
        const path = join(dir, name);
        const dest = "/repo/" + relative(root, path);
        if (statSync(path).isDirectory()) {
            mp.FS.mkdirTree(dest);
            copyTree(path);
        } else if (name.endsWith(".py")) {
            mp.FS.writeFile(dest, readFileSync(path));
        }
    }
}
for (const top of ["lib", "firmware", "boards", "tests/unit"]) {
    mp.FS.mkdirTree("/repo/" + top);
    copyTree(join(root, top));
}

const asked = process.argv.slice(2);
const modules = ["", "coap", "firmware", "boards"]
    .flatMap((room) => readdirSync(join(here, room)))
    .filter((f) => f.startsWith("test_") && f.endsWith(".py"))
    .map((f) => f.slice(0, -3))
    .filter((m) => (asked.length ? asked.includes(m) : !NEEDS_SOCKETS.has(m)))
    .sort();

let status = 0;
try {
    mp.runPython(`
import os, random
# A board's os has urandom; this port's does not. Seeded by the host, per run.
random.seed(${randomInt(1, 2 ** 30)})
os.urandom = lambda n: bytes(random.getrandbits(8) for _ in range(n))
g = {"__name__": "run32", "__file__": "/repo/tests/unit/run.py"}
exec(open(g["__file__"]).read(), g)
if not g["main"](${JSON.stringify(modules)}):
    raise SystemExit(1)
`);
} catch (e) {
    const m = /SystemExit: (\d+)/.exec(String(e && e.message));
    status = m ? Number(m[1]) : 1;
    if (!m) console.error(String(e && e.message ? e.message : e));
}
if (!/^unit: \d+ passed, 0 failed/m.test(out)) status = status || 1;
process.exit(status);
