// Runs Python on the 32-bit (wasm32) MicroPython with a folder as its library:
//   node tools/run32.mjs DIR < code.py
// DIR's files (.py and .mpy) are copied to /lib in the interpreter's in-memory
// filesystem and /lib is put on sys.path; the code comes on stdin and what it
// prints goes to stdout. tools/size.py measures the packages' heap with it.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const wasm = join(root, "tools", "node", "node_modules", "@micropython",
    "micropython-webassembly-pyscript", "micropython.mjs");

const dir = process.argv[2];
if (process.argv.length !== 3) {
    console.error("run32: usage: node tools/run32.mjs DIR < code.py");
    process.exit(2);
}
let loadMicroPython;
try {
    ({ loadMicroPython } = await import(wasm));
} catch (e) {
    console.error("run32: wasm32 MicroPython missing; run `make peers` (tools/setup.sh --peers)");
    process.exit(2);
}
const mp = await loadMicroPython({
    heapsize: 1024 * 1024,
    stdout: (line) => process.stdout.write(line + "\n"),
    stderr: (line) => process.stderr.write(line + "\n"),
});

function copyTree(from, to) {
    mp.FS.mkdirTree(to);
    for (const name of readdirSync(from)) {
        const path = join(from, name);
        if (statSync(path).isDirectory()) copyTree(path, to + "/" + name);
        else if (/\.m?py$/.test(name)) mp.FS.writeFile(to + "/" + name, readFileSync(path));
    }
}
copyTree(dir, "/lib");
try {
    mp.runPython("import sys\nsys.path.insert(0, '/lib')\n" + readFileSync(0, "utf8"));
} catch (e) {
    console.error("run32: " + String(e && e.message ? e.message : e).trim().split("\n").pop());
    process.exit(1);
}
