#!/usr/bin/env bats
# queue mode, issue #20 (docs/queue.md): batch ack,
# pause and resume, priority, dedup_key, group.

load ../lib/stack
bats_require_minimum_version 1.5.0

setup_file() { stack_setup; }
teardown_file() { stack_teardown; }

enqueue() { http POST "/queue/$1" -d "$2"; }
claim() { http POST "/queue/$1/claim" -d "${2:-}"; }
# curl_q ARGS...: a bare authenticated curl, for background clients
curl_q() { curl -s -H "Authorization: Bearer $TOKEN" "$@"; }

@test "new fields and batch ack at their edges: priority, dedup_key, group, 1000 acks" {
    for p in -1000 1000 0; do
        enqueue edge "{\"payload\":1,\"priority\":$p}"
        expect 201 ".priority == $p"
    done
    for p in -1001 1001 1.5 '"1"'; do
        enqueue edge "{\"payload\":1,\"priority\":$p}"
        expect_error 422 validation_failed priority || { echo "$p"; return 1; }
    done
    k256=$(printf 'k%.0s' $(seq 256))
    g128=$(printf 'g%.0s' $(seq 128))
    enqueue edge "{\"payload\":1,\"dedup_key\":\"$k256\",\"group\":\"$g128\"}"
    expect 201 '(.dedup_key | length) == 256' '(.group | length) == 128'
    # 256 characters, not bytes: é is two bytes
    enqueue edge "{\"payload\":1,\"dedup_key\":\"$(printf 'é%.0s' $(seq 256))\"}"
    expect 201
    enqueue edge "{\"payload\":1,\"dedup_key\":\"${k256}x\"}"
    expect_error 422 validation_failed dedup_key
    enqueue edge '{"payload":1,"dedup_key":""}'
    expect_error 422 validation_failed dedup_key
    enqueue edge "{\"payload\":1,\"group\":\"${g128}x\"}"
    expect_error 422 validation_failed group
    enqueue edge '{"payload":1,"group":""}'
    expect_error 422 validation_failed group
    http POST /queue/edge -d '{"items":[{"payload":1},{"payload":2,"priority":1001}]}'
    expect_error 422 validation_failed 'items[1].priority'
    jq -nc '{items: [range(1000) | {id: (. + 900000001), claim_token: "0b5e0c4e-8a52-4d0e-9a43-5d1c2f3e4a5b"}]}' >"$BATS_TEST_TMPDIR/a1000"
    http POST /queue/edge/ack --data-binary @"$BATS_TEST_TMPDIR/a1000"
    expect 200 '.items | length == 1000' 'all(.items[]; .error == "not_found")'
    jq -nc '{items: [range(1001) | {id: (. + 900000001), claim_token: "0b5e0c4e-8a52-4d0e-9a43-5d1c2f3e4a5b"}]}' >"$BATS_TEST_TMPDIR/a1001"
    http POST /queue/edge/ack --data-binary @"$BATS_TEST_TMPDIR/a1001"
    expect_error 422 validation_failed items
    for b in '{"items":[]}' '{}' '{"items":[{"id":1}]}' '{"items":[{"id":0,"claim_token":"0b5e0c4e-8a52-4d0e-9a43-5d1c2f3e4a5b"}]}' \
        '{"items":[{"id":1,"claim_token":"nope"}]}' '{"items":[1]}' '{"items":[{"id":1,"claim_token":"0b5e0c4e-8a52-4d0e-9a43-5d1c2f3e4a5b","x":1}]}'; do
        http POST /queue/edge/ack -d "$b"
        expect 422 '.error == "validation_failed"' '.field | startswith("items")' || { echo "$b"; return 1; }
    done
}

@test "batch ack: good, stale and unknown items, one result each, in order" {
    http POST /queue/bak -d '{"items":[{"payload":1},{"payload":2},{"payload":3}]}'
    claim bak '{"max":3,"visibility_timeout_seconds":60}'
    expect 200 '.items | length == 3'
    id1=$(jq '.items[0].id' <<<"$BODY"); t1=$(jq -r '.items[0].claim_token' <<<"$BODY")
    id2=$(jq '.items[1].id' <<<"$BODY"); t2=$(jq -r '.items[1].claim_token' <<<"$BODY")
    id3=$(jq '.items[2].id' <<<"$BODY"); t3=$(jq -r '.items[2].claim_token' <<<"$BODY")
    # item 2: released and claimed again, so t2 is stale
    http POST "/queue/bak/$id2/release" -d "{\"claim_token\":\"$t2\"}"
    expect 200
    claim bak
    expect 200 ".items[0].id == $id2"
    http POST /queue/bak/ack -d "{\"items\":[{\"id\":$id1,\"claim_token\":\"$t1\"},{\"id\":$id2,\"claim_token\":\"$t2\"},{\"id\":999999999,\"claim_token\":\"$t3\"},{\"id\":$id3,\"claim_token\":\"$t3\"}]}"
    expect 200 '.items | length == 4' ".items[0] == {\"id\":$id1,\"acked\":true}" \
        ".items[1] == {\"id\":$id2,\"error\":\"conflict\"}" '.items[2] == {"id":999999999,"error":"not_found"}' \
        ".items[3] == {\"id\":$id3,\"acked\":true}"
    http GET /queue/bak
    expect 200 '.in_flight == 1' '.ready == 0'
    # the route is not taken for an item id: DELETE /queue/bak/ack is a 405
    http DELETE /queue/bak/ack
    expect_error 405 method_not_allowed
    # through MCP's door too (the tool calls the same route)
    http POST /queue/bak/ack -d "{\"items\":[{\"id\":$id1,\"claim_token\":\"$t1\"}]}"
    expect 200 ".items == [{\"id\":$id1,\"error\":\"not_found\"}]"
}

@test "priority: highest first, then oldest; honoured under 4 concurrent claimers" {
    # 100 items, priorities -2..2 in a shuffled order
    jq -nc '{items: [range(100) | {payload: ., priority: ((. * 7) % 5 - 2)}]}' >"$BATS_TEST_TMPDIR/p"
    http POST /queue/prio --data-binary @"$BATS_TEST_TMPDIR/p"
    expect 201
    claim prio '{"max":3}'
    expect 200 'all(.items[]; .priority == 2)' '[.items[].payload] == [2, 7, 12]'
    for w in 1 2 3 4; do
        (
            while :; do
                resp=$(curl_q -d '{"max":2,"visibility_timeout_seconds":60}' "$URL/queue/prio/claim")
                n=$(jq '.items | length' <<<"$resp")
                [ "$n" = 0 ] && break
                jq -r '.items[] | "\(.priority) \(.payload)"' <<<"$resp"
            done >"$BATS_TEST_TMPDIR/w.$w"
        ) &
    done
    wait
    cat "$BATS_TEST_TMPDIR"/w.* | wc -l | grep -qx 97
    # each claimer saw priorities never rising, and within a priority, payloads (enqueue order) rising
    for w in 1 2 3 4; do
        awk 'NR > 1 && ($1 > p || ($1 == p && $2 < q)) { bad = 1 } { p = $1; q = $2 } END { exit bad }' \
            "$BATS_TEST_TMPDIR/w.$w" || { cat "$BATS_TEST_TMPDIR/w.$w"; return 1; }
    done
}

@test "dedup_key: 50 clients enqueue one key at once, exactly one item; free again after ack and after dead" {
    for i in $(seq 1 50); do
        curl_q -o "$BATS_TEST_TMPDIR/d.$i" -w '%{http_code}\n' -d "{\"payload\":$i,\"dedup_key\":\"job-1\"}" \
            "$URL/queue/dd" >"$BATS_TEST_TMPDIR/c.$i" &
    done
    wait
    [ "$(cat "$BATS_TEST_TMPDIR"/c.* | grep -c '^201$')" -eq 1 ]
    [ "$(cat "$BATS_TEST_TMPDIR"/c.* | grep -c '^200$')" -eq 49 ]
    [ "$(jq -s 'map(.id) | unique | length' "$BATS_TEST_TMPDIR"/d.*)" -eq 1 ]
    [ "$(jq -s 'map(select(.duplicate == true)) | length' "$BATS_TEST_TMPDIR"/d.*)" -eq 49 ]
    [ "$(psql_q "select count(*) from queue_items where namespace = 'dd'")" -eq 1 ]
    # in flight: still a duplicate; acked: free
    claim dd
    id=$(jq '.items[0].id' <<<"$BODY")
    enqueue dd '{"payload":"again","dedup_key":"job-1"}'
    expect 200 '.duplicate == true' ".id == $id" '.attempts == 1'
    http DELETE "/queue/dd/$id"
    expect 200
    enqueue dd '{"payload":"after-ack","dedup_key":"job-1","max_attempts":1}'
    expect 201 ".id != $id" '.payload == "after-ack"' 'has("duplicate") | not'
    id2=$(jq .id <<<"$BODY")
    # dead (its one claim runs out): free again; the dead item stays in the dead list
    claim dd '{"visibility_timeout_seconds":1}'
    expect 200 ".items[0].id == $id2"
    sleep 1.2
    enqueue dd '{"payload":"after-dead","dedup_key":"job-1"}'
    expect 201 ".id != $id2"
    id3=$(jq .id <<<"$BODY")
    http GET /queue/dd/dead
    expect 200 ".items[0].id == $id2"
    # a batch: a key repeated in it counts once, a live key is a duplicate; still 201
    http POST /queue/dd -d '{"items":[{"payload":"a","dedup_key":"b-1"},{"payload":"b"},{"payload":"c","dedup_key":"b-1"},{"payload":"d","dedup_key":"job-1"},{"payload":"e"}]}'
    expect 201 '.items | length == 5' '[.items[].payload] == ["a","b","a","after-dead","e"]' \
        '[.items[] | .duplicate == true] == [false,false,true,true,false]' '.items[0].id == .items[2].id' \
        ".items[3].id == $id3"
    [ "$(psql_q "select count(*) from queue_items where namespace = 'dd' and dedup_key = 'b-1'")" -eq 1 ]
}

@test "dedup_key: 10 pairs of batches with the same 500 keys in opposite orders at once: no deadlock, one item per key" {
    # Before the keys were locked in one order, two such batches each waited
    # on the unique index for the other's insert and PostgreSQL aborted one
    # (a deadlock: 503).
    for p in $(seq 1 10); do
        jq -nc --arg p "$p" '{items: [range(1; 501) | {payload: ., dedup_key: "p\($p)-k\(.)"}]}' >"$BATS_TEST_TMPDIR/up.$p"
        jq -c '.items |= reverse' "$BATS_TEST_TMPDIR/up.$p" >"$BATS_TEST_TMPDIR/down.$p"
    done
    for round in 1 2; do
        for p in $(seq 1 10); do
            for dir in up down; do
                curl_q -o "$BATS_TEST_TMPDIR/r.$round.$dir.$p" -w '%{http_code}\n' --data-binary @"$BATS_TEST_TMPDIR/$dir.$p" \
                    "$URL/queue/dl$round" >"$BATS_TEST_TMPDIR/s.$round.$dir.$p" &
            done
        done
        wait
    done
    cat "$BATS_TEST_TMPDIR"/s.*
    [ "$(cat "$BATS_TEST_TMPDIR"/s.* | grep -c '^201$')" -eq 40 ]
    for round in 1 2; do
        [ "$(psql_q "select count(*), count(distinct dedup_key) from queue_items where namespace = 'dl$round'")" = "5000|5000" ]
        for p in $(seq 1 10); do
            # both batches answer each key with the same item, one of them as a duplicate
            jq -se --arg p "$p" '
                (.[0].items | map({key: .dedup_key, value: .id}) | from_entries) as $a
                | (.[1].items | map({key: .dedup_key, value: .id}) | from_entries) as $b
                | ($a | length) == 500 and $a == $b
                  and ([.[].items[] | select(.duplicate == true)] | length) == 500' \
                "$BATS_TEST_TMPDIR/r.$round.up.$p" "$BATS_TEST_TMPDIR/r.$round.down.$p" >/dev/null
        done
    done
}

@test "group: one at a time in enqueue order, across expiry, release and dead-lettering; other groups proceed" {
    http POST /queue/grp -d '{"items":[{"payload":"a1","group":"A","max_attempts":2},{"payload":"b1","group":"B"},{"payload":"a2","group":"A"},{"payload":"x","priority":-1},{"payload":"a3","group":"A"},{"payload":"b2","group":"B"}]}'
    expect 201
    claim grp '{"max":10,"visibility_timeout_seconds":60}'
    expect 200 '[.items[].payload] | sort == ["a1","b1","x"]'
    a1=$(jq '.items[] | select(.payload == "a1") | .id' <<<"$BODY")
    t1=$(jq -r '.items[] | select(.payload == "a1") | .claim_token' <<<"$BODY")
    acks=$(jq -c '[.items[] | select(.payload != "a1") | {id, claim_token}]' <<<"$BODY")
    claim grp '{"max":10}'
    expect 200 '.items == []'
    # B proceeds when b1 is acked, A does not
    http POST /queue/grp/ack -d "{\"items\":$acks}"
    expect 200 'all(.items[]; .acked == true)'
    claim grp '{"max":10,"visibility_timeout_seconds":60}'
    expect 200 '[.items[].payload] == ["b2"]'
    # a1's claim runs out (extended to 1 s): a1 again (attempts 2), not a2
    http POST "/queue/grp/$a1/extend" -d "{\"claim_token\":\"$t1\",\"visibility_timeout_seconds\":1}"
    expect 200
    sleep 1.2
    claim grp '{"max":10,"visibility_timeout_seconds":1}'
    expect 200 '[.items[].payload] == ["a1"]' '.items[0].attempts == 2' ".items[0].id == $a1"
    # its last claim runs out: a1 is dead, a2 is next
    sleep 1.2
    claim grp '{"max":10,"visibility_timeout_seconds":60}'
    expect 200 '[.items[].payload] == ["a2"]'
    a2=$(jq '.items[0].id' <<<"$BODY"); t2=$(jq -r '.items[0].claim_token' <<<"$BODY")
    # a1 retried from the dead list goes to the end of A (after a3)
    http POST "/queue/grp/dead/$a1/retry" -d ''
    expect 200 '.attempts == 0'
    # released a2 comes back before a3
    http POST "/queue/grp/$a2/release" -d "{\"claim_token\":\"$t2\"}"
    expect 200
    claim grp '{"max":10}'
    expect 200 '[.items[].payload] == ["a2"]'
    http DELETE "/queue/grp/$a2"
    claim grp '{"max":10}'
    expect 200 '[.items[].payload] == ["a3"]'
    http DELETE "/queue/grp/$(jq '.items[0].id' <<<"$BODY")"
    claim grp '{"max":10}'
    expect 200 '[.items[].payload] == ["a1"]'
}

@test "group under 4 concurrent claimers (48 items): strict order per group, never two in flight" {
    # 3 groups of 12, interleaved, plus 12 without a group
    jq -nc '{items: [range(48) | {payload: ., group: (if . % 4 == 3 then null else "g\(. % 4)" end)} | with_entries(select(.value != null))]}' \
        >"$BATS_TEST_TMPDIR/g"
    http POST /queue/grpc --data-binary @"$BATS_TEST_TMPDIR/g"
    expect 201
    (
        # sampled: at most one claim running per group
        while [ ! -e "$BATS_TEST_TMPDIR/done" ]; do
            psql_q "select coalesce(max(c), 0) from (select count(*) c from queue_items where namespace = 'grpc'
                and grp is not null and claim_token is not null and visible_at > now() group by grp) x"
            sleep 0.05
        done >"$BATS_TEST_TMPDIR/inflight"
    ) &
    sampler=$!
    workers=()
    for w in 1 2 3 4; do
        (
            empty=0
            while [ "$empty" -lt 3 ]; do
                resp=$(curl_q -d '{"max":3,"visibility_timeout_seconds":60}' "$URL/queue/grpc/claim")
                if [ "$(jq '.items | length' <<<"$resp")" = 0 ]; then empty=$((empty + 1)); sleep 0.1; continue; fi
                empty=0
                jq -r '.items[] | "\(.payload) \(.group)"' <<<"$resp" | while read -r p g; do
                    echo "$(date +%s%N) $p $g"
                done
                acks=$(jq -c '{items: [.items[] | {id, claim_token}]}' <<<"$resp")
                curl_q -o /dev/null -d "$acks" "$URL/queue/grpc/ack"
            done >"$BATS_TEST_TMPDIR/gw.$w"
        ) &
        workers+=($!)
    done
    wait "${workers[@]}"
    touch "$BATS_TEST_TMPDIR/done"
    wait "$sampler"
    sort -n "$BATS_TEST_TMPDIR"/gw.* >"$BATS_TEST_TMPDIR/events"
    [ "$(wc -l <"$BATS_TEST_TMPDIR/events")" -eq 48 ]
    for g in g0 g1 g2; do
        awk -v g="$g" '$3 == g { print $2 }' "$BATS_TEST_TMPDIR/events" >"$BATS_TEST_TMPDIR/order.$g"
        [ "$(wc -l <"$BATS_TEST_TMPDIR/order.$g")" -eq 12 ]
        sort -n -c "$BATS_TEST_TMPDIR/order.$g"
    done
    echo "# in-flight samples: $(wc -l <"$BATS_TEST_TMPDIR/inflight"), max per group $(sort -n "$BATS_TEST_TMPDIR/inflight" | tail -n 1)" >&3
    run ! grep -qvx '[01]' "$BATS_TEST_TMPDIR/inflight"
}

@test "pause: enqueues accepted, claims empty, a long-poll keeps waiting; resume wakes it" {
    enqueue pz '{"payload":"first"}'
    http POST /queue/pz/pause -d ''
    expect 200 '.paused == true' '.ready == 1' '.namespace == "pz"'
    http POST /queue/pz/pause -d '{}'
    expect 200 '.paused == true'
    enqueue pz '{"payload":"second"}'
    expect 201
    claim pz '{"max":10}'
    expect 200 '.items == []'
    http GET /queue/pz
    expect 200 '.paused == true' '.ready == 2'
    start=$(date +%s%N)
    curl_q -o "$BATS_TEST_TMPDIR/lp" -d '{"wait_seconds":15,"max":10}' "$URL/queue/pz/claim" &
    poll=$!
    sleep 2
    # still waiting after 2 s, though items are ready
    kill -0 "$poll"
    http POST /queue/pz/resume -d ''
    expect 200 '.paused == false'
    wait "$poll"
    elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
    echo "# long-poll answered after ${elapsed} ms (resume at ~2000 ms, wait 15 s)" >&3
    [ "$elapsed" -lt 8000 ]
    jq -e '[.items[].payload] == ["first","second"]' "$BATS_TEST_TMPDIR/lp"
    http GET /queue/pz
    expect 200 '.paused == false' '.in_flight == 2'
    http POST /queue/pz/pause -d '{"x":1}'
    expect_error 422 validation_failed x
}
