#!/usr/bin/env bats
# Tokens and scopes (docs/security.md): the root token file's rotation,
# scoped tokens (create, list, revoke, expiry), scope enforcement.

load ../lib/stack
bats_require_minimum_version 1.5.0

setup_file() {
    stack_setup
    export STACK_SECRETS="root-one-0123456789 root-two-0123456789 root-three-0123456789"
}
# Every scoped token made here is searched for in the logs too (none may
# appear), with the root tokens.
teardown_file() {
    STACK_SECRETS="$STACK_SECRETS $(cat "$STACK_DIR/secrets" 2>/dev/null | tr '\n' ' ')"
    export STACK_SECRETS
    stack_teardown
}

# rotated SERVICE: a service whose root tokens come from $STACK_DIR/SERVICE.token,
# swapped in as Kubernetes does, by a symbolic link.
rotated_up() {
    mkdir -p "$STACK_DIR/secret-$1"
    printf 'root-one-0123456789\n' >"$STACK_DIR/secret-$1/a"
    ln -sfn "$STACK_DIR/secret-$1/a" "$STACK_DIR/$1.token"
    # polling with the old token counts wrong tokens: no 429 here
    AUTH_FAILURES_MAX=1000000 DATASTORE_TOKEN="" DATASTORE_TOKEN_FILE="$STACK_DIR/$1.token" service_up "$1"
}

# swap SERVICE CONTENT: the token file's content becomes CONTENT (printf
# format), by a symbolic-link swap.
swap() {
    local f
    f=$(mktemp "$STACK_DIR/secret-$1/XXXXXX")
    # shellcheck disable=SC2059 # the content is a format on purpose
    printf "$2" >"$f"
    ln -sfn "$f" "$STACK_DIR/$1.token.new"
    mv -T "$STACK_DIR/$1.token.new" "$STACK_DIR/$1.token"
}

# until_code CODE TOKEN [seconds]: GET /document/any with TOKEN until it answers CODE.
until_code() {
    local i
    for i in $(seq 1 $((${3:-4} * 10))); do
        TOKEN=$2 http GET /document/any
        [ "$CODE" = "$1" ] && return 0
        sleep 0.1
    done
    echo "still $CODE after ${3:-4}s: $BODY"
    return 1
}

@test "root token file: two lines both valid, the log names root:1 and root:2, a swap takes effect" {
    rotated_up rot
    BASE=$(service_url rot)
    export BASE
    TOKEN=root-one-0123456789 http GET /document/any -H "X-Request-Id: rot-one-a"
    expect 200
    TOKEN=root-two-0123456789 http GET /document/any
    expect_error 401 unauthorized
    # write-new-beside-old: both work within AUTH_REREAD_MS (2 s)
    swap rot 'root-one-0123456789\n  root-two-0123456789  \n'
    until_code 200 root-two-0123456789
    TOKEN=root-two-0123456789 http GET /document/any -H "X-Request-Id: rot-two-b"
    expect 200
    TOKEN=root-one-0123456789 http GET /document/any -H "X-Request-Id: rot-one-b"
    expect 200
    grep -q '"request_id":"rot-one-a".*"token_id":"root:1"' "$STACK_DIR/rot/lighttpd.log"
    grep -q '"request_id":"rot-two-b".*"token_id":"root:2"' "$STACK_DIR/rot/lighttpd.log"
    grep -q '"request_id":"rot-one-b".*"token_id":"root:1"' "$STACK_DIR/rot/lighttpd.log"
    # remove the old one: refused within the interval
    swap rot 'root-two-0123456789\n'
    until_code 401 root-one-0123456789
    TOKEN=root-two-0123456789 http GET /document/any -H "X-Request-Id: rot-two-c"
    expect 200
    grep -q '"request_id":"rot-two-c".*"token_id":"root:1"' "$STACK_DIR/rot/lighttpd.log"
}

@test "root token file: unreadable, empty or three lines keeps the last good tokens and logs an error" {
    BASE=$(service_url rot)
    export BASE
    swap rot 'root-two-0123456789\n'
    until_code 200 root-two-0123456789
    for content in '' '   \n\n' 'a-token-1\nb-token-2\nc-token-3\n' 'with space\n'; do
        before=$(grep -c 'DATASTORE_TOKEN_FILE.*last good tokens' "$STACK_DIR/rot/lighttpd.log" || true)
        swap rot "$content"
        sleep 2.2
        TOKEN=root-two-0123456789 http GET /document/any
        expect 200 || { echo "content [$content]"; return 1; }
        TOKEN=a-token-1 http GET /document/any
        expect_error 401 unauthorized
        after=$(grep -c 'DATASTORE_TOKEN_FILE.*last good tokens' "$STACK_DIR/rot/lighttpd.log" || true)
        [ "$after" -gt "$before" ] || { echo "no error logged for [$content]"; return 1; }
    done
    rm -f "$STACK_DIR/rot.token"
    before=$(grep -c 'DATASTORE_TOKEN_FILE cannot be read' "$STACK_DIR/rot/lighttpd.log" || true)
    sleep 2.2
    TOKEN=root-two-0123456789 http GET /document/any
    expect 200
    after=$(grep -c 'DATASTORE_TOKEN_FILE cannot be read' "$STACK_DIR/rot/lighttpd.log" || true)
    [ "$after" -gt "$before" ]
    # and back: a good file is taken again
    swap rot 'root-three-0123456789\n'
    until_code 200 root-three-0123456789
    service_down rot
}

@test "root token file at start-up: two tokens taken, three or a bad character stop it" {
    printf 'a-token-1\nb-token-2\n' >"$STACK_DIR/two"
    run env DATASTORE_TOKEN="" DATASTORE_TOKEN_FILE="$STACK_DIR/two" "$BACKEND_BIN/backend-registry" --check-config
    [ "$status" -eq 0 ]
    printf 'a-token-1\nb-token-2\nc-token-3\n' >"$STACK_DIR/three"
    run env DATASTORE_TOKEN="" DATASTORE_TOKEN_FILE="$STACK_DIR/three" "$BACKEND_BIN/backend-registry" --check-config
    [ "$status" -eq 2 ]
    [[ "${lines[0]}" == "backend: invalid configuration: DATASTORE_TOKEN_FILE holds more than two tokens"* ]]
    [[ "$output" != *a-token-1* ]]
    printf 'a token\n' >"$STACK_DIR/space"
    run env DATASTORE_TOKEN="" DATASTORE_TOKEN_FILE="$STACK_DIR/space" "$BACKEND_BIN/backend-registry" --check-config
    [ "$status" -eq 2 ]
}

# mint NAME SCOPES-JSON [extra members]: a scoped token made with the root
# token; sets SECRET and TID.
mint() {
    http POST /tokens -d "{\"name\": \"$1\", \"scopes\": $2${3:+, $3}}"
    expect 201 || return 1
    SECRET=$(jq -r .token <<<"$BODY")
    TID=$(jq -r .id <<<"$BODY")
    echo "$SECRET" >>"$STACK_DIR/secrets"
}

@test "POST /tokens: bk_ and 256 bits shown once, digest only stored; GET /tokens, /tokens/{id}, /tokens/self" {
    mint ci-agent '["document:read:ci-*", "queue:write:jobs"]' '"expires_in_seconds": 86400'
    [[ "$SECRET" =~ ^bk_[0-9a-f]{64}$ ]]
    jq -e '.name == "ci-agent" and .scopes == ["document:read:ci-*","queue:write:jobs"] and .expires_at != null and .last_used_at == null' <<<"$BODY"
    # the database keeps the SHA-256 digest, never the token
    digest=$(printf '%s' "$SECRET" | sha256sum | cut -d' ' -f1)
    [ "$(psql_q "select count(*) from auth_tokens where digest = '$digest'")" -eq 1 ]
    [ "$(psql_q "select count(*) from auth_tokens where digest like '%${SECRET:3:20}%' or scopes::text like '%${SECRET:3:20}%'")" -eq 0 ]
    http GET "/tokens/$TID"
    expect 200 ".id == \"$TID\" and (has(\"token\") | not)"
    http GET /tokens
    expect 200 "(.items | map(select(.id == \"$TID\")) | length) == 1 and all(.items[]; has(\"token\") | not)"
    TOKEN=$SECRET http GET /tokens/self
    expect 200 ".id == \"$TID\" and .name == \"ci-agent\""
    http GET /tokens/self
    expect 200 '.id == "root" and .scopes == ["*:write"]'
    # a scoped token uses what its scopes allow; the log names its id
    TOKEN=$SECRET http GET /document/ci-status -H "X-Request-Id: scoped-one"
    expect 200
    grep -q "\"request_id\":\"scoped-one\".*\"token_id\":\"$TID\"" "$STACK_DIR/main/lighttpd.log"
    # last_used_at, to the minute
    http GET "/tokens/$TID"
    expect 200 '.last_used_at | test(":00\\.000000Z$")'
}

@test "POST /tokens: name, scopes and expires_in_seconds at their edges; a bad scope is 422 naming scopes[i]" {
    long=$(printf 'n%.0s' $(seq 1 128))
    mint "$long" '["document:read"]'
    http POST /tokens -d "{\"name\": \"${long}n\", \"scopes\": [\"document:read\"]}"
    expect_error 422 validation_failed
    http POST /tokens -d '{"name": "", "scopes": ["document:read"]}'
    expect_error 422 validation_failed
    http POST /tokens -d '{"name": "x", "scopes": []}'
    expect 422 '.field == "scopes"'
    sixty_four=$(jq -nc '[range(64) | "document:read:n\(.)"]')
    mint x "$sixty_four"
    sixty_five=$(jq -nc '[range(65) | "document:read:n\(.)"]')
    http POST /tokens -d "{\"name\": \"x\", \"scopes\": $sixty_five}"
    expect 422 '.field == "scopes"'
    for bad in 'document:admin' 'tokens:read' 'metrics:write' 'file:read' 'file:write:x' 'sql:read:Orders' 'document:read:a*b' 'document'; do
        http POST /tokens -d "{\"name\": \"x\", \"scopes\": [\"queue:read\", \"$bad\"]}"
        expect 422 '.error == "validation_failed" and .field == "scopes[1]"' || { echo "scope [$bad]"; return 1; }
    done
    mint x '["metrics:read", "file:write", "sql:read:orders*", "*:read"]' '"expires_in_seconds": 60'
    mint x '["queue:read"]' '"expires_in_seconds": 31536000'
    for e in 59 31536001 0 '"60"'; do
        http POST /tokens -d "{\"name\": \"x\", \"scopes\": [\"queue:read\"], \"expires_in_seconds\": $e}"
        expect 422 '.field == "expires_in_seconds"' || { echo "expires [$e]"; return 1; }
    done
}

@test "GET /tokens: paginated by id, every token once; limit at its edges" {
    for i in 1 2 3; do mint "page-$i" '["queue:read"]'; done
    total=$(psql_q "select count(*) from auth_tokens")
    seen=0 after="" pages=0
    while :; do
        http GET "/tokens?limit=2${after:+&after=$after}"
        expect 200 '(.items | length) <= 2' || return 1
        seen=$((seen + $(jq '.items | length' <<<"$BODY")))
        pages=$((pages + 1))
        after=$(jq -r '.next // empty' <<<"$BODY")
        [ -n "$after" ] || break
    done
    [ "$seen" -eq "$total" ]
    [ "$pages" -ge 2 ]
    http GET '/tokens?limit=1000'
    expect 200
    http GET '/tokens?limit=1001'
    expect 422 '.field == "limit"'
    http GET '/tokens?after=nope'
    expect 422 '.field == "after"'
}

@test "scoped tokens: /tokens is root only (but /tokens/self); revoked and expired tokens are 401 within 2 s" {
    mint worker '["queue:write:jobs"]'
    TOKEN=$SECRET http GET /tokens
    expect 403 '.error == "forbidden" and .field == "scope"'
    TOKEN=$SECRET http POST /tokens -d '{"name": "y", "scopes": ["queue:read"]}'
    expect_error 403 forbidden
    TOKEN=$SECRET http DELETE "/tokens/$TID"
    expect_error 403 forbidden
    TOKEN=$SECRET http GET /queue/jobs
    expect 200
    http DELETE "/tokens/$TID"
    expect 200 ".id == \"$TID\" and .revoked == true"
    http DELETE "/tokens/$TID"
    expect_error 404 not_found
    sleep 2.1
    TOKEN=$SECRET http GET /queue/jobs
    expect_error 401 unauthorized
    header_has WWW-Authenticate Bearer
    # expiry: moved into the past in the database
    mint soon '["queue:read"]' '"expires_in_seconds": 60'
    TOKEN=$SECRET http GET /queue/jobs
    expect 200
    psql_q "update auth_tokens set expires_at = now() - interval '1 second' where id = '$TID'"
    sleep 2.1
    TOKEN=$SECRET http GET /queue/jobs
    expect_error 401 unauthorized
    # a made-up bk_ token is 401 like any wrong one
    TOKEN=bk_$(printf '0%.0s' $(seq 1 64)) http GET /queue/jobs
    expect_error 401 unauthorized
}

@test "scopes: each route's area, access and namespace; 422 before 403; 403 never tells whether a thing exists" {
    http PUT /document/ci-status/exists -d '{"a": 1}'
    expect 201
    mint reader '["document:read:ci-*", "queue:write:jobs"]'
    TOKEN=$SECRET http GET /document/ci-status/exists
    expect 200
    TOKEN=$SECRET http GET /document/ci-status/missing
    expect_error 404 not_found
    # outside the prefix: 403 whether the document exists or not, naming the scope
    http PUT /document/other/exists -d '{"a": 1}'
    expect 201
    for k in exists missing; do
        TOKEN=$SECRET http GET "/document/other/$k"
        expect 403 '.error == "forbidden" and .field == "scope" and (.detail | contains("document:read:other"))'
    done
    # read is not write
    TOKEN=$SECRET http PUT /document/ci-status/exists -d '{"a": 2}'
    expect 403 '.detail | contains("document:write:ci-status")'
    TOKEN=$SECRET http POST /document -d '{"namespace": "ci-x", "key": "k", "payload": 1}'
    expect 403 '.detail | contains("document:write:ci-x")'
    # 422 comes first
    TOKEN=$SECRET http GET '/document/-bad/x'
    expect_error 422 validation_failed
    # the queue: exact namespace, write includes read
    TOKEN=$SECRET http POST /queue/jobs -d '{"payload": 1}'
    expect 201
    TOKEN=$SECRET http GET /queue/jobs
    expect 200
    TOKEN=$SECRET http POST /queue/jobs2 -d '{"payload": 1}'
    expect 403 '.detail | contains("queue:write:jobs2")'
    # no scope of the area
    TOKEN=$SECRET http GET /metrics
    expect 403 '.detail | contains("metrics:read")'
    TOKEN=$SECRET http POST /files/temp --data-binary 'x'
    expect 403 '.detail | contains("file:write")'
    TOKEN=$SECRET http GET /sql/tables
    expect 403 '.detail | contains("sql:read")'
    [ "$(psql_q "select count(*) from documents where namespace = 'ci-x'")" -eq 0 ]
}

@test "scopes: metrics:read opens /metrics; *:read reads every area and writes none" {
    mint scraper '["metrics:read"]'
    TOKEN=$SECRET http GET /metrics
    expect 200
    TOKEN=$SECRET http GET /document/ci-status
    expect_error 403 forbidden
    mint auditor '["*:read"]'
    TOKEN=$SECRET http GET /document/ci-status
    expect 200
    TOKEN=$SECRET http GET /metrics
    expect 200
    TOKEN=$SECRET http POST /queue/jobs -d '{"payload": 1}'
    expect 403 '.detail | contains("queue:write:jobs")'
}

@test "scopes: GET /sql/tables and /openapi.json show only the tables the token may read" {
    for t in orders orders_eu users; do
        http POST /sql/tables -d "{\"name\": \"$t\", \"columns\": [{\"name\": \"v\", \"type\": \"text\"}]}"
        expect 201
    done
    mint tables '["sql:read:orders*", "sql:write:users"]'
    TOKEN=$SECRET http GET /sql/tables
    expect 200 '[.items[].name] == ["orders", "orders_eu", "users"]'
    mint one '["sql:read:orders"]'
    TOKEN=$SECRET http GET /sql/tables
    expect 200 '[.items[].name] == ["orders"]'
    TOKEN=$SECRET http GET /sql/tables/users
    expect 403 '.detail | contains("sql:read:users")'
    TOKEN=$SECRET http GET /sql/tables/orders/rows
    expect 200
    TOKEN=$SECRET http POST /sql/tables/orders/rows -d '{"v": "x"}'
    expect 403 '.detail | contains("sql:write:orders")'
    TOKEN=$SECRET http POST /sql/tables -d '{"name": "orders2", "columns": [{"name": "v", "type": "text"}]}'
    expect 403 '.detail | contains("sql:write:orders2")'
    TOKEN=$SECRET http GET /openapi.json
    expect 200 '(.components.schemas | keys | map(select(startswith("sql_row_")))) == ["sql_row_orders"]'
    http GET /openapi.json
    expect 200 '(.components.schemas | keys | map(select(startswith("sql_row_"))) | length) == 3'
}

# mcp_init: an MCP session opened with $TOKEN; prints its id.
mcp_init() {
    curl -s -D - -o /dev/null -H "Authorization: Bearer $TOKEN" \
        -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bats","version":"1"}}}' \
        "$URL/mcp" | tr -d '\r' | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: //p'
}

# rpc JSON: one message on session $SID; sets CODE, BODY, HEADERS.
rpc() { http POST /mcp -H "Mcp-Session-Id: $SID" -H 'MCP-Protocol-Version: 2025-06-18' -d "$1"; }

# call TOOL ARGS-JSON: a tools/call on session $SID.
call() { rpc '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"'"$1"'","arguments":'"$2"'}}'; }

@test "/mcp: tools/list keeps the tools the token's scopes allow; a call of another is an isError forbidden result" {
    mint agent '["document:read:ci-*"]'
    export TOKEN=$SECRET
    SID=$(mcp_init)
    [ -n "$SID" ]
    rpc '{"jsonrpc":"2.0","id":2,"method":"tools/list"}'
    expect 200 '[.result.tools[].name] | sort == ["document_changes", "document_get", "document_list", "document_namespaces", "document_retention_get", "health"]'
    call document_get '{"namespace": "ci-status", "key": "exists"}'
    expect 200 '.result.isError == false'
    call document_get '{"namespace": "other", "key": "exists"}'
    expect 200 '.result.isError == true' '(.result.content[0].text | fromjson | .error) == "forbidden"'
    call document_put '{"namespace": "ci-status", "key": "k", "payload": 1}'
    expect 200 '.result.isError == true' '(.result.content[0].text | fromjson | .error) == "forbidden"'
    call sql_list_tables '{}'
    expect 200 '.result.isError == true' '(.result.content[0].text | fromjson | .detail) | contains("sql:read")'
    # the session is bound to its token: the same id with another is 404
    TOKEN=$DATASTORE_TOKEN rpc '{"jsonrpc":"2.0","id":3,"method":"tools/list"}'
    expect 404 '.error.code == -32001'
    agent=$SECRET
    TOKEN=$DATASTORE_TOKEN mint other '["document:read:ci-*"]'
    TOKEN=$SECRET rpc '{"jsonrpc":"2.0","id":3,"method":"tools/list"}'
    expect 404
    TOKEN=$SECRET http DELETE /mcp -H "Mcp-Session-Id: $SID"
    expect 404
    TOKEN=$agent rpc '{"jsonrpc":"2.0","id":4,"method":"tools/list"}'
    expect 200 '(.result.tools | length) == 6'
    # the root token's session: every tool, and the log names root:1
    SID=$(TOKEN=$DATASTORE_TOKEN mcp_init)
    TOKEN=$DATASTORE_TOKEN rpc '{"jsonrpc":"2.0","id":5,"method":"tools/list"}'
    expect 200 '(.result.tools | length) > 4'
    grep -q '"path":"/mcp".*"token_id":"root:1"' "$STACK_DIR/main/lighttpd.log"
}

@test "scopes: GET /document, /mcp's resources/list, completions and reads show only the namespaces the token may read" {
    for ns in ci-a ci-b other; do
        http PUT "/document/$ns/k" -d '{"v": 1}'
        expect 201
    done
    http GET '/document?limit=1000'
    expect 200 '[.items[].namespace] | index("other") != null'
    mint lister '["document:read:ci-*"]'
    TOKEN=$SECRET http GET '/document?limit=1000'
    expect 200 '[.items[].namespace] | all(startswith("ci-")) and index("ci-a") != null and index("ci-b") != null'
    # one page at a time, still only those, and the cursor goes on past the others
    TOKEN=$SECRET http GET '/document?limit=1'
    expect 200 '[.items[].namespace] == ["ci-a"]' '.next == "ci-a"'
    export TOKEN=$SECRET
    SID=$(mcp_init)
    rpc '{"jsonrpc":"2.0","id":2,"method":"resources/list"}'
    expect 200 '[.result.resources[].uri] | all(startswith("backend://document/ci-"))' \
        '[.result.resources[].uri] | index("backend://document/ci-a") != null'
    rpc '{"jsonrpc":"2.0","id":3,"method":"completion/complete","params":{"ref":{"type":"ref/resource","uri":"backend://document/{namespace}"},"argument":{"name":"namespace","value":""}}}'
    expect 200 '.result.completion.values | all(startswith("ci-")) and index("ci-b") != null'
    rpc '{"jsonrpc":"2.0","id":4,"method":"completion/complete","params":{"ref":{"type":"ref/resource","uri":"backend://document/{namespace}/{key}"},"argument":{"name":"key","value":""},"context":{"arguments":{"namespace":"other"}}}}'
    expect 200 '.result.completion.values == []'
    rpc '{"jsonrpc":"2.0","id":5,"method":"resources/read","params":{"uri":"backend://document/other/k"}}'
    expect 200 '.error.code == -32002'
    rpc '{"jsonrpc":"2.0","id":6,"method":"resources/read","params":{"uri":"backend://document/ci-a/k"}}'
    expect 200 '(.result.contents[0].text | fromjson | .payload.v) == 1'
}

@test "two replicas on one database: a new token works on the other within 2 s, a revoked one is refused there within 2 s" {
    service_up rep2
    local other
    other=$(service_url rep2)
    # the other replica's processes have read the (empty or older) set already
    BASE=$other http GET /document/ci-status
    expect 200
    mint replica '["document:read"]'
    start=$(date +%s%N)
    until BASE=$other TOKEN=$SECRET http GET /document/ci-status && [ "$CODE" = 200 ]; do
        [ $(($(date +%s%N) - start)) -lt 2000000000 ] || { echo "new token not taken in 2 s: $CODE"; return 1; }
        sleep 0.05
    done
    # every process of the other replica: each of its document processes
    for _ in 1 2 3 4 5 6; do
        BASE=$other TOKEN=$SECRET http GET /document/ci-status
        expect 200
    done
    http DELETE "/tokens/$TID"
    expect 200
    start=$(date +%s%N)
    until BASE=$other TOKEN=$SECRET http GET /document/ci-status && [ "$CODE" = 401 ]; do
        [ $(($(date +%s%N) - start)) -lt 2000000000 ] || { echo "revoked token still taken after 2 s: $CODE"; return 1; }
        sleep 0.05
    done
    for _ in 1 2 3 4 5 6; do
        BASE=$other TOKEN=$SECRET http GET /document/ci-status
        expect_error 401 unauthorized
    done
    service_down rep2
}

@test "a revoked token counts toward AUTH_FAILURES_MAX like a wrong one" {
    AUTH_FAILURES_MAX=2 service_up limited
    local lim
    lim=$(service_url limited)
    mint gone '["document:read"]'
    BASE=$lim TOKEN=$SECRET http GET /document/ci-status
    expect 200
    http DELETE "/tokens/$TID"
    expect 200
    sleep 2.1
    for _ in 1 2 3; do
        BASE=$lim TOKEN=$SECRET http GET /document/ci-status
        expect_error 401 unauthorized
    done
    # over the limit: 429 even with the root token
    BASE=$lim http GET /document/ci-status
    expect_error 429 rate_limited
    service_down limited
}

@test "revoking a token ends its open streams within 2 s: a changes feed and an /mcp GET stream" {
    mint streamer '["document:read:ci-*"]'
    curl -sN --max-time 60 -H "Authorization: Bearer $SECRET" -H 'Accept: text/event-stream' \
        "$URL/document/ci-status/_changes?since=now" >"$BATS_TEST_TMPDIR/feed" 2>&1 3>&- &
    feed=$!
    SID=$(TOKEN=$SECRET mcp_init)
    [ -n "$SID" ]
    curl -sN --max-time 60 -H "Authorization: Bearer $SECRET" -H "Mcp-Session-Id: $SID" \
        -H 'Accept: text/event-stream' "$URL/mcp" >"$BATS_TEST_TMPDIR/mcp" 2>&1 3>&- &
    stream=$!
    sleep 3
    # both still open, 3 s in
    kill -0 "$feed"
    kill -0 "$stream"
    http DELETE "/tokens/$TID"
    expect 200
    start=$(date +%s)
    wait "$feed" || true
    wait "$stream" || true
    took=$(($(date +%s) - start))
    [ "$took" -le 4 ] || { echo "the streams ended ${took}s after the revocation"; return 1; }
    grep -q 'stream open' "$BATS_TEST_TMPDIR/mcp"
}
