#!/usr/bin/env bats
# queue mode, what production workers rely on (docs/queue.md): discovery
# (GET /queue), clean-up (dead item, dead list, purge), dead retention,
# retry backoff, the concurrency limit.

load ../lib/stack
bats_require_minimum_version 1.5.0

setup_file() { stack_setup; }
teardown_file() { stack_teardown; }

enqueue() { http POST "/queue/$1" -d "$2"; }
claim() { http POST "/queue/$1/claim" -d "${2:-}"; }

# make_dead NS N: N items of NS that are dead (one attempt, claimed for 1 s,
# run out); their ids in DEAD_IDS.
make_dead() {
    local ns=$1 n=$2
    http POST "/queue/$ns" -d "$(jq -nc --argjson n "$n" '{items: [range($n) | {payload: ., max_attempts: 1}]}')"
    expect 201 || return 1
    claim "$ns" "{\"max\":$n,\"visibility_timeout_seconds\":1}"
    expect 200 ".items | length == $n" || return 1
    DEAD_IDS=$(jq -r '[.items[].id] | join(" ")' <<<"$BODY")
    sleep 1.2
    http GET "/queue/$ns"
    expect 200 ".dead >= $n"
}

# mcp_call TOOL ARGS-JSON: a stateless tools/call; BODY holds the answer.
mcp_call() {
    local meta='"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"bats","version":"1"}}'
    http POST /mcp -H 'MCP-Protocol-Version: 2026-07-28' -H 'Mcp-Method: tools/call' -H "Mcp-Name: $1" \
        -H 'Accept: application/json, text/event-stream' \
        -d '{"jsonrpc":"2.0","id":"c","method":"tools/call","params":{"name":"'"$1"'","arguments":'"$2"','"$meta"'}}'
}

@test "GET /queue: every namespace with an item or a pause, by name, with its counts, paginated" {
    http GET /queue
    expect 200 '.items == []' '.next == null'
    enqueue d-b '{"payload":1}'
    enqueue d-a '{"payload":1,"delay_seconds":600}'
    enqueue d-c '{"payload":1}'
    enqueue d-c '{"payload":2}'
    http POST /queue/d-p/pause -d ""
    expect 200 '.paused == true'
    make_dead d-dead 1
    http GET /queue
    expect 200 '[.items[].namespace] == ["d-a","d-b","d-c","d-dead","d-p"]' '.next == null' \
        '.items[0] == {"namespace":"d-a","ready":0,"delayed":1,"in_flight":0,"dead":0,"oldest_ready_age_seconds":0,"paused":false,"max_in_flight":null}' \
        '.items[2].ready == 2' '.items[3].dead == 1' '.items[3].ready == 0' \
        '.items[4] == {"namespace":"d-p","ready":0,"delayed":0,"in_flight":0,"dead":0,"oldest_ready_age_seconds":0,"paused":true,"max_in_flight":null}'
    # each entry is GET /queue/{namespace}'s answer
    local listed
    listed=$(jq -c '.items[2]' <<<"$BODY")
    http GET /queue/d-c
    expect 200 "del(.oldest_ready_age_seconds) == ($listed | del(.oldest_ready_age_seconds))"
    # pages of two, then the rest; the cursor is the last name
    http GET '/queue?limit=2'
    expect 200 '[.items[].namespace] == ["d-a","d-b"]' '.next == "d-b"'
    http GET '/queue?limit=2&after=d-b'
    expect 200 '[.items[].namespace] == ["d-c","d-dead"]' '.next == "d-dead"'
    http GET '/queue?limit=2&after=d-dead'
    expect 200 '[.items[].namespace] == ["d-p"]' '.next == null'
    # limit at its edges, after validated as a namespace
    http GET '/queue?limit=1000'
    expect 200 '.items | length == 5'
    http GET '/queue?limit=1'
    expect 200 '.items | length == 1' '.next == "d-a"'
    http GET '/queue?limit=1001'
    expect_error 422 validation_failed limit
    http GET '/queue?limit=0'
    expect_error 422 validation_failed limit
    http GET '/queue?after=bad%20name'
    expect_error 422 validation_failed after
    # a resumed namespace with no item drops out; a purged one with a pause stays
    http POST /queue/d-p/resume -d ""
    expect 200
    http GET /queue
    expect 200 '[.items[].namespace] == ["d-a","d-b","d-c","d-dead"]'
    # ordered by bytes (C collation), as the cursor compares
    enqueue D-upper '{"payload":1}'
    enqueue d_x '{"payload":1}'
    http GET /queue
    expect 200 '[.items[].namespace] == ["D-upper","d-a","d-b","d-c","d-dead","d_x"]'
    http POST /queue -d '{}'
    expect_error 405 method_not_allowed
}

@test "DELETE /queue/{namespace}/dead/{id}: only a dead item of that namespace" {
    make_dead dd 2
    read -r d1 d2 <<<"$DEAD_IDS"
    enqueue dd '{"payload":"live"}'
    live=$(jq .id <<<"$BODY")
    http DELETE "/queue/dd/dead/$d1"
    expect 200 ".id == $d1" '.deleted == true' '(keys | length) == 2'
    http DELETE "/queue/dd/dead/$d1"
    expect_error 404 not_found id
    # a live item is not dead: 404, and it stays
    http DELETE "/queue/dd/dead/$live"
    expect_error 404 not_found id
    # another namespace's dead item: 404
    http DELETE "/queue/other/dead/$d2"
    expect_error 404 not_found id
    # an item in flight on its last attempt is not dead yet
    enqueue dd '{"payload":"last","max_attempts":1}'
    last=$(jq .id <<<"$BODY")
    claim dd '{"max":5,"visibility_timeout_seconds":60}'
    http DELETE "/queue/dd/dead/$last"
    expect_error 404 not_found id
    http GET /queue/dd/dead
    expect 200 "[.items[].id] == [$d2]"
    http DELETE /queue/dd/dead/0
    expect_error 422 validation_failed id
    http DELETE /queue/dd/dead/abc
    expect_error 422 validation_failed id
    http GET /queue/dd
    expect 200 '.dead == 1' '.in_flight == 2'
}

@test "DELETE /queue/{namespace}/dead purges the dead list only" {
    make_dead dp 3
    enqueue dp '{"payload":"live"}'
    make_dead dp-other 1
    http DELETE /queue/dp/dead
    expect 200 '. == {"deleted":3}'
    http DELETE /queue/dp/dead
    expect 200 '. == {"deleted":0}'
    http GET /queue/dp
    expect 200 '.dead == 0' '.ready == 1'
    http GET /queue/dp-other
    expect 200 '.dead == 1'
    # an empty namespace: nothing to delete
    http DELETE /queue/never-used/dead
    expect 200 '. == {"deleted":0}'
    http DELETE '/queue/bad%20ns/dead'
    expect_error 422 validation_failed namespace
}

@test "DELETE /queue/{namespace}: every item, in flight included; a later ack is 404; the pause stays" {
    http POST /queue/pg -d '{"items":[{"payload":1},{"payload":2},{"payload":3,"delay_seconds":600},{"payload":4,"max_attempts":1}]}'
    expect 201
    claim pg '{"max":2,"visibility_timeout_seconds":60}'
    expect 200 '.items | length == 2'
    id=$(jq '.items[0].id' <<<"$BODY"); tok=$(jq -r '.items[0].claim_token' <<<"$BODY")
    enqueue pg-keep '{"payload":1}'
    http POST /queue/pg/pause -d ""
    expect 200 ".paused == true"
    http DELETE /queue/pg
    expect 200 '. == {"deleted":4}'
    http DELETE "/queue/pg/$id?claim_token=$tok"
    expect_error 404 not_found id
    http POST "/queue/pg/$id/extend" -d "{\"claim_token\":\"$tok\"}"
    expect_error 404 not_found id
    http GET /queue/pg
    expect 200 '.ready == 0' '.in_flight == 0' '.delayed == 0' '.dead == 0' '.paused == true'
    [ "$(psql_q "SELECT count(*) FROM queue_items WHERE namespace = 'pg'")" = 0 ]
    [ "$(psql_q "SELECT count(*) FROM queue_items WHERE namespace = 'pg-keep'")" = 1 ]
    # still listed: it is paused
    http GET '/queue?after=pf&limit=1'
    expect 200 '[.items[].namespace] == ["pg"]'
    http DELETE /queue/pg
    expect 200 '. == {"deleted":0}'
    http POST /queue/pg/resume -d ""
    expect 200
    # the dedup key of a purged item is free again
    enqueue pg '{"payload":1,"dedup_key":"k"}'
    expect 201
    http DELETE /queue/pg
    expect 200 '. == {"deleted":1}'
    enqueue pg '{"payload":1,"dedup_key":"k"}'
    expect 201 '.duplicate == null'
}

@test "purge wakes nothing wrongly: a long-poll claimer still gets an item enqueued after the purge" {
    enqueue pw '{"payload":"old"}'
    http DELETE /queue/pw
    expect 200 '. == {"deleted":1}'
    (sleep 1; curl -s -H "Authorization: Bearer $TOKEN" -d '{"payload":"new"}' "$URL/queue/pw" >/dev/null) 3>&- &
    claim pw '{"wait_seconds":10}'
    wait
    expect 200 '.items | length == 1' '.items[0].payload == "new"'
}

@test "MCP tools: queue_namespaces, queue_dead_delete, queue_dead_purge, queue_purge, with their annotations" {
    http POST /mcp -H 'MCP-Protocol-Version: 2026-07-28' -H 'Mcp-Method: tools/list' -H 'Accept: application/json, text/event-stream' \
        -d '{"jsonrpc":"2.0","id":"l","method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"bats","version":"1"}}}}'
    expect 200
    t() { jq -c --arg n "$1" '.result.tools[] | select(.name == $n) | .annotations | [.readOnlyHint, .destructiveHint, .idempotentHint]' <<<"$BODY"; }
    [ "$(t queue_namespaces)" = '[true,false,true]' ]
    [ "$(t queue_dead_delete)" = '[false,true,true]' ]
    [ "$(t queue_dead_purge)" = '[false,true,true]' ]
    [ "$(t queue_purge)" = '[false,true,true]' ]
    make_dead mt 2
    read -r d1 _ <<<"$DEAD_IDS"
    mcp_call queue_namespaces '{"limit":1000}'
    expect 200 '.result.isError == false' 'any(.result.structuredContent.items[]; .namespace == "mt" and .dead == 2)'
    mcp_call queue_dead_delete "{\"namespace\":\"mt\",\"id\":$d1}"
    expect 200 '.result.isError == false' ".result.structuredContent == {\"id\":$d1,\"deleted\":true}"
    mcp_call queue_dead_delete "{\"namespace\":\"mt\",\"id\":$d1}"
    expect 200 '.result.isError == true' '(.result.content[0].text | fromjson | .error) == "not_found"'
    mcp_call queue_dead_purge '{"namespace":"mt"}'
    expect 200 '.result.structuredContent == {"deleted":1}'
    enqueue mt '{"payload":1}'
    mcp_call queue_purge '{"namespace":"mt"}'
    expect 200 '.result.structuredContent == {"deleted":1}'
}

# pad ID: the retry wait drawn at the item's claim, in seconds (SQL).
pad() { psql_q "SELECT extract(epoch FROM retry_pad)::float8 FROM queue_items WHERE id = $1"; }
# between X LO HI: LO <= X <= HI (decimals)
between() { awk -v x="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(x >= lo && x <= hi) }' || { echo "$1 not in [$2, $3]" >&2; return 1; }; }

@test "retry backoff: fields at their edges, defaults in every item answer, exponential needs a delay" {
    enqueue rb '{"payload":1}'
    expect 201 '.retry_delay_seconds == 0' '.retry_backoff == "fixed"' '.retry_delay_max_seconds == 3600'
    enqueue rb '{"payload":1,"retry_delay_seconds":86400,"retry_backoff":"exponential","retry_delay_max_seconds":604800}'
    expect 201 '.retry_delay_seconds == 86400' '.retry_backoff == "exponential"' '.retry_delay_max_seconds == 604800'
    enqueue rb '{"payload":1,"retry_delay_seconds":1,"retry_backoff":"exponential","retry_delay_max_seconds":1}'
    expect 201 '.retry_delay_seconds == 1' '.retry_delay_max_seconds == 1'
    for b in '"retry_delay_seconds":86401' '"retry_delay_seconds":-1' '"retry_delay_seconds":"1"' \
        '"retry_delay_max_seconds":0' '"retry_delay_max_seconds":604801' '"retry_backoff":"linear"' '"retry_backoff":1'; do
        enqueue rb "{\"payload\":1,$b}"
        f=$(jq -r 'keys[0]' <<<"{$b}")
        expect_error 422 validation_failed "$f" || { echo "$b"; return 1; }
    done
    # exponential with no delay, or 0: 422 naming retry_delay_seconds; fixed with 0 is fine
    enqueue rb '{"payload":1,"retry_backoff":"exponential"}'
    expect_error 422 validation_failed retry_delay_seconds
    enqueue rb '{"payload":1,"retry_backoff":"exponential","retry_delay_seconds":0}'
    expect_error 422 validation_failed retry_delay_seconds
    http POST /queue/rb -d '{"items":[{"payload":1},{"payload":2,"retry_backoff":"exponential"}]}'
    expect_error 422 validation_failed 'items[1].retry_delay_seconds'
    http POST /queue/rb -d '{"items":[{"payload":1,"retry_backoff":"fixed","retry_delay_seconds":0},{"payload":2,"retry_backoff":"exponential","retry_delay_seconds":2}]}'
    expect 201 '.items[0].retry_backoff == "fixed"' '.items[1].retry_backoff == "exponential"' '.items[1].retry_delay_seconds == 2'
    # every item answer: claim, dead list, retry
    claim rb '{"max":10,"visibility_timeout_seconds":1}'
    expect 200 '.items | length == 5' 'all(.items[]; has("retry_delay_seconds") and has("retry_backoff") and has("retry_delay_max_seconds"))'
    make_dead rb-d 1
    http GET /queue/rb-d/dead
    expect 200 '.items[0].retry_backoff == "fixed"' '.items[0].retry_delay_max_seconds == 3600'
    http POST "/queue/rb-d/dead/$DEAD_IDS/retry" -d ''
    expect 200 '.retry_delay_seconds == 0' '.retry_backoff == "fixed"'
}

@test "retry backoff fixed: an expired claim and a release without delay_seconds wait the delay; an explicit 0 does not" {
    enqueue rf '{"payload":1,"retry_delay_seconds":2,"max_attempts":5}'
    id=$(jq .id <<<"$BODY")
    claim rf '{"visibility_timeout_seconds":1}'
    expect 200 '.items | length == 1'
    claimed_vis=$(jq -r '.items[0].visible_at' <<<"$BODY")
    [ "$(pad "$id")" = 2 ]
    # the answer's visible_at is the claim's end, not the retry's
    [ "$(psql_q "SELECT to_char((visible_at - retry_pad) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') FROM queue_items WHERE id = $id")" = "${claimed_vis:0:19}" ]
    sleep 1.3
    # the claim ran out 0.3 s ago: waiting for its retry, delayed, not in flight, not claimable
    http GET /queue/rf
    expect 200 '.delayed == 1' '.in_flight == 0' '.ready == 0'
    claim rf
    expect 200 '.items == []'
    sleep 2
    claim rf '{"visibility_timeout_seconds":60}'
    expect 200 '.items | length == 1' '.items[0].attempts == 2'
    tok=$(jq -r '.items[0].claim_token' <<<"$BODY")
    http GET /queue/rf
    expect 200 '.in_flight == 1' '.delayed == 0'
    # release with no delay_seconds: the retry delay
    http POST "/queue/rf/$id/release" -d "{\"claim_token\":\"$tok\"}"
    expect 200
    claim rf
    expect 200 '.items == []'
    http GET /queue/rf
    expect 200 '.delayed == 1'
    sleep 2.2
    claim rf '{"visibility_timeout_seconds":60}'
    expect 200 '.items | length == 1' '.items[0].attempts == 3'
    tok=$(jq -r '.items[0].claim_token' <<<"$BODY")
    # release with an explicit 0: at once
    http POST "/queue/rf/$id/release" -d "{\"claim_token\":\"$tok\",\"delay_seconds\":0}"
    expect 200
    claim rf
    expect 200 '.items | length == 1' '.items[0].attempts == 4'
    # the last attempt has no retry wait: its expiry makes it dead at once
    claim_tok=$(jq -r '.items[0].claim_token' <<<"$BODY")
    http POST "/queue/rf/$id/release" -d "{\"claim_token\":\"$claim_tok\",\"delay_seconds\":0}"
    claim rf '{"visibility_timeout_seconds":1}'
    expect 200 '.items[0].attempts == 5'
    [ "$(pad "$id")" = 0 ]
    sleep 1.2
    http GET /queue/rf
    expect 200 '.dead == 1' '.delayed == 0'
    # fixed is capped too
    enqueue rf-cap '{"payload":1,"retry_delay_seconds":100,"retry_delay_max_seconds":7}'
    id=$(jq .id <<<"$BODY")
    claim rf-cap
    [ "$(pad "$id")" = 7 ]
}

@test "retry backoff exponential: delay x 2^(attempt-1), capped, jittered into [0.5, 1]" {
    http POST /queue/re -d "$(jq -nc '{items: [range(40) | {payload: ., retry_delay_seconds: 100, retry_backoff: "exponential", retry_delay_max_seconds: 350}]}')"
    expect 201
    ids=$(jq -r '[.items[].id] | join(",")' <<<"$BODY")
    range() { psql_q "SELECT min(extract(epoch FROM retry_pad)) || ' ' || max(extract(epoch FROM retry_pad)) || ' ' || count(DISTINCT retry_pad) FROM queue_items WHERE id IN ($ids)"; }
    # attempt n: release with delay_seconds 0 and claim again
    again() {
        http POST /queue/re/claim -d '{"max":40,"visibility_timeout_seconds":600}'
        expect 200 '.items | length == 40' || return 1
        jq -c '.items[] | {id, claim_token}' <<<"$BODY" >"$BATS_TEST_TMPDIR/claims"
    }
    release_all() {
        while read -r c; do
            http POST "/queue/re/$(jq .id <<<"$c")/release" -d "{\"claim_token\":$(jq .claim_token <<<"$c"),\"delay_seconds\":0}"
            expect 200 || return 1
        done <"$BATS_TEST_TMPDIR/claims"
    }
    again
    read -r lo hi n <<<"$(range)"
    between "$lo" 50 100; between "$hi" 50 100; [ "$n" -gt 1 ] # jittered: not one wave
    release_all; again
    read -r lo hi n <<<"$(range)"
    between "$lo" 100 200; between "$hi" 100 200; [ "$n" -gt 1 ]
    release_all; again
    # 400 capped at 350, then jittered
    read -r lo hi n <<<"$(range)"
    between "$lo" 175 350; between "$hi" 175 350; [ "$n" -gt 1 ]
    # a release with no delay_seconds uses the drawn wait
    c=$(head -n 1 "$BATS_TEST_TMPDIR/claims")
    id=$(jq .id <<<"$c")
    p=$(pad "$id")
    http POST "/queue/re/$id/release" -d "{\"claim_token\":$(jq .claim_token <<<"$c")}"
    expect 200
    wait_s=$(jq -r '.visible_at' <<<"$BODY" | xargs -I{} date -d {} +%s)
    between "$((wait_s - $(date +%s)))" "$(awk -v p="$p" 'BEGIN { print int(p) - 2 }')" "$(awk -v p="$p" 'BEGIN { print int(p) + 1 }')"
}

@test "limits: PUT and GET at their edges; the counts show max_in_flight" {
    http GET /queue/lm/limits
    expect 200 '. == {"namespace":"lm","max_in_flight":null}'
    http GET /queue/lm
    expect 200 '.max_in_flight == null'
    for v in 1 100000 5; do
        http PUT /queue/lm/limits -d "{\"max_in_flight\":$v}"
        expect 200 ". == {\"namespace\":\"lm\",\"max_in_flight\":$v}"
    done
    http GET /queue/lm/limits
    expect 200 '.max_in_flight == 5'
    http GET /queue/lm
    expect 200 '.max_in_flight == 5'
    for v in 0 100001 -1 1.5 '"5"' true; do
        http PUT /queue/lm/limits -d "{\"max_in_flight\":$v}"
        expect_error 422 validation_failed max_in_flight || { echo "$v"; return 1; }
    done
    http PUT /queue/lm/limits -d '{"max_in_flight":5,"other":1}'
    expect_error 422 validation_failed other
    http GET /queue/lm/limits
    expect 200 '.max_in_flight == 5'
    http PUT /queue/lm/limits -d '{"max_in_flight":null}'
    expect 200 '. == {"namespace":"lm","max_in_flight":null}'
    http GET /queue/lm
    expect 200 '.max_in_flight == null'
    http PUT /queue/lm/limits -d '{"max_in_flight":2}'
    http PUT /queue/lm/limits -d '{}'
    expect 200 '.max_in_flight == null'
    http PUT '/queue/bad%20ns/limits' -d '{"max_in_flight":1}'
    expect_error 422 validation_failed namespace
    http DELETE /queue/lm/limits
    expect_error 405 method_not_allowed
    # a purge keeps the limit
    http PUT /queue/lm/limits -d '{"max_in_flight":3}'
    http DELETE /queue/lm
    http GET /queue/lm/limits
    expect 200 '.max_in_flight == 3'
}

@test "limits: a claim gets fewer items, or none; an ack, a release, an expiry frees a place" {
    http POST /queue/lc -d "$(jq -nc '{items: [range(10) | {payload: .}]}')"
    http PUT /queue/lc/limits -d '{"max_in_flight":3}'
    claim lc '{"max":10,"visibility_timeout_seconds":60}'
    expect 200 '.items | length == 3'
    a=$(jq -c '.items[0]' <<<"$BODY"); b=$(jq -c '.items[1]' <<<"$BODY")
    claim lc '{"max":10}'
    expect 200 '.items == []'
    http GET /queue/lc
    expect 200 '.in_flight == 3' '.ready == 7' '.max_in_flight == 3'
    http DELETE "/queue/lc/$(jq .id <<<"$a")?claim_token=$(jq -r .claim_token <<<"$a")"
    expect 200
    claim lc '{"max":10,"visibility_timeout_seconds":1}'
    expect 200 '.items | length == 1'
    claim lc
    expect 200 '.items == []'
    http POST "/queue/lc/$(jq .id <<<"$b")/release" -d "{\"claim_token\":$(jq .claim_token <<<"$b"),\"delay_seconds\":600}"
    expect 200
    claim lc '{"max":10,"visibility_timeout_seconds":60}'
    expect 200 '.items | length == 1'
    claim lc
    expect 200 '.items == []'
    # the 1 s claim runs out: its place is free
    sleep 1.2
    claim lc '{"max":10,"visibility_timeout_seconds":60}'
    expect 200 '.items | length == 1'
    http GET /queue/lc
    expect 200 '.in_flight == 3'
    # raising the limit frees places at once; lifting it, all
    http PUT /queue/lc/limits -d '{"max_in_flight":4}'
    claim lc '{"max":10}'
    expect 200 '.items | length == 1'
    http PUT /queue/lc/limits -d '{"max_in_flight":null}'
    claim lc '{"max":10}'
    expect 200 '.items | length == 4'
    # an item in its retry wait is not in flight: its place is free
    enqueue lr '{"payload":1,"retry_delay_seconds":600}'
    enqueue lr '{"payload":2}'
    http PUT /queue/lr/limits -d '{"max_in_flight":1}'
    claim lr '{"visibility_timeout_seconds":1}'
    expect 200 '.items[0].payload == 1'
    claim lr
    expect 200 '.items == []'
    sleep 1.2
    http GET /queue/lr
    expect 200 '.in_flight == 0' '.delayed == 1' '.ready == 1'
    claim lr
    expect 200 '.items[0].payload == 2'
}

@test "limits: a long-poll at the limit waits, and an ack wakes it long before its wait ends" {
    http POST /queue/lw -d '{"items":[{"payload":1},{"payload":2}]}'
    http PUT /queue/lw/limits -d '{"max_in_flight":1}'
    claim lw '{"visibility_timeout_seconds":60}'
    expect 200 '.items | length == 1'
    id=$(jq '.items[0].id' <<<"$BODY"); tok=$(jq -r '.items[0].claim_token' <<<"$BODY")
    (sleep 1.5; curl -s -X DELETE -H "Authorization: Bearer $TOKEN" "$URL/queue/lw/$id?claim_token=$tok" >/dev/null) 3>&- &
    start=$(date +%s%N)
    claim lw '{"wait_seconds":15}'
    elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
    wait
    expect 200 '.items | length == 1' '.items[0].payload == 2'
    echo "# woken after $elapsed ms (ack at 1500 ms, wait 15 s)" >&3
    [ "$elapsed" -ge 1400 ] && [ "$elapsed" -lt 8000 ]
    # at the limit with items ready, a waiter does not spin: few statements in 2 s
    before=$(psql_q "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
    claim lw '{"wait_seconds":2}'
    expect 200 '.items == []'
    after=$(psql_q "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
    echo "# transactions during a 2 s wait at the limit: $((after - before))" >&3
    [ $((after - before)) -lt 60 ]
}

@test "limits: many concurrent claimers, across processes, never exceed max_in_flight (counted in SQL during the race)" {
    n=400
    http POST /queue/race -d "$(jq -nc --argjson n "$n" '{items: [range($n) | {payload: .}]}')"
    expect 201
    http PUT /queue/race/limits -d '{"max_in_flight":5}'
    worker() {
        local out=$STACK_DIR/race.$1 body
        : >"$out"
        for _ in $(seq 200); do
            body=$(curl -s -H "Authorization: Bearer $TOKEN" -d '{"max":3,"visibility_timeout_seconds":120}' "$URL/queue/race/claim")
            [ "$(jq '.items | length' <<<"$body")" = 0 ] && { [ "$(psql_q "SELECT count(*) FROM queue_items WHERE namespace = 'race'")" = 0 ] && break; continue; }
            jq -c '.items[] | {id, claim_token}' <<<"$body" >>"$out"
            curl -s -H "Authorization: Bearer $TOKEN" -d "{\"items\":$(jq -c '[.items[] | {id, claim_token}]' <<<"$body")}" "$URL/queue/race/ack" >/dev/null
        done
    }
    pids=()
    for w in $(seq 8); do worker "$w" 3>&- & pids+=($!); done
    # the sampler: in-flight items of the namespace, one exact count a query
    (
        while :; do
            psql_q "SELECT count(*) FROM queue_items WHERE namespace = 'race' AND claim_token IS NOT NULL AND visible_at - retry_pad > now()"
            sleep 0.01
        done
    ) >"$STACK_DIR/race.samples" 3>&- &
    sampler=$!
    for p in "${pids[@]}"; do wait "$p"; done
    kill "$sampler"; wait "$sampler" || true
    max=$(sort -n "$STACK_DIR/race.samples" | tail -n 1)
    samples=$(wc -l <"$STACK_DIR/race.samples")
    at_limit=$(grep -cx 5 "$STACK_DIR/race.samples" || true)
    echo "# $samples samples, most in flight $max, at the limit in $at_limit" >&3
    [ "$max" -le 5 ]
    [ "$at_limit" -gt 0 ] # the race did reach the limit: the check above could fail
    # every item claimed exactly once, all acked
    [ "$(cat "$STACK_DIR"/race.[0-9]* | jq -s 'map(.id) | length')" = "$n" ]
    [ "$(cat "$STACK_DIR"/race.[0-9]* | jq -s 'map(.id) | unique | length')" = "$n" ]
    [ "$(psql_q "SELECT count(*) FROM queue_items WHERE namespace = 'race'")" = 0 ]
}

@test "MCP tools: queue_limits_get and queue_limits_put" {
    mcp_call queue_limits_put '{"namespace":"ml","max_in_flight":2}'
    expect 200 '.result.isError == false' '.result.structuredContent == {"namespace":"ml","max_in_flight":2}'
    mcp_call queue_limits_get '{"namespace":"ml"}'
    expect 200 '.result.structuredContent.max_in_flight == 2'
    mcp_call queue_limits_put '{"namespace":"ml","max_in_flight":0}'
    expect 200 '.result.isError == true' '(.result.content[0].text | fromjson | .error) == "validation_failed"'
}

@test "schedules: PUT (201, then 200), GET, list, DELETE; cron, timezone and name checked" {
    http PUT /queue/sc/schedules/nightly -d '{"cron":"0 3 * * *","timezone":"Europe/Amsterdam","payload":{"r":1},"priority":5,"max_attempts":2}'
    expect 201 '.name == "nightly"' '.namespace == "sc"' '.cron == "0 3 * * *"' '.timezone == "Europe/Amsterdam"' \
        '.payload == {"r":1}' '.priority == 5' '.max_attempts == 2' '.retry_backoff == "fixed"' '.last_run_at == null' \
        '.next_run_at | test("T0[12]:00:00.000000Z$")'
    http PUT /queue/sc/schedules/nightly -d '{"cron":"@hourly","payload":2}'
    expect 200 '.cron == "@hourly"' '.timezone == "UTC"' '.payload == 2' '.priority == 0' '.next_run_at | test(":00:00.000000Z$")'
    http GET /queue/sc/schedules/nightly
    expect 200 '.cron == "@hourly"'
    http PUT /queue/sc/schedules/a -d '{"cron":"*/10 * * * * *","payload":1}'
    expect 201
    http PUT /queue/sc/schedules/b -d '{"cron":"0 0 1 1 *","payload":1,"retry_backoff":"exponential","retry_delay_seconds":3}'
    expect 201 '.retry_backoff == "exponential"' '.retry_delay_seconds == 3'
    http GET '/queue/sc/schedules?limit=2'
    expect 200 '[.items[].name] == ["a","b"]' '.next == "b"'
    http GET '/queue/sc/schedules?limit=2&after=b'
    expect 200 '[.items[].name] == ["nightly"]' '.next == null'
    # a namespace with only a schedule is listed by GET /queue
    http GET '/queue?after=sb&limit=1'
    expect 200 '[.items[].namespace] == ["sc"]'
    for c in '"* * * *"' '"61 * * * *"' '"@often"' '"0 0 30 2 *"' '""' '5'; do
        http PUT /queue/sc/schedules/bad -d "{\"cron\":$c,\"payload\":1}"
        expect_error 422 validation_failed cron || { echo "$c"; return 1; }
    done
    for t in '"Mars/Olympus"' '"../etc/passwd"' '""'; do
        http PUT /queue/sc/schedules/bad -d "{\"cron\":\"@daily\",\"timezone\":$t,\"payload\":1}"
        expect_error 422 validation_failed timezone || { echo "$t"; return 1; }
    done
    http PUT /queue/sc/schedules/bad -d '{"cron":"@daily"}'
    expect_error 422 validation_failed payload
    http PUT /queue/sc/schedules/bad -d '{"cron":"@daily","payload":1,"retry_backoff":"exponential"}'
    expect_error 422 validation_failed retry_delay_seconds
    http PUT /queue/sc/schedules/bad -d '{"cron":"@daily","payload":1,"dedup_key":"x"}'
    expect_error 422 validation_failed dedup_key
    http PUT '/queue/sc/schedules/bad%20name' -d '{"cron":"@daily","payload":1}'
    expect_error 422 validation_failed name
    http GET /queue/sc/schedules/bad
    expect_error 404 not_found name
    http DELETE /queue/sc/schedules/nightly
    expect 200 '. == {"namespace":"sc","name":"nightly","deleted":true}'
    http DELETE /queue/sc/schedules/nightly
    expect_error 404 not_found name
    http DELETE /queue/sc/schedules/a
    http DELETE /queue/sc/schedules/b
}

@test "schedules: one item per tick, carrying schedule and scheduled_for, from every process; the database refuses a second" {
    http PUT /queue/tick/schedules/every -d '{"cron":"* * * * * *","payload":{"t":1},"priority":3}'
    expect 201
    # a second service on the same database: four processes tick
    service_up ticker2
    sleep 4.5
    http DELETE /queue/tick/schedules/every
    expect 200
    service_down ticker2
    n=$(psql_q "SELECT count(*) FROM queue_items WHERE namespace = 'tick' AND schedule = 'every'")
    distinct=$(psql_q "SELECT count(DISTINCT scheduled_for) FROM queue_items WHERE namespace = 'tick' AND schedule = 'every'")
    span=$(psql_q "SELECT extract(epoch FROM max(scheduled_for) - min(scheduled_for))::int FROM queue_items WHERE namespace = 'tick'")
    echo "# $n items, $distinct ticks, over $span s" >&3
    [ "$n" -ge 3 ] && [ "$n" = "$distinct" ]
    # consecutive seconds: none skipped
    [ "$span" = $((n - 1)) ]
    claim tick '{"max":100}'
    expect 200 'all(.items[]; .schedule == "every" and (.scheduled_for | test(":[0-9][0-9].000000Z$")) and .priority == 3 and .payload == {"t":1})'
    # the unique (schedule, tick): a second item for one tick is refused
    run psql_q "INSERT INTO queue_items (namespace, payload, max_attempts, visible_at, schedule, scheduled_for) SELECT namespace, payload, 5, now(), schedule, scheduled_for FROM queue_items WHERE namespace = 'tick' LIMIT 1"
    [ "$status" -ne 0 ]
    [[ "$output" == *queue_items_tick* ]]
    # deleted: no more items
    sleep 1.5
    [ "$(psql_q "SELECT count(*) FROM queue_items WHERE namespace = 'tick'")" = "$n" ]
}

@test "schedules: missed ticks give one catch-up item, then the next run is in the future" {
    http PUT /queue/cu/schedules/minutely -d '{"cron":"* * * * *","payload":"m"}'
    expect 201
    psql_q "UPDATE queue_schedules SET next_run_at = date_trunc('minute', now()) - interval '1 hour' WHERE namespace = 'cu'"
    for _ in $(seq 20); do
        [ "$(psql_q "SELECT count(*) FROM queue_items WHERE namespace = 'cu'")" != 0 ] && break
        sleep 0.25
    done
    sleep 2
    # one item for the first missed tick, none for the 59 missed after it
    # (an item for the current minute may come: a tick may pass meanwhile)
    [ "$(psql_q "SELECT count(*) FROM queue_items WHERE namespace = 'cu' AND scheduled_for = date_trunc('minute', now()) - interval '1 hour'")" = 1 ]
    [ "$(psql_q "SELECT count(*) FROM queue_items WHERE namespace = 'cu' AND scheduled_for > date_trunc('minute', now()) - interval '1 hour' AND scheduled_for < date_trunc('minute', now()) - interval '2 minutes'")" = 0 ]
    http GET /queue/cu/schedules/minutely
    expect 200 '.last_run_at != null'
    [ "$(psql_q "SELECT next_run_at > now() AND last_run_at = date_trunc('minute', now()) - interval '1 hour' FROM queue_schedules WHERE namespace = 'cu'")" = t ]
    http DELETE /queue/cu/schedules/minutely
}

@test "schedules: a tick held by a process that then dies (rolls back) is enqueued by another, once" {
    http PUT /queue/hd/schedules/yearly -d '{"cron":"0 0 1 1 *","payload":"y"}'
    expect 201
    # due in a second; meanwhile a "process" locks the row as a tick would, and dies after 3 s
    psql_q "UPDATE queue_schedules SET next_run_at = date_trunc('second', now()) + interval '1 second' WHERE namespace = 'hd'"
    psql "$PG_URL" -XAtq -c "BEGIN" -c "SELECT 1 FROM queue_schedules WHERE namespace = 'hd' FOR UPDATE" \
        -c "SELECT pg_sleep(3)" -c "ROLLBACK" >/dev/null 3>&- &
    holder=$!
    sleep 2.5
    # due, but locked: the service's processes skipped it
    [ "$(psql_q "SELECT count(*) FROM queue_items WHERE namespace = 'hd'")" = 0 ]
    wait "$holder"
    for _ in $(seq 20); do
        [ "$(psql_q "SELECT count(*) FROM queue_items WHERE namespace = 'hd'")" != 0 ] && break
        sleep 0.25
    done
    sleep 1.5
    [ "$(psql_q "SELECT count(*) FROM queue_items WHERE namespace = 'hd'")" = 1 ]
    [ "$(psql_q "SELECT next_run_at > now() + interval '1 day' FROM queue_schedules WHERE namespace = 'hd'")" = t ]
    http DELETE /queue/hd/schedules/yearly
}

@test "MCP tools: the schedules" {
    mcp_call queue_schedule_put '{"namespace":"ms","name":"s1","cron":"@daily","payload":1}'
    expect 200 '.result.isError == false' '.result.structuredContent.name == "s1"'
    mcp_call queue_schedule_list '{"namespace":"ms"}'
    expect 200 '[.result.structuredContent.items[].name] == ["s1"]'
    mcp_call queue_schedule_get '{"namespace":"ms","name":"s1"}'
    expect 200 '.result.structuredContent.cron == "@daily"'
    mcp_call queue_schedule_delete '{"namespace":"ms","name":"s1"}'
    expect 200 '.result.structuredContent.deleted == true'
    mcp_call queue_schedule_put '{"namespace":"ms","name":"s1","cron":"nope","payload":1}'
    expect 200 '.result.isError == true' '(.result.content[0].text | fromjson | .field) == "cron"'
}

# Last in the file: the sweep of a second service removes dead items of
# every namespace in the shared database.
@test "QUEUE_DEAD_RETENTION_SECONDS: the sweep removes items dead for longer; 0 keeps them; bad values refused" {
    QUEUE_DEAD_RETENTION_SECONDS=-1 run service_up badretention
    [ "$status" -ne 0 ]
    grep -q QUEUE_DEAD_RETENTION_SECONDS "$STACK_DIR/badretention/lighttpd.log"
    # the main service (default 0) has kept dead items for longer than 3 s
    make_dead rt-old 1
    old=$DEAD_IDS
    psql_q "UPDATE queue_items SET visible_at = now() - interval '1 hour' WHERE id = $old"
    sleep 6 # more than a tick of the main service: nothing removed
    http GET /queue/rt-old
    expect 200 '.dead == 1'
    QUEUE_DEAD_RETENTION_SECONDS=60 service_up retain
    # dead for 50 s (kept), just dead (kept), a live item, one in flight on its last attempt
    make_dead rt 2
    read -r young fresh <<<"$DEAD_IDS"
    psql_q "UPDATE queue_items SET visible_at = now() - interval '50 seconds' WHERE id = $young"
    enqueue rt '{"payload":"live"}'
    enqueue rt '{"payload":"flight","max_attempts":1}'
    claim rt '{"visibility_timeout_seconds":600}'
    expect 200 '.items | length == 1'
    # the hour-old one goes within a tick (5 s) of the retaining service
    gone() { [ "$(psql_q "SELECT count(*) FROM queue_items WHERE id = $1")" = 0 ]; }
    for _ in $(seq 60); do gone "$old" && break; sleep 0.25; done
    gone "$old"
    run ! gone "$young"
    run ! gone "$fresh"
    http GET /queue/rt
    expect 200 '.dead == 2' '.ready == 1' '.in_flight == 1'
    # past 60 s: gone at the next tick, the others stay
    psql_q "UPDATE queue_items SET visible_at = now() - interval '61 seconds' WHERE id = $young"
    for _ in $(seq 60); do gone "$young" && break; sleep 0.25; done
    gone "$young"
    http GET /queue/rt
    expect 200 '.dead == 1' '.ready == 1' '.in_flight == 1'
    service_down retain
}
