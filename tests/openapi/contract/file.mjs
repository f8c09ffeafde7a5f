// The contract test's requests for the file mode (fcgi-apps/file.c), good and bad:
// contract.mjs runs every contract/<mode>.mjs, checks each answer against
// the document, and fails for an operation no request reaches.
export default async function ({ call }) {
    // the file tier
    await call("POST", "/files/temp", "/files/temp", { body: "hello", raw: true, type: "application/octet-stream", want: 201 });
}
