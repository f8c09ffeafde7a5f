// The contract test's requests for the sql mode (fcgi-apps/sql.c), good and bad:
// contract.mjs runs every contract/<mode>.mjs, checks each answer against
// the document, and fails for an operation no request reaches.
export default async function ({ call, refresh, fail }) {
    // typed tables
    const table = `t${Date.now()}`;
    const columns = [
        { name: "sha", type: "text", unique: true },
        { name: "n", type: "integer", nullable: true },
    ];
    await call("POST", "/sql/tables", "/sql/tables", { body: { name: table, columns }, want: 201 });
    await call("POST", "/sql/tables", "/sql/tables", { body: { name: table, columns }, want: 409 });
    await call("POST", "/sql/tables", "/sql/tables", { body: { name: "Bad-Name", columns }, want: 422 });
    await call("GET", "/sql/tables", "/sql/tables", { want: 200 });
    await call("GET", "/sql/tables/{name}", `/sql/tables/${table}`, { want: 200 });
    await call("GET", "/sql/tables/{name}", "/sql/tables/nosuchtable", { want: 404 });
    const rows = await call("POST", "/sql/tables/{name}/rows", `/sql/tables/${table}/rows`, { body: [{ sha: "a", n: 1 }, { sha: "b" }], want: 201 });
    await call("POST", "/sql/tables/{name}/rows", `/sql/tables/${table}/rows`, { body: { sha: "a" }, want: 409 });
    await call("POST", "/sql/tables/{name}/rows", `/sql/tables/${table}/rows`, { body: { nope: 1 }, want: 422 });
    await call("POST", "/sql/tables/{name}/rows", `/sql/tables/${table}/rows?on_conflict=sha`, { body: [{ sha: "a", n: 1 }, { sha: "u" }], want: 201 });
    await call("POST", "/sql/tables/{name}/rows", `/sql/tables/${table}/rows?on_conflict=n`, { body: { sha: "v" }, want: 422 });
    await call("GET", "/sql/tables/{name}/rows", `/sql/tables/${table}/rows?sha=a`, { want: 200 });
    await call("GET", "/sql/tables/{name}/rows", `/sql/tables/${table}/rows?limit=-1`, { want: 422 });
    await call("GET", "/sql/tables/{name}/rows", `/sql/tables/${table}/rows?n=gte.0&order=sha.desc.nullslast&select=sha&count=exact&limit=1`, { want: 200 });
    await call("GET", "/sql/tables/{name}/rows", `/sql/tables/${table}/rows?n=like.1`, { want: 422 });
    await call("PATCH", "/sql/tables/{name}/rows", `/sql/tables/${table}/rows?sha=eq.b`, { body: { n: 2 }, want: 200 });
    await call("PATCH", "/sql/tables/{name}/rows", `/sql/tables/${table}/rows`, { body: { n: 2 }, want: 422 });
    await call("PATCH", "/sql/tables/{name}/rows", `/sql/tables/${table}/rows?n=gte.0`, { body: { sha: "same" }, want: 409 });
    await call("DELETE", "/sql/tables/{name}/rows", `/sql/tables/${table}/rows?sha=eq.nosuch`, { want: 200 });
    await call("DELETE", "/sql/tables/{name}/rows", `/sql/tables/${table}/rows?n=gte.0&max_affected=0`, { want: 422 });
    const id = rows?.value?.items?.[0]?.id ?? 1;
    await call("GET", "/sql/tables/{name}/rows/{id}", `/sql/tables/${table}/rows/${id}`, { want: 200 });
    await call("GET", "/sql/tables/{name}/rows/{id}", `/sql/tables/${table}/rows/999999`, { want: 404 });
    await call("PATCH", "/sql/tables/{name}/rows/{id}", `/sql/tables/${table}/rows/${id}`, { body: { n: 5 }, want: 200 });
    await call("PATCH", "/sql/tables/{name}/rows/{id}", `/sql/tables/${table}/rows/${id}`, { body: { n: "five" }, want: 422 });
    await call("DELETE", "/sql/tables/{name}/rows/{id}", `/sql/tables/${table}/rows/${id}`, { want: 200 });
    await call("DELETE", "/sql/tables/{name}/rows/{id}", `/sql/tables/${table}/rows/${id}`, { want: 404 });

    // With the token, the document now has this table: its row schema, and
    // its own copy of each path, whose answers are its rows.
    const doc = await refresh();
    if (!doc.components.schemas[`sql_row_${table}`]) fail(`/openapi.json with the token: no sql_row_${table}`);
    const own = `/sql/tables/${table}`;
    await call("GET", own, own, { want: 200 });
    const made = await call("POST", `${own}/rows`, `${own}/rows`, { body: { sha: "c", n: 3 }, want: 201 });
    await call("POST", `${own}/rows`, `${own}/rows`, { body: { n: "three" }, want: 422 });
    await call("POST", `${own}/rows`, `${own}/rows?on_conflict=sha`, { body: { sha: "c", n: 4 }, want: 201 });
    await call("GET", `${own}/rows`, `${own}/rows?sha=c`, { want: 200 });
    const copy = made?.value?.items?.[0]?.id ?? 1;
    await call("GET", `${own}/rows/{id}`, `${own}/rows/${copy}`, { want: 200 });
    await call("PATCH", `${own}/rows/{id}`, `${own}/rows/${copy}`, { body: { n: null }, want: 200 });
    await call("PATCH", `${own}/rows`, `${own}/rows?id=eq.${copy}`, { body: { n: 4 }, want: 200 });
    await call("DELETE", `${own}/rows`, `${own}/rows?id=eq.0`, { want: 200 });
    await call("DELETE", `${own}/rows/{id}`, `${own}/rows/${copy}`, { want: 200 });
    await call("GET", `${own}/rows/{id}`, `${own}/rows/${copy}`, { want: 404 });

    // Columns: added (201), dropped alone in the body (200) or by path (200).
    await call("POST", "/sql/tables/{name}/columns", `/sql/tables/${table}/columns`, { body: { column: "extra", type: "integer", default: 1 }, want: 201 });
    await call("POST", "/sql/tables/{name}/columns", `/sql/tables/${table}/columns`, { body: { column: "extra", type: "integer" }, want: 409 });
    await call("POST", "/sql/tables/{name}/columns", `/sql/tables/${table}/columns`, { body: { drop: "extra" }, want: 200 });
    await call("POST", `${own}/columns`, `${own}/columns`, { body: { column: "more", type: "text" }, want: 201 });
    await call("DELETE", `${own}/columns/{column}`, `${own}/columns/more`, { want: 200 });
    await call("DELETE", "/sql/tables/{name}/columns/{column}", `/sql/tables/${table}/columns/nosuch`, { want: 404 });

    // Dropping: without confirm nothing happens; then the table of this run goes.
    await call("DELETE", own, own, { want: 422 });
    await call("DELETE", "/sql/tables/{name}", `/sql/tables/${table}?confirm=other`, { want: 422 });
    await call("DELETE", "/sql/tables/{name}", `/sql/tables/${table}?confirm=${table}`, { want: 200 });
    await call("DELETE", "/sql/tables/{name}", `/sql/tables/${table}?confirm=${table}`, { want: 404 });
}
