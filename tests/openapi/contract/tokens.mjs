// The contract test's requests for the tokens mode (fcgi-apps/tokens.c), good and bad:
// contract.mjs runs every contract/<mode>.mjs, checks each answer against
// the document, and fails for an operation no request reaches.
export default async function ({ call, none, fail }) {
    const gone = "00000000-0000-4000-8000-000000000000";
    const made = await call("POST", "/tokens", "/tokens", { body: { name: "contract", scopes: ["document:read:ci-*"], expires_in_seconds: 3600 }, want: 201 });
    await call("POST", "/tokens", "/tokens", { body: { name: "contract", scopes: ["document:nope"] }, want: 422 });
    await call("POST", "/tokens", "/tokens", { ...none, body: { name: "contract", scopes: ["document:read"] }, want: 401 });
    const id = made?.value?.id;
    if (!id) return fail("POST /tokens answered no id");
    await call("GET", "/tokens", "/tokens", { want: 200 });
    await call("GET", "/tokens", "/tokens?limit=0", { want: 422 });
    await call("GET", "/tokens/self", "/tokens/self", { want: 200 });
    await call("GET", "/tokens/{id}", `/tokens/${id}`, { want: 200 });
    await call("GET", "/tokens/{id}", `/tokens/${gone}`, { want: 404 });
    await call("GET", "/tokens/{id}", "/tokens/nope", { want: 422 });
    await call("DELETE", "/tokens/{id}", `/tokens/${id}`, { want: 200 });
    await call("DELETE", "/tokens/{id}", `/tokens/${id}`, { want: 404 });
}
