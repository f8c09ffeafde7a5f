// Test-only: a reverse proxy that adds the bearer token, for MCP clients
// that cannot send one (the conformance suite). Streams both ways and keeps
// the client's Host and Origin headers, so the service's own checks apply.
//   node auth-proxy.js LISTEN_PORT TARGET_URL TOKEN
'use strict';
const http = require('http');
const [port, target, token] = process.argv.slice(2);
const t = new URL(target);
const server = http.createServer((req, res) => {
  const headers = { ...req.headers, authorization: `Bearer ${token}` };
  const up = http.request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers }, (r) => {
    res.writeHead(r.statusCode, r.headers);
    res.flushHeaders();
    r.pipe(res);
  });
  up.on('error', () => { res.writeHead(502); res.end(); });
  res.on('close', () => up.destroy());
  req.pipe(up);
});
server.listen(Number(port), '127.0.0.1', () => console.log(`auth-proxy on ${port}`));
