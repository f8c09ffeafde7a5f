#!/usr/bin/env bats
# Faults: slow clients, and a queue soak with workers killed mid-work.

load ../lib/stack

setup_file() { stack_setup; }
teardown_file() {
    [ -f "$STACK_DIR/slow.pids" ] && kill $(cat "$STACK_DIR/slow.pids") 2>/dev/null
    stack_teardown
}

@test "200 slow clients sending their headers a byte a second: other clients are still served" {
    hostport=${URL#http://}
    : >"$STACK_DIR/slow.pids"
    for i in $(seq 1 200); do
        (
            exec 3<>"/dev/tcp/${hostport%:*}/${hostport#*:}"
            for ch in G E T ' ' / h e a l t h; do printf '%s' "$ch" >&3; sleep 1; done
        ) 2>/dev/null &
        echo $! >>"$STACK_DIR/slow.pids"
    done
    sleep 2
    for i in $(seq 1 20); do
        start=$(date +%s%N)
        http GET "/document/slow/k$i"
        elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
        [ "$CODE" = 404 ] || { echo "status $CODE"; return 1; }
        [ "$elapsed" -lt "$(slack 500)" ] || { echo "took $elapsed ms"; return 1; }
    done
    http_anon GET /health
    expect 200
    kill $(cat "$STACK_DIR/slow.pids") 2>/dev/null || true
}

@test "queue soak: 10,000 items, 8 workers, one killed every 500 ms: each acked once, never two live claims" {
    n=10000
    [ -n "${SANITIZER:-}" ] && n=2000   # instrumented builds are several times slower
    jq -nc --argjson n "$((n / 10))" '{items: [range($n) | {payload: ., max_attempts: 1000}]}' >"$BATS_TEST_TMPDIR/batch"
    for b in $(seq 1 10); do
        curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" --data-binary @"$BATS_TEST_TMPDIR/batch" "$URL/queue/soak"
    done
    http GET /queue/soak
    expect 200 ".ready == $n"
    vis=2
    # A worker claims up to 20 and acks each with its token, logging every
    # event; it runs in its own process group so that a kill takes the
    # curl in flight with it.
    cat >"$BATS_TEST_TMPDIR/worker.sh" <<'SH'
while :; do
    resp=$(curl -s --max-time 10 -H "Authorization: Bearer $TOKEN" \
        -d "{\"max\":20,\"visibility_timeout_seconds\":$VIS}" "$URL/queue/soak/claim")
    jq -r '.items[] | "\(.id) \(.claim_token) \(.visible_at)"' <<<"$resp" 2>/dev/null | while read -r id tok at; do
        echo "claim $id $tok $at"
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X DELETE \
            -H "Authorization: Bearer $TOKEN" "$URL/queue/soak/$id?claim_token=$tok")
        echo "ack $id $tok $code"
    done
done
SH
    export VIS=$vis
    start_worker() {
        setsid bash "$BATS_TEST_TMPDIR/worker.sh" >>"$BATS_TEST_TMPDIR/events.$1" 2>/dev/null &
        pids[$1]=$!
        disown "$!"
    }
    declare -A pids
    for w in $(seq 1 8); do start_worker "$w"; done
    # Kill a random worker (its whole group) every 500 ms: its claims expire
    # and go to others. Until the queue is empty; then stop every worker.
    kills=0
    for round in $(seq 1 600); do
        sleep 0.5
        w=$((RANDOM % 8 + 1))
        kill -9 -- "-${pids[$w]}" 2>/dev/null && kills=$((kills + 1))
        start_worker "$w"
        left=$(psql_q "select count(*) from queue_items where namespace = 'soak'")
        [ "$left" -eq 0 ] && break
    done
    for w in "${!pids[@]}"; do kill -9 -- "-${pids[$w]}" 2>/dev/null || true; done
    sleep 1
    echo "soak: $kills workers killed" >&3
    [ "$(psql_q "select count(*) from queue_items where namespace = 'soak'")" -eq 0 ]
    cat "$BATS_TEST_TMPDIR"/events.* >"$BATS_TEST_TMPDIR/events"
    # Every item acknowledged exactly once: the queue is empty, no item has
    # two successful acks, other acks were refused (409/404). A killed
    # worker may have had its last ack done but not logged: at most one
    # unlogged success per kill.
    [ "$(awk '$1 == "ack" && $4 == "200" {print $2}' "$BATS_TEST_TMPDIR/events" | sort | uniq -d | wc -l)" -eq 0 ]
    acked=$(awk '$1 == "ack" && $4 == "200"' "$BATS_TEST_TMPDIR/events" | wc -l)
    [ "$acked" -le "$n" ] && [ "$acked" -ge $((n - kills)) ]
    ! awk '$1 == "ack" && $4 != "200" && $4 != "409" && $4 != "404"' "$BATS_TEST_TMPDIR/events" | grep -q .
    # Never two live claims: for each item, a claim starts (visible_at minus
    # the timeout) no earlier than the previous claim's visible_at.
    awk '$1 == "claim" {print $2, $4}' "$BATS_TEST_TMPDIR/events" | sort -k1,1n -k2,2 >"$BATS_TEST_TMPDIR/claims"
    overlaps=$(python3 - "$BATS_TEST_TMPDIR/claims" "$vis" <<'PY'
import sys, datetime
prev = {}
bad = 0
for line in open(sys.argv[1]):
    i, at = line.split()
    t = datetime.datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp()
    if i in prev and t - float(sys.argv[2]) < prev[i] - 1e-6:
        bad += 1
    prev[i] = t
print(bad)
PY
)
    echo "claims: $(wc -l <"$BATS_TEST_TMPDIR/claims") for $n items, overlapping live claims: $overlaps" >&3
    # Killed workers left claims to expire: some items were claimed again.
    [ "$(wc -l <"$BATS_TEST_TMPDIR/claims")" -gt "$n" ]
    [ "$overlaps" -eq 0 ]
}
