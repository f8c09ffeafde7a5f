#!/usr/bin/env bats
# health (docs/api.md, "The modes"), request ids and logging (docs/api.md), and the
# JSON 404 for unknown paths.

load ../lib/stack

setup_file() { stack_setup; }
teardown_file() { stack_teardown; }

@test "GET /health: 200 with database, modes, sentinels of every mode, version" {
    http_anon GET /health
    expect 200 '.status == "ok"' '.database.ok == true' '.database.latency_ms | type == "number"' \
        '.modes | contains(["document","file","health","queue","sql"])' '.version == "0.1.0"' '.problems == []' \
        ".modes == $(registry_modes)" "[.sentinels[].mode] == $(registry_modes)" \
        '.sentinels | all(.shape | type == "object")' \
        '.sentinels | all(.note | type == "string" and length > 0)' \
        '.sentinels | all(.created_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$"))'
    header_has Content-Type application/json
}

@test "HEAD /health: 200 with the GET's headers" {
    http_anon HEAD /health
    [ "$CODE" = 200 ]
    header_has Content-Type application/json
    header_has Content-Length
}

@test "health needs no token, even a wrong one" {
    TOKEN=wrong http GET /health
    expect 200 '.status == "ok"'
}

@test "POST /health: 405 with Allow, no token needed" {
    http_anon POST /health -d '{}'
    expect_error 405 method_not_allowed
    header_has Allow "GET, HEAD"
}

@test "unknown paths: JSON 404, never lighttpd's page" {
    for p in /nope /healthz /health/x /documents /document/a/b/c/d / "/%2e%2e/etc/passwd"; do
        http GET "$p"
        expect_error 404 not_found || { echo "path $p"; return 1; }
        header_has Content-Type application/json
    done
}

@test "unknown path without a token: 401 (nothing is revealed)" {
    http_anon GET /nope
    expect_error 401 unauthorized
    header_has WWW-Authenticate Bearer
}

@test "X-Request-Id: a valid one is echoed, others are replaced" {
    http_anon GET /health -H "X-Request-Id: abc.DEF_123-x"
    header_has X-Request-Id abc.DEF_123-x
    long=$(printf 'a%.0s' $(seq 1 64))
    http_anon GET /health -H "X-Request-Id: $long"
    header_has X-Request-Id "$long"
    for bad in "$long"b "a b" 'a"b' "ü"; do
        http_anon GET /health -H "X-Request-Id: $bad"
        id=$(grep -i '^X-Request-Id:' <<<"$HEADERS" | tr -d '\r' | cut -d' ' -f2)
        [ "$id" != "$bad" ]
        [[ "$id" =~ ^[0-9a-f]{32}$ ]]
    done
}

@test "each request is logged once as a JSON line with its request id" {
    http GET /document/ns/missing -H "X-Request-Id: log-check-1"
    [ "$CODE" = 404 ]
    sleep 0.2
    line=$(grep '"request_id":"log-check-1"' "$STACK_DIR/main/lighttpd.log")
    [ "$(wc -l <<<"$line")" -eq 1 ]
    jq -e '.method == "GET" and .path == "/document/ns/missing" and .status == 404 and .mode == "document"
           and (.duration_ms | type == "number") and (.time | type == "string")' <<<"$line"
    ! grep -q "$TOKEN" "$STACK_DIR/main/lighttpd.log"
}

@test "PostgreSQL stopped: 503 degraded within 2 s; back: 200 without a restart" {
    pg_stop "$PG_DIR" fast
    start=$(date +%s%N)
    http_anon GET /health
    elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
    expect 503 '.status == "degraded"' '.database.ok == false' '.database.detail | type == "string"' \
        '.sentinels == []' '.modes | contains(["document","file","health","queue","sql"])' \
        ".modes == $(registry_modes)" '.version == "0.1.0"'
    [ "$elapsed" -lt 2000 ]  # the contract bound, in every build
    http GET /document/ns/key
    expect_error 503 database_unavailable
    header_has Retry-After 1
    pg_restart "$PG_DIR"
    http_anon GET /health
    expect 200 '.status == "ok"'
    http GET /document/ns/key
    expect_error 404 not_found
}

@test "PostgreSQL hanging (SIGSTOP): health answers 503 within 2 s" {
    pid=$(head -n 1 "$PG_DIR/data/postmaster.pid")
    # Stop the postmaster and every backend, so nothing answers at all.
    kids=$(pgrep -P "$pid" | tr '\n' ' ')
    kill -STOP "$pid" $kids
    start=$(date +%s%N)
    http_anon GET /health
    elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
    kill -CONT "$pid" $kids
    expect 503 '.status == "degraded"'
    [ "$elapsed" -lt 2000 ]  # the contract bound, in every build
    sleep 0.5
    http_anon GET /health
    expect 200 '.status == "ok"'
}

@test "errors lighttpd answers itself are JSON too (malformed request, huge header)" {
    hostport=${URL#http://}
    resp=$(printf 'GET /health HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n' | timeout 5 bash -c "exec 3<>/dev/tcp/${hostport%:*}/${hostport#*:}; cat >&3; cat <&3")
    [[ "$resp" == "HTTP/1.1 400"* ]]
    grep -qi '^Content-Type: application/json' <<<"$resp"
    jq -e '.error == "bad_request"' <<<"${resp##*$'\r\n\r\n'}"
    big=$(head -c 70000 /dev/zero | tr '\0' a)
    http_anon GET /health -H "X-Big: $big"
    [ "$CODE" = 431 ]
    jq -e '.error == "headers_too_large" and (.detail | type == "string")' <<<"$BODY"
}

@test "GET /health: database.primary is true on the primary, and the body never names the host" {
    http_anon GET /health
    expect 200 '.database.primary == true'
    [[ "$BODY" != *"$PG_PORT"* ]]
    [[ "$BODY" != *127.0.0.1* ]]
    [[ "$BODY" != *"$PG_SOCK"* ]]
}

# A port nothing listens on (refuses at once), and one that accepts but
# never answers, as a frozen machine does.
dead_port() { free_port; }
hung_host() { # hung_host PORT: a listener that never reads; its pid in $STACK_DIR/pids
    python3 -c 'import socket,sys,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64); time.sleep(300)' "$1" 3>&- &
    echo $! >>"$STACK_DIR/pids"
    HUNG_PID=$!
    for _ in $(seq 50); do (exec 9<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done
    return 1
}

@test "a multi-host DATABASE_URL (target_session_attrs=read-write) whose first host refuses: served by the next, the log names it" {
    local dead
    dead=$(dead_port)
    DATABASE_URL="postgresql://postgres@127.0.0.1:$dead,127.0.0.1:$PG_PORT/postgres?target_session_attrs=read-write" \
        service_up multi
    URL=$(service_url multi) http PUT /document/ha/a -d '{"v":1}'
    [[ "$CODE" = 20[01] ]]
    URL=$(service_url multi) http_anon GET /health
    expect 200 '.database.primary == true'
    grep -q "connected to the database at 127.0.0.1:$PG_PORT" "$STACK_DIR/multi/lighttpd.log"
    grep -q "database host 127.0.0.1:$dead refused or timed out" "$STACK_DIR/multi/lighttpd.log"
    service_down multi
}

@test "a first host that accepts and never answers (a frozen machine) is left after the connect timeout, within /health's budget" {
    local hung
    hung=$(free_port)
    hung_host "$hung"
    DATABASE_URL="postgresql://postgres@127.0.0.1:$hung,127.0.0.1:$PG_PORT/postgres?target_session_attrs=read-write" \
        service_up frozen
    # Every new connection tries the frozen host first, for at most a second.
    URL=$(service_url frozen) http_anon GET /health
    expect 200 '.database.primary == true'
    grep -q "database host 127.0.0.1:$hung refused or timed out: connecting timed out" "$STACK_DIR/frozen/lighttpd.log"
    service_down frozen
    kill "$HUNG_PID"
}


@test "a server turned read-only under open connections (a demoted primary): 503 database_unavailable with Retry-After, then healed by itself" {
    psql_q "CREATE DATABASE ro"
    DATABASE_URL="host=$PG_SOCK port=$PG_PORT user=postgres dbname=ro" service_up ro
    local url _
    url=$(service_url ro)
    URL=$url http PUT /document/ro/a -d '{"v":1}'
    [ "$CODE" = 201 ] || [ "$CODE" = 200 ]
    # What a standby answers a write: SQLSTATE 25006, on the connections
    # the service already holds (the setting applies to new sessions, so
    # the service's are ended and it reconnects on its own).
    psql_q "ALTER DATABASE ro SET default_transaction_read_only = on"
    psql_q "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = 'ro'" >/dev/null
    for _ in 1 2 3; do
        URL=$url http PUT /document/ro/a -d '{"v":2}'
        expect_error 503 database_unavailable
        header_has Retry-After 1
        grep -q "read-only transaction" "$STACK_DIR/ro/lighttpd.log" && break
    done
    grep -q "read-only transaction" "$STACK_DIR/ro/lighttpd.log"
    # Writable again: the connection that met the refusal was dropped, so
    # the next one is a new session, which writes.
    psql_q "ALTER DATABASE ro RESET default_transaction_read_only"
    URL=$url http PUT /document/ro/a -d '{"v":3}'
    [ "$CODE" = 200 ] || [ "$CODE" = 201 ]
    service_down ro
}
