// The document mode's operations (fcgi-apps/document.c), good and bad.
import type { Session } from "../session.js";

export default async function ({ client, ns, expect, fail }: Session): Promise<void> {
    const path = { namespace: ns, key: "a" };
    // POST /document: a create, a conflict (if_version), a 422, a 412.
    const { data: first } = await expect(201, client.POST("/document", { body: { namespace: ns, key: "a", payload: { n: 1 } } }));
    if (first && first.version !== 1) fail(`the first version is ${first.version}`);
    await expect(409, client.POST("/document", { body: { namespace: ns, key: "a", payload: 2, if_version: 9 } }));
    await expect(422, client.POST("/document", { body: { namespace: "-bad", key: "a", payload: 1 } }));
    await expect(412, client.POST("/document", { body: { namespace: ns, key: "a", payload: 3 }, params: { header: { "If-Match": '"7"' } } }));
    // Reads: the list, one document, a version, 304, 404, 422.
    await expect(200, client.GET("/document/{namespace}", { params: { path: { namespace: ns }, query: { limit: 5, prefix: "a" } } }));
    await expect(422, client.GET("/document/{namespace}", { params: { path: { namespace: ns }, query: { limit: 5000 } } }));
    await expect(200, client.GET("/document/{namespace}/{key}", { params: { path, query: { version: 1 } } }));
    await expect(304, client.GET("/document/{namespace}/{key}", { params: { path, header: { "If-None-Match": '"1"' } } }));
    await expect(404, client.GET("/document/{namespace}/{key}", { params: { path: { namespace: ns, key: "missing" } } }));
    // PUT: the body is the payload; If-None-Match: * creates only.
    const keyed = { path: { namespace: ns, key: "p" } };
    await expect(201, client.PUT("/document/{namespace}/{key}", { params: { ...keyed, header: { "If-None-Match": "*" } }, body: { x: 1 } }));
    await expect(412, client.PUT("/document/{namespace}/{key}", { params: { ...keyed, header: { "If-None-Match": "*" } }, body: { x: 2 } }));
    await expect(201, client.PUT("/document/{namespace}/{key}", { params: { ...keyed, header: { "If-Match": '"1"' } }, body: [1, 2] }));
    // PATCH: a merge patch, its own media type.
    const patch = { headers: { "Content-Type": "application/merge-patch+json" } };
    await expect(201, client.PATCH("/document/{namespace}/{key}", { params: keyed, body: { y: 2 }, ...patch }));
    await expect(412, client.PATCH("/document/{namespace}/{key}", { params: { ...keyed, header: { "If-Match": '"1"' } }, body: { y: 3 }, ...patch }));
    await expect(404, client.PATCH("/document/{namespace}/{key}", { params: { path: { namespace: ns, key: "nothing" } }, body: { y: 3 }, ...patch }));
    // Versions, the changes feed (as JSON pages), DELETE.
    await expect(200, client.GET("/document/{namespace}/{key}/versions", { params: { ...keyed, query: { limit: 2 } } }));
    await expect(404, client.GET("/document/{namespace}/{key}/versions", { params: { path: { namespace: ns, key: "nothing" } } }));
    const { data: changes } = await expect(200, client.GET("/document/{namespace}/_changes", { params: { path: { namespace: ns }, query: { include_payload: true } } }));
    // The JSON page (the same operation streams with Accept: text/event-stream).
    if (typeof changes !== "object" || changes.items.length < 4) fail(`the changes feed answered ${JSON.stringify(changes)}`);
    await expect(200, client.GET("/document/{namespace}/_changes", { params: { path: { namespace: ns }, query: { since: "now", limit: 1 } } }));
    await expect(422, client.GET("/document/{namespace}/_changes", { params: { path: { namespace: ns }, query: { limit: 0 } } }));
    await expect(200, client.DELETE("/document/{namespace}/{key}", { params: { path } }));
    await expect(404, client.DELETE("/document/{namespace}/{key}", { params: { path } }));
    // Namespaces, retention.
    const { data: spaces } = await expect(200, client.GET("/document", { params: { query: { limit: 1000 } } }));
    if (spaces && !spaces.items.some((s) => s.namespace === ns)) fail(`GET /document does not list ${ns}`);
    await expect(422, client.GET("/document", { params: { query: { after: "-x" } } }));
    const ret = { params: { path: { namespace: ns } } };
    await expect(200, client.GET("/document/{namespace}/_retention", ret));
    const { data: policy } = await expect(200, client.PUT("/document/{namespace}/_retention", { ...ret, body: { keep_versions: 1000 } }));
    if (policy && (policy.keep_versions !== 1000 || policy.keep_deleted_seconds !== null)) fail(`the policy is ${JSON.stringify(policy)}`);
    await expect(422, client.PUT("/document/{namespace}/_retention", { ...ret, body: { keep_versions: 1000001 } }));
    await expect(200, client.DELETE("/document/{namespace}/_retention", ret));
}
