// The contract test of /openapi.json (tests/integration/18-openapi.bats):
// real requests, good and bad, for every operation the document lists, each
// response's status, headers and body checked against what the document
// says of that operation, with ajv. A response the document does not
// describe (a status it does not list, a body its schema refuses, an error
// code not among those listed for that status) fails, and so does an
// operation no request reaches. The requests are each mode's, in
// contract/<mode>.mjs (a new mode adds its own: make mode writes one).
//
//   node contract.mjs URL TOKEN
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const [url, token] = process.argv.slice(2);
const auth = { Authorization: `Bearer ${token}` };
// The document with the token (every table's copies of the sql paths);
// refresh() reads it again, once a request has made what it describes.
let doc = await (await fetch(`${url}/openapi.json`, { headers: auth })).json();
async function refresh() {
    doc = await (await fetch(`${url}/openapi.json`, { headers: auth })).json();
    return doc;
}
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
        // A copy of an operation for a table is the same route: once is enough.
        if (op.operationId.includes("__")) continue;
        const path = template.replace(/\{[a-z_]+\}/g, (m) => (m === "{id}" ? "1" : "x1"));
        const body = ["post", "patch", "put"].includes(method) ? {} : undefined;
        for (const who of [none, wrong]) {
            const r = await call(method.toUpperCase(), template, path, { body, headers: who.headers });
            if (r && r.status !== 401) failures.push(`${method} ${path}: ${r.status} without a valid token`);
        }
    }

// Each mode's requests, in name order.
const here = dirname(fileURLToPath(import.meta.url));
const context = { call, ns, auth, none, wrong, refresh, fail: (what) => failures.push(what) };
for (const file of readdirSync(join(here, "contract")).filter((f) => f.endsWith(".mjs")).sort()) {
    try {
        await (await import(pathToFileURL(join(here, "contract", file)).href)).default(context);
    } catch (e) {
        failures.push(`contract/${file}: ${e.stack}`);
    }
}

// MCP: a session's start, and a message outside any session.
const mcpHeaders = { ...auth, Accept: "application/json, text/event-stream" };
const init = { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "contract", version: "1" } };
await call("POST", "/mcp", "/mcp", { body: { jsonrpc: "2.0", id: 1, method: "initialize", params: init }, headers: mcpHeaders, want: 200 });
await call("POST", "/mcp", "/mcp", { body: { jsonrpc: "2.0", id: 2, method: "ping" }, headers: mcpHeaders, want: 400 });

// Every operation reached. An operation copied for one value of the data
// (operationId "<base>__<value>": a table's rows) is reached when one copy
// of its base is.
const bases = new Map();
for (const [template, item] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(item)) {
        const label = `${method.toUpperCase()} ${template}`;
        const base = op.operationId.includes("__") ? `${op.operationId.split("__")[0]} (a copy)` : label;
        bases.set(base, [...(bases.get(base) || []), label]);
    }
for (const [base, labels] of bases) if (!labels.some((l) => reached.has(l))) failures.push(`${base}: no request reaches it`);

console.log(`${checked} responses checked against the document, ${reached.size} operations`);
for (const f of failures) console.log(`FAIL ${f}`);
process.exit(failures.length ? 1 : 0);
