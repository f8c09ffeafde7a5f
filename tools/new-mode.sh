#!/usr/bin/env bash
# make mode NAME=<name>: writes a working mode (docs/adding-a-mode.md), in
# the style of fcgi-apps/document.c:
#   fcgi-apps/<name>.c                      two routes (POST /<name>: 201,
#                                           GET /<name>/{id}: 200 or 404),
#                                           their declared inputs and output,
#                                           a setting its input's rule uses,
#                                           one schema step, its sentinel
#                                           (from the output), a tool on
#                                           each route
#   tests/integration/NN-<name>.bats        its suite: the routes through
#                                           lighttpd, /health, the tools
#   tests/openapi/client/requests/<name>.ts its requests for the generated
#                                           client's test (typed)
#   tests/openapi/contract/<name>.mjs       its requests for the contract test
# Nothing else is touched: the Makefile finds the mode file (the registry's
# list, the executable), and the routing, /health, the MCP tools and
# /openapi.json follow from its declarations.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
name=${1:-}
if ! [[ "$name" =~ ^[a-z][a-z0-9]{0,15}$ ]]; then
    echo "usage: make mode NAME=<name>   (^[a-z][a-z0-9]{0,15}\$)" >&2
    exit 2
fi
case "$name" in registry | main | generate | openapi | mcp | common | files | docs | health)
    echo "make mode: $name is a name the tree uses already" >&2
    exit 2 ;;
esac
for f in "fcgi-apps/$name.c" "fcgi-apps/$name" "tests/openapi/client/requests/$name.ts" "tests/openapi/contract/$name.mjs"; do
    if [ -e "$f" ]; then
        echo "make mode: a mode called $name exists already ($f)" >&2
        exit 2
    fi
done
upper=$(tr '[:lower:]' '[:upper:]' <<<"$name")
shape="${upper:0:1}${name:1}Note" # its output's name among /openapi.json's schemas

cat >"fcgi-apps/$name.c" <<C
/*
 * $name: short text notes (written by make mode NAME=$name:
 * docs/adding-a-mode.md; fcgi-apps/document.c is the full example).
 *
 * POST /$name {"text": "..."} stores a note and answers 201 with it;
 * GET /$name/{id} answers one, or 404. Each route declares its input and
 * output once: the serve loop validates the input before the handler runs
 * (a 422 names the field), and /openapi.json, the MCP tools and the
 * sentinel all come from the same declarations.
 */
#define _POSIX_C_SOURCE 200809L
#include <string.h>

#include "config.h"
#include "db.h"
#include "mode.h"
#include "schema.h"

/* ---- settings: the mode's own environment variables ---- */

/* Loaded at start-up (config.h); the default until then. */
static long long ${name}_text_max = 1000;

static const setting ${name}_settings[] = {
    {.name = "${upper}_TEXT_MAX", .kind = SETTING_NUMBER, .dflt = "1000", .max = 100000,
     .number = &${name}_text_max, .meaning = "longest $name text, in bytes"},
};

/* ---- schema: numbered steps, never changed once released ---- */

static const char ${name}_step1[] =
    "CREATE TABLE IF NOT EXISTS ${name}_notes ("
    " id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    " text text NOT NULL,"
    " created_at timestamptz NOT NULL DEFAULT now())";

static const char *const ${name}_migrations[] = {${name}_step1, NULL};

/* ---- statements: values only as \$n parameters ---- */

#define ${upper}_NOTE_JSON "json_build_object('id', id, 'text', text, 'created_at', " SQL_UTC("created_at") ")::text"

static const db_stmt ${name}_insert = {
    "${name}_insert", "INSERT INTO ${name}_notes (text) VALUES (\$1) RETURNING " ${upper}_NOTE_JSON, 1};
static const db_stmt ${name}_select = {
    "${name}_select", "SELECT " ${upper}_NOTE_JSON " FROM ${name}_notes WHERE id = \$1::bigint", 1};

static const db_stmt *const ${name}_statements[] = {&${name}_insert, &${name}_select, NULL};

/* ---- inputs: each route's, declared once (input.h) ---- */

/* The text's rule: 1 byte to ${upper}_TEXT_MAX (a setting, so the schema
 * states it in words, beside minLength, rather than as a maxLength). A
 * field with a rule of its own has its length checked here, not by the
 * declaration's min and max. Returns false with a 422 naming field. */
static bool ${name}_text_ok(const char *s, const char *field, api_error *err) {
    if (s[0] == '\\0') return API_INVALID(err, field, "%s is empty", field);
    if ((long long)strlen(s) > ${name}_text_max)
        return API_INVALID(err, field, "%s is longer than %lld bytes (${upper}_TEXT_MAX)", field, ${name}_text_max);
    return true;
}

enum { ADD_TEXT, ADD_N };
static const input_field ${name}_add_input[ADD_N] = {
    [ADD_TEXT] = {.name = "text",
                  .type = INPUT_STRING,
                  .required = true,
                  .min = 1,
                  .check = ${name}_text_ok,
                  .description = "the note: 1 byte to ${upper}_TEXT_MAX (default 1000)"},
};

enum { GET_ID, GET_N };
static const input_field ${name}_get_input[GET_N] = {
    [GET_ID] = {.name = "id",
                .type = INPUT_INTEGER,
                .in = INPUT_PATH,
                .min = 1,
                .max = 1LL << 53,
                .description = "the note's id"},
};

/* ---- outputs: each answer's shape, declared once (output.h) ---- */

/* A note: the routes' answer, the tools' outputSchema, and (through its
 * examples) the mode's sentinel. */
static const output_field ${name}_note_fields[] = {
    {.name = "id", .type = OUT_INTEGER, .example = "1"},
    {.name = "text", .type = OUT_STRING, .example = "\"hello\""},
    OUT_TIME("created_at", 0)};
static const output_shape ${name}_note_out = OUTPUT_SHAPE("${shape}", "A $name note", ${name}_note_fields);

/* ---- handlers: in[i] is route.input[i], validated; fill out and return
 * true, or fill err and return false ---- */

static bool ${name}_add(request *req, const input_value *in, reply *out, api_error *err) {
    const char *params[] = {in[ADD_TEXT].s};
    PGresult *res = db_query(req->pool, &${name}_insert, params, err);
    if (res == NULL) return false;
    out->status = 201;
    strbuf_puts(out->body, PQgetvalue(res, 0, 0)); /* res is freed with the pool */
    return true;
}

static bool ${name}_get(request *req, const input_value *in, reply *out, api_error *err) {
    const char *params[] = {in[GET_ID].s}; /* a path integer comes as its text too */
    PGresult *res = db_query(req->pool, &${name}_select, params, err);
    if (res == NULL) return false;
    if (PQntuples(res) == 0) return API_NOT_FOUND(err, "id", "$name note %s does not exist", in[GET_ID].s);
    strbuf_puts(out->body, PQgetvalue(res, 0, 0));
    return true;
}

/* ---- routes: what each one takes, answers and offers as a tool ---- */

static const route ${name}_routes[] = {
    {"POST", "/$name", ${name}_add, .summary = "Store a $name note",
     .description = "Stores one short text note and answers it (201) with its id.", .input = ${name}_add_input,
     .ninput = ADD_N, .output = &${name}_note_out, .created = true, .tool = TOOL("${name}_add", 0)},
    {"GET", "/$name/{id}", ${name}_get, .summary = "Read a $name note",
     .description = "One note by id; 404 when there is none.", .input = ${name}_get_input, .ninput = GET_N,
     .output = &${name}_note_out, .tool = TOOL("${name}_get", TOOL_READ_ONLY | TOOL_IDEMPOTENT)},
};

const mode mode_$name = {
    .name = "$name",
    .url_prefix = "/$name",
    .processes = 1,
    .migrations = ${name}_migrations,
    .sentinel = &${name}_note_out,
    .sentinel_note = "Short text notes (a make mode skeleton).",
    .routes = ${name}_routes,
    .nroutes = COUNT_OF(${name}_routes),
    .statements = ${name}_statements,
    .settings = ${name}_settings,
    .nsettings = COUNT_OF(${name}_settings),
    .topic = "$name notes",
};
C

# Laid out as make format would (the width of a line depends on the name).
if command -v clang-format >/dev/null; then clang-format -i "fcgi-apps/$name.c"; fi

last=$(ls tests/integration/[0-9][0-9]-*.bats | sed 's|.*/\([0-9][0-9]\)-.*|\1|' | sort -n | tail -n 1)
num=$(printf '%02d' $((10#$last + 1)))
cat >"tests/integration/$num-$name.bats" <<BATS
#!/usr/bin/env bats
# $name (written by make mode NAME=$name): its routes through lighttpd,
# its place in /health, its tools in tools/list answering like the routes.

load ../lib/stack

setup_file() { stack_setup; }
teardown_file() { stack_teardown; }

@test "$name: POST /$name stores a note (201), GET reads it back, refusals name the field" {
    http POST /$name -d '{"text":"hello"}'
    expect 201 '.text == "hello"' '.id | type == "number"' '.created_at | type == "string"'
    local id
    id=\$(jq .id <<<"\$BODY")
    http GET "/$name/\$id"
    expect 200 '.text == "hello"' ".id == \$id"
    http GET /$name/999999999
    expect_error 404 not_found id
    http POST /$name -d '{"text":1}'
    expect_error 422 validation_failed text
    http POST /$name -d "{\"text\":\"\$(printf 'a%.0s' {1..1001})\"}"
    expect_error 422 validation_failed text
}

@test "$name: in /health's modes and sentinels" {
    http_anon GET /health
    expect 200 '.modes | index("$name") != null' '[.sentinels[].mode] | index("$name") != null'
}

@test "$name: its tools are in tools/list and answer like the routes" {
    sid=\$(curl -s -D - -o /dev/null -H "Authorization: Bearer \$TOKEN" \\
        -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bats","version":"1"}}}' \\
        "\$URL/mcp" | tr -d '\r' | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: //p')
    [ -n "\$sid" ]
    mcp=(-H "Mcp-Session-Id: \$sid" -H 'MCP-Protocol-Version: 2025-06-18')
    http POST /mcp "\${mcp[@]}" -d '{"jsonrpc":"2.0","id":2,"method":"tools/list"}'
    expect 200 '[.result.tools[].name] | index("${name}_add") != null and index("${name}_get") != null'
    http POST /mcp "\${mcp[@]}" \\
        -d '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"${name}_add","arguments":{"text":"via mcp"}}}'
    expect 200 '.result.isError == false' '.result.structuredContent.text == "via mcp"'
    local id
    id=\$(jq .result.structuredContent.id <<<"\$BODY")
    http POST /mcp "\${mcp[@]}" \\
        -d "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"name\":\"${name}_get\",\"arguments\":{\"id\":\$id}}}"
    expect 200 '.result.isError == false' '.result.structuredContent.text == "via mcp"'
}
BATS

cat >"tests/openapi/client/requests/$name.ts" <<TS
// The $name mode's operations (fcgi-apps/$name.c), through the client
// generated from /openapi.json (written by make mode NAME=$name).
import type { Session } from "../session.js";

export default async function ({ client, expect, fail }: Session): Promise<void> {
    const { data: note } = await expect(201, client.POST("/$name", { body: { text: "hello" } }));
    if (!note) return fail("POST /$name answered no note");
    const { data: read } = await expect(200, client.GET("/$name/{id}", { params: { path: { id: note.id } } }));
    if (read?.text !== "hello") fail(\`GET /$name/\${note.id} answered \${JSON.stringify(read)}\`);
    await expect(404, client.GET("/$name/{id}", { params: { path: { id: 999999999 } } }));
    await expect(422, client.POST("/$name", { body: { text: "" } }));
}
TS

cat >"tests/openapi/contract/$name.mjs" <<MJS
// The contract test's requests for the $name mode (fcgi-apps/$name.c),
// good and bad (written by make mode NAME=$name): contract.mjs runs every
// contract/<mode>.mjs, checks each answer against the document, and fails
// for an operation no request reaches.
export default async function ({ call }) {
    const made = await call("POST", "/$name", "/$name", { body: { text: "hello" }, want: 201 });
    await call("POST", "/$name", "/$name", { body: { text: 1 }, want: 422 });
    await call("POST", "/$name", "/$name", { body: "{not json", raw: true, want: 400 });
    await call("GET", "/$name/{id}", \`/$name/\${made?.value?.id ?? 1}\`, { want: 200 });
    await call("GET", "/$name/{id}", "/$name/999999999", { want: 404 });
    await call("GET", "/$name/{id}", "/$name/x", { want: 422 });
}
MJS
echo "make mode: wrote fcgi-apps/$name.c, tests/integration/$num-$name.bats," \
    "tests/openapi/client/requests/$name.ts and tests/openapi/contract/$name.mjs"
