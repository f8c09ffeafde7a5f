// The web console (docs/console.md): every action is an ordinary API call
// with the token the person pasted, kept in this tab's sessionStorage only.
// Stored values are untrusted: they reach the page as text nodes
// (textContent, Node.append of strings), never as HTML.
"use strict";
(() => {
  const TOKEN_KEY = "backend-console-token";
  const POLL_MS = 5000;
  const WINDOW_POINTS = 120; // 10 minutes of 5-second samples
  const $ = (id) => document.getElementById(id);

  // An element with properties and children; strings become text nodes.
  function el(tag, props, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v);
    }
    for (const k of kids) if (k !== null && k !== undefined) e.append(k instanceof Node ? k : String(k));
    return e;
  }
  const fmtJSON = (v) => (v === undefined ? "" : JSON.stringify(v, null, 2));
  const cell = (v) => (v === null || v === undefined ? "null" : typeof v === "object" ? JSON.stringify(v) : String(v));
  const sleep = (ms, signal) =>
    new Promise((res) => {
      const t = setTimeout(res, ms);
      if (signal) signal.addEventListener("abort", () => { clearTimeout(t); res(); }, { once: true });
    });

  // ---- The API ------------------------------------------------------------

  // An error answer of the service (or a failure to reach it), with what a
  // person needs to report it: status, code, detail, field, request id.
  class ApiError extends Error {
    constructor(method, path, status, body, requestId) {
      const b = body && typeof body === "object" ? body : { detail: body ? String(body) : "" };
      super(b.detail || `HTTP ${status}`);
      Object.assign(this, { method, path, status, code: b.error || "", detail: b.detail || "", field: b.field || "", requestId: requestId || "" });
    }
  }

  // Calls the API with the token; answers {data, text, res} for a 2xx, the
  // Response itself for an open event stream, throws ApiError otherwise.
  async function api(method, path, opts = {}) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (!token && !opts.anon) throw new ApiError(method, path, 0, { error: "no_token", detail: "paste an API token above first" });
    const q = new URLSearchParams();
    for (const [k, v] of opts.query || []) if (v !== undefined && v !== null && v !== "") q.append(k, v);
    const url = path + (q.toString() ? `?${q}` : "");
    const headers = { Accept: opts.accept || "application/json", ...(opts.headers || {}) };
    if (token) headers.Authorization = `Bearer ${token}`;
    const init = { method, headers, signal: opts.signal, cache: "no-store", credentials: "omit", redirect: "error" };
    if (opts.body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(opts.body);
    } else if (method === "POST") init.body = ""; // the service wants a Content-Length, 0 here
    let res;
    try {
      res = await fetch(url, init);
    } catch (e) {
      if (e.name === "AbortError") throw e;
      throw new ApiError(method, url, 0, { error: "network", detail: `the request did not complete: ${e.message}` });
    }
    if (opts.accept === "text/event-stream" && res.ok) return res;
    const text = await res.text();
    let data = text;
    try { data = text ? JSON.parse(text) : null; } catch { /* not JSON: keep the text */ }
    if (!res.ok) throw new ApiError(method, url, res.status, data, res.headers.get("X-Request-Id"));
    return { data, text, res };
  }
  const seg = encodeURIComponent;

  // Shows an error answer in the page's alert region, as text.
  function showError(e) {
    if (e && e.name === "AbortError") return;
    const box = $("error");
    box.replaceChildren();
    if (!(e instanceof ApiError)) {
      box.append(el("strong", null, "Error: "), String(e && e.message ? e.message : e));
    } else {
      const what = e.status === 401 ? "The token was not accepted."
        : e.status === 403 ? "This token is not allowed to do this (its scopes)."
        : e.status === 0 ? "" : `HTTP ${e.status}`;
      box.append(el("strong", null, `${e.method} ${e.path} failed`), el("br"));
      if (what) box.append(what, " ");
      if (e.code) box.append(el("code", null, e.code), " ");
      if (e.detail) box.append(e.detail);
      if (e.field) box.append(` (field: ${e.field})`);
      if (e.requestId) box.append(el("br"), "Request id: ", el("code", { class: "rid" }, e.requestId));
    }
    box.append(" ", el("button", { type: "button", onclick: clearError }, "Dismiss"));
    box.hidden = false;
  }
  function clearError() {
    $("error").hidden = true;
    $("error").replaceChildren();
  }
  // Runs an action, showing its failure.
  const guard = (fn) => async (...args) => {
    try { await fn(...args); } catch (e) { showError(e); }
  };

  // ---- Metrics and charts -------------------------------------------------

  // Prometheus text → [{name, labels, value}].
  function parseMetrics(text) {
    const out = [];
    for (const line of text.split("\n")) {
      if (!line || line[0] === "#") continue;
      const m = /^([A-Za-z_:][A-Za-z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
      if (!m) continue;
      const labels = {};
      for (const l of (m[3] || "").matchAll(/([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c));
      out.push({ name: m[1], labels, value: Number(m[4]) });
    }
    return out;
  }

  // A line chart over time (uPlot), built once its box has a width.
  function lineChart(box, series) {
    const opts = {
      width: Math.max(300, box.clientWidth - 8), height: 200, legend: { show: true },
      scales: { x: { time: true }, y: { range: (u, lo, hi) => [0, Math.max(1, hi * 1.1)] } },
      series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, value: (u, v) => (v === null ? "" : v.toFixed(2)) }))],
    };
    const chart = new uPlot(opts, [[], ...series.map(() => [])], box);
    window.addEventListener("resize", () => chart.setSize({ width: Math.max(300, box.clientWidth - 8), height: 200 }));
    return chart;
  }
  // Appends a sample to columns of [times, ...series], keeping the window.
  // A sample less than a second after the last (a read after an action)
  // replaces it, so the time axis stays in seconds.
  function pushSample(cols, t, values) {
    const n = cols[0].length;
    if (n && t - cols[0][n - 1] < 1) cols.forEach((c) => c.pop());
    cols[0].push(t);
    values.forEach((v, i) => cols[i + 1].push(v));
    if (cols[0].length > WINDOW_POINTS) cols.forEach((c) => c.shift());
  }

  // ---- Views ----------------------------------------------------------------

  let timers = [];
  const every = (fn) => {
    fn();
    timers.push(setInterval(fn, POLL_MS));
  };
  const views = {};

  // Shows the view the URL's fragment names (overview by default).
  function route() {
    const name = views[location.hash.slice(1)] ? location.hash.slice(1) : "overview";
    timers.forEach(clearInterval);
    timers = [];
    stopTail();
    clearError();
    for (const s of document.querySelectorAll("main > section")) s.hidden = s.dataset.view !== name;
    for (const a of document.querySelectorAll("nav a")) {
      if (a.dataset.view === name) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
    views[name]();
  }

  // Overview: /health, and request rates from /metrics' counters.
  const rate = { cols: [[], [], [], []], last: null, chart: null };
  views.overview = () => {
    guard(loadHealth)();
    if (!sessionStorage.getItem(TOKEN_KEY)) return showError(new ApiError("GET", "/metrics", 0, { error: "no_token", detail: "paste an API token above to see the request rates" }));
    every(guard(pollMetrics));
  };
  async function loadHealth() {
    const { data } = await api("GET", "/health", { anon: true });
    const dl = $("health");
    dl.replaceChildren();
    const fact = (k, v) => dl.append(el("dt", null, k), el("dd", null, v));
    fact("Status", data.status);
    fact("Version", data.version);
    fact("Database", data.database && data.database.ok ? `up, ${data.database.latency_ms} ms` : "down");
    fact("Modes", (data.modes || []).join(", "));
    fact("Problems", (data.problems || []).length ? data.problems.map((p) => `${p.mode || "service"}: ${p.detail}`).join("; ") : "none");
  }
  async function pollMetrics() {
    const { text } = await api("GET", "/metrics", { accept: "text/plain" });
    const byMode = {};
    let all = 0, c4 = 0, c5 = 0;
    for (const s of parseMetrics(text)) {
      const mode = s.labels.mode;
      if (mode && !byMode[mode]) byMode[mode] = { c2: 0, c4: 0, c5: 0, procs: "", conns: "" };
      if (s.name === "backend_http_requests_total") {
        const cls = (s.labels.status || "")[0];
        all += s.value;
        if (cls === "4") { c4 += s.value; byMode[mode].c4 += s.value; }
        else if (cls === "5") { c5 += s.value; byMode[mode].c5 += s.value; }
        else byMode[mode].c2 += s.value;
      } else if (s.name === "backend_processes") byMode[mode].procs = s.value;
      else if (s.name === "backend_db_connections") byMode[mode].conns = s.value;
    }
    const now = Date.now() / 1000;
    if (rate.last) {
      const dt = Math.max(0.001, now - rate.last.t);
      // A counter that went down is a restarted process: no rate this once.
      const r = (a, b) => Math.max(0, (a - b) / dt);
      pushSample(rate.cols, now, [r(all, rate.last.all), r(c4, rate.last.c4), r(c5, rate.last.c5)]);
      const n = rate.cols[0].length - 1;
      $("rate-now").textContent = `Last ${dt.toFixed(0)} s: ${rate.cols[1][n].toFixed(2)} requests/s, ${rate.cols[2][n].toFixed(2)} client errors (4xx)/s, ${rate.cols[3][n].toFixed(2)} server errors (5xx)/s.`;
    } else $("rate-now").textContent = "Measuring: the first rate shows after the next sample.";
    rate.last = { t: now, all, c4, c5 };
    if (!rate.chart) rate.chart = lineChart($("rate-chart"), [
      { label: "requests/s", color: "#0b57b5" }, { label: "4xx/s", color: "#b35c00" }, { label: "5xx/s", color: "#a4161a" }]);
    rate.chart.setData(rate.cols);
    const tb = $("modes-table").tBodies[0];
    tb.replaceChildren(...Object.keys(byMode).sort().map((m) => {
      const v = byMode[m];
      return el("tr", null, el("th", { scope: "row" }, m), el("td", null, v.c2), el("td", null, v.c4), el("td", null, v.c5), el("td", null, v.procs), el("td", null, v.conns));
    }));
  }

  // ---- Documents --------------------------------------------------------------

  const doc = { ns: "", prefix: "", after: null, key: "", versions: [], vAfter: null, tail: null };
  views.documents = () => {
    guard(loadNamespaces)(true);
    if (doc.ns) { guard(loadKeys)(true); guard(loadRetention)(); }
  };
  // GET /document: the namespaces, a page at a time.
  async function loadNamespaces(reset) {
    if (reset) doc.nsAfter = null;
    const { data } = await api("GET", "/document", { query: [["limit", "50"], ["after", doc.nsAfter]] });
    const tb = $("doc-namespaces").tBodies[0];
    if (reset) tb.replaceChildren();
    for (const it of data.items)
      tb.append(el("tr", null,
        el("th", { scope: "row" }, el("button", { type: "button", class: "link", onclick: () => { $("doc-ns").value = it.namespace; $("doc-prefix").value = ""; openNamespace(); } }, it.namespace)),
        el("td", null, it.last_seq), el("td", null, it.last_write_at)));
    if (reset && !data.items.length) tb.append(el("tr", null, el("td", { colspan: "3" }, "No namespaces.")));
    doc.nsAfter = data.next;
    $("doc-namespaces-more").hidden = !data.next;
  }
  $("doc-namespaces-more").addEventListener("click", guard(() => loadNamespaces(false)));
  function openNamespace() {
    clearError();
    doc.ns = $("doc-ns").value.trim();
    doc.prefix = $("doc-prefix").value;
    stopTail();
    $("doc-changes").replaceChildren();
    $("doc-key-panel").hidden = true;
    guard(loadKeys)(true);
    guard(loadRetention)();
  }
  $("doc-ns-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    openNamespace();
  });

  // The namespace's retention policy: GET, PUT (the whole policy), DELETE.
  function showRetention(p) {
    $("doc-retention-panel").hidden = false;
    const v = (x, none) => (x === null || x === undefined ? none : String(x));
    $("doc-retention-now").textContent = `${p.default ? "The defaults apply" : "This namespace's own policy"}: ` +
      `keep ${v(p.keep_versions, "every")} version(s) of each key; a deleted key's history kept ${p.keep_deleted_seconds === null ? "for ever" : `${p.keep_deleted_seconds} s`}.`;
    $("ret-versions").value = v(p.keep_versions, "");
    $("ret-deleted").value = v(p.keep_deleted_seconds, "");
  }
  async function loadRetention() {
    const { data } = await api("GET", `/document/${seg(doc.ns)}/_retention`);
    showRetention(data);
  }
  $("doc-retention-form").addEventListener("submit", guard(async (ev) => {
    ev.preventDefault();
    clearError();
    const num = (id) => ($(id).value.trim() === "" ? null : Number($(id).value));
    const { data } = await api("PUT", `/document/${seg(doc.ns)}/_retention`, { body: { keep_versions: num("ret-versions"), keep_deleted_seconds: num("ret-deleted") } });
    showRetention(data);
  }));
  $("ret-reset").addEventListener("click", guard(async () => {
    clearError();
    const { data } = await api("DELETE", `/document/${seg(doc.ns)}/_retention`);
    showRetention(data);
  }));
  async function loadKeys(reset) {
    if (reset) doc.after = null;
    const { data } = await api("GET", `/document/${seg(doc.ns)}`, { query: [["prefix", doc.prefix], ["limit", "50"], ["after", doc.after]] });
    const tb = $("doc-keys").tBodies[0];
    if (reset) tb.replaceChildren();
    for (const it of data.items)
      tb.append(el("tr", null,
        el("td", null, el("button", { type: "button", class: "link", onclick: () => guard(openKey)(it.key) }, it.key)),
        el("td", null, it.version), el("td", null, it.created_at)));
    if (reset && !data.items.length) tb.append(el("tr", null, el("td", { colspan: "3" }, "No keys.")));
    doc.after = data.next;
    $("doc-keys-more").hidden = !data.next;
  }
  $("doc-keys-more").addEventListener("click", guard(() => loadKeys(false)));

  async function openKey(key) {
    clearError();
    doc.key = key;
    $("doc-key-panel").hidden = false;
    $("doc-key-title").textContent = `Key ${key}`;
    $("doc-diff").replaceChildren();
    const pre = $("doc-payload");
    try {
      const { data } = await api("GET", `/document/${seg(doc.ns)}/${seg(key)}`);
      pre.textContent = fmtJSON(data.payload);
    } catch (e) {
      if (e.status !== 404) throw e;
      pre.textContent = "(deleted: no live version)";
    }
    doc.versions = [];
    doc.vAfter = null;
    $("doc-versions").tBodies[0].replaceChildren();
    await loadVersions();
    $("doc-key-title").focus();
  }
  async function loadVersions() {
    const { data } = await api("GET", `/document/${seg(doc.ns)}/${seg(doc.key)}/versions`, { query: [["limit", "100"], ["after", doc.vAfter]] });
    doc.versions.push(...data.items);
    doc.vAfter = data.next;
    $("doc-versions-more").hidden = !data.next;
    const n = doc.versions.length;
    const tb = $("doc-versions").tBodies[0];
    tb.replaceChildren(...doc.versions.map((v, i) => {
      const radio = (side, checked) => el("input", { type: "radio", name: side, value: String(i), "aria-label": `${side === "left" ? "Left" : "Right"}: version ${v.version}`, ...(checked ? { checked: "" } : {}) });
      return el("tr", null, el("td", null, v.version), el("td", null, v.created_at), el("td", null, v.deleted ? "yes" : "no"),
        el("td", null, radio("left", i === Math.max(0, n - 2))), el("td", null, radio("right", i === n - 1)));
    }));
  }
  $("doc-versions-more").addEventListener("click", guard(loadVersions));
  $("doc-key-title").setAttribute("tabindex", "-1");

  $("doc-diff-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const f = ev.target;
    const a = doc.versions[Number(f.elements.left.value)];
    const b = doc.versions[Number(f.elements.right.value)];
    if (!a || !b) return;
    const text = (v) => (v.deleted ? "(deleted)" : fmtJSON(v.payload));
    renderDiff($("doc-diff"), `version ${a.version}`, text(a), `version ${b.version}`, text(b));
  });

  // Line diff (longest common subsequence) → [{op: "=", "-", "+", a, b}].
  function diffLines(a, b) {
    if (a.length * b.length > 4e6) return [...a.map((x) => ({ op: "-", a: x })), ...b.map((x) => ({ op: "+", b: x }))];
    const m = a.length, n = b.length;
    const L = Array.from({ length: m + 1 }, () => new Uint32Array(n + 1));
    for (let i = m - 1; i >= 0; i--)
      for (let j = n - 1; j >= 0; j--) L[i][j] = a[i] === b[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
    const out = [];
    let i = 0, j = 0;
    while (i < m || j < n) {
      if (i < m && j < n && a[i] === b[j]) { out.push({ op: "=", a: a[i++], b: b[j++] }); }
      else if (j < n && (i === m || L[i][j + 1] >= L[i + 1][j])) out.push({ op: "+", b: b[j++] });
      else out.push({ op: "-", a: a[i++] });
    }
    return out;
  }
  // Side by side: removed lines on the left, added on the right, paired.
  function renderDiff(box, nameA, textA, nameB, textB) {
    box.replaceChildren(el("div", { class: "head" }, nameA), el("div", { class: "head" }, nameB));
    const ops = diffLines(textA.split("\n"), textB.split("\n"));
    let dels = [], adds = [];
    const flush = () => {
      for (let k = 0; k < Math.max(dels.length, adds.length); k++)
        box.append(el("div", { class: k < dels.length ? "del" : "" }, k < dels.length ? `- ${dels[k]}` : ""),
          el("div", { class: k < adds.length ? "add" : "" }, k < adds.length ? `+ ${adds[k]}` : ""));
      dels = []; adds = [];
    };
    for (const o of ops) {
      if (o.op === "-") dels.push(o.a);
      else if (o.op === "+") adds.push(o.b);
      else { flush(); box.append(el("div", null, `  ${o.a}`), el("div", null, `  ${o.b}`)); }
    }
    flush();
  }

  // Live tail: the changes feed as an event stream, read through fetch
  // (EventSource cannot send the token); reconnects with Last-Event-ID
  // when the service ends the stream (every 5 minutes).
  function stopTail() {
    if (doc.tail) doc.tail.abort();
    doc.tail = null;
    $("doc-tail").setAttribute("aria-pressed", "false");
    $("doc-tail").textContent = "Start live tail";
    $("doc-tail-state").textContent = "";
  }
  $("doc-tail").addEventListener("click", () => {
    if (doc.tail) return stopTail();
    if (!doc.ns) return showError(new Error("type a namespace and show its keys first"));
    const ctrl = new AbortController();
    doc.tail = ctrl;
    $("doc-tail").setAttribute("aria-pressed", "true");
    $("doc-tail").textContent = "Stop live tail";
    follow(doc.ns, ctrl.signal).catch((e) => { if (doc.tail === ctrl) { stopTail(); showError(e); } });
  });
  async function follow(ns, signal) {
    let lastId = null;
    while (!signal.aborted) {
      const res = await api("GET", `/document/${seg(ns)}/_changes`, {
        accept: "text/event-stream", signal,
        query: [["since", lastId ? undefined : "now"], ["include_payload", "true"]],
        headers: lastId ? { "Last-Event-ID": lastId } : {},
      });
      $("doc-tail-state").textContent = `Following ${ns}.`;
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value.replace(/\r\n?/g, "\n");
        let cut;
        while ((cut = buf.indexOf("\n\n")) >= 0) {
          const ev = parseEvent(buf.slice(0, cut));
          buf = buf.slice(cut + 2);
          if (ev.id) lastId = ev.id;
          if (ev.event === "change" && ev.data) showChange(JSON.parse(ev.data));
        }
      }
      await sleep(2000, signal);
    }
  }
  // One server-sent event's fields.
  function parseEvent(block) {
    const ev = { id: "", event: "message", data: "" };
    for (const line of block.split("\n")) {
      if (!line || line[0] === ":") continue;
      const i = line.indexOf(":");
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
      if (field === "data") ev.data += (ev.data ? "\n" : "") + value;
      else if (field === "id" || field === "event") ev[field] = value;
    }
    return ev;
  }
  function showChange(it) {
    const list = $("doc-changes");
    const what = it.deleted ? "deleted" : `v${it.version}`;
    list.prepend(el("li", null, `#${it.seq} ${it.created_at} `,
      el("button", { type: "button", class: "link", onclick: () => guard(openKey)(it.key) }, it.key), ` ${what} `,
      it.payload !== undefined && !it.deleted ? el("span", { class: "json" }, cell(it.payload).slice(0, 200)) : null));
    while (list.children.length > 200) list.lastElementChild.remove();
  }

  // ---- Queues -------------------------------------------------------------------

  const queue = { ns: "", after: null, chart: null, cols: [[], [], [], [], []] };
  views.queues = () => {
    every(guard(loadQueueList));
    if (queue.ns) every(guard(pollQueue));
  };
  // The queues /metrics names (its ten largest), with their counts.
  async function loadQueueList() {
    const { text } = await api("GET", "/metrics", { accept: "text/plain" });
    const qs = {};
    for (const s of parseMetrics(text))
      if (s.name === "backend_queue_items" && s.labels.queue !== "_other") (qs[s.labels.queue] ||= {})[s.labels.state] = s.value;
    const tb = $("queue-list").tBodies[0];
    tb.replaceChildren(...Object.keys(qs).sort().map((q) => el("tr", null,
      el("th", { scope: "row" }, el("button", { type: "button", class: "link", onclick: () => { $("queue-ns").value = q; openQueue(q); } }, q)),
      el("td", null, qs[q].ready ?? 0), el("td", null, qs[q].delayed ?? 0), el("td", null, qs[q].in_flight ?? 0), el("td", null, qs[q].dead ?? 0))));
    if (!tb.rows.length) tb.append(el("tr", null, el("td", { colspan: "5" }, "No queue has items.")));
  }
  $("queue-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    openQueue($("queue-ns").value.trim());
  });
  function openQueue(ns) {
    clearError();
    if (ns !== queue.ns) queue.cols = [[], [], [], [], []];
    queue.ns = ns;
    $("queue-panel").hidden = false;
    $("queue-title").textContent = `Queue ${ns}`;
    timers.forEach(clearInterval);
    timers = [];
    every(guard(loadQueueList));
    every(guard(pollQueue));
    guard(loadDead)(true);
  }
  async function pollQueue() {
    const { data } = await api("GET", `/queue/${seg(queue.ns)}`);
    const dl = $("queue-counts");
    dl.replaceChildren();
    const fact = (k, v) => dl.append(el("dt", null, k), el("dd", { "data-count": k.toLowerCase().replace(/ /g, "_") }, v));
    fact("State", data.paused ? "paused" : "running");
    fact("Ready", data.ready);
    fact("Delayed", data.delayed);
    fact("In flight", data.in_flight);
    fact("Dead", data.dead);
    fact("Oldest ready", `${data.oldest_ready_age_seconds} s`);
    $("queue-pause").disabled = data.paused;
    $("queue-resume").disabled = !data.paused;
    pushSample(queue.cols, Date.now() / 1000, [data.ready, data.delayed, data.in_flight, data.dead]);
    if (!queue.chart) queue.chart = lineChart($("queue-chart"), [
      { label: "ready", color: "#0b57b5" }, { label: "delayed", color: "#6b4fbb" }, { label: "in flight", color: "#1a7f37" }, { label: "dead", color: "#a4161a" }]);
    queue.chart.setData(queue.cols);
  }
  for (const [id, verb] of [["queue-pause", "pause"], ["queue-resume", "resume"]])
    $(id).addEventListener("click", guard(async () => {
      clearError();
      await api("POST", `/queue/${seg(queue.ns)}/${verb}`);
      await pollQueue();
      $(verb === "pause" ? "queue-resume" : "queue-pause").focus();
    }));
  async function loadDead(reset) {
    if (reset) queue.after = null;
    const { data } = await api("GET", `/queue/${seg(queue.ns)}/dead`, { query: [["limit", "50"], ["after", queue.after]] });
    const tb = $("queue-dead").tBodies[0];
    if (reset) tb.replaceChildren();
    for (const it of data.items)
      tb.append(el("tr", { "data-id": String(it.id) }, el("td", null, it.id), el("td", null, `${it.attempts} of ${it.max_attempts}`), el("td", null, it.enqueued_at),
        el("td", { class: "json" }, cell(it.payload)),
        el("td", null,
          el("button", { type: "button", "aria-label": `Retry item ${it.id}`, onclick: guard(() => deadAction(it.id, "retry")) }, "Retry"), " ",
          el("button", { type: "button", "aria-label": `Delete item ${it.id}`, onclick: guard(() => deadAction(it.id, "delete")) }, "Delete"))));
    if (reset && !data.items.length) tb.append(el("tr", null, el("td", { colspan: "5" }, "No dead letters.")));
    queue.after = data.next;
    $("queue-dead-more").hidden = !data.next;
  }
  $("queue-dead-more").addEventListener("click", guard(() => loadDead(false)));
  async function deadAction(id, what) {
    clearError();
    if (what === "delete") {
      if (!confirm(`Delete dead item ${id} of ${queue.ns}? This cannot be undone.`)) return;
      await api("DELETE", `/queue/${seg(queue.ns)}/${id}`);
    } else await api("POST", `/queue/${seg(queue.ns)}/dead/${id}/retry`);
    await loadDead(true);
    await pollQueue();
    $("queue-title").focus();
  }
  $("queue-title").setAttribute("tabindex", "-1");

  // ---- Tables ---------------------------------------------------------------------

  const tables = { after: null, name: "", def: null, pages: [null], next: null };
  views.tables = () => guard(loadTables)(true);
  async function loadTables(reset) {
    if (reset) tables.after = null;
    const { data } = await api("GET", "/sql/tables", { query: [["limit", "100"], ["after", tables.after]] });
    const ul = $("table-list");
    if (reset) ul.replaceChildren();
    for (const t of data.items) ul.append(el("li", null, el("button", { type: "button", class: "link", onclick: () => guard(openTable)(t.name) }, t.name)));
    if (reset && !data.items.length) ul.append(el("li", null, "No tables."));
    tables.after = data.next;
    $("table-list-more").hidden = !data.next;
  }
  $("table-list-more").addEventListener("click", guard(() => loadTables(false)));
  async function openTable(name) {
    clearError();
    const { data } = await api("GET", `/sql/tables/${seg(name)}`);
    tables.name = name;
    tables.def = data;
    $("table-panel").hidden = false;
    $("table-title").textContent = `Table ${name}`;
    $("table-columns").tBodies[0].replaceChildren(...data.columns.map((c) => el("tr", null,
      el("th", { scope: "row" }, c.name), el("td", null, c.type), el("td", null, c.nullable ? "yes" : "no"), el("td", null, c.unique ? "yes" : "no"))));
    $("table-rows").tHead.replaceChildren(el("tr", null, ...["id", ...data.columns.map((c) => c.name), "created_at"].map((h) => el("th", { scope: "col" }, h))));
    tables.pages = [null];
    await loadRows();
  }
  async function loadRows() {
    const query = [...new URLSearchParams($("rows-filter").value.trim().replace(/^\?/, ""))];
    query.push(["limit", "20"], ["order", $("rows-order").value], ["after", tables.pages[tables.pages.length - 1]]);
    const { data } = await api("GET", `/sql/tables/${seg(tables.name)}/rows`, { query });
    const cols = ["id", ...tables.def.columns.map((c) => c.name), "created_at"];
    const tb = $("table-rows").tBodies[0];
    tb.replaceChildren(...data.items.map((r) => el("tr", null, ...cols.map((c) => el("td", { class: r[c] !== null && typeof r[c] === "object" ? "json" : "" }, cell(r[c]))))));
    if (!data.items.length) tb.append(el("tr", null, el("td", { colspan: String(cols.length) }, "No rows.")));
    tables.next = data.next;
    $("rows-next").disabled = !data.next;
    $("rows-prev").disabled = tables.pages.length < 2;
    $("rows-page").textContent = `Page ${tables.pages.length}, ${data.items.length} ${data.items.length === 1 ? "row" : "rows"}.`;
  }
  // Add a column (nullable, no default: the rows there are get null).
  $("column-form").addEventListener("submit", guard(async (ev) => {
    ev.preventDefault();
    clearError();
    await api("POST", `/sql/tables/${seg(tables.name)}/columns`, { body: { column: $("col-name").value.trim(), type: $("col-type").value } });
    $("col-name").value = "";
    await openTable(tables.name);
  }));
  $("rows-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    clearError();
    if (!tables.name) return;
    tables.pages = [null];
    guard(loadRows)();
  });
  $("rows-next").addEventListener("click", guard(async () => {
    tables.pages.push(String(tables.next));
    await loadRows();
  }));
  $("rows-prev").addEventListener("click", guard(async () => {
    tables.pages.pop();
    await loadRows();
  }));

  // ---- Tokens (the root token only makes, lists and revokes them) --------------

  const toks = { after: null };
  views.tokens = () => guard(loadTokens)(true);
  async function loadTokens(reset) {
    const { data: self } = await api("GET", "/tokens/self");
    const dl = $("token-self");
    dl.replaceChildren(el("dt", null, "Id"), el("dd", null, self.id), el("dt", null, "Scopes"), el("dd", null, (self.scopes || []).join(" ")));
    if (self.name) dl.append(el("dt", null, "Name"), el("dd", null, self.name));
    const root = self.id === "root";
    $("tokens-root").hidden = !root;
    $("tokens-scoped").hidden = root;
    if (!root) {
      // Nothing of the root's list stays in the page for a scoped token.
      $("token-list").tBodies[0].replaceChildren();
      $("token-secret").hidden = true;
      return;
    }
    if (reset) toks.after = null;
    const { data } = await api("GET", "/tokens", { query: [["limit", "100"], ["after", toks.after]] });
    const tb = $("token-list").tBodies[0];
    if (reset) tb.replaceChildren();
    for (const t of data.items)
      tb.append(el("tr", { "data-id": String(t.id) }, el("td", null, t.id), el("td", null, t.name), el("td", null, (t.scopes || []).join(" ")),
        el("td", null, t.created_at), el("td", null, t.expires_at ?? "never"), el("td", null, t.last_used_at ?? "never"),
        el("td", null, el("button", { type: "button", "aria-label": `Revoke token ${t.name}`, onclick: guard(() => revokeToken(t)) }, "Revoke"))));
    if (reset && !data.items.length) tb.append(el("tr", null, el("td", { colspan: "7" }, "No scoped tokens.")));
    toks.after = data.next;
    $("token-list-more").hidden = !data.next;
  }
  $("token-list-more").addEventListener("click", guard(() => loadTokens(false)));
  async function revokeToken(t) {
    clearError();
    if (!confirm(`Revoke token ${t.name} (${t.id})? Whoever holds it loses access within seconds.`)) return;
    await api("DELETE", `/tokens/${seg(t.id)}`);
    $("token-secret").hidden = true;
    await loadTokens(true);
    $("h-tokens").focus();
  }
  $("h-tokens").setAttribute("tabindex", "-1");
  // A new token: its secret is shown here once (the service keeps only a
  // digest) and never stored by the page.
  $("token-new").addEventListener("submit", guard(async (ev) => {
    ev.preventDefault();
    clearError();
    const body = { name: $("tn-name").value.trim(), scopes: $("tn-scopes").value.split(/[\s,]+/).filter(Boolean) };
    if ($("tn-expires").value.trim() !== "") body.expires_in_seconds = Number($("tn-expires").value);
    const { data } = await api("POST", "/tokens", { body });
    const box = $("token-secret");
    box.replaceChildren(el("strong", null, `Token ${data.name} (${data.id}) made. Copy its secret now: it is not shown again.`), el("br"),
      el("code", { id: "token-secret-value" }, data.token));
    box.hidden = false;
    $("token-new").reset();
    await loadTokens(true);
    box.setAttribute("tabindex", "-1");
    box.focus();
  }));

  // ---- The token --------------------------------------------------------------------

  // Kept in sessionStorage: this tab only, gone when it closes; never in a
  // URL, never in localStorage or a cookie.
  function showTokenState() {
    $("token-state").textContent = sessionStorage.getItem(TOKEN_KEY) ? "Token set for this tab." : "No token.";
  }
  $("token-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const t = $("token-input").value.trim();
    $("token-input").value = "";
    if (t) sessionStorage.setItem(TOKEN_KEY, t);
    showTokenState();
    route();
  });
  $("token-forget").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    showTokenState();
    route();
  });

  window.addEventListener("hashchange", route);
  showTokenState();
  route();
})();
