#!/usr/bin/env bash
# make test-ha: two replicas of the service over a highly available
# PostgreSQL (one etcd, three nodes under Patroni with synchronous_mode and
# synchronous_mode_strict), under a steady load (tests/ha/load.py), through
# failovers: the leader's node killed (kill -9 of its Patroni and postgres),
# frozen (SIGSTOP), and a planned patronictl switchover. load.py then checks
# that nothing answered 2xx was lost, that no queue item was held by two
# live claims, that the feed reader saw every version once, that parked
# long-poll claimers were woken by writes made after the failover, and that
# the gap answered 503 (never 500); it prints each failover's window per
# replica. Every process started is stopped by PID, also on failure.
#   HA_FAILOVERS  the failovers in order (default "kill stop switchover kill stop")
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 2
. deploy/lib.sh
. tests/ha/cluster.bash
export BACKEND_BIN=${BACKEND_BIN:-$ROOT/bin}
FAILOVERS=${HA_FAILOVERS:-kill stop switchover kill stop}

for tool in patroni patronictl etcd psql jq curl python3; do
    command -v "$tool" >/dev/null || { echo "# test-ha: $tool is missing (deploy/install-deps.sh)" >&2; exit 1; }
done

HA_DIR=$(mktemp -d /tmp/backend-ha.XXXXXX)
chmod 711 "$HA_DIR"
[ "$(id -u)" -eq 0 ] && chown postgres: "$HA_DIR"
: >"$HA_DIR/pids"
declare -a NODE_PID PG_PORTS REST_PORT
SERVICES=""

cleanup() {
    trap '' EXIT INT TERM # a second signal must not cut the clean-up short
    local p
    for p in $SERVICES; do service_stop "$p"; done
    [ -n "${LOAD_PID:-}" ] && kill "$LOAD_PID" 2>/dev/null
    ha_stop_all
    # Anything of this run still running is a defect of the clean-up.
    left=$(pgrep -f "$HA_DIR/" | tr '\n' ' ')
    [ -n "$left" ] && { echo "# test-ha: still running after the clean-up: $left" >&2; RESULT=1; }
    if [ "${HA_KEEP:-}" = 1 ] || [ "${RESULT:-1}" != 0 ]; then
        echo "# test-ha: logs in $HA_DIR"
    else
        rm -rf "$HA_DIR"
    fi
    [ -z "$left" ] || exit 1
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { echo "# test-ha: $* ($(date -u +%T))"; }

step "starting etcd and three PostgreSQL nodes under Patroni"
ha_cluster || exit 1
HOSTS="127.0.0.1:${PG_PORTS[1]},127.0.0.1:${PG_PORTS[2]},127.0.0.1:${PG_PORTS[3]}"
export DATABASE_URL="postgresql://postgres@$HOSTS/postgres?target_session_attrs=read-write"
export DATASTORE_TOKEN=ha-token-0123456789abcdef LOG_LEVEL=info
URLS=""
for r in 1 2; do
    port=$(free_port)
    mkdir -p "$HA_DIR/r$r"
    (
        export PORT=$port LISTEN_ADDR=127.0.0.1 FILE_TEMP_DIR=$HA_DIR/r$r/files
        service_start "$HA_DIR/r$r" >>"$HA_DIR/r$r/lighttpd.log" 2>&1 3>&-
        echo "$SERVICE_PID" >"$HA_DIR/r$r/pid"
    )
    SERVICES="$SERVICES $(cat "$HA_DIR/r$r/pid")"
    wait_healthy "http://127.0.0.1:$port" 30 || { echo "# replica r$r did not start" >&2; exit 1; }
    URLS="$URLS http://127.0.0.1:$port"
done
step "two replicas up:$URLS"

# psql on the leader, for the checks at the end.
leader_psql() { psql -XAtq -h 127.0.0.1 -p "${PG_PORTS[$(ha_leader)]}" -U postgres -d postgres -c "$1"; }

: >"$HA_DIR/failovers"
HA_DIR=$HA_DIR TOKEN=$DATASTORE_TOKEN URLS=$URLS python3 tests/ha/load.py >"$HA_DIR/load.out" 2>&1 &
LOAD_PID=$!
sleep 4

# restore N HOW: brings node N back as a standby after its failover.
restore() {
    case "$2" in
    kill) ha_node_start "$1" ;;
    stop) ha_node_signal "$1" CONT ;;
    esac
}

i=0
for kind in $FAILOVERS; do
    i=$((i + 1))
    ha_wait_sync 90 || exit 1
    old=$(ha_leader)
    # Marks the failover for load.py: it parks long-poll claimers first,
    # then, once the service answers again, enqueues what wakes them.
    echo "$(date +%s.%N) $i $kind" >>"$HA_DIR/failovers"
    sleep 1.5
    step "failover $i: $kind of the leader n$old"
    case "$kind" in
    kill) ha_node_signal "$old" KILL ;;
    stop) ha_node_signal "$old" STOP ;;
    switchover) as_pg patronictl -c "$HA_DIR/n$old/patroni.yml" switchover --master "n$old" --force >>"$HA_DIR/patronictl.log" 2>&1 ||
        { echo "# patronictl switchover failed" >&2; cat "$HA_DIR/patronictl.log" >&2; exit 1; } ;;
    esac
    for _ in $(seq 300); do
        new=$(ha_leader)
        [ -n "$new" ] && [ "$new" != "$old" ] && break
        sleep 0.2
    done
    [ -n "$new" ] && [ "$new" != "$old" ] || { echo "# no new leader after failover $i" >&2; exit 1; }
    step "failover $i: n$new leads"
    # The load sees the service recover by itself; then the old node rejoins.
    for _ in $(seq 300); do
        grep -q "^recovered $i\$" "$HA_DIR/load.events" 2>/dev/null && break
        sleep 0.2
    done
    restore "$old" "$kind"
done
ha_wait_sync 90 || exit 1
echo "$(date +%s.%N) end" >>"$HA_DIR/failovers"
wait "$LOAD_PID"
RESULT=$?
LOAD_PID=
cat "$HA_DIR/load.out"
echo "# test-ha: $(echo $FAILOVERS | wc -w) failovers ($FAILOVERS) in $SECONDS s in all"
exit "$RESULT"
