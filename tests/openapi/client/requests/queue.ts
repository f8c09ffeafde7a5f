// The queue mode's operations (fcgi-apps/queue.c), good and bad.
import type { Session } from "../session.js";

const gone = "00000000-0000-4000-8000-000000000000";

export default async function ({ client, ns, expect, fail }: Session): Promise<void> {
    const path = { namespace: ns };
    // Enqueue: one item, a batch (the body's other form), a duplicate (200), a 422.
    await expect(201, client.POST("/queue/{namespace}", { params: { path }, body: { payload: { job: 1 }, max_attempts: 1 } }));
    await expect(201, client.POST("/queue/{namespace}", { params: { path }, body: { items: [{ payload: 2 }, { payload: 3, priority: 5 }] } }));
    await expect(201, client.POST("/queue/{namespace}", { params: { path }, body: { payload: 4, dedup_key: "once", group: "g" } }));
    const { data: dup } = await expect(200, client.POST("/queue/{namespace}", { params: { path }, body: { payload: 5, dedup_key: "once" } }));
    if (dup && !("id" in dup && dup.duplicate === true)) fail("an enqueue with a live dedup_key did not answer the item as a duplicate");
    await expect(422, client.POST("/queue/{namespace}", { params: { path }, body: { payload: 1, max_attempts: 0 } }));
    await expect(200, client.GET("/queue/{namespace}", { params: { path } }));
    // Claim three, then extend, ack, release them one by one.
    const { data: claimed } = await expect(200, client.POST("/queue/{namespace}/claim", { params: { path }, body: { max: 3, visibility_timeout_seconds: 30 } }));
    await expect(422, client.POST("/queue/{namespace}/claim", { params: { path }, body: { max: 0 } }));
    const [a, b, c] = claimed?.items ?? [];
    if (!a || !b || !c) return fail(`the claim answered ${claimed?.items.length} items, not 3`);
    const item = (id: number) => ({ path: { namespace: ns, id } });
    await expect(200, client.POST("/queue/{namespace}/{id}/extend", { params: item(a.id), body: { claim_token: a.claim_token, visibility_timeout_seconds: 60 } }));
    await expect(409, client.POST("/queue/{namespace}/{id}/extend", { params: item(a.id), body: { claim_token: gone } }));
    await expect(200, client.DELETE("/queue/{namespace}/{id}", { params: { ...item(a.id), query: { claim_token: a.claim_token } } }));
    await expect(404, client.DELETE("/queue/{namespace}/{id}", { params: { ...item(a.id), query: { claim_token: a.claim_token } } }));
    await expect(200, client.POST("/queue/{namespace}/{id}/release", { params: item(b.id), body: { claim_token: b.claim_token } }));
    await expect(422, client.POST("/queue/{namespace}/{id}/release", { params: item(b.id), body: { claim_token: "nope" } }));
    // Ack many: c and one that does not exist (its own result).
    await expect(200, client.POST("/queue/{namespace}/ack", { params: { path }, body: { items: [{ id: c.id, claim_token: c.claim_token }, { id: 999999, claim_token: gone }] } }));
    // Pause, resume, dead letters, a retry of none.
    await expect(200, client.POST("/queue/{namespace}/pause", { params: { path } }));
    await expect(200, client.POST("/queue/{namespace}/resume", { params: { path } }));
    await expect(200, client.GET("/queue/{namespace}/dead", { params: { path, query: { limit: 10 } } }));
    await expect(422, client.GET("/queue/{namespace}/dead", { params: { path, query: { limit: 0 } } }));
    await expect(404, client.POST("/queue/{namespace}/dead/{id}/retry", { params: item(999999) }));
    // Discovery and clean-up: the namespaces, a dead item, the dead list, the whole queue.
    await expect(200, client.GET("/queue", { params: { query: { limit: 1000 } } }));
    await expect(422, client.GET("/queue", { params: { query: { after: "bad name" } } }));
    await expect(404, client.DELETE("/queue/{namespace}/dead/{id}", { params: item(999999) }));
    await expect(200, client.DELETE("/queue/{namespace}/dead", { params: { path } }));
    await expect(200, client.DELETE("/queue/{namespace}", { params: { path } }));
    await expect(422, client.DELETE("/queue/{namespace}", { params: { path: { namespace: "bad ns" } } }));
    // Retry backoff on an enqueue; the concurrency limit.
    await expect(201, client.POST("/queue/{namespace}", { params: { path }, body: { payload: 1, retry_delay_seconds: 5, retry_backoff: "exponential", retry_delay_max_seconds: 60 } }));
    await expect(422, client.POST("/queue/{namespace}", { params: { path }, body: { payload: 1, retry_backoff: "exponential" } }));
    await expect(200, client.PUT("/queue/{namespace}/limits", { params: { path }, body: { max_in_flight: 5 } }));
    await expect(422, client.PUT("/queue/{namespace}/limits", { params: { path }, body: { max_in_flight: 0 } }));
    await expect(200, client.GET("/queue/{namespace}/limits", { params: { path } }));
    await expect(200, client.PUT("/queue/{namespace}/limits", { params: { path }, body: {} }));
    // Schedules: create, replace, read, list, delete.
    const sched = { path: { namespace: ns, name: "nightly" } };
    await expect(201, client.PUT("/queue/{namespace}/schedules/{name}", { params: sched, body: { cron: "0 3 * * *", timezone: "Europe/Amsterdam", payload: { r: 1 }, priority: 2 } }));
    await expect(200, client.PUT("/queue/{namespace}/schedules/{name}", { params: sched, body: { cron: "@hourly", payload: 2 } }));
    await expect(422, client.PUT("/queue/{namespace}/schedules/{name}", { params: sched, body: { cron: "61 * * * *", payload: 2 } }));
    await expect(200, client.GET("/queue/{namespace}/schedules/{name}", { params: sched }));
    await expect(200, client.GET("/queue/{namespace}/schedules", { params: { path, query: { limit: 10 } } }));
    await expect(200, client.DELETE("/queue/{namespace}/schedules/{name}", { params: sched }));
    await expect(404, client.GET("/queue/{namespace}/schedules/{name}", { params: sched }));
    await expect(404, client.DELETE("/queue/{namespace}/schedules/{name}", { params: sched }));
}
