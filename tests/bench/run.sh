#!/usr/bin/env bash
# make bench: measures the service against references measured in the same
# run, on the same PostgreSQL, at the same client counts, and writes
# docs/benchmarks.md, docs/benchmarks.png and tests/bench/results.json.
#   QUICK=1   short runs (1 s per measurement instead of 5)
#   REPS=N    each figure the median of N runs (default 3)
#   CLIENTS="1 8"  other client counts (default 1 8 32 128 512)
#   ONLY=mcp  the MCP scenarios alone, merged into the last results.json
#             (the other scenarios' numbers are kept, with their date)
#   ONLY=waiters  the waiting-at-scale scenario alone, merged the same way
#   WAITERS=N waiting requests held open in that scenario (default 1000)
#   WAITERS_ROUNDS=N  its rounds, each without and then with (default 5)
#   ONLY=queue  the queue scenarios alone (queue_cycle, queue_batch), merged
#             the same way
# References: pgbench running the statements the service runs (printed by
# `backend-<mode> --sql NAME`, so they cannot drift from the code), pg-boss
# and graphile-worker for the queue (their versions pinned in
# tests/bench/package.json and package-lock.json), and lighttpd serving a
# static file (the HTTP ceiling).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
. deploy/lib.sh
BENCH=$ROOT/tests/bench
DUR=5
[ "${QUICK:-}" = 1 ] && DUR=1
# Client counts: what a front proxy sends. The references that hold one
# PostgreSQL connection per client (pgbench, pg-boss) run up to REF_MAX:
# the benchmark's PostgreSQL allows PG_MAX_CONNECTIONS, of which the
# service's own processes hold about a hundred. The MCP shapes (what a
# session costs) run at 1, 8 and 32.
CLIENTS=${CLIENTS:-1 8 32 128 512}
REF_MAX=128
PG_MAX_CONNECTIONS=400
MCP_CLIENTS="1 8 32"
# The batched queue scenario (enqueue 100 in one request, claim max=100,
# batch ack) runs at these worker counts, where they are in CLIENTS.
BATCH_CLIENTS="1 8 32"
BATCH=100
REPS=${REPS:-3} # each figure is the median of REPS runs; the rate's spread is kept
ref() { [ "$1" -le "$REF_MAX" ]; }
ONLY=${ONLY:-}
case "$ONLY" in "" | mcp | queue | waiters) ;; *) echo "ONLY=$ONLY: only ONLY=mcp, ONLY=queue and ONLY=waiters are known" >&2; exit 2 ;; esac

# ---- what it needs -------------------------------------------------------
deploy/install-deps.sh --bench
command -v node >/dev/null && command -v npm >/dev/null || { echo "make bench needs node and npm (for pg-boss and graphile-worker)" >&2; exit 1; }
# The queue references at the versions package-lock.json pins (pg-boss 10;
# graphile-worker 0.17, the last that runs on Node 20: 0.18 wants 22.18).
if [ "$ONLY" != mcp ] && { [ ! -d "$BENCH/node_modules/pg-boss" ] || [ ! -d "$BENCH/node_modules/graphile-worker" ]; }; then
    (cd "$BENCH" && npm ci --silent --no-audit --no-fund >/dev/null)
fi
PGBIN=$(pg_bindir)

# ---- what it starts, and stops whatever happens ---------------------------
WORK=$(mktemp -d /tmp/backend-bench.XXXXXX)
chmod 711 "$WORK"
STATIC_PID="" FLOOR_PID=""
WAITERS_PID="" SAMPLER_PID=""
cleanup() {
    local rc=$?
    set +e # stop everything, whatever fails on the way
    if [ -n "$WAITERS_PID" ]; then kill -TERM "$WAITERS_PID" 2>/dev/null; wait "$WAITERS_PID" 2>/dev/null; fi
    if [ -n "$SAMPLER_PID" ]; then stop_sampler; fi
    if [ -n "${SERVICE_PID:-}" ]; then service_stop "$SERVICE_PID"; fi
    if [ -n "$STATIC_PID" ]; then service_stop "$STATIC_PID"; fi
    if [ -n "$FLOOR_PID" ]; then service_stop "$FLOOR_PID"; fi
    if [ -n "${NOMETRICS_PID:-}" ]; then service_stop "$NOMETRICS_PID"; fi
    pg_stop "$WORK/pg" immediate
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT

pg_start "$WORK/pg" "$(free_port)"
# Room for the service's connections and the references' at REF_MAX.
pg_stop "$WORK/pg"
sed -i "s/max_connections=[0-9]*/max_connections=$PG_MAX_CONNECTIONS/" "$WORK/pg/options"
pg_restart "$WORK/pg"
PGSQL=(psql "$PG_URL" -XAtq -v ON_ERROR_STOP=1)

export DATABASE_URL=$PG_URL DATASTORE_TOKEN=bench-token TOKEN=bench-token
export FILE_TEMP_DIR=$WORK/files FILE_TTL_SECONDS=3600 LOG_LEVEL=info
PORT=$(free_port)
export PORT LISTEN_ADDR=127.0.0.1
URL=http://127.0.0.1:$PORT
service_start "$WORK/run" >"$WORK/service.log" 2>&1
wait_healthy "$URL" 15

# The static-file ceiling: a bare lighttpd serving a 13-byte file.
STATIC_PORT=$(free_port)
mkdir -p "$WORK/static"
printf 'hello, world\n' >"$WORK/static/hello.txt"
cat >"$WORK/static.conf" <<CONF
server.document-root = "$WORK/static"
server.bind = "127.0.0.1"
server.port = $STATIC_PORT
CONF
lighttpd -D -f "$WORK/static.conf" >"$WORK/static.log" 2>&1 &
STATIC_PID=$!
for _ in $(seq 1 50); do curl -sf -o /dev/null "http://127.0.0.1:$STATIC_PORT/hello.txt" && break; sleep 0.1; done

# ---- helpers ---------------------------------------------------------------
RESULTS=$WORK/results.jsonl
: >"$RESULTS"
PG_PID=$(head -n 1 "$WORK/pg/data/postmaster.pid")

# to_ms VALUE-WITH-UNIT: wrk's "1.23ms", "850.00us", "1.02s" in ms.
to_ms() {
    awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'
}

# ---- CPU per request ---------------------------------------------------------
# ticks PID: the CPU time, in clock ticks, of PID and of the children it has
# waited for (a PostgreSQL backend that ended, a mode process respawned):
# utime + stime + cutime + cstime. 0 when PID has gone.
ticks() {
    local v
    v=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 + $14 + $15 }')
    echo "${v:-0}"
}
# cpu_snapshot LIGHTTPD_PID: "LIGHTTPD MODES MCP POSTGRES", CPU ticks so far:
# lighttpd's own; its children but backend-mcp (the mode processes, with
# those it reaped); backend-mcp; the postmaster and every PostgreSQL
# process under it (the backends, and those that ended: pgbench's).
cpu_snapshot() {
    local l=$1 own modes mcp=0 pg p t
    read -r own modes < <(sed 's/^.*) //' "/proc/$l/stat" | awk '{ print $12 + $13, $14 + $15 }')
    for p in $(pgrep -P "$l"); do
        t=$(ticks "$p")
        if [ "$(cat "/proc/$p/comm" 2>/dev/null)" = backend-mcp ]; then mcp=$((mcp + t)); else modes=$((modes + t)); fi
    done
    pg=$(ticks "$PG_PID")
    for p in $(pgrep -P "$PG_PID"); do pg=$((pg + $(ticks "$p"))); done
    echo "$own $modes $mcp $pg"
}
TICK_US=$((1000000 / $(getconf CLK_TCK)))

# measure LIGHTTPD_PID COMMAND...: runs COMMAND (a client that prints
# "RATE P50 P99 P999 ERRORS REQUESTS") and prints that line followed by the
# CPU each process kind spent per request over the run, in µs: "CLIENT
# LIGHTTPD MODES MCP POSTGRES". The client's own CPU comes from the
# subshell's children times (bash's times), the rest from /proc.
measure() {
    local l=$1 before after line client
    shift
    before=$(cpu_snapshot "$l")
    {
        read -r line
        read -r client
    } < <(
        # A client that fails prints FAILED instead of its line (else the
        # client CPU below would be read as the figures).
        out=$("$@") || out=""
        echo "${out:-FAILED}"
        # times runs in this subshell, not in a pipeline's: its second line
        # is this subshell's children, the client alone.
        times >"$WORK/times.$BASHPID"
        awk 'NR == 2 { split($1, u, "m"); split($2, s, "m"); printf "%.0f\n", (u[1] * 60 + u[2] + s[1] * 60 + s[2]) * 1e6 }' "$WORK/times.$BASHPID"
        rm -f "$WORK/times.$BASHPID"
    )
    after=$(cpu_snapshot "$l")
    [ -n "$line" ] && [ "$line" != FAILED ] || return 1
    awk -v line="$line" -v client="$client" -v b="$before" -v a="$after" -v tick="$TICK_US" 'BEGIN {
        split(line, m, " "); split(b, x, " "); split(a, y, " "); n = m[6] > 0 ? m[6] : 1
        printf "%s %.1f", line, client / n
        for (i = 1; i <= 4; i++) printf " %.1f", (y[i] - x[i]) * tick / n
        printf "\n" }'
}

# wrk_once CLIENTS URL [LUA]: one wrk run, "RATE P50 P99 P999 ERRORS REQUESTS"
# (done.lua's line; errors: non-2xx/3xx answers, socket errors, timeouts of
# 10 s).
wrk_once() {
    local threads=$(($1 < 2 ? 1 : 2)) script
    script=$(mktemp "$WORK/wrk.XXXXXX.lua")
    cat ${3:+"$3"} "$BENCH/done.lua" >"$script"
    wrk -t"$threads" -c"$1" -d"${DUR}s" --timeout 10s -s "$script" "$2" |
        awk '$1 == "BENCH" { printf "%.1f %s %s %s %s %s\n", $2 / ($3 / 1e6), $4, $5, $6, $7, $2 }'
    rm -f "$script"
}

# pgbench_once CLIENTS SCRIPT: pgbench -M prepared over the unix socket,
# percentiles from its per-transaction log; the same six numbers.
pgbench_once() {
    local threads=$(($1 < 2 ? 1 : 2)) logdir out tps n
    logdir=$(mktemp -d "$WORK/pgbench.XXXXXX")
    out=$(cd "$logdir" && "$PGBIN/pgbench" -n -M prepared -c "$1" -j "$threads" -T "$DUR" -f "$2" \
        -h "$PG_SOCK" -p "$PG_PORT" -U postgres --log --log-prefix=tx postgres 2>&1) || true
    tps=$(awk '/^tps = / { print $3; exit }' <<<"$out")
    [ -n "$tps" ] || {
        echo "$out" >&2
        echo "pgbench $(basename "$2") at $1 clients: no tps line, no figure" >&2
        rm -rf "$logdir"
        return 1
    }
    cat "$logdir"/tx* 2>/dev/null | awk '{ print $3 / 1000 }' | sort -n >"$logdir/lat"
    n=$(wc -l <"$logdir/lat")
    # A run that completed no transaction is no figure (at 128 clients a
    # 1 s run can spend its whole second connecting): refused, not recorded
    # as 0/s with empty percentiles.
    if [ "$n" -eq 0 ] || awk -v t="$tps" 'BEGIN { exit !(t + 0 == 0) }'; then
        echo "pgbench $(basename "$2") at $1 clients: 0 transactions in ${DUR} s, no figure" >&2
        rm -rf "$logdir"
        return 1
    fi
    echo "$tps" "$(sed -n "$(((n + 1) / 2))p" "$logdir/lat")" "$(sed -n "$(((n * 99 + 99) / 100))p" "$logdir/lat")" \
        "$(sed -n "$(((n * 999 + 999) / 1000))p" "$logdir/lat")" \
        "$(awk '/number of failed transactions/ { print $5 + 0; f = 1 } END { if (!f) print 0 }' <<<"$out")" "$n"
    rm -rf "$logdir"
}

# pgbench_batch_once CLIENTS SCRIPT JOBS: pgbench_once of a script whose
# transaction handles JOBS jobs, in jobs: the rate and the count times
# JOBS, each job's latency its transaction's.
pgbench_batch_once() {
    local line
    line=$(pgbench_once "$1" "$2") || return 1
    awk -v k="$3" '{ printf "%.1f %s %s %s %s %d\n", $1 * k, $2, $3, $4, $5, $6 * k }' <<<"$line"
}

# node_once SCRIPT ARGS...: a Node client's JSON as the same six numbers.
node_once() {
    NODE_PATH=$BENCH/node_modules node "$@" | jq -r '"\(.rate) \(.p50_ms) \(.p99_ms) \(.p999_ms) \(.errors) \(.count)"'
}

# run SCENARIO SUBJECT CLIENTS LIGHTTPD_PID COMMAND...: measures COMMAND
# REPS times in a row and records the median of each figure, the spread of
# the rate (min and max) and the errors summed over the repetitions.
run() {
    local s=$1 who=$2 c=$3 l=$4 lines="" line i
    shift 4
    for i in $(seq 1 "$REPS"); do
        # A repetition that gives no figure (a client that failed, pgbench
        # with 0 transactions) is left out, and said so.
        if line=$(measure "$l" "$@") && [ -n "$line" ]; then
            lines+="$line"$'\n'
        else
            echo "$s $who c=$c: repetition $i gave no figure" >&2
        fi
    done
    [ -n "$lines" ] || { echo "$s $who c=$c: no figure recorded" >&2; return 0; }
    record "$s" "$who" "$c" "$lines"
}

# record SCENARIO SUBJECT CLIENTS LINES: LINES are measure's, one per
# repetition.
record() {
    local json
    json=$(sed '/^$/d' <<<"$4" | jq -R 'split(" ") | map(tonumber)' | jq -sc --arg s "$1" --arg who "$2" --argjson c "$3" '
        def med(i): map(.[i]) | sort | .[(length - 1) / 2 | floor];
        {scenario: $s, subject: $who, clients: $c, reps: length,
         rate: med(0), rate_min: (map(.[0]) | min), rate_max: (map(.[0]) | max),
         p50_ms: med(1), p99_ms: med(2), p999_ms: med(3), errors: (map(.[4]) | add), requests: (map(.[5]) | add),
         cpu_us: {client: med(6), lighttpd: med(7), modes: med(8), mcp: med(9), postgres: med(10)}}')
    echo "$json" >>"$RESULTS"
    jq -r '"\(.scenario | .[0:16] | . + " " * (16 - length)) \(.subject | . + " " * (9 - length)) c=\(.clients)\t\(.rate | floor)/s (\(.rate_min | floor)-\(.rate_max | floor))  p50 \(.p50_ms)  p99 \(.p99_ms)  p99.9 \(.p999_ms) ms  errors \(.errors)  cpu µs/req: client \(.cpu_us.client) lighttpd \(.cpu_us.lighttpd) modes \(.cpu_us.modes) pg \(.cpu_us.postgres)"' <<<"$json"
}

# sql NAME: the service's statement. pgbench takes every ":word" for a
# variable, even inside a string literal, so the timestamp format's colons
# are spelled chr(58) (constant-folded by the planner: same plan, same cost).
sql() {
    "$BACKEND_BIN/backend-registry" --sql "$1" | sed "s/HH24:MI:SS/HH24' || chr(58) || 'MI' || chr(58) || 'SS/g"
}

# ---- waiting at scale ---------------------------------------------------------
# WAITERS waiting requests (tests/bench/waiters.js: half changes-feed
# long-polls, half queue long-poll claims, over WAITERS_NS namespaces of
# each, wait_seconds 20, each re-issued when it ends, the first waits spread
# over 2..20 s) held open while document GET is measured at 8 clients, in
# WAITERS_ROUNDS rounds that alternate: the GET without waiters, then with them. A
# p99 at 8 clients moves by several milliseconds from one set of runs to the
# next on this machine (the scheduler's slices), so the two are measured
# side by side in each round rather than one set after the other.
# Recorded: waiters_get (subjects no_waiters, with_waiters, the median of
# the rounds) and the waiters object, summed over the rounds: answers that
# came back empty before their wait was over (early), errors, and the most
# PostgreSQL connections the service had (pg_stat_activity, sampled every
# 200 ms) with the waiters and, as the bound's reference, without them
# (during the same requests made once with wait_seconds 0, then the first
# round's GET without waiters).
WAITERS=${WAITERS:-1000}
WAITERS_NS=${WAITERS_NS:-50}
WAITERS_WAIT=20
# Five rounds, not REPS: a tail percentile needs more than three samples
# to say which way it leans.
WAITERS_ROUNDS=${WAITERS_ROUNDS:-5}
# start_sampler FILE: the service's PostgreSQL connections (each mode names
# its connections backend-<mode>: db_set_app_name) every 200 ms, one a
# line, appended to FILE in the background until stop_sampler. One psql
# session for all the samples: a connection per sample (a PostgreSQL
# backend started five times a second) cost the measured GET's PostgreSQL
# CPU tens of µs a request.
start_sampler() {
    rm -f "$WORK/sampler.stop"
    (while [ ! -e "$WORK/sampler.stop" ]; do
        echo "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'backend-%';"
        sleep 0.2
    done | "${PGSQL[@]}" >>"$1" 2>/dev/null) &
    SAMPLER_PID=$!
}
# stop_sampler: the loop sees its stop file within 0.2 s and ends; psql
# then reads the end of its input, writes what it has and leaves, and so
# does the subshell (nothing is signalled: no process is picked by name).
stop_sampler() {
    local i
    : >"$WORK/sampler.stop"
    # A psql stuck on an unresponsive PostgreSQL would hold the loop: after
    # 5 s the subshell (its PID) is ended.
    for i in $(seq 1 50); do
        kill -0 "$SAMPLER_PID" 2>/dev/null || break
        sleep 0.1
    done
    [ "$i" -lt 50 ] || kill -TERM "$SAMPLER_PID" 2>/dev/null
    wait "$SAMPLER_PID" 2>/dev/null || true
    SAMPLER_PID=""
}
peak() { sort -n "$1" | tail -n 1; }
# waiters_start: WAITERS waiters in the background (WAITERS_PID), returning
# once every one's first request has gone out and the service has had 2 s
# to take them in.
waiters_start() {
    rm -f "$WORK/waiters.ready"
    node "$BENCH/waiters.js" "$URL" "$TOKEN" "$WAITERS" "$WAITERS_WAIT" "$WAITERS_NS" "$WORK/waiters.ready" \
        >"$WORK/waiters.json" 2>"$WORK/waiters.err" &
    WAITERS_PID=$!
    for _ in $(seq 1 600); do
        [ -e "$WORK/waiters.ready" ] && break
        sleep 0.1
    done
    [ -e "$WORK/waiters.ready" ] || { echo "waiters.js: not every waiter went out within 60 s" >&2; cat "$WORK/waiters.err" >&2; exit 1; }
    sleep 2
}
# waiters_stop: ends them; their JSON is appended to waiters.rounds.
waiters_stop() {
    kill -TERM "$WAITERS_PID"
    wait "$WAITERS_PID" || { echo "waiters.js failed:" >&2; cat "$WORK/waiters.err" >&2; exit 1; }
    WAITERS_PID=""
    cat "$WORK/waiters.json" >>"$WORK/waiters.rounds"
}
run_waiters() {
    local r line without="" with=""
    echo "waiting at scale: $WAITERS waiters, $WAITERS_ROUNDS rounds"
    : >"$WORK/conn.without"
    : >"$WORK/conn.with"
    : >"$WORK/waiters.rounds"
    start_sampler "$WORK/conn.without"
    # The same requests once, none waiting, so every worker that serves
    # them has been busy (what the service holds without waiters).
    node "$BENCH/waiters.js" "$URL" "$TOKEN" "$WAITERS" 0 "$WAITERS_NS" "" >"$WORK/waiters0.json"
    wrk_once 8 "$URL" "$BENCH/doc-get.lua" >/dev/null # warm, not recorded
    stop_sampler
    for r in $(seq 1 "$WAITERS_ROUNDS"); do
        # The reference's connections are those sampled before any waiter
        # ran: a process keeps the connections it opened (spares), so a
        # later round without waiters still holds those the waiters'
        # rounds made. The sampler runs in every round all the same (its
        # psql connections cost PostgreSQL CPU), so both sides pay it.
        if [ "$r" = 1 ]; then start_sampler "$WORK/conn.without"; else start_sampler "$WORK/conn.later"; fi
        if line=$(measure "$SERVICE_PID" wrk_once 8 "$URL" "$BENCH/doc-get.lua") && [ -n "$line" ]; then
            without+="$line"$'\n'
        else
            echo "waiters_get no_waiters round $r gave no figure" >&2
        fi
        stop_sampler
        start_sampler "$WORK/conn.with"
        waiters_start
        if line=$(measure "$SERVICE_PID" wrk_once 8 "$URL" "$BENCH/doc-get.lua") && [ -n "$line" ]; then
            with+="$line"$'\n'
        else
            echo "waiters_get with_waiters round $r gave no figure" >&2
        fi
        waiters_stop
        stop_sampler
        # The service's side of a waiter whose client left sleeps until its
        # wait is over (then answers nobody): the next round's GET without
        # waiters starts after the last of them.
        [ "$r" = "$WAITERS_ROUNDS" ] || sleep $((WAITERS_WAIT + 1))
    done
    [ -n "$without" ] && [ -n "$with" ] || { echo "waiters_get: no figure recorded" >&2; exit 1; }
    record waiters_get no_waiters 8 "$without"
    record waiters_get with_waiters 8 "$with"
    jq -sc --argjson with "$(peak "$WORK/conn.with")" --argjson without "$(peak "$WORK/conn.without")" '
        {waiters: .[0].waiters, wait_seconds: .[0].wait_seconds, namespaces: .[0].namespaces,
         backoff_ms: .[0].backoff_ms, rounds: length,
         early: (map(.early) | add), early_waiters: (map(.early_waiters) | add), errors: (map(.errors) | add),
         requests: (map(.requests) | add),
         statuses: (reduce (.[].statuses | to_entries[]) as $e ({}; .[$e.key] += $e.value)),
         pg_connections_peak: $with, pg_connections_without_waiters: $without}' \
        "$WORK/waiters.rounds" >"$WORK/waiters.obj"
    jq -r '"waiters \(.waiters), \(.rounds) rounds: early answers \(.early) (\(.early_waiters) waiters), errors \(.errors), PostgreSQL connections at most \(.pg_connections_peak) (\(.pg_connections_without_waiters) without waiters)"' "$WORK/waiters.obj"
}

# ---- memory ----------------------------------------------------------------
# pss_total: proportional set size of lighttpd and every mode process, KiB.
pss_total() {
    local total=0 p
    for p in $SERVICE_PID $(pgrep -P "$SERVICE_PID"); do
        total=$((total + $(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup")))
    done
    echo "$total"
}
curl -s -o /dev/null "$URL/health"
MEM_REST=$(pss_total)
echo "memory at rest: $MEM_REST KiB (PSS, lighttpd + all mode processes)"

# ---- data ------------------------------------------------------------------
# 10,000 warm keys for the document GET, written as the service writes them.
"${PGSQL[@]}" <<'SQL'
INSERT INTO document_heads (namespace, key, version) SELECT 'bench', 'k' || g, 1 FROM generate_series(1, 10000) g;
INSERT INTO documents (namespace, key, version, payload)
  SELECT 'bench', 'k' || g, 1, jsonb_build_object('n', g, 'tags', jsonb_build_array('a', 'b')) FROM generate_series(1, 10000) g;
ANALYZE;
SQL

# pgbench scripts: the service's statements with their parameters bound the
# way the benchmark's HTTP requests bind them.
sql document_get | sed -e 's/\$1/'"'bench'"'/' -e "s/\\\$2/('k' || CAST(:k AS text))/" >"$WORK/get.sql"
printf '\\set k random(1, 10000)\n%s;\n' "$(cat "$WORK/get.sql")" >"$WORK/get.pgb"
sql document_put | sed -e 's/\$1/'"'benchp'"'/g' -e "s/\\\$2/('w' || CAST(:k AS text))/g" \
    -e "s/\\\$3/('{\"namespace\":\"benchp\",\"key\":\"w' || CAST(:k AS text) || '\",\"payload\":{\"n\":' || CAST(:k AS text) || '}}')/g" \
    -e 's/\$4::boolean/true/' >"$WORK/put.sql"
printf '\\set k random(1, 10000)\n%s;\n' "$(cat "$WORK/put.sql")" >"$WORK/put.pgb"
# claim_sql NS MAX: the claim with its last SELECT replaced by one row of
# what the ack needs (kept with \gset): the ids and the claim tokens as
# arrays. Fails when the claim no longer ends as expected (the statement
# changed): a script that silently misses its variables measures nothing.
claim_sql() {
    local out
    out=$(sql queue_claim | sed -e "s/\\\$1/$1/g" -e "s/\\\$2::integer/$2/" -e 's/\$3::integer/30/' \
        -e 's/ SELECT j FROM u ORDER BY [A-Za-z, ]*$/ SELECT array_agg(id ORDER BY id)::text AS ids, array_agg(((j::json) ->> '"'claim_token'"') ORDER BY id)::text AS toks FROM u/')
    grep -q 'AS toks FROM u$' <<<"$out" || { echo "queue_claim does not end as claim_sql expects" >&2; return 1; }
    echo "$out"
}
{
    # One cycle per transaction-script: enqueue, claim (its id and token kept
    # with \gset), ack.
    echo "$(sql queue_enqueue | sed -e "s/\\\$1/('pgb' || CAST(:client_id AS text))/g" -e "s/\\\$2/'{\"payload\": {\"n\": 1}}'/g" -e 's/\$3::boolean/false/');"
    claim_sql "('pgb' || CAST(:client_id AS text))" 1
    echo '\gset'
    echo "$(sql queue_ack | sed -e "s/\\\$1/('pgb' || CAST(:client_id AS text))/g" -e 's/\$2::bigint/CAST((CAST(:ids AS bigint[]))[1] AS bigint)/' \
        -e 's/\$3::uuid/CAST((CAST(:toks AS uuid[]))[1] AS uuid)/g');"
} >"$WORK/queue.pgb"
# The batched cycle, the statements the service runs for it: an enqueue of
# BATCH items in one statement ({"items": [...]}), the claim with max=BATCH,
# the batch ack (queue_ack_many) of what it claimed. Each transaction-script
# is BATCH jobs. The body reaches the enqueue as a parameter (:items, set
# by a \gset), as the service sends it: a literal in the prepared statement
# would be parsed as JSON once, when planned, not at every enqueue.
{
    items=$(jq -nc --argjson n "$BATCH" '{items: [range($n) | {payload: {n: .}}]}' | sed 's/:/: /g')
    echo "SELECT CAST('$items' AS text) AS items"
    echo '\gset'
    echo "$(sql queue_enqueue | sed -e "s/\\\$1/('pgbb' || CAST(:client_id AS text))/g" -e "s/\\\$2/CAST(:items AS text)/g" -e 's/\$3::boolean/true/');"
    claim_sql "('pgbb' || CAST(:client_id AS text))" "$BATCH"
    echo '\gset'
    echo "$(sql queue_ack_many | sed -e "s/\\\$1/('pgbb' || CAST(:client_id AS text))/g" -e 's/\$2::bigint\[\]/CAST(:ids AS bigint[])/' \
        -e 's/\$3::uuid\[\]/CAST(:toks AS uuid[])/');"
} >"$WORK/queue-batch.pgb"
grep -q '\$[0-9]' "$WORK/queue.pgb" "$WORK/queue-batch.pgb" && { echo "a queue pgbench script kept a \$N parameter" >&2; exit 1; }

# ---- the queue scenarios -------------------------------------------------------
PG_CONN="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
# queue_warm: one short run, not recorded, of each queue client, the cycle
# at the highest client count and at least 64, so each of the queue mode's
# 2 processes x 32 threads has its connection open and its statements
# prepared before the first measurement (a thread takes a request at
# random: a first run on cold threads was several times slower, 8 cycles/s
# at 1 client against about 100 warm), and Node has its modules cached.
queue_warm() {
    local top
    top=$(tr ' ' '\n' <<<"$CLIENTS 64" | sort -n | tail -n 1)
    node "$BENCH/queue-cycle.js" "$URL" "$TOKEN" "$top" 2 >/dev/null || true
    node "$BENCH/queue-batch.js" "$URL" "$TOKEN" 64 2 "$BATCH" >/dev/null || true
}
# run_queue CLIENTS: the queue scenarios at CLIENTS: the cycle one job per
# round trip (the service; pgbench; pg-boss and graphile-worker), and at
# BATCH_CLIENTS the batched one (BATCH per round trip, the same four).
# The queue mode's connections plan each statement once (mode.h,
# generic_plans): pgbench running those statements does too.
QUEUE_PGOPTIONS="-c plan_cache_mode=force_generic_plan"
run_queue() {
    local c=$1 S=$SERVICE_PID
    run queue_cycle service "$c" "$S" node_once "$BENCH/queue-cycle.js" "$URL" "$TOKEN" "$c" "$DUR"
    ref "$c" && PGOPTIONS=$QUEUE_PGOPTIONS run queue_cycle pgbench "$c" "$S" pgbench_once "$c" "$WORK/queue.pgb"
    ref "$c" && run queue_cycle pg-boss "$c" "$S" node_once "$BENCH/pgboss-cycle.js" "$PG_CONN" "$c" "$DUR"
    ref "$c" && run queue_cycle graphile-worker "$c" "$S" node_once "$BENCH/graphile-bench.js" "$PG_CONN" "$c" "$DUR" 1
    case " $BATCH_CLIENTS " in *" $c "*) ;; *) return 0 ;; esac
    run queue_batch service "$c" "$S" node_once "$BENCH/queue-batch.js" "$URL" "$TOKEN" "$c" "$DUR" "$BATCH"
    PGOPTIONS=$QUEUE_PGOPTIONS run queue_batch pgbench "$c" "$S" pgbench_batch_once "$c" "$WORK/queue-batch.pgb" "$BATCH"
    run queue_batch pg-boss "$c" "$S" node_once "$BENCH/pgboss-batch.js" "$PG_CONN" "$c" "$DUR" "$BATCH"
    run queue_batch graphile-worker "$c" "$S" node_once "$BENCH/graphile-bench.js" "$PG_CONN" "$c" "$DUR" "$BATCH"
}

if [ "$ONLY" = queue ]; then
    queue_warm
    for c in $CLIENTS; do run_queue "$c"; done
    # Merged into the last full run's results: its queue rows replaced, the
    # rest kept; queue_run says when these were measured and for how long.
    jq --slurpfile new "$RESULTS" --arg dur "$DUR" --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
        '.results = ([.results[] | select(.scenario == "queue_cycle" or .scenario == "queue_batch" | not)] + $new)
         | .queue_run = {date: $date, seconds_per_measurement: ($dur | tonumber)}' \
        "$BENCH/results.json" >"$WORK/merged.json"
    cp "$WORK/merged.json" "$BENCH/results.json"
    "$BENCH/report.sh" "$BENCH/results.json" "$ROOT/docs"
    echo "wrote docs/benchmarks.md, docs/benchmarks.png, tests/bench/results.json (queue scenarios only)"
    exit 0
fi

# The sql mode: a table made through the service, 1000 rows for the list.
SQL_DEF='{"name":"bench","columns":[{"name":"sha","type":"text"},{"name":"n","type":"integer"},{"name":"ok","type":"boolean"}]}'
curl -sf -o /dev/null -H "Authorization: Bearer $TOKEN" -d "$SQL_DEF" "$URL/sql/tables"
seq 1 1000 | jq -sc 'map({sha: "p\(.)", n: ., ok: true})' |
    curl -sf -o /dev/null -H "Authorization: Bearer $TOKEN" --data-binary @- "$URL/sql/tables/bench/rows"
# sql_built KIND: the statement the sql mode builds for the table (the same
# function builds it for the service: backend-<mode> --sql KIND DEF).
sql_built() {
    "$BACKEND_BIN/backend-registry" --sql "$1" "$SQL_DEF" | sed "s/HH24:MI:SS/HH24' || chr(58) || 'MI' || chr(58) || 'SS/g"
}
# pgbench takes ":word" as a variable even in a literal: the JSON has a
# blank after each colon.
printf '\\set k random(1, 1000000)\n%s;\n' \
    "$(sql_built sql_rows_insert | sed "s/\\\$1/('{\"sha\": \"s' || CAST(:k AS text) || '\", \"n\": ' || CAST(:k AS text) || ', \"ok\": true}')/g")" \
    >"$WORK/sql-insert.pgb"
# ?limit=100: after 0, 101 rows fetched (one more tells whether there is a
# next page), no filter.
printf '%s;\n' "$(sql_built sql_rows_list | sed -e 's/\$1::bigint/CAST(0 AS bigint)/' -e 's/\$2::int/101/' \
    -e 's/\$[0-9][0-9]*::/NULL::/g')" >"$WORK/sql-list.pgb"

if [ "$ONLY" = waiters ]; then
    run_waiters
    # Merged into the last full run's results: its waiters rows and object
    # replaced, the rest kept; the object says when it was measured.
    jq --slurpfile new "$RESULTS" --slurpfile w "$WORK/waiters.obj" --arg dur "$DUR" --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
        '.results = ([.results[] | select(.scenario != "waiters_get")] + $new)
         | .waiters = ($w[0] + {date: $date, seconds_per_measurement: ($dur | tonumber)})' \
        "$BENCH/results.json" >"$WORK/merged.json"
    cp "$WORK/merged.json" "$BENCH/results.json"
    "$BENCH/report.sh" "$BENCH/results.json" "$ROOT/docs"
    echo "wrote docs/benchmarks.md, docs/benchmarks.png, tests/bench/results.json (waiters scenario only)"
    exit 0
fi

# MCP: one session for the busy client, and for the cold lookups a fresh
# block of MCP_BLOCK sessions per measurement (ids as mcp-call.lua spells
# them), made directly in the table backend-mcp reads, idle since they were
# made, so each first use is a lookup and a write of last_seen_at.
mcp_post() {
    curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
        -H 'Accept: application/json, text/event-stream' "$@" "$URL/mcp"
}
MCP_SESSION=$(mcp_post -D - -o /dev/null \
    -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}' |
    tr -d '\r' | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: //p')
[ -n "$MCP_SESSION" ] || { echo "initialize gave no Mcp-Session-Id" >&2; exit 1; }
MCP_REPS=$REPS # each shape measured MCP_REPS times, interleaved
MCP_BLOCK=25000
MCP_BLOCKS=$(($(wc -w <<<"$MCP_CLIENTS") * MCP_REPS))
"${PGSQL[@]}" -c "INSERT INTO mcp_sessions (id, protocol_version)
    SELECT lpad(to_hex(g), 32, '0'), '2025-11-25' FROM generate_series(1, $((MCP_BLOCK * MCP_BLOCKS))) g"
export MCP_SESSION MCP_BLOCK
# Each shape once by hand: a tool result, not an error, before it is timed.
for era in stateless session cold; do
    hdr=(-H 'MCP-Protocol-Version: 2025-11-25' -H "Mcp-Session-Id: $MCP_SESSION")
    meta=""
    [ "$era" = cold ] && hdr=(-H 'MCP-Protocol-Version: 2025-11-25' -H "Mcp-Session-Id: $(printf '%032x' $((MCP_BLOCK * MCP_BLOCKS)))")
    if [ "$era" = stateless ]; then
        hdr=(-H 'MCP-Protocol-Version: 2026-07-28' -H 'Mcp-Method: tools/call' -H 'Mcp-Name: document_get')
        meta=',"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}'
    fi
    mcp_post "${hdr[@]}" \
        -d '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"document_get","arguments":{"namespace":"bench","key":"k7"}'"$meta"'}}' |
        jq -e '.result.isError == false and .result.structuredContent.payload.n == 7' >/dev/null ||
        { echo "MCP $era: document_get did not answer as expected" >&2; exit 1; }
done
# A warm-up, not recorded: backend-mcp's workers and connections, wrk.
MCP_ERA=stateless wrk_once 8 "$URL" "$BENCH/mcp-call.lua" >/dev/null
MCP_NEXT_BLOCK=0
# run_mcp CLIENTS: the three shapes of mcp-call.lua at CLIENTS and, as
# their reference, the same read through the HTTP route (doc-get.lua), in
# MCP_REPS rounds of the four in turn (so a slower moment of the machine
# falls on all four), each recorded by the medians over its rounds.
run_mcp() {
    local era
    local -A runs=([stateless]="" [session]="" [cold]="" [http]="")
    for _ in $(seq 1 "$MCP_REPS"); do
        for era in stateless session cold; do
            runs[$era]+="$(MCP_ERA=$era MCP_BASE=$((MCP_NEXT_BLOCK * MCP_BLOCK)) \
                measure "$SERVICE_PID" wrk_once "$1" "$URL" "$BENCH/mcp-call.lua")"$'\n'
        done
        runs[http]+="$(measure "$SERVICE_PID" wrk_once "$1" "$URL" "$BENCH/doc-get.lua")"$'\n'
        MCP_NEXT_BLOCK=$((MCP_NEXT_BLOCK + 1))
    done
    for era in stateless session cold http; do
        local name=mcp_$era
        [ "$era" = cold ] && name=mcp_session_cold
        record "$name" service "$1" "${runs[$era]}"
    done
}

if [ "$ONLY" = mcp ]; then
    for c in $MCP_CLIENTS; do run_mcp "$c"; done
    # Merged into the last full run's results: its MCP rows replaced, the
    # rest kept; mcp_run says when these were measured and for how long.
    jq --slurpfile new "$RESULTS" --arg dur "$DUR" --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
        '.results = ([.results[] | select(.scenario | startswith("mcp_") | not)] + $new)
         | .mcp_run = {date: $date, seconds_per_measurement: ($dur | tonumber)}' \
        "$BENCH/results.json" >"$WORK/merged.json"
    cp "$WORK/merged.json" "$BENCH/results.json"
    "$BENCH/report.sh" "$BENCH/results.json" "$ROOT/docs"
    echo "wrote docs/benchmarks.md, docs/benchmarks.png, tests/bench/results.json (MCP scenarios only)"
    exit 0
fi

# ---- the FastCGI floor ---------------------------------------------------------
# A copy of the service on its own port, the same lighttpd and
# configuration, every mode's executable the real one but backend-document:
# that is tests/bench/fcgi-floor.c, a responder that does no work, run with
# the document mode's processes and workers. doc_get against it is what
# lighttpd and the FastCGI hop cost before a mode does anything. Measured
# first at every client count, then stopped, so that its idle processes
# are not running beside the rest.
run_floor() {
    local main_pid=$SERVICE_PID main_port=$PORT main_bin=$BACKEND_BIN floor_url c workers
    workers=$("$BACKEND_BIN/backend-registry" --workers | awk '$1 == "document" { print $3 }')
    [ -n "$workers" ] || { echo "backend-registry --workers names no document mode" >&2; return 1; }
    mkdir -p "$WORK/floor-bin"
    ln -s "$BACKEND_BIN"/backend-* "$WORK/floor-bin/"
    rm "$WORK/floor-bin/backend-document"
    cc -std=c11 -O2 -Wall -Wextra -Werror -pthread -o "$WORK/floor-bin/backend-document" "$BENCH/fcgi-floor.c" -lfcgi
    PORT=$(free_port)
    export PORT FLOOR_WORKERS=$workers
    floor_url=http://127.0.0.1:$PORT
    BACKEND_BIN=$WORK/floor-bin service_start "$WORK/run-floor" >"$WORK/service-floor.log" 2>&1
    FLOOR_PID=$SERVICE_PID
    SERVICE_PID=$main_pid PORT=$main_port BACKEND_BIN=$main_bin
    export PORT BACKEND_BIN
    unset FLOOR_WORKERS
    wait_healthy "$floor_url" 15 "$FLOOR_PID" || { echo "the FastCGI floor did not start" >&2; return 1; }
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$floor_url/document/bench/k1")" = 200 ] ||
        { echo "the FastCGI floor does not answer GET /document/bench/k1" >&2; return 1; }
    for c in $CLIENTS; do
        run doc_get fcgi-floor "$c" "$FLOOR_PID" wrk_once "$c" "$floor_url" "$BENCH/doc-get.lua"
    done
    service_stop "$FLOOR_PID"
    FLOOR_PID=""
}

# ---- the runs --------------------------------------------------------------
run_floor
queue_warm
for c in $CLIENTS; do
    S=$SERVICE_PID
    run static lighttpd "$c" "$STATIC_PID" wrk_once "$c" "http://127.0.0.1:$STATIC_PORT/hello.txt"
    run health service "$c" "$S" wrk_once "$c" "$URL" "$BENCH/health.lua"
    run doc_get service "$c" "$S" wrk_once "$c" "$URL" "$BENCH/doc-get.lua"
    ref "$c" && run doc_get pgbench "$c" "$S" pgbench_once "$c" "$WORK/get.pgb"
    run doc_post service "$c" "$S" wrk_once "$c" "$URL" "$BENCH/doc-post.lua"
    ref "$c" && run doc_post pgbench "$c" "$S" pgbench_once "$c" "$WORK/put.pgb"
    run_queue "$c"
    run sql_insert service "$c" "$S" wrk_once "$c" "$URL" "$BENCH/sql-insert.lua"
    ref "$c" && run sql_insert pgbench "$c" "$S" pgbench_once "$c" "$WORK/sql-insert.pgb"
    run sql_list service "$c" "$S" wrk_once "$c" "$URL" "$BENCH/sql-list.lua"
    ref "$c" && run sql_list pgbench "$c" "$S" pgbench_once "$c" "$WORK/sql-list.pgb"
    run file_post service "$c" "$S" wrk_once "$c" "$URL" "$BENCH/file-post.lua"
    case " $MCP_CLIENTS " in *" $c "*) run_mcp "$c" ;; esac
done
run_waiters
# The waits the client dropped end on the service's side only when their
# time is up: the next measurements start after that.
sleep "$WAITERS_WAIT"

# ---- what counting metrics costs ---------------------------------------------
# The same build with the counting compiled out (make bench builds it in
# bin-nometrics/), a second service on the same PostgreSQL, and document GET
# at 8 clients on each in turn, REPS rounds: metrics_on against metrics_off.
if [ -n "${NOMETRICS_BIN:-}" ]; then
    main_pid=$SERVICE_PID main_port=$PORT main_bin=$BACKEND_BIN
    PORT=$(free_port)
    export PORT
    NOMETRICS_URL=http://127.0.0.1:$PORT
    BACKEND_BIN=$NOMETRICS_BIN service_start "$WORK/run-nometrics" >"$WORK/service-nometrics.log" 2>&1
    NOMETRICS_PID=$SERVICE_PID
    SERVICE_PID=$main_pid PORT=$main_port BACKEND_BIN=$main_bin
    export PORT BACKEND_BIN
    wait_healthy "$NOMETRICS_URL" 15
    wrk_once 8 "$NOMETRICS_URL" "$BENCH/doc-get.lua" >/dev/null # its connections, warmed
    on="" off=""
    for _ in $(seq 1 "$REPS"); do
        on+="$(measure "$SERVICE_PID" wrk_once 8 "$URL" "$BENCH/doc-get.lua")"$'\n'
        off+="$(measure "$NOMETRICS_PID" wrk_once 8 "$NOMETRICS_URL" "$BENCH/doc-get.lua")"$'\n'
    done
    record metrics_on service 8 "$on"
    record metrics_off service 8 "$off"
    service_stop "$NOMETRICS_PID"
    NOMETRICS_PID=""
fi

MEM_AFTER=$(pss_total)
echo "memory after the run: $MEM_AFTER KiB"
# A 64 MiB upload's effect on the file processes' peak (VmHWM).
hwm() { for p in $(pgrep -P "$SERVICE_PID" -f backend-file); do awk '/VmHWM/ {print $2}' "/proc/$p/status"; done | sort -n | tail -n 1; }
HWM_BEFORE=$(hwm)
head -c 67108864 /dev/zero | curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" --data-binary @- "$URL/files/temp"
HWM_AFTER=$(hwm)
echo "64 MiB upload: file process peak $HWM_BEFORE -> $HWM_AFTER KiB"
service_stop "$SERVICE_PID"
SERVICE_PID=""

# ---- start-up: make run to the first 200, median of 5 ------------------------
STARTS=()
for i in 1 2 3 4 5; do
    port=$(free_port)
    t0=$(date +%s%N)
    (unset DATABASE_URL DATASTORE_TOKEN; PORT=$port BACKEND_RUN_DIR=$WORK/devrun$i exec deploy/dev-run.sh >/dev/null 2>&1) &
    runner=$!
    wait_healthy "http://127.0.0.1:$port" 20
    STARTS+=($(( ($(date +%s%N) - t0) / 1000000 )))
    kill -TERM "$runner"
    wait "$runner" 2>/dev/null || true
done
START_MEDIAN=$(printf '%s\n' "${STARTS[@]}" | sort -n | sed -n 3p)
echo "make run to first 200: ${STARTS[*]} ms, median $START_MEDIAN ms"

# ---- report ------------------------------------------------------------------
jq -s --argjson rest "$MEM_REST" --argjson after "$MEM_AFTER" --argjson hb "$HWM_BEFORE" --argjson ha "$HWM_AFTER" \
    --argjson start "$START_MEDIAN" --arg dur "$DUR" --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    --slurpfile w "$WORK/waiters.obj" --argjson cores "$(nproc)" \
    '{date: $date, seconds_per_measurement: ($dur | tonumber), cores: $cores, results: .,
      memory_kib: {at_rest_pss: $rest, after_run_pss: $after, file_peak_before_64mib: $hb, file_peak_after_64mib: $ha},
      startup_median_ms: $start, mcp_run: {date: $date, seconds_per_measurement: ($dur | tonumber)},
      queue_run: {date: $date, seconds_per_measurement: ($dur | tonumber)},
      waiters: ($w[0] + {date: $date, seconds_per_measurement: ($dur | tonumber)})}' \
    "$RESULTS" >"$BENCH/results.json"
"$BENCH/report.sh" "$BENCH/results.json" "$ROOT/docs"
echo "wrote docs/benchmarks.md, docs/benchmarks.png, tests/bench/results.json"
