#!/usr/bin/env bash
# make run: the whole service on LISTEN_ADDR:PORT (127.0.0.1:4000), in the
# foreground. With no DATABASE_URL and no PG* variable, a throwaway
# PostgreSQL is started (and stopped on exit). With DATASTORE_TOKEN unset, a
# token is generated for this run and printed. Ctrl-C or SIGTERM stops
# everything this script started, and nothing else.
#
# One instance per port: its files live in run/<PORT>/ (BACKEND_RUN_DIR
# overrides), held by a lock for as long as it runs. A second `make run` on
# the same port refuses in one line naming the running instance; `make run
# PORT=4001` is an instance of its own, with its own PostgreSQL.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/deploy/lib.sh"

export LISTEN_ADDR=${LISTEN_ADDR:-127.0.0.1}
export PORT=${PORT:-4000}
url="http://$LISTEN_ADDR:$PORT"
RUN=${BACKEND_RUN_DIR:-$ROOT/run/$PORT}
mkdir -p "$RUN"

# The instance lock: held on fd 9 until this script exits (no child keeps
# it: each is started with fd 9 closed), so a killed instance never blocks
# the next one.
exec 9>>"$RUN/lock"
if ! flock -n 9; then
    echo "make run: already running at $(cat "$RUN/instance" 2>/dev/null || echo "$url (pid unknown)"); stop it (Ctrl-C in its terminal) or choose another port: make run PORT=$((PORT + 1))" >&2
    exit 1
fi
if port_in_use "$LISTEN_ADDR" "$PORT"; then
    echo "make run: $LISTEN_ADDR:$PORT is taken by another program; choose another port: make run PORT=$((PORT + 1))" >&2
    exit 1
fi
echo "$url (pid $$)" >"$RUN/instance"

pg_dir=""
SERVICE_PID=""
# Stops what this script started, once. Further signals are ignored while
# it runs: make passes its own SIGTERM on after the process group's one, and
# a clean-up cut short would leave PostgreSQL running.
cleaning=""
cleanup() {
    trap '' INT TERM HUP
    [ -n "$cleaning" ] && return 0
    cleaning=1
    trap - EXIT
    # lighttpd with its mode processes, and PostgreSQL, stop side by side:
    # a fast shutdown ends the modes' connections, which are going anyway.
    [ -n "$SERVICE_PID" ] && service_stop "$SERVICE_PID" &
    if [ -n "$pg_dir" ]; then
        pg_stop "$pg_dir"
        echo "make run: stopped the throwaway PostgreSQL in $pg_dir"
    fi
    wait
    rm -f "$RUN/instance"
    exit "$1"
}
trap 'cleanup $?' EXIT
trap 'cleanup 0' INT TERM HUP

pg_note=""
if [ -z "${DATABASE_URL:-}" ] && ! env | grep -qE '^PG(HOST|PORT|USER|PASSWORD|DATABASE)='; then
    pg_dir=$RUN/pg
    # initdb runs as the postgres user when we are root: it must reach the
    # folder. Under a private home it cannot; use a folder in /tmp then, one
    # per checkout and port, like run/<PORT>.
    if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$RUN" 2>/dev/null; then
        pg_dir=/tmp/backend-pg-$(id -u)-$(printf '%s' "$RUN" | cksum | cut -d' ' -f1)
    fi
    # We hold the lock: a PostgreSQL still running in our folder was left by
    # an instance that was killed outright. Stop it before starting ours.
    if [ -f "$pg_dir/data/postmaster.pid" ]; then
        pg_stop "$pg_dir" 9>&-
    fi
    pg_start "$pg_dir" "$(free_port)" 9>&-
    export DATABASE_URL=$PG_URL
    pg_note="throwaway, in $pg_dir (port $PG_PORT, socket $PG_SOCK); stopped on exit"
else
    pg_note="yours (DATABASE_URL or PG* from your environment)"
fi

if [ -z "${DATASTORE_TOKEN+set}" ] && [ -z "${DATASTORE_TOKEN_FILE:-}" ]; then
    DATASTORE_TOKEN=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
    export DATASTORE_TOKEN
    token_note="$DATASTORE_TOKEN (generated for this run)"
    token_line="  export TOKEN=$DATASTORE_TOKEN"
elif [ -n "${DATASTORE_TOKEN:-}" ] || [ -n "${DATASTORE_TOKEN_FILE:-}" ]; then
    # A token you set is never echoed.
    token_note="yours (DATASTORE_TOKEN${DATASTORE_TOKEN_FILE:+_FILE} from your environment; not shown)"
    token_line="  export TOKEN=...   # yours"
else
    token_note="none: DATASTORE_TOKEN is empty, authenticated routes answer 503 auth_not_configured"
    token_line=""
fi

service_start "$RUN" 9>&-
if ! wait_healthy "$url" 30 "$SERVICE_PID"; then
    echo "make run: the service did not become healthy at $url" >&2
    exit 1
fi
cat <<MSG
make run: backend is up at $url
  token:      $token_note
  PostgreSQL: $pg_note
  MCP:        $url/mcp (same token; docs/mcp.md)
  API docs:   $url/docs (paste the token under Authorize; $url/openapi.json)
  console:    $url/console (paste the token once; docs/console.md)
  stop:       Ctrl-C, or kill $$
${token_line}${token_line:+
}  curl -s $url/health
  curl -s -H "Authorization: Bearer \$TOKEN" -d '{"namespace":"demo","key":"hello","payload":{"hi":1}}' $url/document
MSG
# wait returns early when a trapped signal arrives; its trap then exits
# through cleanup. lighttpd ending by itself ends the run as a failure.
status=0
wait "$SERVICE_PID" || status=$?
SERVICE_PID=""
echo "make run: lighttpd exited by itself (status $status)" >&2
exit 1
