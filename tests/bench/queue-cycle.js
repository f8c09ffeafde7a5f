// The queue cycle through the service: N workers, each looping enqueue ->
// claim -> ack on its own namespace, for DURATION seconds. Prints JSON
// {"rate": cycles/s, "p50_ms", "p99_ms", "p999_ms", "count", "errors"}: a
// cycle that gets an answer other than 2xx (or no answer) counts as an error
// and the worker goes on, so an overloaded service shows in the error count. Node's own http client with
// keep-alive, like the pg-boss side, so both are driven the same way.
const http = require("http");
const [url, token, workers, seconds] = [process.argv[2], process.argv[3], +process.argv[4], +process.argv[5]];
const agent = new http.Agent({ keepAlive: true, maxSockets: workers });
const u = new URL(url);

function call(method, path, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, method, path, agent,
      headers: { Authorization: "Bearer " + token, "Content-Length": body ? Buffer.byteLength(body) : 0 } },
      (res) => {
        let data = "";
        res.on("data", (c) => (data += c));
        res.on("end", () => (res.statusCode < 300 ? resolve(data) : reject(new Error(res.statusCode + " " + data))));
      });
    req.on("error", reject);
    req.end(body || undefined);
  });
}

let errors = 0;
async function worker(n, until, lat) {
  const ns = "/queue/bench" + n;
  while (Date.now() < until) {
    const t0 = process.hrtime.bigint();
    try {
      await call("POST", ns, '{"payload":{"n":1}}');
      const claimed = JSON.parse(await call("POST", ns + "/claim", '{"visibility_timeout_seconds":30}'));
      const item = claimed.items[0];
      await call("DELETE", ns + "/" + item.id + "?claim_token=" + item.claim_token);
      lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
    } catch (e) {
      if (errors++ === 0) console.error("queue-cycle: " + e.message);
    }
  }
}

(async () => {
  const lat = [];
  const start = Date.now(), until = start + seconds * 1000;
  await Promise.all(Array.from({ length: workers }, (_, i) => worker(i, until, lat)));
  lat.sort((a, b) => a - b);
  const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
  console.log(JSON.stringify({ rate: lat.length / ((Date.now() - start) / 1000), p50_ms: q(0.5), p99_ms: q(0.99), p999_ms: q(0.999),
    count: lat.length, errors }));
  agent.destroy();
})().catch((e) => { console.error(e); process.exit(1); });
