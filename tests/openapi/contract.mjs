// The contract test of /openapi.json (tests/integration/18-openapi.bats):
// real requests, good and bad, for every operation the document lists, each
// response's status, headers and body checked against what the document
// says of that operation, with ajv. A response the document does not
// describe (a status it does not list, a body its schema refuses, an error
// code not among those listed for that status) fails, and so does an
// operation no request here reaches: a new route needs its requests here.
//
//   node contract.mjs URL TOKEN
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const [url, token] = process.argv.slice(2);
const auth = { Authorization: `Bearer ${token}` };
const doc = await (await fetch(`${url}/openapi.json`, { headers: auth })).json();
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);

const failures = [];
const reached = new Set();
let checked = 0;

// The schema of one response of one operation, with the document's
// components beside it so that its "#/components/..." references resolve.
function validatorFor(schema) {
    return ajv.compile({ ...schema, components: doc.components });
}

// One request: METHOD and the operation's path template, the concrete path,
// and what to send. Returns the parsed body (or the text).
async function call(method, template, path, { body, raw, headers = auth, type, want } = {}) {
    const op = doc.paths[template]?.[method.toLowerCase()];
    const label = `${method} ${path} (${template})`;
    if (!op) {
        failures.push(`${label}: no such operation in the document`);
        return null;
    }
    reached.add(`${method} ${template}`);
    const init = { method, headers: { ...headers } };
    if (body !== undefined) {
        init.body = raw ? body : JSON.stringify(body);
        init.headers["Content-Type"] = type || "application/json";
    }
    const res = await fetch(url + path, init);
    const text = await res.text();
    checked++;
    if (want !== undefined && res.status !== want) failures.push(`${label}: ${res.status}, expected ${want}: ${text.slice(0, 200)}`);
    const spec = op.responses[String(res.status)];
    if (!spec) {
        failures.push(`${label}: status ${res.status} is not in the document (${Object.keys(op.responses)}): ${text.slice(0, 200)}`);
        return null;
    }
    if (!res.headers.get("x-request-id")) failures.push(`${label}: no X-Request-Id`);
    if (!spec.content) {
        // A response the document gives no body (304): none may come.
        if (text !== "") failures.push(`${label}: ${res.status} has a body, the document says none: ${text.slice(0, 200)}`);
        return { status: res.status, value: text };
    }
    const mediaType = (res.headers.get("content-type") || "").split(";")[0].trim();
    const content = spec.content?.[mediaType];
    if (spec.content && !content) {
        failures.push(`${label}: ${res.status} answered ${mediaType}, the document says ${Object.keys(spec.content)}`);
        return null;
    }
    let value = text;
    if (mediaType === "application/json") {
        try {
            value = JSON.parse(text);
        } catch {
            failures.push(`${label}: ${res.status} body is not JSON`);
            return null;
        }
    }
    if (content?.schema && method !== "HEAD") {
        const validate = validatorFor(content.schema);
        if (!validate(value))
            failures.push(`${label}: ${res.status} body does not match the document: ${ajv.errorsText(validate.errors)}: ${text.slice(0, 300)}`);
    }
    return { status: res.status, value };
}

const none = { headers: {} };
const wrong = { headers: { Authorization: "Bearer wrong-token" } };
const ns = `contract${Date.now()}`;

// Every authenticated operation, without a token and with a wrong one: 401.
for (const [template, item] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(item)) {
        if (Array.isArray(op.security) && op.security.length === 0) continue;
        const path = template.replace(/\{[a-z_]+\}/g, (m) => (m === "{id}" ? "1" : "x1"));
        const body = ["post", "patch", "put"].includes(method) ? {} : undefined;
        for (const who of [none, wrong]) {
            const r = await call(method.toUpperCase(), template, path, { body, headers: who.headers });
            if (r && r.status !== 401) failures.push(`${method} ${path}: ${r.status} without a valid token`);
        }
    }

// self-description and health
await call("GET", "/health", "/health", { ...none, want: 200 });
await call("GET", "/openapi.json", "/openapi.json", { ...none, want: 200 });
await call("GET", "/openapi.json", "/openapi.json", { want: 200 });
await call("GET", "/docs", "/docs", { ...none, want: 200 });
await call("GET", "/metrics", "/metrics", { want: 200 });

// documents
const put = (body) => ({ body, want: 201 });
await call("POST", "/document", "/document", put({ namespace: ns, key: "a", payload: { n: 1 } }));
await call("POST", "/document", "/document", { body: { namespace: ns, key: "a", payload: 2, if_version: 9 }, want: 409 });
await call("POST", "/document", "/document", { body: { namespace: "-bad", key: "a", payload: 1 }, want: 422 });
await call("POST", "/document", "/document", { body: "{not json", raw: true, want: 400 });
await call("GET", "/document/{namespace}", `/document/${ns}`, { want: 200 });
await call("GET", "/document/{namespace}", `/document/${ns}?limit=5000`, { want: 422 });
await call("GET", "/document/{namespace}/{key}", `/document/${ns}/a`, { want: 200 });
await call("GET", "/document/{namespace}/{key}", `/document/${ns}/missing`, { want: 404 });
await call("GET", "/document/{namespace}/{key}/versions", `/document/${ns}/a/versions`, { want: 200 });
await call("GET", "/document/{namespace}/{key}/versions", `/document/${ns}/a/versions?after=x`, { want: 422 });
await call("DELETE", "/document/{namespace}/{key}", `/document/${ns}/a`, { want: 200 });
await call("DELETE", "/document/{namespace}/{key}", `/document/${ns}/a`, { want: 404 });
// conditional writes, merge patch, the changes feed (docs/document.md)
const keyed = `/document/${ns}/p`;
await call("PUT", "/document/{namespace}/{key}", keyed, { body: { x: 1 }, headers: { ...auth, "If-None-Match": "*" }, want: 201 });
await call("PUT", "/document/{namespace}/{key}", keyed, { body: { x: 2 }, headers: { ...auth, "If-None-Match": "*" }, want: 412 });
await call("PUT", "/document/{namespace}/{key}", keyed, { body: { x: 2 }, headers: { ...auth, "If-Match": '"9"' }, want: 412 });
await call("GET", "/document/{namespace}/{key}", keyed, { headers: { ...auth, "If-None-Match": '"1"' }, want: 304 });
await call("POST", "/document", "/document", { body: { namespace: ns, key: "p", payload: 3 }, headers: { ...auth, "If-Match": '"7"' }, want: 412 });
await call("PATCH", "/document/{namespace}/{key}", keyed, { body: { y: 2 }, type: "application/merge-patch+json", want: 200 });
await call("PATCH", "/document/{namespace}/{key}", keyed, { body: { y: 3 }, want: 415 });
await call("PATCH", "/document/{namespace}/{key}", `/document/${ns}/nothing`, { body: { y: 3 }, type: "application/merge-patch+json", want: 404 });
await call("GET", "/document/{namespace}/_changes", `/document/${ns}/_changes`, { want: 200 });
await call("GET", "/document/{namespace}/_changes", `/document/${ns}/_changes?since=now&limit=1`, { want: 200 });
await call("GET", "/document/{namespace}/_changes", `/document/${ns}/_changes?limit=0`, { want: 422 });

// the queue
await call("POST", "/queue/{namespace}", `/queue/${ns}`, { body: { payload: { job: 1 }, max_attempts: 1 }, want: 201 });
await call("POST", "/queue/{namespace}", `/queue/${ns}`, { body: { items: [{ payload: 2 }, { payload: 3 }] }, want: 201 });
await call("POST", "/queue/{namespace}", `/queue/${ns}`, { body: { payload: 1, max_attempts: 0 }, want: 422 });
await call("GET", "/queue/{namespace}", `/queue/${ns}`, { want: 200 });
const claimed = await call("POST", "/queue/{namespace}/claim", `/queue/${ns}/claim`, { body: { max: 3 }, want: 200 });
await call("POST", "/queue/{namespace}/claim", `/queue/${ns}/claim`, { body: { max: 0 }, want: 422 });
const [a, b, c] = claimed?.value?.items || [];
if (!c) failures.push("the claim did not return three items");
const gone = "00000000-0000-4000-8000-000000000000";
if (a) {
    await call("POST", "/queue/{namespace}/{id}/extend", `/queue/${ns}/${a.id}/extend`, { body: { claim_token: a.claim_token, visibility_timeout_seconds: 60 }, want: 200 });
    await call("POST", "/queue/{namespace}/{id}/extend", `/queue/${ns}/${a.id}/extend`, { body: { claim_token: gone }, want: 409 });
    await call("DELETE", "/queue/{namespace}/{id}", `/queue/${ns}/${a.id}?claim_token=${a.claim_token}`, { want: 200 });
    await call("DELETE", "/queue/{namespace}/{id}", `/queue/${ns}/${a.id}?claim_token=${a.claim_token}`, { want: 404 });
}
if (b) {
    await call("POST", "/queue/{namespace}/{id}/release", `/queue/${ns}/${b.id}/release`, { body: { claim_token: b.claim_token }, want: 200 });
    await call("POST", "/queue/{namespace}/{id}/release", `/queue/${ns}/${b.id}/release`, { body: { claim_token: "nope" }, want: 422 });
}
await call("DELETE", "/queue/{namespace}/{id}", `/queue/${ns}/abc`, { want: 422 });
await call("GET", "/queue/{namespace}/dead", `/queue/${ns}/dead`, { want: 200 });
await call("GET", "/queue/{namespace}/dead", `/queue/${ns}/dead?limit=0`, { want: 422 });
await call("POST", "/queue/{namespace}/dead/{id}/retry", `/queue/${ns}/dead/999999/retry`, { body: {}, want: 404 });
// dedup, batch ack, pause and resume (docs/queue.md)
await call("POST", "/queue/{namespace}", `/queue/${ns}`, { body: { payload: 1, dedup_key: "once", group: "g" }, want: 201 });
await call("POST", "/queue/{namespace}", `/queue/${ns}`, { body: { payload: 2, dedup_key: "once" }, want: 200 });
await call("POST", "/queue/{namespace}", `/queue/${ns}`, { body: { payload: 1, priority: 1001 }, want: 422 });
const more = await call("POST", "/queue/{namespace}/claim", `/queue/${ns}/claim`, { body: { max: 10 }, want: 200 });
const acks = (more?.value?.items || []).map((i) => ({ id: i.id, claim_token: i.claim_token }));
acks.push({ id: 999999, claim_token: gone });
await call("POST", "/queue/{namespace}/ack", `/queue/${ns}/ack`, { body: { items: acks }, want: 200 });
await call("POST", "/queue/{namespace}/ack", `/queue/${ns}/ack`, { body: { items: "none" }, want: 422 });
await call("POST", "/queue/{namespace}/pause", `/queue/${ns}/pause`, { body: {}, want: 200 });
await call("POST", "/queue/{namespace}/resume", `/queue/${ns}/resume`, { body: {}, want: 200 });
await call("POST", "/queue/{namespace}/resume", `/queue/${ns}/resume`, { body: { nope: 1 }, want: 422 });

// typed tables
const table = `t${Date.now()}`;
const columns = [
    { name: "sha", type: "text", unique: true },
    { name: "n", type: "integer", nullable: true },
];
await call("POST", "/sql/tables", "/sql/tables", { body: { name: table, columns }, want: 201 });
await call("POST", "/sql/tables", "/sql/tables", { body: { name: table, columns }, want: 409 });
await call("POST", "/sql/tables", "/sql/tables", { body: { name: "Bad-Name", columns }, want: 422 });
await call("GET", "/sql/tables", "/sql/tables", { want: 200 });
await call("GET", "/sql/tables/{name}", `/sql/tables/${table}`, { want: 200 });
await call("GET", "/sql/tables/{name}", "/sql/tables/nosuchtable", { want: 404 });
const rows = await call("POST", "/sql/tables/{name}/rows", `/sql/tables/${table}/rows`, { body: [{ sha: "a", n: 1 }, { sha: "b" }], want: 201 });
await call("POST", "/sql/tables/{name}/rows", `/sql/tables/${table}/rows`, { body: { sha: "a" }, want: 409 });
await call("POST", "/sql/tables/{name}/rows", `/sql/tables/${table}/rows`, { body: { nope: 1 }, want: 422 });
await call("GET", "/sql/tables/{name}/rows", `/sql/tables/${table}/rows?sha=a`, { want: 200 });
await call("GET", "/sql/tables/{name}/rows", `/sql/tables/${table}/rows?limit=-1`, { want: 422 });
const id = rows?.value?.items?.[0]?.id ?? 1;
await call("GET", "/sql/tables/{name}/rows/{id}", `/sql/tables/${table}/rows/${id}`, { want: 200 });
await call("GET", "/sql/tables/{name}/rows/{id}", `/sql/tables/${table}/rows/999999`, { want: 404 });
await call("PATCH", "/sql/tables/{name}/rows/{id}", `/sql/tables/${table}/rows/${id}`, { body: { n: 5 }, want: 200 });
await call("PATCH", "/sql/tables/{name}/rows/{id}", `/sql/tables/${table}/rows/${id}`, { body: { n: "five" }, want: 422 });
await call("DELETE", "/sql/tables/{name}/rows/{id}", `/sql/tables/${table}/rows/${id}`, { want: 200 });
await call("DELETE", "/sql/tables/{name}/rows/{id}", `/sql/tables/${table}/rows/${id}`, { want: 404 });

// the file tier
await call("POST", "/files/temp", "/files/temp", { body: "hello", raw: true, type: "application/octet-stream", want: 201 });

// MCP: a session's start, and a message outside any session.
const mcpHeaders = { ...auth, Accept: "application/json, text/event-stream" };
const init = { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "contract", version: "1" } };
await call("POST", "/mcp", "/mcp", { body: { jsonrpc: "2.0", id: 1, method: "initialize", params: init }, headers: mcpHeaders, want: 200 });
await call("POST", "/mcp", "/mcp", { body: { jsonrpc: "2.0", id: 2, method: "ping" }, headers: mcpHeaders, want: 400 });

// The token-only part: this table's row schema.
const fresh = await (await fetch(`${url}/openapi.json`, { headers: auth })).json();
if (!fresh.components.schemas[`sql_row_${table}`]) failures.push(`/openapi.json with the token: no sql_row_${table}`);

for (const [template, item] of Object.entries(doc.paths))
    for (const method of Object.keys(item))
        if (!reached.has(`${method.toUpperCase()} ${template}`)) failures.push(`${method.toUpperCase()} ${template}: no request reaches it`);

console.log(`${checked} responses checked against the document, ${reached.size} operations`);
for (const f of failures) console.log(`FAIL ${f}`);
process.exit(failures.length ? 1 : 0);
