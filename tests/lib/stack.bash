# Helpers for the bats integration suite: each test file starts its own
# PostgreSQL and lighttpd on free ports (stack_setup in setup_file) and stops
# every process it started, by PID (stack_teardown in teardown_file, which
# also fails the file if any of them is still running).

ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
. "$ROOT/deploy/lib.sh"
export BACKEND_BIN=${BACKEND_BIN:-$ROOT/bin}

# Environment each started service gets on top of ours.
_service_env() {
    export LOG_LEVEL=${LOG_LEVEL:-info}
    case "${SANITIZER:-}" in
    asan)
        export ASAN_OPTIONS="log_path=$STACK_DIR/sanitizer/asan:detect_leaks=1"
        export UBSAN_OPTIONS="log_path=$STACK_DIR/sanitizer/ubsan:print_stacktrace=1:halt_on_error=1"
        mkdir -p "$STACK_DIR/sanitizer" ;;
    valgrind)
        mkdir -p "$STACK_DIR/sanitizer"
        BACKEND_WRAP="$(command -v valgrind) --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite --log-file=$STACK_DIR/sanitizer/valgrind-%p.log "
        export BACKEND_WRAP
        export DB_TIMEOUT_MS=${DB_TIMEOUT_MS:-20000} ;;
    esac
}

# stack_setup: a fresh PostgreSQL and one lighttpd (the "main" service) with
# the current environment. Exports URL, TOKEN, STACK_DIR, PG_*.
stack_setup() {
    stack_db_setup
    service_up main
    URL=$(service_url main)
    export URL
    export TOKEN=$DATASTORE_TOKEN
}

# stack_db_setup: stack_setup's first half, the folder and a fresh
# PostgreSQL, for a file that prepares the database before any service
# starts (13-migrations). Exports STACK_DIR, PG_*, DATABASE_URL,
# DATASTORE_TOKEN, FILE_TEMP_DIR.
stack_db_setup() {
    STACK_DIR=$(mktemp -d /tmp/backend-test.XXXXXX)
    chmod 711 "$STACK_DIR"
    export STACK_DIR
    echo "" >"$STACK_DIR/pids"
    pg_start "$STACK_DIR/pg" "$(free_port)" 3>&-
    export PG_DIR PG_PORT PG_SOCK PG_URL
    export DATABASE_URL=$PG_URL
    export DATASTORE_TOKEN=${DATASTORE_TOKEN-test-token-0123456789}
    # Never the shared default /tmp/backend-files.
    export FILE_TEMP_DIR=${FILE_TEMP_DIR:-$STACK_DIR/files}
}

# service_up NAME: starts a lighttpd with its mode processes in
# STACK_DIR/NAME, with the current environment (set variables before calling
# to vary the configuration), and waits until /health answers 200. Returns 1
# when the service does not come up.
service_up() {
    local name=$1 port
    port=$(free_port)
    mkdir -p "$STACK_DIR/$name"
    (
        _service_env
        export PORT=$port LISTEN_ADDR=127.0.0.1
        service_start "$STACK_DIR/$name" >>"$STACK_DIR/$name/lighttpd.log" 2>&1 3>&-
        echo "$SERVICE_PID" >"$STACK_DIR/$name/pid"
        echo "$SERVICE_PID" >>"$STACK_DIR/pids"
        # The background job outlives this subshell: that is what we want.
    ) || return 1
    echo "http://127.0.0.1:$port" >"$STACK_DIR/$name/url"
    local limit=15
    [ "${SANITIZER:-}" = valgrind ] && limit=120
    if ! wait_healthy "$(service_url "$name")" "$limit"; then
        echo "# service $name did not become healthy; its log:" >&2
        tail -n 40 "$STACK_DIR/$name/lighttpd.log" >&2
        return 1
    fi
    pgrep -P "$(service_pid "$name")" >>"$STACK_DIR/pids" || true
}

service_url() { cat "$STACK_DIR/$1/url"; }
service_pid() { cat "$STACK_DIR/$1/pid"; }

# service_down NAME: stops that lighttpd and its mode processes.
service_down() {
    local pid
    pid=$(service_pid "$1")
    service_stop "$pid"
}

stack_teardown() {
    [ -n "${STACK_DIR:-}" ] || return 0
    local name pid left=""
    for d in "$STACK_DIR"/*/; do
        [ -f "$d/pid" ] && service_stop "$(cat "$d/pid")"
    done
    # Anything recorded that still runs (a lighttpd whose folder a test
    # removed, a respawned mode process) is stopped too, then reported.
    for pid in $(cat "$STACK_DIR/pids"); do
        [ -n "$(pids_running "$pid")" ] && service_stop "$pid"
    done
    pg_stop "$STACK_DIR/pg" immediate 3>&-
    # Whatever we started and still runs is a leak of the suite: lighttpd,
    # the mode processes it had, and PostgreSQL (its command line names
    # this file's folder).
    # A zombie is not running (PID 1 reaps lighttpd's orphans when it
    # gets to it); a process still on its way out gets two seconds.
    local candidates
    candidates="$(cat "$STACK_DIR/pids") $(pgrep -f "$STACK_DIR" || true)"
    for _ in $(seq 1 20); do
        # shellcheck disable=SC2086 # a list of PIDs
        left=$(pids_running $candidates)
        [ -z "$left" ] && break
        sleep 0.1
    done
    if [ -n "$left" ]; then
        echo "# processes left running: $left" >&3
        kill -KILL $left 2>/dev/null || true
        return 1
    fi
    # The token never appears in a log line (docs/api.md): every
    # service log of the file (each lighttpd's, with its mode processes'
    # stderr) is searched for it before the folder goes; a hit fails the
    # file. So this holds for every request of the whole suite.
    local tok leaked=""
    for tok in "${TOKEN:-}" "${DATASTORE_TOKEN:-}" ${STACK_SECRETS:-}; do
        [ -n "$tok" ] || continue
        leaked="$leaked $(grep -lF -- "$tok" "$STACK_DIR"/*/lighttpd.log 2>/dev/null | tr '\n' ' ')"
    done
    if [ -n "${leaked// /}" ]; then
        echo "# the token appears in:$leaked" >&3
        grep -hF -- "${TOKEN:-${DATASTORE_TOKEN:-}}" "$STACK_DIR"/*/lighttpd.log 2>/dev/null | head -n 3 | sed 's/^/#   /' >&3
        rm -rf "$STACK_DIR"
        return 1
    fi
    # Sanitizer reports are failures of the suite: tests/run.sh counts them.
    if [ -d "$STACK_DIR/sanitizer" ] && [ -n "$(find "$STACK_DIR/sanitizer" -type f -size +0 2>/dev/null)" ]; then
        mkdir -p "$ROOT/run/sanitizer-reports"
        cp "$STACK_DIR"/sanitizer/* "$ROOT/run/sanitizer-reports/" 2>/dev/null || true
    fi
    rm -rf "$STACK_DIR"
}

# _request METHOD PATH [curl args...]: one request to ${BASE:-$URL}. Sets
# CODE, BODY and HEADERS (the response header block).
_request() {
    local method=$1 path=$2
    shift 2
    local f=$BATS_TEST_TMPDIR/resp
    : >"$f.body"
    local args=(-s -o "$f.body" -D "$f.headers" -w '%{http_code}' --max-time 30)
    if [ "$method" = HEAD ]; then args+=(--head -o /dev/null); else args+=(-X "$method"); fi
    CODE=$(curl "${args[@]}" "$@" "${BASE:-$URL}$path")
    BODY=$(cat "$f.body")
    HEADERS=$(cat "$f.headers")
}

# http METHOD PATH [curl args...]: a request with the bearer token $TOKEN.
http() {
    local method=$1 path=$2
    shift 2
    _request "$method" "$path" -H "Authorization: Bearer $TOKEN" "$@"
}

# http_anon METHOD PATH [curl args...]: the same without any token.
http_anon() { _request "$@"; }

# expect CODE [jq-filter...]: the last response had this status, and each
# filter holds on its body. Prints the body when not.
expect() {
    local want=$1
    shift
    if [ "$CODE" != "$want" ]; then
        echo "expected status $want, got $CODE: $BODY" >&2
        return 1
    fi
    local f
    for f in "$@"; do
        if ! jq -e "$f" >/dev/null <<<"$BODY"; then
            echo "expected $f on: $BODY" >&2
            return 1
        fi
    done
}

# expect_error CODE ERROR [FIELD]: the contract's error shape.
expect_error() {
    expect "$1" ".error == \"$2\"" '.detail | type == "string"' || return 1
    if [ -n "${3:-}" ]; then expect "$1" ".field == \"$3\"" || return 1; fi
    header_has X-Request-Id
}

# header_has NAME [VALUE]: the last response carried the header.
header_has() {
    local line
    line=$(grep -i "^$1:" <<<"$HEADERS" | tr -d '\r')
    [ -n "$line" ] || { echo "no $1 header in: $HEADERS" >&2; return 1; }
    if [ -n "${2:-}" ]; then
        [ "${line#*: }" = "$2" ] || { echo "header $line, expected $2" >&2; return 1; }
    fi
}

# slack MS: a time bound for the current build. The instrumented builds are
# several times slower, so a latency bound scales with them (the bounds are
# behaviour, "answers at once", not performance figures: make bench has those);
# so does a file that runs beside others (SLACK_FACTOR, tests/run.sh JOBS).
slack() {
    local ms=$1
    case "${SANITIZER:-}" in
    asan) ms=$((ms * 3)) ;;
    valgrind) ms=$((ms * 10)) ;;
    esac
    echo $((ms * ${SLACK_FACTOR:-1}))
}

# registry_modes: the registered modes, sorted, as a JSON array (what
# /health's modes must be: the contract's five, and any mode added since).
registry_modes() { "$BACKEND_BIN/backend-registry" --modes | LC_ALL=C sort | jq -Rsc 'split("\n") | map(select(. != ""))'; }

psql_q() { psql "$PG_URL" -XAtq -v ON_ERROR_STOP=1 -c "$1"; }
