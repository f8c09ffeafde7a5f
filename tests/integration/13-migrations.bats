#!/usr/bin/env bats
# Schema changes are migrations (docs/architecture.md): a database made by
# release 0.1.0 (tests/fixtures/schema-0.1.0.sql: its schema and sentinels,
# dumped from a database that release created) with data written the 0.1.0
# way is brought forward in place by the current code: the data is all
# there, and every mode's steps are recorded in schema_migrations. The same
# for backend-mcp's session table, which the release before migrations
# existed for it created at start-up (the same DDL, outside
# schema_migrations): its sessions survive, and its step is recorded as
# "mcp".

load ../lib/stack
bats_require_minimum_version 1.5.0

setup_file() {
    export DATASTORE_TOKEN=test-token-0123456789 TOKEN=test-token-0123456789
    stack_db_setup
    psql "$PG_URL" -Xq -v ON_ERROR_STOP=1 -f "$ROOT/tests/fixtures/schema-0.1.0.sql" >/dev/null
    # Data, as release 0.1.0 wrote it.
    psql "$PG_URL" -Xq -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
INSERT INTO document_heads (namespace, key, version) VALUES ('old', 'k', 2);
INSERT INTO documents (namespace, key, version, payload) VALUES
    ('old', 'k', 1, '{"n": 1}'), ('old', 'k', 2, '{"n": 12345678901234567890}');
INSERT INTO queue_items (namespace, payload, max_attempts, visible_at) VALUES ('oldq', '{"job": 7}', 5, now());
INSERT INTO sql__tables (name, table_name, columns) VALUES
    ('oldt', 'sql_oldt', '[{"name":"v","type":"text","nullable":false,"unique":true}]');
CREATE TABLE "sql_oldt" (id bigint GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME "sql__oldt_id")
    CONSTRAINT "sql__oldt_pk" PRIMARY KEY, "v" text NOT NULL CONSTRAINT "sql__oldt_u1" UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now());
INSERT INTO "sql_oldt" (v) VALUES ('kept');
INSERT INTO files (id, size, sha256, content_type, expires_at)
    VALUES ('0123456789abcdef0123456789abcdef', 1, 'x', 'text/plain', now() + interval '1 day');
SQL
    # backend-mcp's session table as the previous release made it, with a
    # live session.
    psql "$PG_URL" -Xq -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE TABLE IF NOT EXISTS mcp_sessions (id text PRIMARY KEY, protocol_version text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(), last_seen_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX IF NOT EXISTS mcp_sessions_last_seen ON mcp_sessions (last_seen_at);
INSERT INTO mcp_sessions (id, protocol_version) VALUES ('00112233445566778899aabbccddeeff', '2025-06-18');
SQL
    service_up main
    URL=$(service_url main)
    export URL
}
teardown_file() { stack_teardown; }

@test "0.1.0's data is there after the upgrade, and writable" {
    http GET /document/old/k
    expect 200 '.version == 2' '.payload.n == 12345678901234567890'
    http GET /document/old/k/versions
    expect 200 '[.items[].version] == [1, 2]'
    http POST /document -d '{"namespace":"old","key":"k","payload":3}'
    expect 201 '.version == 3'
    http GET /queue/oldq
    expect 200 '.ready == 1'
    http POST /queue/oldq/claim -d '{}'
    expect 200 '.items | length == 1' '.items[0].payload.job == 7' '.items[0].priority == 0' '.items[0].group == null'
    http GET /sql/tables/oldt/rows
    expect 200 '.items | length == 1' '.items[0].v == "kept"'
    http POST /sql/tables/oldt/rows -d '{"v":"kept"}'
    expect_error 409 conflict v
    [ "$(psql_q "select count(*) from files")" -eq 1 ]
}

@test "document step 2 numbered 0.1.0's versions for the changes feed, in order, before the new one" {
    http GET /document/old/_changes
    expect 200 '[.items[] | [.key, .version]] == [["k",1],["k",2],["k",3]]' \
        '[.items[].seq] == ([.items[].seq] | sort)' '.next == (.items[-1].seq | tostring)'
}

@test "every mode's steps are recorded once, and the sentinels are still there" {
    http_anon GET /health
    expect 200 '[.sentinels[].mode] | contains(["document","file","health","queue","sql"])'
    [ "$(psql_q "select string_agg(mode || ':' || step, ',' order by mode, step) from schema_migrations
        where mode in ('document', 'file', 'health', 'queue', 'sql')")" = "document:1,document:2,document:3,document:4,file:1,queue:1,queue:2,sql:1,sql:2" ]
    [ "$(psql_q "select count(*) from schema_migrations where applied_at > now() - interval '10 minutes'")" -ge 4 ]
}

@test "the previous release's MCP session is still valid after the upgrade, and the table's step is recorded" {
    for _ in $(seq 50); do
        http POST /mcp -H 'Mcp-Session-Id: 00112233445566778899aabbccddeeff' -H 'MCP-Protocol-Version: 2025-06-18' \
            -d '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'
        [ "$CODE" = 503 ] || break
        sleep 0.1
    done
    expect 200 '.result.tools | length > 0'
    [ "$(psql_q "select string_agg(mode || ':' || step, ',' order by step) from schema_migrations where mode = 'mcp'")" = "mcp:1,mcp:2" ]
    [ "$(psql_q "select count(*) from mcp_sessions where id = '00112233445566778899aabbccddeeff'")" -eq 1 ]
    grep -q "schema step 1 of mcp applied" "$STACK_DIR/main/lighttpd.log"
}

@test "a second start runs no step again" {
    before=$(psql_q "select count(*) from schema_migrations")
    service_down main
    service_up again
    [ "$(psql_q "select count(*) from schema_migrations")" -eq "$before" ]
    run ! grep -q "schema step" "$STACK_DIR/again/lighttpd.log"
    grep -q "schema step 1 of document applied" "$STACK_DIR/main/lighttpd.log"
}
