#!/usr/bin/env bash
# make run: the whole service on LISTEN_ADDR:PORT (127.0.0.1:4000), in the
# foreground. With no DATABASE_URL and no PG* variable, a throwaway
# PostgreSQL is started (and stopped on exit). With DATASTORE_TOKEN unset, a
# token is generated for this run and printed. Ctrl-C or SIGTERM stops
# everything this script started.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/deploy/lib.sh"
RUN=${BACKEND_RUN_DIR:-$ROOT/run}
mkdir -p "$RUN"

export LISTEN_ADDR=${LISTEN_ADDR:-127.0.0.1}
export PORT=${PORT:-4000}

pg_dir=""
cleanup() {
    trap - EXIT INT TERM
    [ -n "${SERVICE_PID:-}" ] && service_stop "$SERVICE_PID"
    [ -n "$pg_dir" ] && pg_stop "$pg_dir" && echo "make run: stopped the throwaway PostgreSQL in $pg_dir"
    exit 0
}
trap cleanup EXIT INT TERM

if [ -z "${DATABASE_URL:-}" ] && ! env | grep -qE '^PG(HOST|PORT|USER|PASSWORD|DATABASE)='; then
    pg_dir=$RUN/pg
    # initdb runs as the postgres user when we are root: it must reach the
    # folder. Under a private home it cannot; use a folder in /tmp then.
    if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$RUN" 2>/dev/null; then
        pg_dir=/tmp/backend-pg-$(id -u)
    fi
    pg_start "$pg_dir" "$(free_port)"
    export DATABASE_URL=$PG_URL
    echo "make run: throwaway PostgreSQL in $pg_dir (port $PG_PORT, socket $PG_SOCK)"
fi

if [ -z "${DATASTORE_TOKEN+set}" ] && [ -z "${DATASTORE_TOKEN_FILE:-}" ]; then
    DATASTORE_TOKEN=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
    export DATASTORE_TOKEN
    token_note="generated for this run"
elif [ -n "${DATASTORE_TOKEN:-}" ] || [ -n "${DATASTORE_TOKEN_FILE:-}" ]; then
    token_note="from your environment"
else
    token_note="none: DATASTORE_TOKEN is empty, authenticated routes answer 503"
fi

service_start "$RUN"
url="http://$LISTEN_ADDR:$PORT"
if ! wait_healthy "$url" 10; then
    echo "make run: the service did not become healthy at $url" >&2
    exit 1
fi
cat <<MSG
make run: backend is up at $url (token: $token_note)
  export TOKEN=${DATASTORE_TOKEN:-<yours>}
  curl -s $url/health
  curl -s -H "Authorization: Bearer \$TOKEN" -d '{"namespace":"demo","key":"hello","payload":{"hi":1}}' $url/document
  curl -s -H "Authorization: Bearer \$TOKEN" $url/document/demo/hello
MCP clients: $url/mcp with the same bearer token (docs/mcp.md).
Ctrl-C stops everything.
MSG
wait "$SERVICE_PID" || true
