#!/usr/bin/env bats
# document mode (docs/document.md): ETag and conditional requests,
# PUT and merge-patch PATCH, and the changes feed (no gap, no duplicate).

load ../lib/stack

setup_file() {
    export BODY_MAX_BYTES=4096
    stack_setup
}
teardown_file() { stack_teardown; }

@test "ETag on every one-version answer; If-None-Match gives 304 with the same ETag" {
    http POST /document -d '{"namespace":"et","key":"k","payload":{"a":1}}'
    expect 201 '.version == 1'
    header_has ETag '"1"'
    http PUT /document/et/k -d '{"a":2}'
    expect 201 '.version == 2' '.payload == {"a":2}' '.namespace == "et"' '.key == "k"'
    header_has ETag '"2"'
    http GET /document/et/k
    expect 200 '.version == 2'
    header_has ETag '"2"'
    http GET "/document/et/k?version=1"
    expect 200 '.version == 1'
    header_has ETag '"1"'
    http GET /document/et/k -H 'If-None-Match: "2"'
    [ "$CODE" = 304 ] && [ -z "$BODY" ]
    header_has ETag '"2"'
    http GET /document/et/k -H 'If-None-Match: "1", W/"2"'
    [ "$CODE" = 304 ]
    http GET /document/et/k -H 'If-None-Match: *'
    [ "$CODE" = 304 ]
    http GET /document/et/k -H 'If-None-Match: "1"'
    expect 200 '.version == 2'
    http GET /document/et/k -H 'If-None-Match: garbage'
    expect 200 '.version == 2'
    http DELETE /document/et/k
    expect 200 '.deleted == true' '.version == 3'
    header_has ETag '"3"'
    http GET /document/et/k -H 'If-None-Match: "3"'
    expect_error 404 not_found key
}

@test "PUT: any JSON body; bad JSON 400; If-Match and If-None-Match: * as preconditions (412)" {
    for p in 'null' '"s"' '[1,2]' '12345678901234567890' 'true'; do
        http PUT /document/pu/any -d "$p"
        expect 201 || return 1
        [ "$(jq -c .payload <<<"$BODY")" = "$(jq -c . <<<"$p")" ] || return 1
    done
    http PUT /document/pu/any -d '{"a":'
    expect_error 400 invalid_json
    http PUT /document/pu/any
    expect_error 400 invalid_json
    http PUT /document/pu/c -H 'If-None-Match: *' -d '{"v":1}'
    expect 201 '.version == 1'
    http PUT /document/pu/c -H 'If-None-Match: *' -d '{"v":2}'
    expect_error 412 precondition_failed If-None-Match
    http PUT /document/pu/c -H 'If-Match: "2"' -d '{"v":2}'
    expect_error 412 precondition_failed If-Match
    http PUT /document/pu/c -H 'If-Match: "0"' -d '{"v":2}'
    expect_error 412 precondition_failed If-Match
    # If-Match compares strongly (RFC 9110, 13.1.1): the weak W/"1" names
    # the latest version yet matches nothing, and nothing is written.
    http PUT /document/pu/c -H 'If-Match: W/"1"' -d '{"v":2}'
    expect_error 412 precondition_failed If-Match
    http PUT /document/pu/c -H 'If-Match: "1"' -d '{"v":2}'
    expect 201 '.version == 2'
    http PUT /document/pu/c -H 'If-Match: "1"' -d '{"v":3}'
    expect_error 412 precondition_failed If-Match
    http PUT /document/pu/c -H 'If-Match: 1' -d '{}'
    expect_error 422 validation_failed If-Match
    http PUT /document/pu/c -H 'If-Match: "1", "2"' -d '{}'
    expect_error 422 validation_failed If-Match
    http PUT /document/pu/c -H 'If-None-Match: "2"' -d '{}'
    expect_error 422 validation_failed If-None-Match
    http PUT /document/pu/c -H 'If-Match: "2"' -H 'If-None-Match: *' -d '{}'
    expect_error 422 validation_failed
    http PUT /document/pu/c?x=1 -d '{}'
    expect_error 422 validation_failed x
    http PUT "/document/pu/bad%20key" -d '{}'
    expect_error 422 validation_failed key
    # a deleted key counts as absent for create-only
    http DELETE /document/pu/c
    expect 200
    http PUT /document/pu/c -H 'If-None-Match: *' -d '{"v":4}'
    expect 201 '.version == 4'
}

@test "POST /document honours If-Match / If-None-Match; with if_version too: 422" {
    http POST /document -H 'If-None-Match: *' -d '{"namespace":"po","key":"k","payload":1}'
    expect 201 '.version == 1'
    http POST /document -H 'If-None-Match: *' -d '{"namespace":"po","key":"k","payload":1}'
    expect_error 412 precondition_failed If-None-Match
    http POST /document -H 'If-Match: "1"' -d '{"namespace":"po","key":"k","payload":2}'
    expect 201 '.version == 2'
    http POST /document -H 'If-Match: "1"' -d '{"namespace":"po","key":"k","payload":3}'
    expect_error 412 precondition_failed If-Match
    http POST /document -H 'If-Match: "2"' -d '{"namespace":"po","key":"k","payload":3,"if_version":2}'
    expect_error 422 validation_failed if_version
    # the combination is 422 even where the header alone would be 412
    http POST /document -H 'If-Match: W/"2"' -d '{"namespace":"po","key":"k","payload":3,"if_version":2}'
    expect_error 422 validation_failed if_version
    http POST /document -H 'If-Match: "0"' -d '{"namespace":"po","key":"k","payload":3,"if_version":2}'
    expect_error 422 validation_failed if_version
    # if_version alone keeps its 409
    http POST /document -d '{"namespace":"po","key":"k","payload":3,"if_version":1}'
    expect_error 409 conflict if_version
}

@test "PATCH: RFC 7396 merge patch as the next version; 415, 404, 412, 400" {
    mp=(-H 'Content-Type: application/merge-patch+json')
    http PUT /document/pa/k -d '{"a":1,"b":{"c":2,"d":3},"e":[1,2]}'
    expect 201
    http PATCH /document/pa/k "${mp[@]}" -d '{"a":null,"b":{"c":9,"x":{"y":null}},"e":[3],"f":"new"}'
    expect 201 '.version == 2' '.payload == {"b":{"c":9,"d":3,"x":{}},"e":[3],"f":"new"}'
    header_has ETag '"2"'
    http GET /document/pa/k
    expect 200 '.payload.f == "new"'
    http PATCH /document/pa/k -H 'Content-Type: application/merge-patch+json; charset=utf-8' -H 'If-Match: "2"' -d '"whole"'
    expect 201 '.version == 3' '.payload == "whole"'
    http PATCH /document/pa/k "${mp[@]}" -H 'If-Match: "2"' -d '{"z":1}'
    expect_error 412 precondition_failed If-Match
    http PATCH /document/pa/k -d '{"z":1}'
    expect_error 415 unsupported_media_type
    http PATCH /document/pa/k -H 'Content-Type: application/json' -d '{"z":1}'
    expect_error 415 unsupported_media_type
    http PATCH /document/pa/k "${mp[@]}" -d '{"z":'
    expect_error 400 invalid_json
    http PATCH /document/pa/none "${mp[@]}" -d '{"z":1}'
    expect_error 404 not_found key
    http DELETE /document/pa/k
    http PATCH /document/pa/k "${mp[@]}" -d '{"z":1}'
    expect_error 404 not_found key
}

@test "20 concurrent PATCHes to one key: none lost" {
    http PUT /document/cp/k -d '{}'
    expect 201
    local pids=() i
    for i in $(seq 1 20); do
        curl -s -o /dev/null -X PATCH -H "Authorization: Bearer $TOKEN" \
            -H 'Content-Type: application/merge-patch+json' -d "{\"f$i\":$i}" "$URL/document/cp/k" &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i"; done
    http GET /document/cp/k
    expect 200 '.version == 21' '(.payload | length) == 20'
    for i in $(seq 1 20); do
        jq -e ".payload.f$i == $i" <<<"$BODY" >/dev/null || { echo "f$i lost: $BODY"; return 1; }
    done
}

@test "_changes: every version once, in seq order, tombstones too; next never null; since=now" {
    http GET /document/fe-empty/_changes
    expect 200 '.items == []' '.next == "0"'
    http PUT /document/fe/a -d '{"n":1}'
    http PUT /document/fe/b -d '{"n":2}'
    http PUT /document/fe/a -d '{"n":3}'
    http DELETE /document/fe/b
    http GET /document/fe/_changes
    expect 200 '[.items[] | [.key, .version, .deleted]] == [["a",1,false],["b",1,false],["a",2,false],["b",2,true]]' \
        '[.items[].seq] == ([.items[].seq] | sort)' '.items[0] | has("payload") | not' \
        '.next == (.items[-1].seq | tostring)' '.items[0].created_at | test("Z$")'
    next=$(jq -r .next <<<"$BODY")
    first=$(jq -r '.items[0].seq' <<<"$BODY")
    http GET "/document/fe/_changes?since=$next"
    expect 200 '.items == []' ".next == \"$next\""
    http GET "/document/fe/_changes?since=$first&limit=2&include_payload=true"
    expect 200 '[.items[].payload] == [{"n":2},{"n":3}]' '(.items | length) == 2'
    http GET "/document/fe/_changes?since=now"
    expect 200 '.items == []' ".next == \"$next\""
    # other namespaces' writes do not show
    http PUT /document/fe-other/a -d '1'
    http GET "/document/fe/_changes?since=$next"
    expect 200 '.items == []'
}

@test "_changes: limits at their edges (limit 1000/1001, wait_seconds 60/61, since, include_payload)" {
    http GET "/document/fe/_changes?limit=1000"
    expect 200
    http GET "/document/fe/_changes?limit=1001"
    expect_error 422 validation_failed limit
    http GET "/document/fe/_changes?limit=0"
    expect_error 422 validation_failed limit
    http PUT /document/fe-w/a -d '1'
    http GET "/document/fe-w/_changes?wait_seconds=60"
    expect 200 '(.items | length) == 1'
    http GET "/document/fe/_changes?wait_seconds=61"
    expect_error 422 validation_failed wait_seconds
    http GET "/document/fe/_changes?wait_seconds=-1"
    expect_error 422 validation_failed wait_seconds
    http GET "/document/fe/_changes?since=9999999999999999"
    expect 200 '.items == []' '.next == "9999999999999999"'
    http GET "/document/fe/_changes?since=99999999999999999"
    expect_error 422 validation_failed since
    for bad in x -1 nowx '' 1.5; do
        http GET "/document/fe/_changes?since=$bad"
        expect_error 422 validation_failed since || return 1
    done
    http GET "/document/fe/_changes?include_payload=yes"
    expect_error 422 validation_failed include_payload
    http GET "/document/fe/_changes?other=1"
    expect_error 422 validation_failed other
    http GET "/document/bad%20ns/_changes"
    expect_error 422 validation_failed namespace
}

@test "_changes wait_seconds: an empty wait ends on time; a commit wakes a waiter at once" {
    start=$(date +%s%N)
    http GET "/document/fe-wait/_changes?since=now&wait_seconds=1"
    expect 200 '.items == []' '.next == "0"'
    took=$((($(date +%s%N) - start) / 1000000))
    [ "$took" -ge 900 ] && [ "$took" -lt "$(slack 3000)" ]
    out=$BATS_TEST_TMPDIR/waiter
    curl -s -H "Authorization: Bearer $TOKEN" "$URL/document/fe-wait/_changes?wait_seconds=20" >"$out" &
    waiter=$!
    sleep 1
    start=$(date +%s%N)
    http PUT /document/fe-wait/k -d '{"woke":true}'
    expect 201
    wait "$waiter"
    took=$((($(date +%s%N) - start) / 1000000))
    [ "$took" -lt "$(slack 2000)" ] || { echo "the waiter took $took ms after the write"; return 1; }
    jq -e '[.items[] | [.key, .version]] == [["k",1]]' "$out"
}

# follow NS OUT: reads the feed with since=next until $STOP exists and a
# page came back empty; one line per item: seq key version.
follow() {
    local ns=$1 out=$2 since=0 page n
    : >"$out"
    while :; do
        page=$(curl -sf -H "Authorization: Bearer $TOKEN" \
            "$URL/document/$ns/_changes?since=$since&limit=37&wait_seconds=1") || return 1
        jq -r '.items[] | "\(.seq) \(.key) \(.version)"' <<<"$page" >>"$out"
        n=$(jq '.items | length' <<<"$page")
        since=$(jq -r .next <<<"$page")
        [ "$n" -eq 0 ] && [ -e "$STOP" ] && return 0
    done
}

@test "_changes under 8 concurrent writers x 50: 3 followers each see every version once, in order" {
    STOP=$BATS_TEST_TMPDIR/stop
    local readers=() writers=() r w
    for r in 1 2 3; do
        follow cc "$BATS_TEST_TMPDIR/r$r" &
        readers+=($!)
    done
    for w in $(seq 1 8); do
        (
            for i in $(seq 1 50); do
                # even writes to the writer's own key, odd ones to one shared key
                if [ $((i % 2)) -eq 0 ]; then key=own$w; else key=shared; fi
                curl -sf -o /dev/null -X PUT -H "Authorization: Bearer $TOKEN" -d "{\"w\":$w,\"i\":$i}" \
                    "$URL/document/cc/$key" || exit 1
            done
        ) &
        writers+=($!)
    done
    for w in "${writers[@]}"; do wait "$w" || { echo "a writer failed"; return 1; }; done
    touch "$STOP"
    for r in "${readers[@]}"; do wait "$r" || { echo "a reader failed"; return 1; }; done
    [ "$(psql_q "select count(*) from documents where namespace = 'cc'")" -eq 400 ]
    want=$(psql_q "select string_agg(seq || ' ' || key || ' ' || version, E'\n' order by seq) from documents where namespace = 'cc'")
    for r in 1 2 3; do
        f=$BATS_TEST_TMPDIR/r$r
        [ "$(wc -l <"$f")" -eq 400 ] || { echo "reader $r saw $(wc -l <"$f") items"; return 1; }
        [ "$(cat "$f")" = "$want" ] || { echo "reader $r's items differ from the table in seq order"; return 1; }
        # per key, versions ascend 1, 2, 3, ... with no gap or repeat
        awk '{ if ($3 != last[$2] + 1) { print "key " $2 " version " $3 " after " last[$2]; bad = 1 } last[$2] = $3 }
             END { exit bad }' "$f" || return 1
    done
}

@test "_changes as an event stream: one event per version as it commits; Last-Event-ID and since resume" {
    http PUT /document/sse/a -d '{"n":1}'
    http PUT /document/sse/b -d '{"n":2}'
    out=$BATS_TEST_TMPDIR/stream
    curl -sN --max-time 3 -D "$out.h" -H "Authorization: Bearer $TOKEN" -H 'Accept: text/event-stream' \
        "$URL/document/sse/_changes?include_payload=true" >"$out" &
    reader=$!
    sleep 1
    # what was there came at once, before the stream ends
    [ "$(grep -c '^event: change$' "$out")" -eq 2 ] || { cat "$out"; return 1; }
    http PUT /document/sse/a -d '{"n":3}'
    sleep 0.5
    [ "$(grep -c '^event: change$' "$out")" -eq 3 ] || { echo "the third event did not arrive at once"; cat "$out"; return 1; }
    wait "$reader" || true
    grep -qi '^content-type: text/event-stream' "$out.h"
    mapfile -t ids < <(sed -n 's/^id: //p' "$out")
    [ "${#ids[@]}" -eq 3 ] && [ "${ids[0]}" -lt "${ids[1]}" ] && [ "${ids[1]}" -lt "${ids[2]}" ]
    sed -n 's/^data: //p' "$out" | jq -s -e '[.[] | [.key, .version, .payload.n]] == [["a",1,1],["b",1,2],["a",2,3]]'
    head -c 1 "$out" | grep -q ':'
    # resuming: Last-Event-ID wins over since; since alone works too
    curl -sN --max-time 1 -H "Authorization: Bearer $TOKEN" -H 'Accept: text/event-stream' \
        -H "Last-Event-ID: ${ids[1]}" "$URL/document/sse/_changes?since=0" >"$out.2" || true
    [ "$(sed -n 's/^id: //p' "$out.2")" = "${ids[2]}" ]
    curl -sN --max-time 1 -H "Authorization: Bearer $TOKEN" -H 'Accept: text/event-stream' \
        "$URL/document/sse/_changes?since=${ids[0]}" >"$out.3" || true
    [ "$(sed -n 's/^id: //p' "$out.3" | tr '\n' ' ')" = "${ids[1]} ${ids[2]} " ]
    # a bad Last-Event-ID is the contract's 422, before any event
    http GET /document/sse/_changes -H 'Accept: text/event-stream' -H 'Last-Event-ID: x'
    expect_error 422 validation_failed Last-Event-ID
    # without the Accept header: the JSON page
    http GET /document/sse/_changes
    expect 200 '(.items | length) == 3'
}

@test "an idle event stream sends a comment line within 15 s" {
    out=$BATS_TEST_TMPDIR/idle
    curl -sN --max-time 17 -H "Authorization: Bearer $TOKEN" -H 'Accept: text/event-stream' \
        "$URL/document/sse-idle/_changes?since=now" >"$out" || true
    # the opening comment, then at least one keep-alive comment
    [ "$(grep -c '^:' "$out")" -ge 2 ] || { cat "$out"; return 1; }
    ! grep -q '^event:' "$out"
}
