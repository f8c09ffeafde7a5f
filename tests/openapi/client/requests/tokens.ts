// The tokens mode's operations (fcgi-apps/tokens.c), good and bad.
import type { Session } from "../session.js";

const gone = "00000000-0000-4000-8000-000000000000";

export default async function ({ client, anonymous, expect, fail }: Session): Promise<void> {
    const { data: made } = await expect(201, client.POST("/tokens", { body: { name: "client", scopes: ["queue:write:jobs"], expires_in_seconds: 3600 } }));
    await expect(422, client.POST("/tokens", { body: { name: "client", scopes: ["queue:nope"] } }));
    await expect(401, anonymous.POST("/tokens", { body: { name: "client", scopes: ["queue:read"] } }));
    if (!made) return fail("POST /tokens answered nothing");
    if (!made.token.startsWith("bk_")) fail("a token's secret does not start with bk_");
    const id = { path: { id: made.id } };
    await expect(200, client.GET("/tokens", { params: { query: { limit: 10 } } }));
    const { data: self } = await expect(200, client.GET("/tokens/self"));
    if (self && self.id !== "root") fail("GET /tokens/self with the root token is not root");
    await expect(200, client.GET("/tokens/{id}", { params: id }));
    await expect(404, client.GET("/tokens/{id}", { params: { path: { id: gone } } }));
    await expect(200, client.DELETE("/tokens/{id}", { params: id }));
    await expect(404, client.DELETE("/tokens/{id}", { params: id }));
}
