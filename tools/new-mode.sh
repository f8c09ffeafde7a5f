#!/usr/bin/env bash
# make mode NAME=<name>: writes a working mode skeleton (docs/adding-a-mode.md):
#   fcgi-apps/<name>.c                 one route (POST /<name>), its settings
#                                      table, one migration step, its sentinel,
#                                      one MCP tool (<name>_add)
#   fcgi-apps/registry.c               its registry line
#   tests/integration/NN-<name>.bats   one test: the route through lighttpd,
#                                      the mode in /health, the tool in
#                                      tools/list
# Everything else (the executable, lighttpd's routing, /health's list, the
# tool list, the route matrix) follows from the registry.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
name=${1:-}
if ! [[ "$name" =~ ^[a-z][a-z0-9]{0,15}$ ]]; then
    echo "usage: make mode NAME=<name>   (^[a-z][a-z0-9]{0,15}\$)" >&2
    exit 2
fi
case "$name" in registry | main | generate | mcp | common | files)
    echo "make mode: $name is a name the tree uses already" >&2
    exit 2 ;;
esac
if [ -e "fcgi-apps/$name.c" ] || [ -e "fcgi-apps/$name" ] || grep -q "mode_$name;" fcgi-apps/registry.c; then
    echo "make mode: a mode called $name exists already" >&2
    exit 2
fi
upper=$(tr '[:lower:]' '[:upper:]' <<<"$name")

cat >"fcgi-apps/$name.c" <<C
/*
 * $name: short text notes (a skeleton written by make mode NAME=$name:
 * docs/adding-a-mode.md).
 *
 * POST /$name {"text": "..."} stores one note and answers 201 with it.
 */
#define _POSIX_C_SOURCE 200809L
#include <string.h>

#include "config.h"
#include "db.h"
#include "json.h"
#include "mode.h"
#include "schema.h"

/* ---- settings: the mode's own environment variables ---- */

static long long ${name}_text_max;

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

static const db_stmt ${name}_add_note = {
    "${name}_add_note",
    "INSERT INTO ${name}_notes (text) VALUES (\$1) RETURNING json_build_object('id', id, 'text', text,"
    " 'created_at', " SQL_UTC("created_at") ")::text",
    1};

static const db_stmt *const ${name}_statements[] = {&${name}_add_note, NULL};

/* ---- handlers: fill out and return true, or fill err and return false ---- */

static bool ${name}_add(request *req, reply *out, api_error *err) {
    static const char *const known[] = {"text", NULL};
    const char *text;
    json_t *body = request_json_object(req, false, err);
    if (body == NULL || !json_fields_known(body, known, err) || !json_get_string(body, "text", true, &text, err))
        return false;
    if ((long long)strlen(text) > ${name}_text_max)
        return API_INVALID(err, "text", "text is longer than %lld bytes (${upper}_TEXT_MAX)", ${name}_text_max);
    const char *params[] = {text};
    PGresult *res = db_query(req->pool, &${name}_add_note, params, err);
    if (res == NULL) return false;
    out->status = 201;
    strbuf_puts(out->body, PQgetvalue(res, 0, 0)); /* res is freed with the pool */
    return true;
}

/* ---- routes ---- */

static const route ${name}_routes[] = {
    {.method = "POST", .pattern = "/$name", .handler = ${name}_add},
};

/* ---- MCP tools ---- */

static const tool ${name}_tools[] = {
    {
        .name = "${name}_add",
        .description = "Store one short $name text note.",
        .method = "POST",
        .pattern = "/$name",
        .body = TOOL_JSON,
        .input_schema = SCHEMA({"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}}),
        .output_schema = SCHEMA({"type": "object", "required": ["id", "text", "created_at"],
                                 "properties": {"id": {"type": "integer"}, "text": {"type": "string"},
                                                "created_at": {"type": "string"}}}),
    },
};

const mode mode_$name = {
    .name = "$name",
    .url_prefix = "/$name",
    .processes = 1,
    .migrations = ${name}_migrations,
    .sentinel_shape = "{\"id\":1,\"text\":\"hello\",\"created_at\":\"2026-11-24T10:00:00.000000Z\"}",
    .sentinel_note = "Short text notes (a make mode skeleton).",
    .routes = ${name}_routes,
    .nroutes = sizeof ${name}_routes / sizeof ${name}_routes[0],
    .statements = ${name}_statements,
    .tools = ${name}_tools,
    .ntools = sizeof ${name}_tools / sizeof ${name}_tools[0],
    .settings = ${name}_settings,
    .nsettings = sizeof ${name}_settings / sizeof ${name}_settings[0],
    .topic = "$name notes",
};
C

# The registry line: the extern after the last one, the entry before NULL.
awk -v n="$name" '
    /^extern const mode mode_/ { last_extern = NR }
    { lines[NR] = $0 }
    END {
        for (i = 1; i <= NR; i++) {
            if (lines[i] ~ /^    NULL,$/) print "    &mode_" n ","
            print lines[i]
            if (i == last_extern) print "extern const mode mode_" n ";"
        }
    }' fcgi-apps/registry.c >fcgi-apps/registry.c.new
mv fcgi-apps/registry.c.new fcgi-apps/registry.c

last=$(ls tests/integration/[0-9][0-9]-*.bats | sed 's|.*/\([0-9][0-9]\)-.*|\1|' | sort -n | tail -n 1)
num=$(printf '%02d' $((10#$last + 1)))
cat >"tests/integration/$num-$name.bats" <<BATS
#!/usr/bin/env bats
# $name (written by make mode NAME=$name): its route through lighttpd, its
# place in /health and its tool in tools/list.

load ../lib/stack

setup_file() { stack_setup; }
teardown_file() { stack_teardown; }

@test "$name: POST /$name stores a note (201), refuses a bad one (422)" {
    http POST /$name -d '{"text":"hello"}'
    expect 201 '.text == "hello"' '.id | type == "number"' '.created_at | type == "string"'
    http POST /$name -d '{"text":1}'
    expect_error 422 validation_failed text
}

@test "$name: in /health's modes and sentinels" {
    http_anon GET /health
    expect 200 '.modes | index("$name") != null' '[.sentinels[].mode] | index("$name") != null'
}

@test "$name: its tool is in tools/list and answers like the route" {
    sid=\$(curl -s -D - -o /dev/null -H "Authorization: Bearer \$TOKEN" \\
        -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bats","version":"1"}}}' \\
        "\$URL/mcp" | tr -d '\r' | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: //p')
    [ -n "\$sid" ]
    mcp=(-H "Mcp-Session-Id: \$sid" -H 'MCP-Protocol-Version: 2025-06-18')
    http POST /mcp "\${mcp[@]}" -d '{"jsonrpc":"2.0","id":2,"method":"tools/list"}'
    expect 200 '[.result.tools[].name] | index("${name}_add") != null'
    http POST /mcp "\${mcp[@]}" \\
        -d '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"${name}_add","arguments":{"text":"via mcp"}}}'
    expect 200 '.result.isError == false' '.result.structuredContent.text == "via mcp"'
}
BATS
echo "make mode: wrote fcgi-apps/$name.c, tests/integration/$num-$name.bats and $name's line in fcgi-apps/registry.c"
