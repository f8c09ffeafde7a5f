#!/usr/bin/env bats
# /mcp's data as resources (docs/mcp.md, "Resources"), browser clients
# connecting directly (CORS) and OAuth discovery (/.well-known/, 404 with
# no token): curl for the edges, the official SDK clients (1.x, and 2.x in
# both eras) for what a client sees.

load ../lib/stack

setup_file() {
    "$ROOT/tests/mcp/install.sh"
    export MCP_ALLOWED_ORIGINS="https://app.example"
    stack_setup
    export MCP="$URL/mcp"
    # What the resources stand for: a document with two versions, a queue
    # with an item, a table with a row.
    local auth=(-H "Authorization: Bearer $TOKEN")
    curl -sf "${auth[@]}" "$URL/document" -d '{"namespace":"res-docs","key":"alpha","payload":{"n":1}}' >/dev/null
    curl -sf "${auth[@]}" "$URL/document" -d '{"namespace":"res-docs","key":"alpha","payload":{"n":2}}' >/dev/null
    curl -sf "${auth[@]}" "$URL/document" -d '{"namespace":"res-docs","key":"beta","payload":[1,2]}' >/dev/null
    curl -sf "${auth[@]}" "$URL/queue/res-jobs" -d '{"payload":{"job":1}}' >/dev/null
    curl -sf "${auth[@]}" "$URL/sql/tables" -d '{"name":"res_items","columns":[{"name":"label","type":"text"}]}' >/dev/null
    curl -sf "${auth[@]}" "$URL/sql/tables/res_items/rows" -d '{"label":"first"}' >/dev/null
}
teardown_file() { stack_teardown; }

# mcp_init [VERSION]: initializes a session; prints its id.
mcp_init() {
    curl -s -D - -o /dev/null -H "Authorization: Bearer $TOKEN" \
        -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"'"${1:-2025-11-25}"'","capabilities":{},"clientInfo":{"name":"bats","version":"1"}}}' \
        "$MCP" | tr -d '\r' | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: //p'
}

# rpc METHOD PARAMS [curl args]: a request on session $SID (PARAMS: the
# params object's JSON); sets CODE, BODY, HEADERS.
rpc() {
    local method=$1 params=$2
    shift 2
    http POST /mcp -H "Mcp-Session-Id: $SID" \
        -d '{"jsonrpc":"2.0","id":7,"method":"'"$method"'","params":'"$params"'}' "$@"
}

# srpc METHOD PARAMS [curl args]: a 2026-07-28 request (PARAMS: the params
# object's members, or ""), with its _meta and headers (Mcp-Name from
# params.uri on resources/read, unless the curl args give one).
srpc() {
    local method=$1 params=$2
    shift 2
    local name meta='"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}'
    name=$(jq -r '.uri // .name // empty' <<<"{$params}")
    local h=(-H 'MCP-Protocol-Version: 2026-07-28' -H "Mcp-Method: $method")
    [[ " ${*,,} " == *" mcp-name:"* ]] && name=""
    [ -n "$name" ] && h+=(-H "Mcp-Name: $name")
    http POST /mcp "${h[@]}" -d '{"jsonrpc":"2.0","id":"s1","method":"'"$method"'","params":{'"$params${params:+,}$meta"'}}' "$@"
}

# no_header REGEX: no header line of the last response matches (case
# insensitive) the start REGEX.
no_header() {
    if grep -qi "^$1" <<<"$HEADERS"; then
        echo "unexpected header $(grep -i "^$1" <<<"$HEADERS")" >&2
        return 1
    fi
}

@test "every /.well-known/ path is 404 not_found before any token, whatever the method" {
    for path in /.well-known/oauth-protected-resource /.well-known/oauth-protected-resource/mcp \
        /.well-known/oauth-authorization-server /.well-known/openid-configuration /.well-known/x/y/z; do
        http_anon GET "$path"
        expect_error 404 not_found
        header_has Content-Type application/json
        http_anon POST "$path" -H 'Authorization: Bearer wrong' -d '{}'
        expect_error 404 not_found
    done
    # only that prefix: a look-alike is still behind the token
    http_anon GET /.well-knownx/openid-configuration
    expect_error 401 unauthorized
    http_anon GET /wellknown/.well-known/x
    expect_error 401 unauthorized
}

@test "CORS preflight from an allowed origin: 204 with no token, the Allow- headers, Max-Age 600, no credentials" {
    for origin in http://localhost:6274 https://app.example 'http://127.0.0.1:3000'; do
        http_anon OPTIONS /mcp -H "Origin: $origin" -H 'Access-Control-Request-Method: POST' \
            -H 'Access-Control-Request-Headers: authorization, content-type, mcp-protocol-version'
        expect 204
        [ -z "$BODY" ]
        header_has Access-Control-Allow-Origin "$origin"
        header_has Access-Control-Allow-Methods 'GET, POST, DELETE'
        header_has Access-Control-Allow-Headers \
            'Authorization, Content-Type, Accept, Mcp-Session-Id, MCP-Protocol-Version, Mcp-Method, Mcp-Name, Last-Event-ID'
        header_has Access-Control-Max-Age 600
        header_has Vary Origin
        header_has Access-Control-Expose-Headers 'Mcp-Session-Id, WWW-Authenticate'
        no_header 'Access-Control-Allow-Credentials'
    done
}

@test "CORS: a disallowed origin is 403 forbidden_origin, preflight included, with no Allow-Origin" {
    for origin in https://evil.example null 'http://localhost.evil.example'; do
        http_anon OPTIONS /mcp -H "Origin: $origin" -H 'Access-Control-Request-Method: POST'
        expect_error 403 forbidden_origin
        no_header 'Access-Control-'
        http POST /mcp -H "Origin: $origin" -d '{}'
        expect_error 403 forbidden_origin
        no_header 'Access-Control-'
    done
    # an OPTIONS with no Origin is no preflight: the token comes first
    http_anon OPTIONS /mcp
    expect_error 401 unauthorized
    http OPTIONS /mcp
    expect_error 405 method_not_allowed
    no_header 'Access-Control-'
}

@test "CORS: every answer to an allowed origin carries Allow-Origin, Expose-Headers and Vary, the 401 and errors included" {
    local origin=http://localhost:6274
    http_anon POST /mcp -H "Origin: $origin" -d '{"jsonrpc":"2.0","id":1,"method":"ping"}'
    expect_error 401 unauthorized
    header_has Access-Control-Allow-Origin "$origin"
    header_has Access-Control-Expose-Headers 'Mcp-Session-Id, WWW-Authenticate'
    header_has Vary Origin
    http POST /mcp -H "Origin: $origin" \
        -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bats","version":"1"}}}'
    expect 200 '.result.protocolVersion == "2025-11-25"'
    header_has Access-Control-Allow-Origin "$origin"
    header_has Access-Control-Expose-Headers 'Mcp-Session-Id, WWW-Authenticate'
    header_has Access-Control-Max-Age 600
    header_has Mcp-Session-Id
    no_header 'Access-Control-Allow-Credentials'
    no_header 'Access-Control-Allow-Methods'
    # with no Origin (a command-line client): no CORS headers at all
    http POST /mcp -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25"}}'
    expect 200
    no_header '\(Access-Control-\|Vary\)'
}

@test "capabilities: resources (with subscribe) and completions in both eras (initialize and server/discover)" {
    for v in 2025-03-26 2025-06-18 2025-11-25; do
        http POST /mcp -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"'$v'"}}'
        expect 200 '.result.capabilities == {"tools": {}, "resources": {"subscribe": true}, "completions": {}}'
    done
    srpc server/discover ''
    expect 200 '.result.capabilities == {"tools": {}, "resources": {"subscribe": true}, "completions": {}}'
}

@test "resources/templates/list: the six templates, each with a title, a description and application/json; cacheable in 2026-07-28" {
    SID=$(mcp_init)
    rpc resources/templates/list '{}'
    expect 200 '[.result.resourceTemplates[].uriTemplate] == ["backend://document/{namespace}/{key}","backend://document/{namespace}/{key}/versions/{version}","backend://document/{namespace}","backend://queue/{namespace}","backend://sql/{table}","backend://sql/{table}/rows/{id}"]' \
        'all(.result.resourceTemplates[]; .mimeType == "application/json" and (.title | length) > 3 and (.description | length) > 10 and (.name | length) > 3)' \
        '.result | has("ttlMs") | not'
    # 2025-03-26 knows no title
    SID=$(mcp_init 2025-03-26)
    rpc resources/templates/list '{}'
    expect 200 '(.result.resourceTemplates | length) == 6' 'all(.result.resourceTemplates[]; has("title") | not)'
    srpc resources/templates/list ''
    expect 200 '(.result.resourceTemplates | length) == 6' '.result.resultType == "complete"' \
        '.result.ttlMs >= 0' '.result.cacheScope == "private"' '.result._meta["io.modelcontextprotocol/serverInfo"].name == "backend"'
}

@test "resources/list: every document namespace, queue and table once, 100 a page with nextCursor; a foreign cursor is -32602" {
    # 100 more namespaces: the list is then over one page whatever the
    # other tests made
    for i in $(seq -w 1 100); do
        curl -sf -H "Authorization: Bearer $TOKEN" "$URL/document" -d '{"namespace":"res-page-'"$i"'","key":"k","payload":1}' >/dev/null
    done
    local want got
    want=$( (psql_q "SELECT 'backend://document/' || namespace FROM document_heads GROUP BY namespace"
        psql_q "SELECT 'backend://queue/' || namespace FROM queue_items UNION SELECT 'backend://queue/' || namespace FROM queue_paused"
        psql_q "SELECT 'backend://sql/' || name FROM sql__tables") | LC_ALL=C sort)
    [ "$(wc -l <<<"$want")" -gt 100 ]
    SID=$(mcp_init)
    rpc resources/list '{}'
    expect 200 '(.result.resources | length) == 100' '.result.nextCursor | type == "string"' \
        'all(.result.resources[]; .mimeType == "application/json" and (.name | length) > 0)' \
        '.result.resources[0].uri == "backend://document/res-docs"'
    got=$(jq -r '.result.resources[].uri' <<<"$BODY")
    local cursor pages=1
    cursor=$(jq -r .result.nextCursor <<<"$BODY")
    while [ "$cursor" != null ]; do
        rpc resources/list "$(jq -nc --arg c "$cursor" '{cursor: $c}')"
        expect 200 '(.result.resources | length) <= 100'
        got+=$'\n'$(jq -r '.result.resources[].uri' <<<"$BODY")
        cursor=$(jq -r '.result.nextCursor // "null"' <<<"$BODY")
        pages=$((pages + 1))
    done
    [ "$pages" -eq $(( ($(wc -l <<<"$want") + 99) / 100 )) ]
    # documents, then queues, then tables, each by name; all of them, once
    [ "$(grep -n . <<<"$got" | grep -m1 backend://queue/ | cut -d: -f1)" -gt "$(grep -n . <<<"$got" | grep backend://document/ | tail -n1 | cut -d: -f1)" ]
    diff <(LC_ALL=C sort <<<"$got") <(echo "$want")
    grep -qx backend://queue/res-jobs <<<"$got"
    grep -qx backend://sql/res_items <<<"$got"
    for bad in '"x"' '"9:zz"' '7'; do
        rpc resources/list '{"cursor":'"$bad"'}'
        expect 200 '.error.code == -32602'
    done
    srpc resources/list ''
    expect 200 '(.result.resources | length) == 100' '.result.cacheScope == "private"' '.result.ttlMs == 0' \
        '.result.resultType == "complete"'
}

# same_text WANT: the last read's text is WANT byte for byte; a queue's
# counts (with the age of its oldest item, which grows between the two
# reads) are compared without that age.
same_text() {
    local got
    got=$(jq -r '.result.contents[0].text' <<<"$BODY")
    if jq -e 'has("oldest_ready_age_seconds")' <<<"$1" >/dev/null 2>&1; then
        [ "$(jq -c 'del(.oldest_ready_age_seconds)' <<<"$got")" = "$(jq -c 'del(.oldest_ready_age_seconds)' <<<"$1")" ]
    else
        [ "$got" = "$1" ]
    fi
}

@test "resources/read: one JSON item holding exactly what the HTTP GET returns, for each template" {
    SID=$(mcp_init)
    for pair in 'document/res-docs/alpha=/document/res-docs/alpha' \
        'document/res-docs/alpha/versions/1=/document/res-docs/alpha?version=1' \
        'document/res-docs=/document/res-docs' 'queue/res-jobs=/queue/res-jobs' \
        'sql/res_items=/sql/tables/res_items' 'sql/res_items/rows/1=/sql/tables/res_items/rows/1'; do
        local uri=backend://${pair%%=*} path=${pair#*=}
        http GET "$path"
        expect 200
        local want=$BODY
        rpc resources/read "$(jq -nc --arg u "$uri" '{uri: $u}')"
        expect 200 '(.result.contents | length) == 1' ".result.contents[0].uri == \"$uri\"" \
            '.result.contents[0].mimeType == "application/json"'
        same_text "$want"
        srpc resources/read "\"uri\":\"$uri\""
        expect 200 '.result.cacheScope == "private"' '.result.ttlMs == 0' '.result.resultType == "complete"'
        same_text "$want"
    done
    rpc resources/read '{"uri":"backend://document/res-docs/alpha/versions/2"}'
    expect 200 '(.result.contents[0].text | fromjson | .payload.n) == 2'
    # a namespace reads as its first page, with the list's next
    rpc resources/read '{"uri":"backend://document/res-docs"}'
    expect 200 '(.result.contents[0].text | fromjson | [.items[].key]) == ["alpha","beta"]' \
        '.result.contents[0].text | fromjson | has("next")'
}

@test "resources/read of a URI that names nothing: -32002 in a session, -32602 in 2026-07-28, with the route's error in data" {
    SID=$(mcp_init)
    for uri in backend://document/res-docs/nope backend://document/res-docs/alpha/versions/3 \
        backend://sql/res_items/rows/99 backend://sql/no_such_table; do
        rpc resources/read '{"uri":"'"$uri"'"}'
        expect 200 '.error.code == -32002' '.error.data.error == "not_found"' ".error.data.uri == \"$uri\"" \
            '.error.message == "Resource not found"'
        srpc resources/read '"uri":"'"$uri"'"'
        expect 200 '.error.code == -32602' '.error.data.error == "not_found"'
    done
    # no template, or a name the routes refuse: the same error
    for uri in backend://elsewhere/x backend://document/res-docs/_changes 'backend://document/res-docs/alpha?version=1' \
        backend://document/res-docs/alpha/versions/x backend://document backend://document/a/b/c/d/e/f \
        http://document/res-docs 'backend://document/res%2Ddocs' backend://sql/res_items/rows/1.5 backend://document//alpha; do
        rpc resources/read "$(jq -nc --arg u "$uri" '{uri: $u}')"
        expect 200 '.error.code == -32002' ".error.data.uri == $(jq -n --arg u "$uri" '$u')"
    done
    rpc resources/read '{}'
    expect 200 '.error.code == -32602'
    rpc resources/read '{"uri":5}'
    expect 200 '.error.code == -32602'
    # 2026-07-28: Mcp-Name mirrors params.uri
    srpc resources/read '"uri":"backend://document/res-docs/alpha"' -H 'Mcp-Name: backend://document/res-docs/beta'
    expect 400 '.error.code == -32020'
    srpc resources/read '"uri":"backend://document/res-docs/alpha"' -H "Mcp-Name: =?base64?$(printf backend://document/res-docs/alpha | base64 -w0)?="
    expect 200 '.result.contents[0].uri == "backend://document/res-docs/alpha"'
}

# complete TEMPLATE ARGUMENT VALUE [CONTEXT-ARGUMENTS-JSON]: a
# completion/complete on session $SID.
complete() {
    rpc completion/complete "$(jq -nc --arg t "$1" --arg n "$2" --arg v "$3" --argjson c "${4:-null}" \
        '{ref: {type: "ref/resource", uri: $t}, argument: {name: $n, value: $v}} + (if $c then {context: {arguments: $c}} else {} end)')"
}

@test "completion/complete: namespaces, keys (live ones, by prefix, at most 100) and tables" {
    SID=$(mcp_init)
    # 101 live keys and a deleted one in a namespace of its own
    for i in $(seq -w 0 100); do
        curl -sf -H "Authorization: Bearer $TOKEN" "$URL/document" -d '{"namespace":"res-keys","key":"item-'"$i"'","payload":1}' >/dev/null
    done
    curl -sf -H "Authorization: Bearer $TOKEN" "$URL/document" -d '{"namespace":"res-keys","key":"gone-1","payload":1}' >/dev/null
    curl -sf -X DELETE -H "Authorization: Bearer $TOKEN" "$URL/document/res-keys/gone-1" >/dev/null
    complete 'backend://document/{namespace}/{key}' key item- '{"namespace":"res-keys"}'
    expect 200 '(.result.completion.values | length) == 100' '.result.completion.hasMore == true' \
        '.result.completion.values[0] == "item-000" and .result.completion.values[99] == "item-099"'
    complete 'backend://document/{namespace}/{key}' key item-1 '{"namespace":"res-keys"}'
    expect 200 '.result.completion.values == ["item-100"]' '.result.completion.hasMore == false'
    complete 'backend://document/{namespace}/{key}/versions/{version}' key item-09 '{"namespace":"res-keys"}'
    expect 200 '.result.completion.values == ["item-090","item-091","item-092","item-093","item-094","item-095","item-096","item-097","item-098","item-099"]'
    complete 'backend://document/{namespace}/{key}' key gone '{"namespace":"res-keys"}'
    expect 200 '.result.completion.values == []' '.result.completion.hasMore == false'
    # a key needs its namespace; one that names nothing completes nothing
    complete 'backend://document/{namespace}/{key}' key item-
    expect 200 '.result.completion.values == []'
    complete 'backend://document/{namespace}/{key}' key item- '{"namespace":"res-nope"}'
    expect 200 '.result.completion.values == []'
    # namespaces of each kind, tables
    complete 'backend://document/{namespace}' namespace res-
    expect 200 '.result.completion.values[0:3] == ["res-docs","res-keys","res-page-001"]' \
        'all(.result.completion.values[]; startswith("res-"))' '(.result.completion.values | index("res-jobs")) == null'
    complete 'backend://document/{namespace}/{key}' namespace res-k
    expect 200 '.result.completion.values == ["res-keys"]'
    complete 'backend://queue/{namespace}' namespace res
    expect 200 '.result.completion.values == ["res-jobs"]'
    complete 'backend://queue/{namespace}' namespace ''
    expect 200 '.result.completion.values == ["res-jobs"]'
    complete 'backend://sql/{table}/rows/{id}' table res_
    expect 200 '.result.completion.values == ["res_items"]'
    complete 'backend://sql/{table}' table zzz
    expect 200 '.result.completion.values == []'
    # versions and ids: nothing offered
    complete 'backend://sql/{table}/rows/{id}' id 1 '{"table":"res_items"}'
    expect 200 '.result.completion.values == []'
    # not this server's: -32602
    complete 'backend://sql/{table}' namespace x
    expect 200 '.error.code == -32602'
    complete 'backend://other/{x}' x ''
    expect 200 '.error.code == -32602'
    rpc completion/complete '{"ref":{"type":"ref/prompt","name":"p"},"argument":{"name":"a","value":""}}'
    expect 200 '.error.code == -32602'
    rpc completion/complete '{"ref":{"type":"ref/resource","uri":"backend://sql/{table}"}}'
    expect 200 '.error.code == -32602'
    # 2026-07-28: the same answer, complete
    srpc completion/complete '"ref":{"type":"ref/resource","uri":"backend://queue/{namespace}"},"argument":{"name":"namespace","value":"res"}'
    expect 200 '.result.completion.values == ["res-jobs"]' '.result.resultType == "complete"'
}

@test "the official SDK 1.x client: templates, every page of the list, each template read as its GET, unknown URIs, a completion, a subscription's notification" {
    run node "$ROOT/tests/mcp/resources-client.mjs" "$MCP" "$TOKEN" sdk res-docs alpha res-jobs res_items
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"protocol version 2025-11-25, session "* ]]
    [ "$(grep -c '^ok - ' <<<"$output")" -eq 7 ]
}

@test "the SDK's 2.x client in the stateless era (2026-07-28): the same, a listen's notification included" {
    run node "$ROOT/tests/mcp/resources-client.mjs" "$MCP" "$TOKEN" v2 res-docs alpha res-jobs res_items
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"protocol version 2026-07-28, session none"* ]]
    [ "$(grep -c '^ok - ' <<<"$output")" -eq 7 ]
    [[ "$output" == *"ok - subscriptions/listen: acknowledged"* ]]
}

@test "the SDK's 2.x client in the session era (its default): the same, a subscription's notification included" {
    run node "$ROOT/tests/mcp/resources-client.mjs" "$MCP" "$TOKEN" v2-session res-docs alpha res-jobs res_items
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"protocol version 2025-11-25, session "* ]]
    [ "$(grep -c '^ok - ' <<<"$output")" -eq 7 ]
}

@test "progress: a waiting tool call with a progressToken is an event stream with a progress event at least every 5 s until its answer" {
    SID=$(mcp_init)
    # a client that takes JSON too gets the stream, because it asked for progress
    curl -sN --max-time 30 -H "Authorization: Bearer $TOKEN" -H "Mcp-Session-Id: $SID" \
        -H 'Accept: application/json, text/event-stream' \
        -d '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"queue_claim","arguments":{"namespace":"res-empty","wait_seconds":9},"_meta":{"progressToken":7}}}' \
        "$MCP" | node "$ROOT/tests/lib/stamp-lines.js" | grep ' data: ' >"$BATS_TEST_TMPDIR/events"
    cat "$BATS_TEST_TMPDIR/events"
    local n
    n=$(wc -l <"$BATS_TEST_TMPDIR/events")
    [ "$n" -ge 4 ]
    # progress 0, 1, 2, ... each for token 7, in order, then the answer
    for i in $(seq 1 $((n - 1))); do
        sed -n "${i}p" "$BATS_TEST_TMPDIR/events" | sed 's/^[0-9.]* data: //' |
            jq -e --argjson p $((i - 1)) '.method == "notifications/progress" and .params.progressToken == 7 and .params.progress == $p' >/dev/null
    done
    tail -n 1 "$BATS_TEST_TMPDIR/events" | sed 's/^[0-9.]* data: //' |
        jq -e '.id == 4 and .result.isError == false and .result.structuredContent.items == []' >/dev/null
    # no gap over 5 s between two events (4 s apart; the margin is the machine's)
    awk 'NR > 1 && $1 - prev > 5.0 { print "gap " $1 - prev; bad = 1 } { prev = $1 } END { exit bad }' "$BATS_TEST_TMPDIR/events"
    # a call with no progressToken from the same client is plain JSON
    http POST /mcp -H "Mcp-Session-Id: $SID" -H 'Accept: application/json, text/event-stream' \
        -d '{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"health","arguments":{}}}'
    expect 200 '.id == 5'
    header_has Content-Type application/json
    # one that does not wait: progress 0, then the answer
    http POST /mcp -H "Mcp-Session-Id: $SID" -H 'Accept: application/json, text/event-stream' \
        -d '{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"health","arguments":{},"_meta":{"progressToken":"h"}}}'
    header_has Content-Type text/event-stream
    [ "$(grep -c '^data: ' <<<"$BODY")" -eq 2 ]
    [ "$(grep '^data: ' <<<"$BODY" | tail -n 1 | sed 's/^data: //' | jq -r .result.isError)" = false ]
}

@test "resources/subscribe: notifications/resources/updated on the session's GET stream within a second of each write, for the key or the namespace; unsubscribe stops them" {
    SID=$(mcp_init)
    local events=$BATS_TEST_TMPDIR/stream
    (curl -sN --max-time 60 -H "Authorization: Bearer $TOKEN" -H "Mcp-Session-Id: $SID" -H 'Accept: text/event-stream' "$MCP" |
        node "$ROOT/tests/lib/stamp-lines.js" >"$events") 3>&- &
    local reader=$!
    rpc resources/subscribe '{"uri":"backend://document/res-watch/k1"}'
    expect 200 '.result == {}'
    rpc resources/subscribe '{"uri":"backend://document/res-watch/k1"}'
    expect 200 '.result == {}'
    rpc resources/subscribe '{"uri":"backend://document/res-watch-ns"}'
    expect 200 '.result == {}'
    # (the session id the client holds is bound to its token, docs/security.md:
    # the table keeps the stored one, so the rows are found by their URIs)
    [ "$(psql_q "SELECT count(*) FROM mcp_subscriptions WHERE uri LIKE 'backend://document/res-watch%'")" -eq 2 ]
    sleep 1
    # write, then wait for the notification: within a second (and a margin)
    local t0 uri
    put_and_wait() { # NS KEY URI: writes NS/KEY, waits for URI's notification; prints the delay in ms
        local n0 t0 t1
        n0=$(grep -c 'resources/updated' "$events" || true)
        t0=$(date +%s%3N)
        curl -sf -H "Authorization: Bearer $TOKEN" "$URL/document" -d '{"namespace":"'"$1"'","key":"'"$2"'","payload":1}' >/dev/null
        for _ in $(seq 100); do
            [ "$(grep -c 'resources/updated' "$events" || true)" -gt "$n0" ] && break
            sleep 0.05
        done
        grep 'resources/updated' "$events" | tail -n 1 | grep -q "\"uri\":\"$3\"" || { echo "no notification for $3" >&2; return 1; }
        t1=$(grep 'resources/updated' "$events" | tail -n 1 | cut -d' ' -f1 | tr -d .)
        echo $((t1 - t0))
    }
    for i in 1 2 3; do
        d=$(put_and_wait res-watch k1 backend://document/res-watch/k1)
        echo "# k1 write $i: notified after $d ms" >&3
        [ "$d" -le "$(slack 1500)" ]
    done
    d=$(put_and_wait res-watch-ns anything backend://document/res-watch-ns)
    echo "# namespace write: notified after $d ms" >&3
    [ "$d" -le "$(slack 1500)" ]
    # another key of the watched document's namespace: nothing for k1
    local before
    before=$(grep -c 'resources/updated' "$events")
    curl -sf -H "Authorization: Bearer $TOKEN" "$URL/document" -d '{"namespace":"res-watch","key":"k2","payload":1}' >/dev/null
    # unsubscribed: nothing more for k1
    rpc resources/unsubscribe '{"uri":"backend://document/res-watch/k1"}'
    expect 200 '.result == {}'
    curl -sf -H "Authorization: Bearer $TOKEN" "$URL/document" -d '{"namespace":"res-watch","key":"k1","payload":2}' >/dev/null
    sleep 1.5
    [ "$(grep -c 'resources/updated' "$events")" -eq "$before" ]
    # the namespace watch still works; every notification is one SSE message event
    d=$(put_and_wait res-watch-ns again backend://document/res-watch-ns)
    [ "$d" -le "$(slack 1500)" ]
    grep ' data: ' "$events" | sed 's/^[0-9.]* data: //' | jq -e -s 'all(.[]; .jsonrpc == "2.0" and .method == "notifications/resources/updated" and (.params.uri | startswith("backend://document/res-watch")))' >/dev/null
    # what cannot be watched, and the stateless era (no session): refused
    for uri in backend://queue/res-jobs backend://sql/res_items backend://document/res-watch/k1/versions/1 backend://elsewhere/x; do
        rpc resources/subscribe '{"uri":"'"$uri"'"}'
        expect 200 '.error.code == -32602'
    done
    rpc resources/subscribe '{}'
    expect 200 '.error.code == -32602'
    srpc resources/subscribe '"uri":"backend://document/res-watch/k1"'
    expect 404 '.error.code == -32601'
    # the session's end ends its subscriptions (and its stream)
    http DELETE /mcp -H "Mcp-Session-Id: $SID"
    expect 200
    wait "$reader" || true
    [ "$(psql_q "SELECT count(*) FROM mcp_subscriptions WHERE uri LIKE 'backend://document/res-watch%'")" -eq 0 ]
}

@test "subscriptions/listen (2026-07-28): acknowledged with the URIs honored, then notifications/resources/updated stamped with the listen's id" {
    local events=$BATS_TEST_TMPDIR/listen
    local meta='"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}'
    (curl -sN --max-time 20 -H "Authorization: Bearer $TOKEN" -H 'MCP-Protocol-Version: 2026-07-28' \
        -H 'Mcp-Method: subscriptions/listen' -H 'Accept: text/event-stream' \
        -d '{"jsonrpc":"2.0","id":"L1","method":"subscriptions/listen","params":{"notifications":{"resourceSubscriptions":["backend://document/res-listen/a","backend://document/res-listen-ns","backend://queue/res-jobs","nope"],"toolsListChanged":true},'"$meta"'}}' \
        "$MCP" | node "$ROOT/tests/lib/stamp-lines.js" >"$events") 3>&- &
    local reader=$!
    for _ in $(seq 50); do grep -q acknowledged "$events" 2>/dev/null && break; sleep 0.1; done
    grep ' data: ' "$events" | head -n 1 | sed 's/^[0-9.]* data: //' |
        jq -e '.method == "notifications/subscriptions/acknowledged" and .params.notifications == {"resourceSubscriptions":["backend://document/res-listen/a","backend://document/res-listen-ns"]} and .params._meta["io.modelcontextprotocol/subscriptionId"] == "L1"' >/dev/null
    local t0
    t0=$(date +%s%3N)
    curl -sf -H "Authorization: Bearer $TOKEN" "$URL/document" -d '{"namespace":"res-listen","key":"a","payload":1}' >/dev/null
    curl -sf -H "Authorization: Bearer $TOKEN" "$URL/document" -d '{"namespace":"res-listen","key":"b","payload":1}' >/dev/null
    curl -sf -H "Authorization: Bearer $TOKEN" "$URL/document" -d '{"namespace":"res-listen-ns","key":"z","payload":1}' >/dev/null
    for _ in $(seq 60); do [ "$(grep -c 'resources/updated' "$events")" -ge 2 ] && break; sleep 0.05; done
    sleep 0.5
    cat "$events"
    grep 'resources/updated' "$events" | sed 's/^[0-9.]* data: //' | jq -s -e '
        (map(.params.uri) | sort) == ["backend://document/res-listen-ns","backend://document/res-listen/a"] and
        all(.[]; .params._meta["io.modelcontextprotocol/subscriptionId"] == "L1")' >/dev/null
    local t1
    t1=$(grep 'resources/updated' "$events" | tail -n 1 | cut -d' ' -f1 | tr -d .)
    [ $((t1 - t0)) -le "$(slack 1500)" ]
    kill "$reader" 2>/dev/null || true
    # its params are checked like any request's
    srpc subscriptions/listen '"notifications":{"resourceSubscriptions":"backend://document/x"}'
    expect 400 '.error.code == -32602'
    srpc subscriptions/listen ''
    expect 400 '.error.code == -32602'
}
