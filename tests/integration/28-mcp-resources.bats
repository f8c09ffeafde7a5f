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
}
teardown_file() { stack_teardown; }

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
