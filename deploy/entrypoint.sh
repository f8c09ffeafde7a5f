#!/usr/bin/env bash
# Container entrypoint: checks the configuration (one clear line and exit 2
# when it is invalid), then runs lighttpd in the foreground with the mode
# processes. Never generates a token. libpq reads PGHOST, PGPORT, PGUSER,
# PGPASSWORD and PGDATABASE itself when DATABASE_URL is unset.
# SIGTERM is passed on to lighttpd as SIGINT, lighttpd's graceful stop:
# requests in flight finish, then every process exits.
set -euo pipefail
ROOT=${BACKEND_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
. "$ROOT/deploy/lib.sh"
export LISTEN_ADDR=${LISTEN_ADDR:-0.0.0.0}
export PORT=${PORT:-4000}
RUN=${BACKEND_RUN_DIR:-/tmp/backend-run}
mkdir -p "$RUN"

service_start "$RUN" || exit 2
# On TERM: note lighttpd's mode processes (the entrypoint ends after them
# too), then ask lighttpd for its graceful stop.
kids=""
stopping=0
stop() {
    stopping=1
    kids=$(pgrep -P "$SERVICE_PID" | tr '\n' ' ' || true)
    kill -INT "$SERVICE_PID" 2>/dev/null || true
}
trap stop TERM INT
# wait returns early when a trapped signal arrives: wait again until
# lighttpd has really gone.
status=0
while kill -0 "$SERVICE_PID" 2>/dev/null; do
    wait "$SERVICE_PID" && status=0 || status=$?
done
# lighttpd has told its mode processes to stop; they finish the requests
# in hand first (a queue long-poll: at most 20 s).
for _ in $(seq 1 250); do
    alive=""
    for k in $kids; do kill -0 "$k" 2>/dev/null && alive="$alive $k"; done
    [ -z "$alive" ] && break
    sleep 0.1
done
# Asked to stop: a clean exit. lighttpd ending by itself is a failure the
# orchestrator should see (and restart).
[ "$stopping" -eq 1 ] && exit 0
exit "$status"
