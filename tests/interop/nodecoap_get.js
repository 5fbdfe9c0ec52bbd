// GET one URI with node-coap (the library Node-RED's CoAP node uses) and print
// the payload it hands back, block-wise transfers assembled by node-coap.
//   node tests/interop/nodecoap_get.js coap://127.0.0.1:5683/board
const coap = require("coap");

const uri = new URL(process.argv[2]);
const req = coap.request({ hostname: uri.hostname, port: Number(uri.port), pathname: uri.pathname });
req.on("response", (res) => {
  const parts = [];
  res.on("data", (d) => parts.push(d));
  res.on("end", () => {
    if (res.code !== "2.05") {
      process.stderr.write("answer " + res.code + "\n");
      process.exit(1);
    }
    process.stdout.write(Buffer.concat(parts));
    process.exit(0);
  });
});
req.on("error", (e) => {
  process.stderr.write(String(e) + "\n");
  process.exit(1);
});
req.end();
