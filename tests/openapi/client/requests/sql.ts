// The sql mode's operations (fcgi-apps/sql.c): the generic ones on a
// table of this run, and the copies /openapi.json has (with the token)
// for the table sql.setup.json made, typed by its row.
import type { Session } from "../session.js";

export default async function ({ client, expect, fail }: Session): Promise<void> {
    const name = `t${Date.now()}`;
    const columns = [
        { name: "sha", type: "text" as const, unique: true },
        { name: "n", type: "integer" as const, nullable: true },
    ];
    await expect(201, client.POST("/sql/tables", { body: { name, columns } }));
    await expect(409, client.POST("/sql/tables", { body: { name, columns } }));
    await expect(422, client.POST("/sql/tables", { body: { name: "Bad-Name", columns } }));
    await expect(200, client.GET("/sql/tables", { params: { query: { limit: 2 } } }));
    await expect(200, client.GET("/sql/tables/{name}", { params: { path: { name } } }));
    await expect(404, client.GET("/sql/tables/{name}", { params: { path: { name: "nosuchtable" } } }));
    const table = { path: { name } };
    const { data: rows } = await expect(201, client.POST("/sql/tables/{name}/rows", { params: table, body: [{ sha: "a", n: 1 }, { sha: "b" }] }));
    await expect(409, client.POST("/sql/tables/{name}/rows", { params: table, body: { sha: "a" } }));
    await expect(422, client.POST("/sql/tables/{name}/rows", { params: table, body: { nope: 1 } }));
    await expect(200, client.GET("/sql/tables/{name}/rows", { params: { ...table, query: { where: { sha: "a" }, order: "desc" } } }));
    await expect(422, client.GET("/sql/tables/{name}/rows", { params: { ...table, query: { limit: -1 } } }));
    await expect(200, client.GET("/sql/tables/{name}/rows", { params: { ...table, query: { where: { n: "gte.0" }, order: "sha.desc.nullslast", select: "sha", count: "exact", limit: 1 } } }));
    await expect(422, client.GET("/sql/tables/{name}/rows", { params: { ...table, query: { where: { n: "like.1" } } } }));
    const { data: changed } = await expect(200, client.PATCH("/sql/tables/{name}/rows", { params: { ...table, query: { where: { sha: "eq.b" } } }, body: { n: 2 } }));
    const count: number | undefined = changed?.count;
    if (count !== 1) fail(`PATCH by filter changed ${count} rows, not 1`);
    await expect(422, client.PATCH("/sql/tables/{name}/rows", { params: table, body: { n: 2 } }));
    await expect(409, client.PATCH("/sql/tables/{name}/rows", { params: { ...table, query: { where: { n: "gte.0" } } }, body: { sha: "same" } }));
    await expect(200, client.DELETE("/sql/tables/{name}/rows", { params: { ...table, query: { where: { sha: "eq.nosuch" } } } }));
    await expect(422, client.DELETE("/sql/tables/{name}/rows", { params: { ...table, query: { where: { n: "gte.0" }, max_affected: 0 } } }));
    const id = rows?.items[0]?.id ?? 1;
    const row = { path: { name, id } };
    await expect(200, client.GET("/sql/tables/{name}/rows/{id}", { params: row }));
    await expect(404, client.GET("/sql/tables/{name}/rows/{id}", { params: { path: { name, id: 999999 } } }));
    await expect(200, client.PATCH("/sql/tables/{name}/rows/{id}", { params: row, body: { n: 5 } }));
    await expect(422, client.PATCH("/sql/tables/{name}/rows/{id}", { params: row, body: { n: "five" } }));
    await expect(200, client.DELETE("/sql/tables/{name}/rows/{id}", { params: row }));
    await expect(404, client.DELETE("/sql/tables/{name}/rows/{id}", { params: row }));

    // The table of sql.setup.json, through its own paths: the answers are
    // its rows (sql_row_client_builds), numeric as a string.
    const sha = `s${Date.now()}`;
    await expect(200, client.GET("/sql/tables/client_builds"));
    const { data: made } = await expect(201, client.POST("/sql/tables/client_builds/rows", { body: { sha, n: 7, cost: "12.50", meta: { ok: true } } }));
    const built = made?.items[0];
    if (!built) return fail("no row inserted into client_builds");
    const cost: string | null = built.cost;
    const { data: upserted } = await expect(201, client.POST("/sql/tables/client_builds/rows", { params: { query: { on_conflict: "sha" } }, body: { sha, n: 7 } }));
    const inserted: boolean | undefined = upserted?.items[0]?.inserted;
    if (inserted !== false || upserted?.items[0]?.id !== built.id) fail(`an upsert of sha ${sha} inserted ${inserted}, id ${upserted?.items[0]?.id}`);
    if (cost !== "12.50") fail(`a numeric came back as ${JSON.stringify(cost)}, not "12.50"`);
    await expect(200, client.GET("/sql/tables/client_builds/rows", { params: { query: { where: { sha } } } }));
    const own = { path: { id: built.id } };
    const { data: got } = await expect(200, client.GET("/sql/tables/client_builds/rows/{id}", { params: own }));
    const n: number | null | undefined = got?.n;
    if (n !== 7) fail(`client_builds row ${built.id} has n ${n}`);
    await expect(200, client.PATCH("/sql/tables/client_builds/rows/{id}", { params: own, body: { cost: 3 } }));
    await expect(200, client.PATCH("/sql/tables/client_builds/rows", { params: { query: { where: { id: `eq.${built.id}` } } }, body: { n: 8 } }));
    await expect(200, client.DELETE("/sql/tables/client_builds/rows", { params: { query: { where: { sha: "eq.nosuch" } } } }));
    await expect(200, client.DELETE("/sql/tables/client_builds/rows/{id}", { params: own }));
    // Columns of the run's table, and of client_builds (added, then dropped).
    await expect(201, client.POST("/sql/tables/{name}/columns", { params: table, body: { column: "extra", type: "integer", default: 1 } }));
    await expect(200, client.POST("/sql/tables/{name}/columns", { params: table, body: { drop: "extra" } }));
    await expect(404, client.DELETE("/sql/tables/{name}/columns/{column}", { params: { path: { name, column: "nosuch" } } }));
    await expect(201, client.POST("/sql/tables/client_builds/columns", { body: { column: "scratch", type: "text" } }));
    await expect(200, client.DELETE("/sql/tables/client_builds/columns/{column}", { params: { path: { column: "scratch" } } }));
    // Dropping: client_builds stays (no confirm: 422); the run's own table goes.
    await expect(422, client.DELETE("/sql/tables/client_builds"));
    await expect(422, client.DELETE("/sql/tables/{name}", { params: { path: { name }, query: { confirm: "other" } } }));
    await expect(200, client.DELETE("/sql/tables/{name}", { params: { path: { name }, query: { confirm: name } } }));
    await expect(404, client.DELETE("/sql/tables/{name}", { params: { path: { name }, query: { confirm: name } } }));
}
