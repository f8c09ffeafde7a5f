// /console in a real browser (tests/integration/30-console.bats): Debian's
// chromium, headless, every host but 127.0.0.1 unreachable. The bats file
// has seeded a namespace, a queue and a table (names below); this script
// pastes the token, checks that each view shows that data, acts (compare
// two versions, follow the live tail while a write is made over HTTP,
// pause the queue, retry and delete dead letters, page and filter rows),
// and on each view runs axe-core and a walk with the Tab key. It fails on
// any request to another host, any page error or CSP violation, a stored
// HTML payload that becomes markup, or the token in a URL.
//
//   node console.mjs URL TOKEN SCREENSHOT_DIR
// Prints "dead retried: ID" and "dead deleted: ID" for the bats file to
// check in the database.
import puppeteer from "puppeteer-core";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const [url, token, shots] = process.argv.slice(2);
const NS = "console-docs", QUEUE = "console-jobs", TABLE = "console_builds";
const origin = new URL(url).origin;
const failures = [];
const fail = (m) => failures.push(m);
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const call = (method, path, body) =>
    fetch(url + path, { method, headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" }, body: body && JSON.stringify(body) });

const browser = await puppeteer.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--window-size=1280,1000"],
});
try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 1000 });
    page.setDefaultTimeout(30000);
    const requests = [];
    page.on("request", (req) => requests.push({ url: req.url(), headers: req.headers() }));
    page.on("requestfailed", (req) => {
        // Stopping the live tail aborts its stream: that one is expected.
        if (req.failure()?.errorText !== "net::ERR_ABORTED") fail(`request failed: ${req.url()} ${req.failure()?.errorText}`);
    });
    page.on("pageerror", (e) => fail(`page error: ${e}`));
    // An error answer the test asks for is logged by Chromium as a failed
    // load: allowed while expectError is set, and only that.
    let expectError = false;
    page.on("console", (m) => {
        if (m.type() === "error" && !(expectError && m.text().startsWith("Failed to load resource"))) fail(`console error: ${m.text()} ${m.location()?.url || ""}`);
    });
    page.on("dialog", (d) => d.accept());
    await page.evaluateOnNewDocument(() => {
        window.__csp = [];
        document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
    });

    // The page and its headers.
    const res = await page.goto(`${url}/console`, { waitUntil: "networkidle0" });
    const h = res.headers();
    if (h["content-security-policy"] !== "default-src 'self'; frame-ancestors 'none'") fail(`CSP header: ${h["content-security-policy"]}`);
    if (h["referrer-policy"] !== "no-referrer") fail(`Referrer-Policy: ${h["referrer-policy"]}`);
    if (h["x-content-type-options"] !== "nosniff") fail(`X-Content-Type-Options: ${h["x-content-type-options"]}`);

    // The token, pasted once (typed, then Enter submits the form).
    await page.type("#token-input", token);
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => document.querySelector("#token-state").textContent.includes("Token set"));
    if (await page.$eval("#token-input", (e) => e.value) !== "") fail("the token stays in the input after it is used");
    const stored = await page.evaluate(() => ({ s: Object.values(sessionStorage), l: Object.keys(localStorage).length, c: document.cookie }));
    if (!stored.s.includes(token) || stored.l || stored.c) fail(`token storage: ${JSON.stringify({ ...stored, s: stored.s.length })}`);

    const textOf = (sel) => page.$eval(sel, (e) => e.textContent);
    const waitText = (sel, want) => page.waitForFunction((s, w) => [...document.querySelectorAll(s)].some((e) => e.textContent.includes(w)), {}, sel, want)
        .catch(async () => fail(`${sel} never showed "${want}" (it shows: ${(await page.$eval(sel, (e) => e.textContent).catch(() => "nothing")).slice(0, 300)}; error box: ${await page.$eval("#error", (e) => e.textContent)})`));
    const axe = async (view) => {
        await page.evaluate(axeSource);
        const r = await page.evaluate(() => axe.run(document, { resultTypes: ["violations"] }));
        for (const v of r.violations)
            if (v.impact === "serious" || v.impact === "critical") fail(`axe on ${view}: ${v.impact} ${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
        return r.violations.length;
    };
    // Tab from the top of the page: every visible, enabled control of the
    // view is reached by the keyboard alone.
    const tabWalk = async (view) => {
        await page.evaluate(() => { document.activeElement?.blur(); window.scrollTo(0, 0); });
        const reached = new Set();
        for (let i = 0; i < 250; i++) {
            await page.keyboard.press("Tab");
            const id = await page.evaluate(() => {
                const e = document.activeElement;
                if (!e || e === document.body) return null;
                if (!e.dataset.walk) e.dataset.walk = String(Math.random());
                return e.dataset.walk;
            });
            if (id) reached.add(id);
        }
        const missed = await page.evaluate((ids) => [...document.querySelectorAll("a[href], button, input, select, textarea")]
            .filter((e) => e.offsetParent !== null && !e.disabled && !(e.type === "radio" && !e.checked))
            .filter((e) => !ids.includes(e.dataset.walk)).map((e) => e.id || e.getAttribute("aria-label") || e.textContent.trim()), [...reached]);
        if (missed.length) fail(`keyboard on ${view}: not reached with Tab: ${missed.join(", ")}`);
    };
    const go = async (view) => {
        // By keyboard: focus the view's link and press Enter.
        await page.focus(`nav a[data-view="${view}"]`);
        await page.keyboard.press("Enter");
        await page.waitForSelector(`#view-${view}:not([hidden])`);
    };
    const press = async (sel) => { await page.focus(sel); await page.keyboard.press("Enter"); };
    const summary = {};

    // Overview: health, and a rate once two samples of /metrics are in.
    await go("overview");
    await waitText("#health", "ok");
    await waitText("#modes-table", "document");
    await waitText("#rate-now", "requests/s");
    if (!(await page.$("#rate-chart canvas"))) fail("no request-rate chart");
    await page.screenshot({ path: `${shots}/overview.png` });
    summary.overview = await axe("overview");
    await tabWalk("overview");

    // Documents: keys by prefix, the payload as text, a diff, the live tail.
    await go("documents");
    await waitText("#doc-namespaces", NS);
    await press("#doc-namespaces tbody button");
    await waitText("#doc-keys", "other-1");
    await waitText("#doc-retention-now", "The defaults apply");
    // Retention: keep 5 versions, set through the form.
    await page.type("#ret-versions", "5");
    await page.keyboard.press("Enter");
    await waitText("#doc-retention-now", "This namespace's own policy: keep 5 version(s)");
    const ret = await (await call("GET", `/document/${NS}/_retention`)).json();
    if (ret.keep_versions !== 5 || ret.default !== false) fail(`retention after the form: ${JSON.stringify(ret)}`);
    await page.$eval("#doc-ns", (e) => { e.value = ""; });
    await page.type("#doc-ns", NS);
    await page.type("#doc-prefix", "build");
    await page.keyboard.press("Enter");
    // The keys of the whole namespace were listed: wait for the search's.
    await page.waitForFunction(() => !document.querySelector("#doc-keys").textContent.includes("other-1"))
        .catch(() => fail("the prefix search shows a key without the prefix"));
    await waitText("#doc-keys", "build-1");
    await press("#doc-keys button");
    await waitText("#doc-payload", "<img src=x onerror=");
    await waitText("#doc-versions", "2");
    await press("#doc-diff-form button[type=submit]");
    await waitText("#doc-diff .del", "queued");
    await waitText("#doc-diff .add", "passed");
    await press("#doc-tail");
    await waitText("#doc-tail-state", "Following");
    const put = await call("PUT", `/document/${NS}/build-live`, { status: "<b>live</b>" });
    if (put.status !== 201) fail(`PUT during the tail: ${put.status}`);
    await waitText("#doc-changes", "build-live");
    await waitText("#doc-changes", "<b>live</b>");
    await page.screenshot({ path: `${shots}/documents.png`, fullPage: true });
    summary.documents = await axe("documents");
    await tabWalk("documents");
    await press("#doc-tail");
    await waitText("#doc-tail", "Start live tail");

    // Queues: the list from /metrics, counts, pause, dead letters.
    await go("queues");
    await waitText("#queue-list", QUEUE);
    await page.type("#queue-ns", QUEUE);
    await page.keyboard.press("Enter");
    await waitText("#queue-counts", "running");
    await waitText("#queue-dead", "<script>");
    const dead = await page.$$eval("#queue-dead tbody tr[data-id]", (rs) => rs.map((r) => r.dataset.id));
    if (dead.length !== 2) fail(`dead letters shown: ${dead.length}, want 2`);
    if ((await page.$eval('#queue-counts [data-count="dead"]', (e) => e.textContent)) !== "2") fail("the dead count is not 2");
    await press("#queue-pause");
    await waitText("#queue-counts", "paused");
    await page.screenshot({ path: `${shots}/queues.png`, fullPage: true });
    summary.queues = await axe("queues");
    await tabWalk("queues");
    await press(`#queue-dead button[aria-label="Retry item ${dead[0]}"]`);
    await page.waitForFunction((id) => !document.querySelector(`#queue-dead tr[data-id="${id}"]`), {}, dead[0]);
    await press(`#queue-dead button[aria-label="Delete item ${dead[1]}"]`);
    await waitText("#queue-dead", "No dead letters.");
    if (!(await page.$("#queue-chart canvas"))) fail("no depth chart");
    console.log(`dead retried: ${dead[0]}`);
    console.log(`dead deleted: ${dead[1]}`);

    // Tables: definitions, rows by pages of 20, a filter, a payload as text.
    await go("tables");
    await waitText("#table-list", TABLE);
    await press(`#table-list button`);
    await waitText("#table-columns", "sha");
    await waitText("#rows-page", "Page 1, 20 rows.");
    if (!(await textOf("#table-rows")).includes("<img src=x onerror=")) fail("the row holding HTML is not shown as text");
    await press("#rows-next");
    await waitText("#rows-page", "Page 2, 5 rows.");
    await press("#rows-prev");
    await waitText("#rows-page", "Page 1, 20 rows.");
    await page.type("#col-name", "note");
    await page.keyboard.press("Enter");
    await waitText("#table-columns", "note");
    await waitText("#table-rows thead", "note");
    await page.type("#rows-filter", "n=7");
    await page.keyboard.press("Enter");
    await waitText("#rows-page", "Page 1, 1 row.");
    await page.screenshot({ path: `${shots}/tables.png`, fullPage: true });
    summary.tables = await axe("tables");
    await tabWalk("tables");

    // An error answer: shown with its detail and request id.
    await page.$eval("#rows-filter", (e) => { e.value = "nosuchcolumn=1"; });
    expectError = true;
    await press("#rows-filter");
    await waitText("#error", "Request id:");
    const err = await textOf("#error");
    if (!/validation_failed|unknown/.test(err)) fail(`the error shown: ${err}`);
    if (!(await page.$eval("#error .rid", (e) => /^[A-Za-z0-9._-]{8,64}$/.test(e.textContent)))) fail("no request id in the error");

    // Tokens: make a scoped one (its secret shown once), look with it,
    // revoke it with the root token.
    await go("tokens");
    await waitText("#token-self", "root");
    await page.type("#tn-name", "console-ci");
    await page.type("#tn-scopes", "document:read:console-*");
    await press("#tn-name");
    await waitText("#token-secret", "not shown again");
    const secret = await textOf("#token-secret-value");
    if (!/^bk_[0-9a-f]{64}$/.test(secret)) fail(`the new token's secret: ${secret}`);
    await waitText("#token-list", "console-ci");
    await page.screenshot({ path: `${shots}/tokens.png`, fullPage: true });
    summary.tokens = await axe("tokens");
    await tabWalk("tokens");
    await page.type("#token-input", secret);
    await page.keyboard.press("Enter");
    await page.waitForSelector("#tokens-scoped:not([hidden])");
    await waitText("#token-self", "document:read:console-*");
    if (!(await page.$eval("#tokens-root", (e) => e.hidden))) fail("a scoped token sees the root's token list");
    if (!(await page.$eval("#error", (e) => e.hidden))) fail(`the scoped token's tokens view shows an error: ${await textOf("#error")}`);
    if ((await textOf("#token-list")).includes("console-ci")) fail("the root's token list stays in the page for a scoped token");
    await page.type("#token-input", token);
    await page.keyboard.press("Enter");
    await page.waitForSelector("#tokens-root:not([hidden])");
    await waitText("#token-list", "console-ci");
    const tokenId = await page.$eval("#token-list tbody tr[data-id]", (r) => r.dataset.id);
    await press(`#token-list button[aria-label="Revoke token console-ci"]`);
    await waitText("#token-list", "No scoped tokens.");
    console.log(`token revoked: ${tokenId}`);

    expectError = false;

    // A token the service refuses: the view says so, with the request id;
    // then the right one again.
    await press("#token-forget");
    await waitText("#token-state", "No token.");
    await page.type("#token-input", "not-the-token-0123456789");
    expectError = true;
    await page.keyboard.press("Enter");
    await waitText("#error", "The token was not accepted.");
    await waitText("#error", "Request id:");
    await page.type("#token-input", token);
    await page.keyboard.press("Enter");
    await waitText("#table-list", TABLE);
    expectError = false;
    if (!(await page.$eval("#error", (e) => e.hidden))) fail("the error stays after the right token is pasted");

    // Stored HTML stayed text: no element was made from it, nothing ran.
    const injected = await page.evaluate(() => ({ img: document.querySelectorAll("img, script:not([src]), b").length, xss: window.__xss, csp: window.__csp }));
    if (injected.img || injected.xss !== undefined) fail(`stored HTML became markup: ${JSON.stringify(injected)}`);
    if (injected.csp.length) fail(`CSP violations: ${injected.csp.join("; ")}`);

    const elsewhere = requests.filter((r) => !r.url.startsWith(origin + "/") && !r.url.startsWith("data:"));
    if (elsewhere.length) fail(`requests to other hosts: ${elsewhere.map((r) => r.url).join(" ")}`);
    if (requests.some((r) => r.url.includes(token) || r.url.includes("not-the-token") || r.url.includes("bk_"))) fail("a token is in a URL");
    if (requests.some((r) => r.headers.referer)) fail("a request carries a Referer");
    const api = requests.filter((r) => !r.url.includes("/console"));
    if (api.some((r) => !/^Bearer .+$/.test(r.headers.authorization || "") && !r.url.endsWith("/health"))) fail("an API request without a token");
    console.log(`${requests.length} requests, all to ${origin}; axe violations (minor/moderate) by view: ${JSON.stringify(summary)}`);
} finally {
    await browser.close();
}
for (const f of failures) console.log(`FAIL ${f}`);
process.exit(failures.length ? 1 : 0);
