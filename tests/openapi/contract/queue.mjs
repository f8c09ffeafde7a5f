// The contract test's requests for the queue mode (fcgi-apps/queue.c), good and bad:
// contract.mjs runs every contract/<mode>.mjs, checks each answer against
// the document, and fails for an operation no request reaches.
export default async function ({ call, ns, fail }) {
    // the queue
    await call("POST", "/queue/{namespace}", `/queue/${ns}`, { body: { payload: { job: 1 }, max_attempts: 1 }, want: 201 });
    await call("POST", "/queue/{namespace}", `/queue/${ns}`, { body: { items: [{ payload: 2 }, { payload: 3 }] }, want: 201 });
    await call("POST", "/queue/{namespace}", `/queue/${ns}`, { body: { payload: 1, max_attempts: 0 }, want: 422 });
    await call("GET", "/queue/{namespace}", `/queue/${ns}`, { want: 200 });
    const claimed = await call("POST", "/queue/{namespace}/claim", `/queue/${ns}/claim`, { body: { max: 3 }, want: 200 });
    await call("POST", "/queue/{namespace}/claim", `/queue/${ns}/claim`, { body: { max: 0 }, want: 422 });
    const [a, b, c] = claimed?.value?.items || [];
    if (!c) fail("the claim did not return three items");
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
    // dedup, batch ack, pause and resume
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
    // discovery and clean-up
    await call("GET", "/queue", "/queue?limit=1000", { want: 200 });
    await call("GET", "/queue", "/queue?limit=1001", { want: 422 });
    await call("DELETE", "/queue/{namespace}/dead/{id}", `/queue/${ns}/dead/999999`, { want: 404 });
    await call("DELETE", "/queue/{namespace}/dead/{id}", `/queue/${ns}/dead/abc`, { want: 422 });
    await call("DELETE", "/queue/{namespace}/dead", `/queue/${ns}/dead`, { want: 200 });
    await call("DELETE", "/queue/{namespace}", `/queue/${ns}`, { want: 200 });
    await call("DELETE", "/queue/{namespace}", `/queue/bad%20ns`, { want: 422 });
    // retry backoff, the concurrency limit
    await call("POST", "/queue/{namespace}", `/queue/${ns}`, { body: { payload: 1, retry_delay_seconds: 5, retry_backoff: "exponential" }, want: 201 });
    await call("POST", "/queue/{namespace}", `/queue/${ns}`, { body: { payload: 1, retry_backoff: "exponential" }, want: 422 });
    await call("PUT", "/queue/{namespace}/limits", `/queue/${ns}/limits`, { body: { max_in_flight: 5 }, want: 200 });
    await call("PUT", "/queue/{namespace}/limits", `/queue/${ns}/limits`, { body: { max_in_flight: 100001 }, want: 422 });
    await call("GET", "/queue/{namespace}/limits", `/queue/${ns}/limits`, { want: 200 });
    await call("GET", "/queue/{namespace}", `/queue/${ns}`, { want: 200 });
    await call("PUT", "/queue/{namespace}/limits", `/queue/${ns}/limits`, { body: { max_in_flight: null }, want: 200 });
    // schedules
    const sp = "/queue/{namespace}/schedules/{name}";
    await call("PUT", sp, `/queue/${ns}/schedules/nightly`, { body: { cron: "0 3 * * *", timezone: "Europe/Amsterdam", payload: { r: 1 } }, want: 201 });
    await call("PUT", sp, `/queue/${ns}/schedules/nightly`, { body: { cron: "@hourly", payload: 2 }, want: 200 });
    await call("PUT", sp, `/queue/${ns}/schedules/nightly`, { body: { cron: "@daily", timezone: "Mars/Olympus", payload: 2 }, want: 422 });
    await call("GET", sp, `/queue/${ns}/schedules/nightly`, { want: 200 });
    await call("GET", "/queue/{namespace}/schedules", `/queue/${ns}/schedules?limit=10`, { want: 200 });
    await call("GET", "/queue/{namespace}/schedules", `/queue/${ns}/schedules?after=bad%20name`, { want: 422 });
    await call("DELETE", sp, `/queue/${ns}/schedules/nightly`, { want: 200 });
    await call("DELETE", sp, `/queue/${ns}/schedules/nightly`, { want: 404 });
    await call("GET", sp, `/queue/${ns}/schedules/nightly`, { want: 404 });
}
