// The generated client's run (client/run.sh): each mode's requests file
// (requests/<mode>.ts, compiled with the rest) drives its operations
// through openapi-fetch, typed by the served document; every answer is
// checked against that document (check.ts); an operation no request
// reaches fails the run.
//
//   node build/js/main.js URL TOKEN DOCUMENT.json
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Checker, type Document } from "./check.js";
import { makeClient, type Requests, type Session } from "./session.js";

const [url, token, docFile] = process.argv.slice(2);
const doc = JSON.parse(readFileSync(docFile, "utf8")) as Document;
const checker = new Checker(doc);
const client = makeClient(url, { Authorization: `Bearer ${token}` });
const anonymous = makeClient(url, {});
client.use(checker.middleware);
anonymous.use(checker.middleware);

const session: Session = {
    client,
    anonymous,
    ns: `client${Date.now()}`,
    async expect(want, call) {
        const answer = await call;
        if (answer.response.status !== want) checker.failures.push(`${answer.response.url}: ${answer.response.status}, expected ${want}`);
        return answer;
    },
    fail: (what) => checker.failures.push(what),
};

// Every mode's file, in name order: a new mode adds its own.
const dir = join(dirname(fileURLToPath(import.meta.url)), "requests");
for (const file of readdirSync(dir).filter((f) => f.endsWith(".js")).sort()) {
    const requests = (await import(pathToFileURL(join(dir, file)).href)).default as Requests;
    try {
        await requests(session);
    } catch (e) {
        checker.failures.push(`requests/${file}: ${e instanceof Error ? e.stack : e}`);
    }
}

for (const op of checker.unreached()) checker.failures.push(`${op}: no request reaches it (tests/openapi/client/requests/)`);
console.log(checker.summary());
for (const f of checker.failures) console.log(`FAIL ${f}`);
process.exitCode = checker.failures.length ? 1 : 0;
