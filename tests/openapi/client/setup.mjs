// The generated client's first step (client/run.sh): what the document
// describes only once it exists (a sql table, whose paths and row schema
// /openapi.json holds with the token), made by each mode's
// requests/<mode>.setup.json, then the document the types are generated
// from, written to OUT.
//
//   node setup.mjs URL TOKEN OUT.json
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const [url, token, out] = process.argv.slice(2);
const headers = { Authorization: `Bearer ${token}`, "Content-Type": "application/json" };
const dir = join(dirname(fileURLToPath(import.meta.url)), "requests");
let failed = false;
for (const file of readdirSync(dir).filter((f) => f.endsWith(".setup.json")).sort())
    for (const r of JSON.parse(readFileSync(join(dir, file), "utf8")).requests) {
        const res = await fetch(url + r.path, { method: r.method, headers, body: JSON.stringify(r.body) });
        if (!r.status.includes(res.status)) {
            console.log(`FAIL ${file}: ${r.method} ${r.path}: ${res.status} ${await res.text()}`);
            failed = true;
        }
    }
const doc = await fetch(`${url}/openapi.json`, { headers });
if (doc.status !== 200) throw new Error(`GET /openapi.json: ${doc.status}`);
writeFileSync(out, await doc.text());
process.exitCode = failed ? 1 : 0;
