// The contract test's requests for the health mode (fcgi-apps/health.c) and /docs and /console beside it, good and bad:
// contract.mjs runs every contract/<mode>.mjs, checks each answer against
// the document, and fails for an operation no request reaches.
export default async function ({ call, none }) {
    // self-description and health
    await call("GET", "/health", "/health", { ...none, want: 200 });
    await call("GET", "/openapi.json", "/openapi.json", { ...none, want: 200 });
    await call("GET", "/openapi.json", "/openapi.json", { want: 200 });
    await call("GET", "/docs", "/docs", { ...none, want: 200 });
    await call("GET", "/console", "/console", { ...none, want: 200 });
    await call("GET", "/metrics", "/metrics", { want: 200 });
}
