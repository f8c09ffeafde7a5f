# The highly available PostgreSQL of tests/ha: one etcd and three
# PostgreSQL nodes under Patroni (synchronous_mode with
# synchronous_mode_strict), on loopback, as the unprivileged postgres user.
# Every process started is recorded in $HA_DIR/pids and stopped by PID
# (ha_stop_all).

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)}
HA_TTL=${HA_TTL:-10}
HA_LOOP_WAIT=${HA_LOOP_WAIT:-1}
HA_RETRY_TIMEOUT=${HA_RETRY_TIMEOUT:-3}

as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
# as_pg_exec: the same without a process of its own in between (setpriv
# execs), so that $! is the server's PID and stopping it by PID stops it.
as_pg_exec() {
    if [ "$(id -u)" -eq 0 ]; then
        HOME=$HA_DIR exec setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"
    else
        exec "$@"
    fi
}

# ha_etcd: one etcd member, its data in $HA_DIR/etcd.
ha_etcd() {
    ETCD_PORT=$(free_port)
    local peer
    peer=$(free_port)
    as_pg mkdir -p "$HA_DIR/etcd"
    (as_pg_exec etcd --name ha0 --data-dir "$HA_DIR/etcd" --listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
        --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" --listen-peer-urls "http://127.0.0.1:$peer" \
        --initial-advertise-peer-urls "http://127.0.0.1:$peer" --initial-cluster "ha0=http://127.0.0.1:$peer" \
        --log-level error) >"$HA_DIR/etcd.log" 2>&1 3>&- &
    echo "$!" >>"$HA_DIR/pids"
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$ETCD_PORT/health" >/dev/null && return 0
        sleep 0.1
    done
    echo "# etcd did not start" >&2
    cat "$HA_DIR/etcd.log" >&2
    return 1
}

# ha_node_config N: writes node N's Patroni configuration.
ha_node_config() {
    local n=$1 dir=$HA_DIR/n$1
    cat >"$dir/patroni.yml" <<YML
scope: ha
name: n$n
log: {level: WARNING}
restapi: {listen: "127.0.0.1:${REST_PORT[$n]}", connect_address: "127.0.0.1:${REST_PORT[$n]}"}
etcd3: {hosts: "127.0.0.1:$ETCD_PORT"}
bootstrap:
  dcs:
    ttl: $HA_TTL
    loop_wait: $HA_LOOP_WAIT
    retry_timeout: $HA_RETRY_TIMEOUT
    maximum_lag_on_failover: 1048576
    synchronous_mode: true
    synchronous_mode_strict: true
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters: {wal_log_hints: "on", max_wal_senders: 10, max_replication_slots: 10, wal_keep_size: 128MB}
  initdb: [{encoding: UTF8}, {locale: C.UTF-8}, {auth: trust}]
postgresql:
  listen: "127.0.0.1:${PG_PORTS[$n]}"
  connect_address: "127.0.0.1:${PG_PORTS[$n]}"
  data_dir: $dir/data
  bin_dir: $PG_BIN
  pgpass: $dir/pgpass
  remove_data_directory_on_rewind_failure: true
  remove_data_directory_on_diverged_timelines: true
  authentication:
    superuser: {username: postgres}
    replication: {username: postgres}
    rewind: {username: postgres}
  pg_hba: ["local all all trust", "host all all 127.0.0.1/32 trust", "host replication all 127.0.0.1/32 trust"]
  parameters: {unix_socket_directories: "$dir", max_connections: 200, fsync: "off"}
YML
}

# ha_node_start N: starts node N's Patroni (which starts its PostgreSQL).
ha_node_start() {
    local n=$1
    (as_pg_exec patroni "$HA_DIR/n$n/patroni.yml") >>"$HA_DIR/n$n/patroni.log" 2>&1 3>&- &
    NODE_PID[$n]=$!
    echo "${NODE_PID[$n]}" >>"$HA_DIR/pids"
    disown "${NODE_PID[$n]}" # killed on purpose: no "Killed" line from bash
}

# ha_cluster: etcd, then three nodes; waits for a leader and two streaming
# standbys, one of them synchronous.
ha_cluster() {
    ha_etcd || return 1
    for n in 1 2 3; do
        PG_PORTS[$n]=$(free_port)
        REST_PORT[$n]=$(free_port)
        as_pg mkdir -p "$HA_DIR/n$n"
        as_pg chmod 700 "$HA_DIR/n$n"
        ha_node_config "$n"
    done
    ha_node_start 1
    ha_wait_leader 60 || return 1
    ha_node_start 2
    ha_node_start 3
    ha_wait_sync 90
}

# ha_leader: the number of the node Patroni says leads, or nothing.
ha_leader() {
    local n
    for n in 1 2 3; do
        curl -sf -m 1 "http://127.0.0.1:${REST_PORT[$n]}/cluster" 2>/dev/null |
            jq -r '.members[] | select(.role == "leader") | .name | ltrimstr("n")' 2>/dev/null && return 0
    done
}

ha_wait_leader() {
    local _
    for _ in $(seq $(($1 * 5))); do
        [ -n "$(ha_leader)" ] && return 0
        sleep 0.2
    done
    echo "# no leader after $1 s" >&2
    return 1
}

# ha_wait_sync SECONDS: waits until the leader accepts writes and has a
# synchronous standby streaming and a second standby streaming too.
ha_wait_sync() {
    local _ l got
    for _ in $(seq $(($1 * 5))); do
        l=$(ha_leader)
        if [ -n "$l" ]; then
            got=$(psql -XAtq -h 127.0.0.1 -p "${PG_PORTS[$l]}" -U postgres -d postgres -c \
                "SELECT count(*) FILTER (WHERE sync_state = 'sync') || ' ' || count(*) FROM pg_stat_replication WHERE state = 'streaming' AND application_name ~ '^n[0-9]$'" 2>/dev/null)
            [ "$got" = "1 2" ] && curl -sf -m 1 "http://127.0.0.1:${REST_PORT[$l]}/cluster" |
                jq -e 'any(.members[]; .role == "sync_standby" and .state == "running")' >/dev/null && return 0
        fi
        sleep 0.2
    done
    echo "# no synchronous standby streaming after $1 s (leader ${l:-none}: $got)" >&2
    return 1
}

# ha_node_pids N: node N's Patroni, its postgres, and every process under
# them.
ha_node_pids() {
    local out=() queue=("${NODE_PID[$1]}") p
    # Patroni starts its postgres detached: the postmaster is no child of it.
    p=$(head -n 1 "$HA_DIR/n$1/data/postmaster.pid" 2>/dev/null)
    [ -n "$p" ] && kill -0 "$p" 2>/dev/null && queue+=("$p")
    while [ ${#queue[@]} -gt 0 ]; do
        p=${queue[0]}
        queue=("${queue[@]:1}")
        out+=("$p")
        # shellcheck disable=SC2207 # pids are words
        queue+=($(pgrep -P "$p"))
    done
    echo "${out[@]}"
}

# ha_node_signal N SIGNAL: sends SIGNAL to node N's processes at once.
ha_node_signal() {
    local -a pids
    read -ra pids <<<"$(ha_node_pids "$1")"
    kill -"$2" "${pids[@]}" 2>/dev/null
}

ha_stop_all() {
    local p
    [ -f "$HA_DIR/pids" ] || return 0
    for n in 1 2 3; do
        [ -n "${NODE_PID[$n]:-}" ] && ha_node_signal "$n" CONT
    done
    for p in $(tac "$HA_DIR/pids"); do
        kill "$p" 2>/dev/null
    done
    for _ in $(seq 50); do
        local alive=""
        for p in $(cat "$HA_DIR/pids"); do kill -0 "$p" 2>/dev/null && alive=1; done
        [ -z "$alive" ] && break
        sleep 0.2
    done
    for p in $(cat "$HA_DIR/pids"); do kill -9 "$p" 2>/dev/null; done
    # A postgres whose Patroni was killed by a failover may outlive it.
    for n in 1 2 3; do
        [ -f "$HA_DIR/n$n/data/postmaster.pid" ] || continue
        p=$(head -n 1 "$HA_DIR/n$n/data/postmaster.pid")
        [ -n "$p" ] && kill -9 "$p" 2>/dev/null
    done
    return 0
}
