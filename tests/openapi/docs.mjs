// /docs in a real browser (tests/integration/18-openapi.bats): Debian's
// chromium, headless, every host but 127.0.0.1 unreachable. The page must
// render an operation for every operation of /openapi.json (so every
// mode's routes), request nothing from another host, take the token under
// "Authorize", and a "Try it out" of GET /health must show 200. The
// document's text must read whole on the page: no description names
// something a reader of /docs cannot see (a section of an internal
// document), none holds a "<" that CommonMark would take for HTML and
// swallow, and the operations whose text CommonMark could change show it
// as written.
//
//   node docs.mjs URL TOKEN SCREENSHOT.png
import puppeteer from "puppeteer-core";

const [url, token, screenshot] = process.argv.slice(2);
const failures = [];
const doc = await (await fetch(`${url}/openapi.json`)).json();
const origin = new URL(url).origin;

// Every description and summary of the document, with where it is.
function texts(node, where, out = []) {
    if (Array.isArray(node)) node.forEach((v, i) => texts(v, `${where}/${i}`, out));
    else if (node && typeof node === "object")
        for (const [k, v] of Object.entries(node)) {
            if ((k === "description" || k === "summary") && typeof v === "string") out.push({ where: `${where}/${k}`, text: v });
            else texts(v, `${where}/${k}`, out);
        }
    return out;
}
for (const { where, text } of texts(doc, "#")) {
    if (/contract|\.\.\/shared|\bsection [0-9]/i.test(text)) failures.push(`${where} refers to an internal document: ${text}`);
    if (/(^|[^\\])<[A-Za-z/!?]/.test(text)) failures.push(`${where} holds an unescaped "<", which /docs would swallow: ${text}`);
}

// The text a person reads for a description (CommonMark as Swagger UI
// renders it: escapes undone, typographic quotes, whitespace folded).
const plain = (t) => t.replace(/\\([!-\/:-@[-`{-~])/g, "$1").replace(/[\u201c\u201d]/g, '"').replace(/[\u2018\u2019]/g, "'").replace(/\s+/g, " ").trim();
// Few operations whose own texts (description, parameters) hold every
// text that CommonMark could alter: an escape, a *, a ` , an _ at a word's
// edge, a [...] that could be a link (greedy: the operation that shows
// most of what is left, each time).
const risky = new Map(); // text -> ids of the operations showing it
for (const item of Object.values(doc.paths))
    for (const op of Object.values(item))
        for (const t of [op.description, ...(op.parameters || []).map((p) => p.description)])
            if (t && /[\\*`]|(^|\W)_|_(\W|$)|\][[(]/.test(t)) risky.set(t, [...(risky.get(t) || []), `${op.tags[0]}-${op.operationId}`]);
const sample = new Map(); // operation id -> the texts to read there
const left = new Set(risky.keys());
while (left.size) {
    const count = new Map();
    for (const t of left) for (const id of risky.get(t)) count.set(id, (count.get(id) || 0) + 1);
    const best = [...count].sort((a, b) => b[1] - a[1])[0][0];
    sample.set(best, [...left].filter((t) => risky.get(t).includes(best)));
    for (const t of sample.get(best)) left.delete(t);
}

const browser = await puppeteer.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--window-size=1280,900"],
});
try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    const elsewhere = [];
    page.on("request", (req) => {
        const u = req.url();
        if (!u.startsWith(origin) && !u.startsWith("data:")) elsewhere.push(u);
    });
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(`${url}/docs`, { waitUntil: "networkidle0", timeout: 60000 });
    await page.waitForSelector(".opblock", { timeout: 60000 });

    // Every operation of the document, under its tag (the mode): Swagger
    // UI gives each the id operations-<tag>-<operationId>.
    const ids = await page.$$eval(".opblock", (els) => els.map((e) => e.id));
    let operations = 0;
    for (const item of Object.values(doc.paths))
        for (const op of Object.values(item)) {
            operations++;
            const id = `operations-${op.tags[0]}-${op.operationId}`;
            if (!ids.includes(id)) failures.push(`/docs does not show ${id}`);
        }
    const modes = await (await fetch(`${url}/health`)).json();
    const tags = await page.$$eval(".opblock-tag", (els) => els.map((e) => e.getAttribute("data-tag")));
    for (const m of modes.modes)
        if (doc.tags.some((t) => t.name === m) && !tags.includes(m)) failures.push(`/docs has no section for mode ${m}`);

    // The sampled operations, opened: each risky text reads as written.
    for (const [id, want] of sample) {
        await page.click(`#operations-${id} .opblock-summary-control`);
        await page.waitForSelector(`#operations-${id} .opblock-body`, { timeout: 20000 });
        const shown = plain(await page.$eval(`#operations-${id} .opblock-body`, (e) => e.innerText));
        for (const t of want) if (!shown.includes(plain(t))) failures.push(`/docs shows ${id} without "${plain(t)}"`);
        await page.click(`#operations-${id} .opblock-summary-control`);
    }

    // Authorize: the bearer token, as a person pastes it.
    await page.click(".auth-wrapper .authorize");
    await page.waitForSelector(".modal-ux input", { timeout: 20000 });
    await page.type(".modal-ux input", token);
    await page.click(".modal-ux .auth-btn-wrapper .authorize");
    await page.click(".modal-ux .btn-done");

    // Try it out: GET /health, 200 in the page.
    const health = `#operations-health-${doc.paths["/health"].get.operationId}`;
    await page.click(`${health} .opblock-summary-control`);
    await page.waitForSelector(`${health} .try-out__btn`, { timeout: 20000 });
    await page.click(`${health} .try-out__btn`);
    await page.click(`${health} .execute`);
    await page.waitForSelector(`${health} .live-responses-table .response .response-col_status`, { timeout: 30000 });
    const status = await page.$eval(`${health} .live-responses-table .response .response-col_status`, (e) => e.textContent.trim());
    if (!status.startsWith("200")) failures.push(`Try it out of GET /health shows ${status}`);
    await page.$eval(health, (e) => e.scrollIntoView());
    await page.screenshot({ path: screenshot, fullPage: false });

    if (elsewhere.length) failures.push(`requests to other hosts: ${[...new Set(elsewhere)].join(" ")}`);
    if (errors.length) failures.push(`page errors: ${errors.join("; ")}`);
    console.log(`${ids.length} operations shown of ${operations}; ${risky.size} texts read in ${sample.size} opened; Try it out of GET /health: ${status}`);
} finally {
    await browser.close();
}
for (const f of failures) console.log(`FAIL ${f}`);
process.exit(failures.length ? 1 : 0);
