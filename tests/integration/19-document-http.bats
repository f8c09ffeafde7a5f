#!/usr/bin/env bats
# document mode, contract sections 3a and 3b: ETag and conditional requests,
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
    # if_version alone keeps its 409
    http POST /document -d '{"namespace":"po","key":"k","payload":3,"if_version":1}'
    expect_error 409 conflict if_version
}

@test "PATCH: RFC 7396 merge patch as the next version; 415, 404, 412, 400" {
    mp=(-H 'Content-Type: application/merge-patch+json')
    http PUT /document/pa/k -d '{"a":1,"b":{"c":2,"d":3},"e":[1,2]}'
    expect 201
    http PATCH /document/pa/k "${mp[@]}" -d '{"a":null,"b":{"c":9,"x":{"y":null}},"e":[3],"f":"new"}'
    expect 200 '.version == 2' '.payload == {"b":{"c":9,"d":3,"x":{}},"e":[3],"f":"new"}'
    header_has ETag '"2"'
    http GET /document/pa/k
    expect 200 '.payload.f == "new"'
    http PATCH /document/pa/k -H 'Content-Type: application/merge-patch+json; charset=utf-8' -H 'If-Match: "2"' -d '"whole"'
    expect 200 '.version == 3' '.payload == "whole"'
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
