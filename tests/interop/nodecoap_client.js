// node-coap (npm `coap`, pinned in tools/node) as a client of the simulated board,
// driven by tests/interop/test_nodecoap.py. Prints one JSON line per result.
//   node nodecoap_client.js get HOST PORT PATH [BLOCK_SZX]
//   node nodecoap_client.js put HOST PORT PATH PAYLOAD
//   node nodecoap_client.js observe HOST PORT PATH COUNT LINGER_MS [ACCEPT]
//   node nodecoap_client.js vanish HOST PORT PATH COUNT LINGER_MS
// observe: COUNT notifications, then close() the stream and linger LINGER_MS.
// The agent runs on a socket of our own, which close() leaves open, so the agent
// answers the next notification with RST; on its own socket, close() closes the
// socket too and the client just vanishes (the case the board must survive):
// that is `vanish`.
const coap = require(process.env.NODE_COAP || 'coap')
const dgram = require('dgram')

const [action, host, port, path, arg, linger, accept] = process.argv.slice(2)
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n')
const type = host.includes(':') ? 'udp6' : 'udp4'
const agent = action === 'observe'
  ? new coap.Agent({ type, socket: dgram.createSocket(type) })
  : new coap.Agent({ type })
const opts = { hostname: host, port: Number(port), pathname: '/' + path, agent }

function fail (e) {
  out({ error: String(e) })
  process.exit(1)
}

if (action === 'get' || action === 'put') {
  const req = coap.request(Object.assign(opts, { method: action.toUpperCase() }))
  if (action === 'get' && arg !== undefined) req.setOption('Block2', Buffer.of(Number(arg)))
  req.on('response', (res) => {
    out({ code: res.code, payload: res.payload.toString('latin1') })
    process.exit(0)
  })
  req.on('error', fail)
  req.end(action === 'put' ? arg : undefined)
} else if (action === 'observe' || action === 'vanish') {
  const want = Number(arg)
  const req = coap.request(Object.assign(opts, { observe: true }))
  if (accept !== undefined) req.setOption('Accept', Number(accept) ? Buffer.of(Number(accept)) : Buffer.alloc(0))
  req.on('response', (stream) => {
    const values = []
    stream.on('data', (d) => {
      values.push(d.toString('latin1'))
      if (values.length === want) {
        stream.close()
        out({ code: stream.code, format: stream.headers['Content-Format'], values })
        setTimeout(() => process.exit(0), Number(linger))
      }
    })
  })
  req.on('error', fail)
  req.end()
} else {
  fail('unknown action ' + action)
}
