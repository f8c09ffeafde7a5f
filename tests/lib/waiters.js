// waiters.js URL TOKEN PLAN OUT: opens every waiting request PLAN lists at
// once, each on its own connection, and records how each one ended. Used by
// tests/integration/21-waiters.bats.
//   PLAN  a JSON array of {"kind": "feed", "ns", "since", "wait"} (GET
//         /document/NS/_changes?since=SINCE&wait_seconds=WAIT&include_payload=true)
//         and {"kind": "claim", "ns", "wait"} (POST /queue/NS/claim with
//         {"wait_seconds": WAIT, "visibility_timeout_seconds": 300})
//   OUT   one JSON line per answer, appended as it arrives: {"i" (index in
//         PLAN), "kind", "ns", "status" (0: no answer), "ms" (from the
//         request's start), "at" (ms since the epoch), "body" (parsed JSON,
//         or the text when it is not JSON)}
// OUT.sent is written once every request has gone out on its socket; the
// program exits when every request has its answer (or its 60 s client
// timeout: status 0).
"use strict";
const fs = require("fs");
const http = require("http");
const [url, token, planFile, out] = process.argv.slice(2);
const plan = JSON.parse(fs.readFileSync(planFile, "utf8"));
const u = new URL(url);
// No pooling: every waiter has a connection of its own, none queues
// behind another in the client.
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
fs.writeFileSync(out, "");
let sent = 0;
let left = plan.length;

function record(i, status, start, text) {
  let body = text;
  try {
    body = JSON.parse(text);
  } catch (e) {
    // kept as text
  }
  const w = plan[i];
  fs.appendFileSync(out, JSON.stringify({ i, kind: w.kind, ns: w.ns, status, ms: Date.now() - start, at: Date.now(), body }) + "\n");
  if (--left === 0) process.exit(0);
}

plan.forEach((w, i) => {
  let path, method, body;
  if (w.kind === "feed") {
    method = "GET";
    path = `/document/${w.ns}/_changes?since=${w.since}&wait_seconds=${w.wait}&include_payload=true`;
  } else {
    method = "POST";
    path = `/queue/${w.ns}/claim`;
    body = JSON.stringify({ wait_seconds: w.wait, visibility_timeout_seconds: 300 });
  }
  const start = Date.now();
  const headers = { Authorization: "Bearer " + token };
  if (body !== undefined) headers["Content-Length"] = Buffer.byteLength(body);
  const req = http.request({ host: u.hostname, port: u.port, method, path, agent, headers, timeout: 60000 }, (res) => {
    let text = "";
    res.setEncoding("utf8");
    res.on("data", (c) => (text += c));
    res.on("end", () => record(i, res.statusCode, start, text));
  });
  req.on("timeout", () => req.destroy(new Error("client timeout")));
  req.on("error", (e) => record(i, 0, start, String(e.message)));
  req.on("finish", () => {
    if (++sent === plan.length) fs.writeFileSync(out + ".sent", String(Date.now()));
  });
  req.end(body);
});
