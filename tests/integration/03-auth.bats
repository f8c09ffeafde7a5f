#!/usr/bin/env bats
# Bearer auth (docs/api.md) and configuration checks (README.md, "Configuration").

load ../lib/stack
bats_require_minimum_version 1.5.0

setup_file() { stack_setup; }
teardown_file() { stack_teardown; }

@test "right token: 200" {
    http GET /document/any
    expect 200 '.items == []'
}

@test "missing token: 401 with WWW-Authenticate: Bearer" {
    http_anon GET /document/any
    expect_error 401 unauthorized
    header_has WWW-Authenticate Bearer
    http_anon POST /document -d '{"namespace":"a","key":"b","payload":1}'
    expect_error 401 unauthorized
    [ "$(psql_q "select count(*) from documents where namespace = 'a'")" -eq 0 ]
}

@test "wrong, empty, wrong-length, prefix and suffix tokens: 401" {
    for t in wrong "" "${TOKEN}x" "${TOKEN%?}" "${TOKEN:0:1}" "x${TOKEN:1}" "$(tr a-z A-Z <<<"$TOKEN")"; do
        http_anon GET /document/any -H "Authorization: Bearer $t"
        expect_error 401 unauthorized || { echo "token [$t]"; return 1; }
        header_has WWW-Authenticate Bearer
    done
}

@test "Authorization without Bearer, or another scheme: 401" {
    for h in "$TOKEN" "Basic $TOKEN" "Token $TOKEN" "Bearer" "Bearer  " "bearer"; do
        http_anon GET /document/any -H "Authorization: $h"
        expect_error 401 unauthorized || { echo "header [$h]"; return 1; }
    done
    # The scheme is case-insensitive (RFC 7235).
    http_anon GET /document/any -H "Authorization: bearer $TOKEN"
    expect 200
}

@test "no token configured: 503 auth_not_configured on /document, /health still 200" {
    DATASTORE_TOKEN="" service_up notoken
    BASE=$(service_url notoken)
    BASE=$BASE http GET /document/any
    expect_error 503 auth_not_configured
    BASE=$BASE http_anon POST /document -d '{"namespace":"a","key":"b","payload":1}'
    expect_error 503 auth_not_configured
    BASE=$BASE http_anon GET /health
    expect 200 '.status == "ok"'
    service_down notoken
}

@test "token from DATASTORE_TOKEN_FILE (surrounding whitespace trimmed)" {
    printf '  file-token-xyz\n\n' >"$STACK_DIR/token"
    DATASTORE_TOKEN="" DATASTORE_TOKEN_FILE="$STACK_DIR/token" service_up tokenfile
    BASE=$(service_url tokenfile)
    BASE=$BASE TOKEN=file-token-xyz http GET /document/any
    expect 200
    BASE=$BASE http GET /document/any
    expect_error 401 unauthorized
    service_down tokenfile
}

@test "the token never appears in the log" {
    http GET /document/any
    http_anon GET /document/any -H "Authorization: Bearer not-the-token-but-secret"
    run ! grep -q "$TOKEN" "$STACK_DIR"/*/lighttpd.log
    ! grep -q "not-the-token-but-secret" "$STACK_DIR"/*/lighttpd.log
}

@test "invalid configuration stops start-up with one line naming the variable" {
    for v in BODY_MAX_BYTES=abc BODY_MAX_BYTES=0 BODY_MAX_BYTES=-5 FILE_MAX_BYTES=1x PORT=70000 PORT=abc \
        LOG_LEVEL=loud FILE_TTL_SECONDS=0 DB_TIMEOUT_MS=x LISTEN_ADDR='a"b' FILE_TEMP_DIR=relative \
        DATASTORE_TOKEN_FILE=/nonexistent/token TRUSTED_PROXIES=10.0.0.0/33 TRUSTED_PROXIES=proxy.example \
        'TRUSTED_PROXIES=10.0.0.1 10.0.0.2' WAITERS_PER_PROCESS=0 WAITERS_PER_PROCESS=4097; do
        name=${v%%=*}
        run env DATASTORE_TOKEN="" "$v" "$BACKEND_BIN/backend-registry" --check-config
        [ "$status" -eq 2 ] || { echo "$v: status $status"; return 1; }
        [ "${#lines[@]}" -eq 1 ]
        [[ "${lines[0]}" == "backend: invalid configuration: $name "* ]] || { echo "$v: ${lines[0]}"; return 1; }
    done
    run env DATASTORE_TOKEN=secret-value BODY_MAX_BYTES=abc "$BACKEND_BIN/backend-health" --check-config
    [[ "$output" != *secret-value* ]]
    run env TRUSTED_PROXIES="10.0.0.0/8, fd00::/8 ,192.168.1.7" "$BACKEND_BIN/backend-registry" --check-config
    [ "$status" -eq 0 ]
    # WAITERS_PER_PROCESS at its edges (1 and 4096 taken; 0 and 4097 above)
    for v in WAITERS_PER_PROCESS=1 WAITERS_PER_PROCESS=4096; do
        run env "$v" "$BACKEND_BIN/backend-registry" --check-config
        [ "$status" -eq 0 ] || { echo "$v: status $status: $output"; return 1; }
    done
}

@test "each mode executable checks the shared settings and its own, and only those" {
    run env FILE_TEMP_DIR=relative "$BACKEND_BIN/backend-file" --check-config
    [ "$status" -eq 2 ]
    [[ "${lines[0]}" == "backend: invalid configuration: FILE_TEMP_DIR "* ]]
    run env BODY_MAX_BYTES=0 "$BACKEND_BIN/backend-document" --check-config
    [ "$status" -eq 2 ]
    [[ "${lines[0]}" == "backend: invalid configuration: BODY_MAX_BYTES "* ]]
    # The document process carries no file mode, so no file setting.
    run env FILE_TEMP_DIR=relative "$BACKEND_BIN/backend-document" --check-config
    [ "$status" -eq 0 ]
    run env MCP_SESSION_IDLE_SECONDS=0 "$BACKEND_BIN/backend-registry" --check-config
    [ "$status" -eq 2 ]
    [[ "${lines[0]}" == "backend: invalid configuration: MCP_SESSION_IDLE_SECONDS "* ]]
}

@test "a service started with an invalid value does not start" {
    BODY_MAX_BYTES=nope run service_up badconfig
    [ "$status" -ne 0 ]
    grep -q "backend: invalid configuration: BODY_MAX_BYTES" "$STACK_DIR/badconfig/lighttpd.log"
    ! pgrep -f "$STACK_DIR/badconfig" >/dev/null
}
