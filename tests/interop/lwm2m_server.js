// An LwM2M server (npm lwm2m-node-lib) driven line by line, for the tests:
//   node tests/interop/lwm2m_server.js PORT
// prints one JSON object per line for each event ({"event": "registration",
// "endpoint", "lifetime", "version", "binding", "payload"}, "update",
// "unregistration", "notification") and for each command's result
// ({"reply": command, "error" or "value"}). Commands on stdin, one a line:
//   read ENDPOINT OBJ INST RES (as text)  write ENDPOINT OBJ INST RES VALUE
//   execute ENDPOINT OBJ INST RES         observe ENDPOINT OBJ INST RES
//   attrs ENDPOINT OBJ INST RES pmin=1&pmax=3&st=0.1 (Write-Attributes)
//   get ENDPOINT /PATH tlv|link (the answer's code and payload in hex)
// lwm2m-node-lib 1.4.0 names the LwM2M 1.0 drafts' content formats (1541,
// 1542): the formats below are those of the published TS (11542 TLV).
const path = require("path");
const readline = require("readline");

const home = path.join(__dirname, "..", "..", "tools", "node", "node_modules", "lwm2m-node-lib");
const server = require(home).server;
// its request path, for reads at any level (its read() takes resources only)
const coapUtils = require(path.join(home, "lib", "services", "server", "coapUtils"));
const TLV = "application/vnd.oma.lwm2m+tlv";

const config = {
    port: Number(process.argv[2]),
    lifetimeCheckInterval: 1000,
    udpWindow: 100,
    defaultType: "Device",
    types: [],
    logLevel: "FATAL",
    ipProtocol: "udp4",
    serverProtocol: "udp4",
    formats: [{ name: TLV, value: 11542 }],
    writeFormat: "text/plain",
    defaultAcceptFormat: "text/plain",
};

function say(o) {
    process.stdout.write(JSON.stringify(o) + "\n");
}

function device(endpoint, callback) {
    server.getDevice(endpoint, callback);
}

server.start(config, (error, info) => {
    if (error) {
        say({ event: "error", error: String(error) });
        process.exit(1);
    }
    server.setHandler(info, "registration", (endpoint, lifetime, version, binding, payload, cb) => {
        say({ event: "registration", endpoint, lifetime, version, binding, payload });
        cb();
    });
    server.setHandler(info, "updateRegistration", (obj, payload, cb) => {
        say({ event: "update", endpoint: obj.name, lifetime: obj.lifetime });
        cb();
    });
    server.setHandler(info, "unregistration", (obj, cb) => {
        say({ event: "unregistration", endpoint: obj && obj.name });
        cb();
    });
    say({ event: "started", port: config.port });
    const lines = readline.createInterface({ input: process.stdin });
    lines.on("line", (line) => {
        const [op, endpoint, o, i, r, arg] = line.trim().split(/\s+/);
        device(endpoint, (err, dev) => {
            if (err) {
                say({ reply: line, error: String(err.name || err) });
                return;
            }
            const done = (e, value) => say(e ? { reply: line, error: String(e.name || e) }
                                              : { reply: line, value });
            if (op === "read") {
                server.read(dev.id, o, i, r, done);
            } else if (op === "get") {
                // get ENDPOINT PATH ACCEPT: {code, payload in hex}, e.g. a TLV instance
                coapUtils.sendRequest({
                    host: "127.0.0.1", port: config.port, method: "GET",
                    proxyUri: "coap://" + dev.address + ":" + dev.port, pathname: o,
                    options: { Accept: i === "tlv" ? TLV : i === "link" ? "application/link-format" : i },
                }, (e, res) => done(e, res && { code: res.code,
                                               payload: Buffer.from(res.payload).toString("hex") }));
            } else if (op === "write") {
                server.write(dev.id, o, i, r, arg, done);
            } else if (op === "execute") {
                server.execute(dev.id, o, i, r, null, done);
            } else if (op === "attrs") {
                // attrs ENDPOINT OBJ INST RES pmin=1&pmax=3&st=0.1
                const attributes = {};
                for (const kv of arg.split("&")) {
                    const [k, v] = kv.split("=");
                    attributes[k] = v;
                }
                server.writeAttributes(dev.id, o, i, r, attributes, done);
            } else if (op === "observe") {
                server.observe(dev.id, o, i, r, (value) => {
                    say({ event: "notification", path: [o, i, r].join("/"), value });
                }, done);
            } else {
                say({ reply: line, error: "unknown command" });
            }
        });
    });
});
