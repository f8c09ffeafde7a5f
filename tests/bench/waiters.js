// Waiting at scale (make bench's "waiters" scenario): W waiting requests
// held open at once, each on its own connection. Half are changes-feed
// long-polls (GET /document/wfeed-N/_changes?since=...&wait_seconds=WAIT),
// half queue long-poll claims (POST /queue/wq-N/claim {"wait_seconds":
// WAIT}), spread over NS namespaces of each kind.
//   node waiters.js URL TOKEN W WAIT NS READY_FILE
// Each waiter re-issues its request as soon as it has an answer (a feed
// from the "next" it got), so W stay open until SIGTERM; then the program
// drops what is in flight (not counted) and prints one JSON object:
//   waiters, wait_seconds, namespaces, requests (answers counted),
//   early (answers that came back empty before WAIT - 1 s: the service
//   turned the waiter away), early_waiters (waiters that had at least one),
//   errors (answers other than 200, and requests that got no answer),
//   statuses ({status: count}), items (answers that carried items: none is
//   expected, nothing writes to these namespaces), backoff_ms.
// READY_FILE is written once every waiter's first request has gone out.
// The first waits are spread evenly over 2..WAIT s (waiter i's is
// 2 + i * (WAIT - 2) / W, rounded), so that re-issues come as a fleet's
// do, one every WAIT / W s, rather than all W at one instant every WAIT s
// (an artefact of starting them together); every later wait is WAIT.
// A waiter answered early or with an error waits BACKOFF_MS (env
// WAITERS_BACKOFF_MS, default 1000) before it asks again, as a polite
// client would: a busy loop of hundreds would measure the machine.
// With WAIT 0 every waiter asks once, and the program prints its JSON and
// exits when all have their answers (run.sh's warm-up: the same requests,
// none waiting).
"use strict";
const fs = require("fs");
const http = require("http");
const [url, token] = process.argv.slice(2, 4);
const [W, WAIT, NS] = process.argv.slice(4, 7).map(Number);
const ready = process.argv[7];
const BACKOFF_MS = Number(process.env.WAITERS_BACKOFF_MS || 1000);
const u = new URL(url);
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

const stats = { waiters: W, wait_seconds: WAIT, namespaces: NS, requests: 0, early: 0, early_waiters: 0, errors: 0, statuses: {}, items: 0, backoff_ms: BACKOFF_MS };
const inflight = new Set();
let stopping = false;
let sent = 0;
let done = 0;

function finish() {
  stopping = true;
  for (const req of inflight) req.destroy();
  process.stdout.write(JSON.stringify(stats) + "\n");
  agent.destroy();
  process.exit(0);
}
process.on("SIGTERM", finish);
process.on("SIGINT", finish);

function waiter(i) {
  const feed = i % 2 === 0;
  const ns = (feed ? "wfeed-" : "wq-") + (Math.floor(i / 2) % NS);
  let since = "now";
  let wasEarly = false;
  let first = true;
  let wait = WAIT > 2 ? 2 + Math.round((i * (WAIT - 2)) / W) : WAIT;
  const ask = () => {
    if (stopping) return;
    let path, method, body;
    if (feed) {
      method = "GET";
      path = `/document/${ns}/_changes?since=${since}&wait_seconds=${wait}`;
    } else {
      method = "POST";
      path = `/queue/${ns}/claim`;
      body = JSON.stringify({ wait_seconds: wait, visibility_timeout_seconds: 60 });
    }
    const start = Date.now();
    const asked = wait;
    wait = WAIT;
    const headers = { Authorization: "Bearer " + token };
    if (body !== undefined) headers["Content-Length"] = Buffer.byteLength(body);
    const req = http.request({ host: u.hostname, port: u.port, method, path, agent, headers, timeout: (WAIT + 30) * 1000 }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (text += c));
      res.on("end", () => answered(res.statusCode, text, Date.now() - start, asked));
    });
    inflight.add(req);
    req.on("timeout", () => req.destroy(new Error("no answer")));
    req.on("error", () => answered(0, "", Date.now() - start, asked));
    req.on("finish", () => {
      if (first && ++sent === W && ready) fs.writeFileSync(ready, String(Date.now()));
      first = false;
    });
    req.end(body);

    let settled = false;
    function answered(status, text, ms, asked) {
      if (settled) return;
      settled = true;
      inflight.delete(req);
      if (stopping) return;
      stats.requests++;
      stats.statuses[status] = (stats.statuses[status] || 0) + 1;
      let pause = 0;
      if (status !== 200) {
        stats.errors++;
        pause = BACKOFF_MS;
      } else {
        let page = {};
        try {
          page = JSON.parse(text);
        } catch (e) {
          stats.errors++;
        }
        const items = Array.isArray(page.items) ? page.items.length : 0;
        if (items > 0) stats.items++;
        if (feed && typeof page.next === "string") since = page.next;
        if (items === 0 && asked > 0 && ms < (asked - 1) * 1000) {
          stats.early++;
          if (!wasEarly) stats.early_waiters++;
          wasEarly = true;
          pause = BACKOFF_MS;
        }
      }
      if (WAIT === 0) {
        if (++done === W) finish();
        return;
      }
      if (pause > 0) setTimeout(ask, pause);
      else ask();
    }
  };
  ask();
}

for (let i = 0; i < W; i++) waiter(i);
