# shellcheck shell=bash
# Shell functions shared by make run (deploy/dev-run.sh), the test harness
# (tests/lib/stack.bash) and the container entrypoint: a throwaway
# PostgreSQL, and lighttpd with the mode processes. Source it; set ROOT to
# the repository (or install) folder first.

# Prints a TCP port nobody listens on at 127.0.0.1.
free_port() {
    local p
    for _ in $(seq 1 200); do
        p=$((20000 + RANDOM % 12000)) # below the ephemeral range (32768+)
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

# port_in_use ADDR PORT: true when something accepts connections there
# (0.0.0.0 is tried as 127.0.0.1).
port_in_use() {
    local addr=$1
    [ "$addr" = 0.0.0.0 ] && addr=127.0.0.1
    (exec 3<>"/dev/tcp/$addr/$2") 2>/dev/null
}

pg_bindir() {
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$d" ] || { echo "no PostgreSQL server found under /usr/lib/postgresql" >&2; return 1; }
    echo "$d"
}

# Runs a command as the PostgreSQL owner: initdb refuses root, so as root
# that is the postgres user; otherwise ourselves.
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# pg_start DIR PORT: initialises a throwaway cluster in DIR (trust auth,
# loopback and a unix socket in DIR/sock) and starts it. Sets PG_DIR,
# PG_PORT, PG_SOCK and PG_URL.
pg_start() {
    local dir=$1 port=$2 bin
    bin=$(pg_bindir) || return 1
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$dir"
        # initdb needs the postgres user to reach DIR; a folder under a
        # private home (mode 700) is not reachable.
        if ! runuser -u postgres -- test -w "$dir"; then
            echo "pg_start: $dir is not reachable by the postgres user" >&2
            return 1
        fi
    fi
    chmod 711 "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
            --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
    fi
    as_pg mkdir -p "$dir/sock"
    echo "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir/sock -c max_connections=200" \
        >"$dir/options"
    pg_restart "$dir" || { tail -n 20 "$dir/postgres.log" >&2; return 1; }
    # shellcheck disable=SC2034 # set for the caller
    PG_DIR=$dir PG_PORT=$port PG_SOCK=$dir/sock PG_URL="host=$dir/sock port=$port user=postgres dbname=postgres"
}

# pg_stop DIR [MODE]: stops the cluster in DIR (fast shutdown by default).
pg_stop() {
    local dir=$1 mode=${2:-fast} bin
    bin=$(pg_bindir) || return 1
    [ -f "$dir/data/postmaster.pid" ] || return 0
    as_pg "$bin/pg_ctl" -D "$dir/data" -m "$mode" -w -t 30 stop >/dev/null 2>&1 || true
}

# pg_restart DIR: starts the cluster in DIR (again, after pg_stop) with the
# options pg_start chose.
pg_restart() {
    local dir=$1 bin
    bin=$(pg_bindir) || return 1
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 30 -o "$(cat "$dir/options")" \
        start >/dev/null
}

# service_start RUNDIR: checks the configuration, then starts lighttpd in the
# foreground mode (-D) as a background job of this shell, with its mode
# processes' sockets in RUNDIR/sockets. Sets SERVICE_PID. Uses BACKEND_BIN
# (default ROOT/bin) and BACKEND_WRAP.
service_start() {
    local run=$1
    export BACKEND_ROOT=$ROOT
    export BACKEND_BIN=${BACKEND_BIN:-$ROOT/bin}
    export BACKEND_SOCKETS=$run/sockets
    export BACKEND_WRAP=${BACKEND_WRAP:-}
    mkdir -p "$BACKEND_SOCKETS"
    "$BACKEND_BIN/backend-registry" --check-config || return 1
    lighttpd -D -f "$ROOT/lighttpd.conf" &
    # shellcheck disable=SC2034 # set for the caller
    SERVICE_PID=$!
}

# wait_healthy URL [SECONDS [PID]]: waits for GET URL/health to answer 200;
# gives up early when PID (lighttpd) has gone.
wait_healthy() {
    local url=$1 limit=${2:-10} pid=${3:-} deadline
    deadline=$((SECONDS + limit))
    while [ "$SECONDS" -lt "$deadline" ]; do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/health" 2>/dev/null)" = 200 ] && return 0
        [ -n "$pid" ] && [ -z "$(pids_running "$pid")" ] && return 1
        sleep 0.05
    done
    return 1
}

# pids_running PID...: prints those of the PIDs whose process still runs.
# A zombie does not: once lighttpd has gone, its mode processes are reaped by
# PID 1, which may take its time, and kill -0 still succeeds on them.
pids_running() {
    local p state _
    for p in "$@"; do
        # /proc/PID/stat: "pid (comm) state ..."; no mode's comm has a blank.
        read -r _ _ state _ 2>/dev/null <"/proc/$p/stat" || continue
        [ -n "$state" ] && [ "$state" != Z ] && printf '%s ' "$p"
    done
    return 0
}

# service_stop PID: stops lighttpd and every mode process it started, by PID;
# waits for them and kills what does not stop within 10 s.
service_stop() {
    local pid=$1 kids i
    kids=$(pgrep -P "$pid" 2>/dev/null | tr '\n' ' ' || true) # none is fine
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 200); do
        local alive
        alive=$(pids_running $pid $kids)
        [ -z "$alive" ] && break
        [ "$i" -eq 200 ] && kill -KILL $alive 2>/dev/null
        # lighttpd has gone: make sure its children go too.
        kill -0 "$pid" 2>/dev/null || kill -TERM $kids 2>/dev/null || true
        sleep 0.05
    done
    wait "$pid" 2>/dev/null || true
}
