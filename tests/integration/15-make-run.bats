#!/usr/bin/env bats
# make run, the developer's door, as a person uses it: the banner, two
# instances in one checkout, and stopping it with Ctrl-C or SIGTERM while
# requests are open. Each run is `make run` itself, started the way a
# terminal starts it (tests/lib/spawn-group.py), in run/<PORT>/ of this
# checkout, the folder a person's `make run` would use.

load ../lib/stack
bats_require_minimum_version 1.5.0

setup_file() {
    # These test the scripts around the executables, not the executables:
    # the instrumented builds add nothing here.
    [ -z "${SANITIZER:-}" ] || skip "make run uses the plain build"
    STACK_DIR=$(mktemp -d /tmp/backend-test.XXXXXX)
    chmod 711 "$STACK_DIR"
    export STACK_DIR
    : >"$STACK_DIR/groups"
    : >"$STACK_DIR/ports"
}

teardown_file() {
    [ -n "${STACK_DIR:-}" ] || return 0
    local g port
    # Whatever a failed test left running: its process group, then its
    # PostgreSQL (in its own session, started by pg_ctl).
    for g in $(cat "$STACK_DIR/groups"); do kill -KILL -- "-$g" 2>/dev/null || true; done
    for port in $(cat "$STACK_DIR/ports"); do
        for d in "$ROOT/run/$port/pg" /tmp/backend-pg-"$(id -u)"-"$(printf '%s' "$ROOT/run/$port" | cksum | cut -d' ' -f1)"; do
            pg_stop "$d" immediate 3>&-
            [ "$d" = "$ROOT/run/$port/pg" ] || rm -rf "$d"
        done
        rm -rf "${ROOT:?}/run/$port"
    done
    rm -rf "$STACK_DIR"
}

# make_run NAME [VAR=VALUE...]: starts `make run` with the environment given
# (none of DATABASE_URL, PG* or the suite's token: a newcomer's shell), its
# output in $STACK_DIR/NAME.log. Sets RUN_GROUP (make's PID, which leads
# the process group).
make_run() {
    local name=$1
    shift
    env -u DATABASE_URL -u PGHOST -u PGPORT -u PGUSER -u PGPASSWORD -u PGDATABASE \
        -u DATASTORE_TOKEN -u DATASTORE_TOKEN_FILE -u BACKEND_RUN_DIR -u BACKEND_BIN \
        -u MAKEFLAGS -u MAKELEVEL -u MFLAGS "$@" \
        "$ROOT/tests/lib/spawn-group.py" make -C "$ROOT" --no-print-directory run \
        >"$STACK_DIR/$name.log" 2>&1 3>&- &
    RUN_GROUP=$!
    echo "$RUN_GROUP" >>"$STACK_DIR/groups"
}

# wait_banner NAME: waits (30 s at most) for the banner in NAME's output.
wait_banner() {
    for _ in $(seq 1 300); do
        grep -q "^make run: backend is up at" "$STACK_DIR/$1.log" && return 0
        sleep 0.1
    done
    echo "no banner; the output was:" >&2
    tail -n 30 "$STACK_DIR/$1.log" >&2
    return 1
}

# new_port: a free port, recorded for clean-up.
new_port() {
    local p
    p=$(free_port)
    echo "$p" >>"$STACK_DIR/ports"
    echo "$p"
}

# instance_pids GROUP PGDIR [all]: the processes of one instance: its
# process group (make, the script, lighttpd, the mode processes,
# backend-mcp) and its PostgreSQL server; with "all", that server's children
# too (its backends come and go with the modes' connections).
instance_pids() {
    local postmaster
    ps -eo pid=,pgid= | awk -v g="$1" '$2 == g {print $1}'
    postmaster=$(head -n 1 "$2/data/postmaster.pid")
    echo "$postmaster"
    [ "${3:-}" != all ] || pgrep -P "$postmaster" || true
}

# banner_pg NAME: the throwaway PostgreSQL's folder, as the banner says.
banner_pg() { sed -n 's/^  PostgreSQL: throwaway, in \([^ ]*\) .*/\1/p' "$STACK_DIR/$1.log"; }

@test "make run: once healthy, a banner with the URL, the generated token, where PostgreSQL lives and how to stop" {
    port=$(new_port)
    make_run banner PORT="$port"
    wait_banner banner
    log=$STACK_DIR/banner.log
    cat "$log" >&2
    grep -qx "make run: backend is up at http://127.0.0.1:$port" "$log"
    token=$(sed -n 's/^  token:      \([0-9a-f]\{32\}\) (generated for this run)$/\1/p' "$log")
    [ ${#token} -eq 32 ]
    grep -qx "  export TOKEN=$token" "$log"
    pg=$(banner_pg banner)
    [ -f "$pg/data/PG_VERSION" ]
    grep -q "^  stop:       Ctrl-C, or kill [0-9][0-9]*$" "$log"
    grep -q "^  MCP:        http://127.0.0.1:$port/mcp" "$log"
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "http://127.0.0.1:$port/document/demo")
    [ "$code" = 200 ]
    # The banner comes once the service answers: /health was 200 before it.
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health")" = 200 ]
    # The "kill PID" it names stops the instance.
    kill -TERM "$(sed -n 's/^  stop:       Ctrl-C, or kill //p' "$log")"
    for _ in $(seq 1 100); do [ -z "$(pids_running "$RUN_GROUP")" ] && break; sleep 0.05; done
    [ -z "$(pids_running "$RUN_GROUP")" ]
    [ ! -f "$pg/data/postmaster.pid" ]
}

@test "make run: a token you set is never echoed; an empty one runs with none and says so" {
    port=$(new_port)
    secret=not-to-be-printed-$RANDOM$RANDOM
    make_run mine PORT="$port" DATASTORE_TOKEN="$secret"
    wait_banner mine
    run ! grep -qF "$secret" "$STACK_DIR/mine.log"
    grep -q "^  token:      yours (DATASTORE_TOKEN from your environment; not shown)$" "$STACK_DIR/mine.log"
    [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $secret" "http://127.0.0.1:$port/document/demo")" = 200 ]
    kill -TERM -- "-$RUN_GROUP"
    for _ in $(seq 1 100); do [ -z "$(pids_running "$RUN_GROUP")" ] && break; sleep 0.05; done

    make_run none PORT="$port" DATASTORE_TOKEN=
    wait_banner none
    grep -q "^  token:      none: DATASTORE_TOKEN is empty, authenticated routes answer 503 auth_not_configured$" "$STACK_DIR/none.log"
    run ! grep -q "export TOKEN" "$STACK_DIR/none.log"
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/document/demo")" = 503 ]
    kill -TERM -- "-$RUN_GROUP"
    for _ in $(seq 1 100); do [ -z "$(pids_running "$RUN_GROUP")" ] && break; sleep 0.05; done
    [ -z "$(pids_running "$RUN_GROUP")" ]
}

@test "make run twice on one port: the second refuses in one line naming the first, and leaves it untouched; another PORT is an instance of its own" {
    port=$(new_port)
    make_run first PORT="$port"
    first=$RUN_GROUP
    wait_banner first
    token=$(sed -n 's/^  export TOKEN=//p' "$STACK_DIR/first.log")
    pg=$(banner_pg first)
    before=$(instance_pids "$first" "$pg" | sort | tr '\n' ' ')
    script_pid=$(sed -n 's/^  stop:       Ctrl-C, or kill //p' "$STACK_DIR/first.log")

    make_run second PORT="$port"
    for _ in $(seq 1 200); do [ -z "$(pids_running "$RUN_GROUP")" ] && break; sleep 0.1; done
    [ -z "$(pids_running "$RUN_GROUP")" ]
    cat "$STACK_DIR/second.log" >&2
    [ "$(grep -c '^make run:' "$STACK_DIR/second.log")" -eq 1 ]
    grep -qx "make run: already running at http://127.0.0.1:$port (pid $script_pid); stop it (Ctrl-C in its terminal) or choose another port: make run PORT=$((port + 1))" "$STACK_DIR/second.log"

    # The first instance: every process still there, healthy, its data served.
    [ "$(instance_pids "$first" "$pg" | sort | tr '\n' ' ')" = "$before" ]
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health")" = 200 ]
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
        -d '{"namespace":"demo","key":"k","payload":1}' "http://127.0.0.1:$port/document")
    [ "$code" = 201 ]

    # Another port: its own instance, its own PostgreSQL; stopping it leaves
    # the first one as it was.
    other=$(new_port)
    make_run third PORT="$other"
    wait_banner third
    pg3=$(banner_pg third)
    [ -n "$pg3" ] && [ "$pg3" != "$pg" ]
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$other/health")" = 200 ]
    kill -TERM -- "-$RUN_GROUP"
    for _ in $(seq 1 100); do [ -z "$(pids_running "$RUN_GROUP")" ] && break; sleep 0.05; done
    [ "$(instance_pids "$first" "$pg" | sort | tr '\n' ' ')" = "$before" ]
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health")" = 200 ]
    kill -TERM -- "-$first"
    for _ in $(seq 1 100); do [ -z "$(pids_running "$first")" ] && break; sleep 0.05; done
    [ -z "$(pids_running "$first")" ]
}

# stop_with_requests_open SIGNAL [SECOND]: a make run with a queue long-poll
# and an /mcp event stream open gets SIGNAL on its whole process group (a
# terminal's Ctrl-C is SIGINT to the group); with SECOND, that signal again
# a moment later, while it cleans up. Every process of the instance,
# PostgreSQL included, is gone within 3 s.
stop_with_requests_open() {
    local sig=$1 second=${2:-} port token sid pg pids started waited
    port=$(new_port)
    make_run "stop-$sig" PORT="$port"
    wait_banner "stop-$sig"
    token=$(sed -n 's/^  export TOKEN=//p' "$STACK_DIR/stop-$sig.log")
    url=http://127.0.0.1:$port
    curl -s -o /dev/null --max-time 60 -H "Authorization: Bearer $token" -d '{"wait_seconds":20}' "$url/queue/stop/claim" 3>&- &
    poll=$!
    sid=$(curl -s -D - -o /dev/null -H "Authorization: Bearer $token" -H 'Accept: application/json, text/event-stream' \
        -H 'Content-Type: application/json' \
        -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}' \
        "$url/mcp" | tr -d '\r' | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: //p')
    [ -n "$sid" ]
    curl -s -N -o /dev/null --max-time 60 -H "Authorization: Bearer $token" -H 'Accept: text/event-stream' \
        -H "Mcp-Session-Id: $sid" -H 'MCP-Protocol-Version: 2025-06-18' "$url/mcp" 3>&- &
    stream=$!
    sleep 0.5
    # Both requests are open: their clients are still waiting.
    [ -n "$(pids_running "$poll")" ] && [ -n "$(pids_running "$stream")" ]
    pg=$(banner_pg "stop-$sig")
    pids=$(instance_pids "$RUN_GROUP" "$pg" all | tr '\n' ' ')
    [ "$(wc -w <<<"$pids")" -ge 16 ]
    started=$(date +%s%N)
    kill -"$sig" -- "-$RUN_GROUP"
    if [ -n "$second" ]; then
        sleep 0.1
        kill -"$second" -- "-$RUN_GROUP" 2>/dev/null || true
    fi
    for _ in $(seq 1 200); do [ -z "$(pids_running $pids)" ] && break; sleep 0.02; done
    waited=$((($(date +%s%N) - started) / 1000000))
    echo "# stopped in $waited ms; left: $(pids_running $pids)" >&3
    kill "$poll" "$stream" 2>/dev/null || true
    [ -z "$(pids_running $pids)" ]
    [ "$waited" -le 3000 ]
    [ ! -f "$pg/data/postmaster.pid" ]
    grep -q "^make run: stopped the throwaway PostgreSQL in $pg$" "$STACK_DIR/stop-$sig.log"
}

@test "Ctrl-C (SIGINT to the process group) with a long-poll and an /mcp stream open stops everything within 3 s" {
    stop_with_requests_open INT
}

@test "one SIGTERM to the process group with a long-poll and an /mcp stream open stops everything within 3 s" {
    stop_with_requests_open TERM
}

@test "a second signal during the clean-up does not cut it short" {
    stop_with_requests_open TERM TERM
}
