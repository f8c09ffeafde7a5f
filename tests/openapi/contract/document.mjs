// The contract test's requests for the document mode (fcgi-apps/document.c), good and bad:
// contract.mjs runs every contract/<mode>.mjs, checks each answer against
// the document, and fails for an operation no request reaches.
export default async function ({ call, ns, auth }) {
    // documents
    const put = (body) => ({ body, want: 201 });
    await call("POST", "/document", "/document", put({ namespace: ns, key: "a", payload: { n: 1 } }));
    await call("POST", "/document", "/document", { body: { namespace: ns, key: "a", payload: 2, if_version: 9 }, want: 409 });
    await call("POST", "/document", "/document", { body: { namespace: "-bad", key: "a", payload: 1 }, want: 422 });
    await call("POST", "/document", "/document", { body: "{not json", raw: true, want: 400 });
    await call("GET", "/document/{namespace}", `/document/${ns}`, { want: 200 });
    await call("GET", "/document/{namespace}", `/document/${ns}?limit=5000`, { want: 422 });
    await call("GET", "/document/{namespace}/{key}", `/document/${ns}/a`, { want: 200 });
    await call("GET", "/document/{namespace}/{key}", `/document/${ns}/missing`, { want: 404 });
    await call("GET", "/document/{namespace}/{key}/versions", `/document/${ns}/a/versions`, { want: 200 });
    await call("GET", "/document/{namespace}/{key}/versions", `/document/${ns}/a/versions?after=x`, { want: 422 });
    await call("DELETE", "/document/{namespace}/{key}", `/document/${ns}/a`, { want: 200 });
    await call("DELETE", "/document/{namespace}/{key}", `/document/${ns}/a`, { want: 404 });
    // conditional writes, merge patch, the changes feed
    const keyed = `/document/${ns}/p`;
    await call("PUT", "/document/{namespace}/{key}", keyed, { body: { x: 1 }, headers: { ...auth, "If-None-Match": "*" }, want: 201 });
    await call("PUT", "/document/{namespace}/{key}", keyed, { body: { x: 2 }, headers: { ...auth, "If-None-Match": "*" }, want: 412 });
    await call("PUT", "/document/{namespace}/{key}", keyed, { body: { x: 2 }, headers: { ...auth, "If-Match": '"9"' }, want: 412 });
    await call("GET", "/document/{namespace}/{key}", keyed, { headers: { ...auth, "If-None-Match": '"1"' }, want: 304 });
    await call("POST", "/document", "/document", { body: { namespace: ns, key: "p", payload: 3 }, headers: { ...auth, "If-Match": '"7"' }, want: 412 });
    await call("PATCH", "/document/{namespace}/{key}", keyed, { body: { y: 2 }, type: "application/merge-patch+json", want: 201 });
    await call("PATCH", "/document/{namespace}/{key}", keyed, { body: { y: 3 }, want: 415 });
    await call("PATCH", "/document/{namespace}/{key}", `/document/${ns}/nothing`, { body: { y: 3 }, type: "application/merge-patch+json", want: 404 });
    await call("GET", "/document/{namespace}/_changes", `/document/${ns}/_changes`, { want: 200 });
    await call("GET", "/document/{namespace}/_changes", `/document/${ns}/_changes?since=now&limit=1`, { want: 200 });
    await call("GET", "/document/{namespace}/_changes", `/document/${ns}/_changes?limit=0`, { want: 422 });
    // namespaces, retention
    await call("GET", "/document", "/document?limit=2", { want: 200 });
    await call("GET", "/document", "/document?after=-x", { want: 422 });
    const retention = `/document/${ns}/_retention`;
    await call("GET", "/document/{namespace}/_retention", retention, { want: 200 });
    await call("PUT", "/document/{namespace}/_retention", retention, { body: { keep_versions: 1000, keep_deleted_seconds: 0 }, want: 200 });
    await call("PUT", "/document/{namespace}/_retention", retention, { body: { keep_versions: 0 }, want: 422 });
    await call("DELETE", "/document/{namespace}/_retention", retention, { want: 200 });
}
