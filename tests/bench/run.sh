#!/usr/bin/env bash
# make bench: measures the service against references measured in the same
# run, on the same PostgreSQL, at the same client counts, and writes
# docs/benchmarks.md, docs/benchmarks.png and tests/bench/results.json.
#   QUICK=1   short runs (1 s per measurement instead of 5)
#   ONLY=mcp  the MCP scenarios alone, merged into the last results.json
#             (the other scenarios' numbers are kept, with their date)
# References: pgbench running the statements the service runs (printed by
# `backend-<mode> --sql NAME`, so they cannot drift from the code), pg-boss
# for the queue cycle, and lighttpd serving a static file (the HTTP ceiling).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
. deploy/lib.sh
BENCH=$ROOT/tests/bench
DUR=5
[ "${QUICK:-}" = 1 ] && DUR=1
CLIENTS="1 8 32"
ONLY=${ONLY:-}
case "$ONLY" in "" | mcp) ;; *) echo "ONLY=$ONLY: only ONLY=mcp is known" >&2; exit 2 ;; esac

# ---- what it needs -------------------------------------------------------
deploy/install-deps.sh --bench
command -v node >/dev/null && command -v npm >/dev/null || { echo "make bench needs node and npm (for pg-boss)" >&2; exit 1; }
if [ -z "$ONLY" ] && [ ! -d "$BENCH/node_modules/pg-boss" ]; then
    (cd "$BENCH" && npm install --silent --no-audit --no-fund --prefix "$BENCH" pg-boss@10 >/dev/null)
fi
PGBIN=$(pg_bindir)

# ---- what it starts, and stops whatever happens ---------------------------
WORK=$(mktemp -d /tmp/backend-bench.XXXXXX)
chmod 711 "$WORK"
STATIC_PID=""
cleanup() {
    local rc=$?
    set +e # stop everything, whatever fails on the way
    if [ -n "${SERVICE_PID:-}" ]; then service_stop "$SERVICE_PID"; fi
    if [ -n "$STATIC_PID" ]; then service_stop "$STATIC_PID"; fi
    pg_stop "$WORK/pg" immediate
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT

pg_start "$WORK/pg" "$(free_port)"
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

# to_ms VALUE-WITH-UNIT: wrk's "1.23ms", "850.00us", "1.02s" in ms.
to_ms() {
    awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'
}

# record SCENARIO SUBJECT CLIENTS RATE P50 P99
record() {
    jq -nc --arg s "$1" --arg who "$2" --argjson c "$3" --argjson r "$4" --argjson p50 "$5" --argjson p99 "$6" \
        '{scenario: $s, subject: $who, clients: $c, rate: $r, p50_ms: $p50, p99_ms: $p99}' >>"$RESULTS"
    printf '%-14s %-10s c=%-3s %10.0f/s  p50 %7.3f ms  p99 %7.3f ms\n' "$1" "$2" "$3" "$4" "$5" "$6"
}

# wrk_measure CLIENTS URL [LUA]: prints "RATE P50_MS P99_MS"; fails on any
# answer other than 2xx.
wrk_measure() {
    local threads=$(($1 < 2 ? 1 : 2)) out
    out=$(wrk -t"$threads" -c"$1" -d"${DUR}s" --latency ${3:+-s "$3"} "$2")
    if grep -q "Non-2xx" <<<"$out"; then
        echo "c=$1 $2 ${3:-}: answers other than 2xx:" >&2
        echo "$out" >&2
        return 1
    fi
    echo "$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")" \
        "$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")" "$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")"
}

# run_wrk SCENARIO SUBJECT CLIENTS URL [LUA]
run_wrk() {
    local m
    m=$(wrk_measure "$3" "$4" ${5:+"$5"})
    # shellcheck disable=SC2086 # three numbers
    record "$1" "$2" "$3" $m
}

# run_pgbench SCENARIO CLIENTS SCRIPT: pgbench -M prepared over the unix
# socket; percentiles from its per-transaction log.
run_pgbench() {
    local threads=$(($2 < 2 ? 1 : 2)) logdir=$WORK/pgbench-$1-$2 out
    mkdir -p "$logdir"
    out=$(cd "$logdir" && "$PGBIN/pgbench" -n -M prepared -c "$2" -j "$threads" -T "$DUR" -f "$3" \
        -h "$PG_SOCK" -p "$PG_PORT" -U postgres --log --log-prefix=tx postgres 2>&1) || true
    local tps
    tps=$(awk '/^tps = / {print $3; exit}' <<<"$out")
    [ -n "$tps" ] || { echo "$out" >&2; return 1; }
    cat "$logdir"/tx* | awk '{print $3 / 1000}' | sort -n >"$logdir/lat"
    local n p50 p99
    n=$(wc -l <"$logdir/lat")
    p50=$(sed -n "$(((n + 1) / 2))p" "$logdir/lat")
    p99=$(sed -n "$(((n * 99 + 99) / 100))p" "$logdir/lat")
    record "$1" pgbench "$2" "$tps" "$p50" "$p99"
}

# sql NAME: the service's statement. pgbench takes every ":word" for a
# variable, even inside a string literal, so the timestamp format's colons
# are spelled chr(58) (constant-folded by the planner: same plan, same cost).
sql() {
    "$BACKEND_BIN/backend-registry" --sql "$1" | sed "s/HH24:MI:SS/HH24' || chr(58) || 'MI' || chr(58) || 'SS/g"
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
{
    # One cycle per transaction-script: enqueue, claim (its id and token kept
    # with \gset: the claim's last SELECT names them), ack.
    echo "$(sql queue_enqueue | sed -e "s/\\\$1/('pgb' || CAST(:client_id AS text))/g" -e "s/\\\$2/'{\"payload\":{\"n\":1}}'/g" -e 's/\$3::boolean/false/');"
    sql queue_claim | sed -e "s/\\\$1/('pgb' || CAST(:client_id AS text))/g" -e 's/\$2::integer/1/' -e 's/\$3::integer/30/' \
        -e 's/ SELECT j FROM u ORDER BY id$/ SELECT (j::json ->> '"'id'"') AS id, (j::json ->> '"'claim_token'"') AS tok FROM u/'
    echo '\gset'
    echo "$(sql queue_ack | sed -e "s/\\\$1/('pgb' || CAST(:client_id AS text))/g" -e 's/\$2::bigint/CAST(:id AS bigint)/' -e 's/\$3::uuid/CAST(:tok AS uuid)/g');"
} >"$WORK/queue.pgb"

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
MCP_REPS=3 # each shape measured MCP_REPS times, interleaved; the median rate's run is kept
MCP_BLOCK=25000
MCP_BLOCKS=$(($(wc -w <<<"$CLIENTS") * MCP_REPS))
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
MCP_ERA=stateless wrk_measure 8 "$URL" "$BENCH/mcp-call.lua" >/dev/null
MCP_NEXT_BLOCK=0
# run_mcp CLIENTS: the three shapes of mcp-call.lua at CLIENTS and, as
# their reference, the same read through the HTTP route (doc-get.lua), in
# MCP_REPS rounds of the four in turn (so a slower moment of the machine
# falls on all four), each recorded by its median-rate round.
run_mcp() {
    local era
    local -A runs=([stateless]="" [session]="" [cold]="" [http]="")
    for _ in $(seq 1 "$MCP_REPS"); do
        for era in stateless session cold; do
            runs[$era]+="$(MCP_ERA=$era MCP_BASE=$((MCP_NEXT_BLOCK * MCP_BLOCK)) \
                wrk_measure "$1" "$URL" "$BENCH/mcp-call.lua")"$'\n'
        done
        runs[http]+="$(wrk_measure "$1" "$URL" "$BENCH/doc-get.lua")"$'\n'
        MCP_NEXT_BLOCK=$((MCP_NEXT_BLOCK + 1))
    done
    for era in stateless session cold http; do
        local name=mcp_$era m
        [ "$era" = cold ] && name=mcp_session_cold
        m=$(sed '/^$/d' <<<"${runs[$era]}" | sort -n -k1,1 | sed -n "$(((MCP_REPS + 1) / 2))p")
        # shellcheck disable=SC2086 # three numbers
        record "$name" service "$1" $m
    done
}

if [ "$ONLY" = mcp ]; then
    for c in $CLIENTS; do run_mcp "$c"; done
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

# ---- the runs --------------------------------------------------------------
for c in $CLIENTS; do
    run_wrk static lighttpd "$c" "http://127.0.0.1:$STATIC_PORT/hello.txt"
    run_wrk health service "$c" "$URL/health"
    run_wrk doc_get service "$c" "$URL" "$BENCH/doc-get.lua"
    run_pgbench doc_get "$c" "$WORK/get.pgb"
    run_wrk doc_post service "$c" "$URL" "$BENCH/doc-post.lua"
    run_pgbench doc_post "$c" "$WORK/put.pgb"
    out=$(node "$BENCH/queue-cycle.js" "$URL" "$TOKEN" "$c" "$DUR")
    record queue_cycle service "$c" "$(jq .rate <<<"$out")" "$(jq .p50_ms <<<"$out")" "$(jq .p99_ms <<<"$out")"
    run_pgbench queue_cycle "$c" "$WORK/queue.pgb"
    out=$(NODE_PATH=$BENCH/node_modules node "$BENCH/pgboss-cycle.js" "postgres://postgres@127.0.0.1:$PG_PORT/postgres" "$c" "$DUR")
    record queue_cycle pg-boss "$c" "$(jq .rate <<<"$out")" "$(jq .p50_ms <<<"$out")" "$(jq .p99_ms <<<"$out")"
    run_wrk sql_insert service "$c" "$URL" "$BENCH/sql-insert.lua"
    run_pgbench sql_insert "$c" "$WORK/sql-insert.pgb"
    run_wrk sql_list service "$c" "$URL" "$BENCH/sql-list.lua"
    run_pgbench sql_list "$c" "$WORK/sql-list.pgb"
    run_wrk file_post service "$c" "$URL" "$BENCH/file-post.lua"
    run_mcp "$c"
done

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
    '{date: $date, seconds_per_measurement: ($dur | tonumber), results: .,
      memory_kib: {at_rest_pss: $rest, after_run_pss: $after, file_peak_before_64mib: $hb, file_peak_after_64mib: $ha},
      startup_median_ms: $start, mcp_run: {date: $date, seconds_per_measurement: ($dur | tonumber)}}' \
    "$RESULTS" >"$BENCH/results.json"
"$BENCH/report.sh" "$BENCH/results.json" "$ROOT/docs"
echo "wrote docs/benchmarks.md, docs/benchmarks.png, tests/bench/results.json"
