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
        '.items[0] == {"namespace":"d-a","ready":0,"delayed":1,"in_flight":0,"dead":0,"oldest_ready_age_seconds":0,"paused":false}' \
        '.items[2].ready == 2' '.items[3].dead == 1' '.items[3].ready == 0' \
        '.items[4] == {"namespace":"d-p","ready":0,"delayed":0,"in_flight":0,"dead":0,"oldest_ready_age_seconds":0,"paused":true}'
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
    ! gone "$young"
    ! gone "$fresh"
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
