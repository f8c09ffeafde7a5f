// The batched queue cycle through the service: N workers, each looping on
// its own namespace for DURATION seconds: enqueue BATCH items in one
// request ({"items": [...]}), claim them with max=BATCH, ack them in one
// request (POST /queue/{ns}/ack). Every job's latency is from the start
// of its batch's enqueue to the end of the ack that acked it. Prints JSON
// {"rate": jobs/s, "p50_ms", "p99_ms", "p999_ms", "count": jobs, "errors"}:
// a request answered other than 2xx, or a job claimed or acked short,
// counts as an error and the worker goes on.
const http = require("http");
const [url, token, workers, seconds] = [process.argv[2], process.argv[3], +process.argv[4], +process.argv[5]];
const batch = +(process.argv[6] || 100);
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

const items = JSON.stringify({ items: Array.from({ length: batch }, (_, i) => ({ payload: { n: i } })) });
const claimBody = JSON.stringify({ visibility_timeout_seconds: 30, max: batch });
let errors = 0;
function error(msg) { if (errors++ === 0) console.error("queue-batch: " + msg); }

async function worker(n, until, lat) {
  const ns = "/queue/benchb" + n;
  while (Date.now() < until) {
    const t0 = process.hrtime.bigint();
    try {
      await call("POST", ns, items);
      const claimed = JSON.parse(await call("POST", ns + "/claim", claimBody)).items;
      if (claimed.length !== batch) error("claimed " + claimed.length + " of " + batch);
      if (claimed.length === 0) continue;
      const acks = JSON.parse(await call("POST", ns + "/ack",
        JSON.stringify({ items: claimed.map((i) => ({ id: i.id, claim_token: i.claim_token })) }))).items;
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      for (const a of acks) {
        if (a.acked) lat.push(ms);
        else error("ack: " + JSON.stringify(a));
      }
    } catch (e) {
      error(e.message);
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
