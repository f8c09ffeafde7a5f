#!/usr/bin/env bats
# document mode (docs/document.md) through lighttpd.

load ../lib/stack

setup_file() {
    export BODY_MAX_BYTES=4096
    stack_setup
}
teardown_file() { stack_teardown; }

put() { http POST /document -d "$1"; }

@test "POST /document: 201 with namespace, key, version 1, payload, created_at" {
    put '{"namespace":"ci-status","key":"demo","payload":{"ok":true,"n":[1,2,3]}}'
    expect 201 '.namespace == "ci-status"' '.key == "demo"' '.version == 1' \
        '.payload == {"ok":true,"n":[1,2,3]}' \
        '.created_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z$")'
    header_has Content-Type application/json
    header_has X-Request-Id
}

@test "writes append versions 1, 2, 3; GET returns the latest, ?version=N a given one" {
    for i in 1 2 3; do
        put "{\"namespace\":\"v\",\"key\":\"k\",\"payload\":{\"i\":$i}}"
        expect 201 ".version == $i"
    done
    http GET /document/v/k
    expect 200 '.version == 3' '.payload.i == 3' '.namespace == "v"' '.key == "k"'
    http GET "/document/v/k?version=2"
    expect 200 '.version == 2' '.payload.i == 2'
    http GET "/document/v/k?version=4"
    expect_error 404 not_found version
    http GET "/document/v/k?version=0"
    expect_error 422 validation_failed version
    http GET "/document/v/k?version=x"
    expect_error 422 validation_failed version
}

@test "payload: any JSON value, numbers and strings kept exactly" {
    for p in 'null' '"text"' '12345678901234567890123456789' '0.1' '-1.5e-7' '[]' '{"a":{"b":[{"c":"\u00e9\u2603"}]}}' 'true'; do
        put "{\"namespace\":\"p\",\"key\":\"k\",\"payload\":$p}"
        expect 201 || return 1
        got=$(jq -c .payload <<<"$BODY")
        want=$(jq -c . <<<"$p")
        [ "$got" = "$want" ] || { echo "payload $p came back as $got"; return 1; }
    done
    # jq would round a long number: compare the raw text.
    put '{"namespace":"p","key":"big","payload":12345678901234567890123456789}'
    [[ "$BODY" == *'"payload" : 12345678901234567890123456789'* || "$BODY" == *'"payload":12345678901234567890123456789'* ]]
    http GET /document/p/big
    [[ "$BODY" == *'12345678901234567890123456789'* ]]
}

@test "missing key: 404; unknown namespace list: empty" {
    http GET /document/nothing-here/nokey
    expect_error 404 not_found key
    http GET /document/nothing-here
    expect 200 '.items == []' '.next == null'
}

@test "DELETE appends a tombstone; GET 404; history kept; POST revives with the next version" {
    put '{"namespace":"t","key":"k","payload":1}'
    put '{"namespace":"t","key":"k","payload":2}'
    http DELETE /document/t/k
    expect 200 '.namespace == "t"' '.key == "k"' '.version == 3' '.deleted == true'
    http GET /document/t/k
    expect_error 404 not_found key
    http DELETE /document/t/k
    expect_error 404 not_found key
    http GET /document/t
    expect 200 '.items == []'
    http GET /document/t/k/versions
    expect 200 '[.items[].version] == [1,2,3]' '[.items[].deleted] == [false,false,true]' \
        '.items[2].payload == null' '.items[0].payload == 1' '.next == null'
    http GET "/document/t/k?version=3"
    expect_error 404 not_found version
    put '{"namespace":"t","key":"k","payload":"back"}'
    expect 201 '.version == 4' '.payload == "back"'
    http GET /document/t/k
    expect 200 '.version == 4'
}

@test "DELETE of a key never written: 404" {
    http DELETE /document/t/never
    expect_error 404 not_found key
}

@test "versions of an unknown key: 404; pagination of versions" {
    http GET /document/t/unknown/versions
    expect_error 404 not_found key
    for i in 1 2 3 4 5; do put "{\"namespace\":\"vp\",\"key\":\"k\",\"payload\":$i}"; done
    http GET "/document/vp/k/versions?limit=2"
    expect 200 '[.items[].version] == [1,2]' '.next == "2"'
    http GET "/document/vp/k/versions?limit=2&after=2"
    expect 200 '[.items[].version] == [3,4]' '.next == "4"'
    http GET "/document/vp/k/versions?limit=2&after=4"
    expect 200 '[.items[].version] == [5]' '.next == null'
}

@test "if_version: 0 creates only when absent, N only at version N, else 409" {
    put '{"namespace":"iv","key":"k","payload":1,"if_version":0}'
    expect 201 '.version == 1'
    put '{"namespace":"iv","key":"k","payload":2,"if_version":0}'
    expect_error 409 conflict if_version
    put '{"namespace":"iv","key":"k","payload":2,"if_version":2}'
    expect_error 409 conflict if_version
    put '{"namespace":"iv","key":"k","payload":2,"if_version":1}'
    expect 201 '.version == 2'
    put '{"namespace":"iv","key":"new","payload":1,"if_version":5}'
    expect_error 409 conflict if_version
    http GET /document/iv/new
    expect_error 404 not_found
    # After a delete the key has no live version: if_version 0 revives it.
    http DELETE /document/iv/k
    put '{"namespace":"iv","key":"k","payload":3,"if_version":0}'
    expect 201 '.version == 4'
    for bad in '-1' '1.5' '"1"' 'true'; do
        put "{\"namespace\":\"iv\",\"key\":\"k\",\"payload\":1,\"if_version\":$bad}"
        expect_error 422 validation_failed if_version || return 1
    done
}

@test "list: latest of each live key, ordered by key, ?prefix= filters" {
    for k in b a c ab; do put "{\"namespace\":\"l\",\"key\":\"$k\",\"payload\":\"$k\"}"; done
    put '{"namespace":"l","key":"a","payload":"a2"}'
    http GET /document/l
    expect 200 '[.items[].key] == ["a","ab","b","c"]' '.items[0].version == 2' '.items[0].payload == "a2"' \
        '.items | all(has("created_at"))' '.next == null'
    http GET "/document/l?prefix=a"
    expect 200 '[.items[].key] == ["a","ab"]'
    http GET "/document/l?prefix=ab"
    expect 200 '[.items[].key] == ["ab"]'
    http GET "/document/l?prefix=z"
    expect 200 '.items == []'
    http GET "/document/l?prefix=%2e"
    expect_error 422 validation_failed prefix
}

@test "pagination across 250 keys with limit=100 visits each key once" {
    for i in $(seq -w 0 249); do
        echo "{\"namespace\":\"page\",\"key\":\"k$i\",\"payload\":$((10#$i))}"
    done >"$BATS_TEST_TMPDIR/bodies"
    while read -r b; do
        curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $TOKEN" -d "$b" "$URL/document"
    done <"$BATS_TEST_TMPDIR/bodies" | sort | uniq -c | grep -q "250 201"
    seen=""
    after=""
    pages=0
    while :; do
        http GET "/document/page?limit=100${after:+&after=$after}"
        expect 200 || return 1
        seen="$seen $(jq -r '.items[].key' <<<"$BODY" | tr '\n' ' ')"
        pages=$((pages + 1))
        after=$(jq -r '.next // empty' <<<"$BODY")
        [ -n "$after" ] || break
    done
    [ "$pages" -eq 3 ]
    [ "$(wc -w <<<"$seen")" -eq 250 ]
    [ "$(tr ' ' '\n' <<<"$seen" | sed '/^$/d' | sort -u | wc -l)" -eq 250 ]
    [ "$(tr ' ' '\n' <<<"$seen" | sed '/^$/d' | head -n 1)" = k000 ]
}

@test "limit: 1 and 1000 accepted; 0, 1001, x, repeated: 422" {
    http GET "/document/page?limit=1"
    expect 200 '.items | length == 1' '.next == "k000"'
    http GET "/document/page?limit=1000"
    expect 200 '.items | length == 250'
    for q in limit=0 limit=1001 limit=x limit= "limit=1&limit=2" limit=-1; do
        http GET "/document/page?$q"
        expect_error 422 validation_failed limit || { echo "query $q"; return 1; }
    done
    http GET "/document/page?bogus=1"
    expect_error 422 validation_failed bogus
}

@test "body limit: exactly BODY_MAX_BYTES accepted, one byte more is 413" {
    # BODY_MAX_BYTES=4096 for this file's service.
    prefix='{"namespace":"lim","key":"k","payload":"'
    suffix='"}'
    fill=$((4096 - ${#prefix} - ${#suffix}))
    printf '%s%s%s' "$prefix" "$(head -c "$fill" /dev/zero | tr '\0' x)" "$suffix" >"$BATS_TEST_TMPDIR/at"
    [ "$(stat -c %s "$BATS_TEST_TMPDIR/at")" -eq 4096 ]
    http POST /document --data-binary @"$BATS_TEST_TMPDIR/at"
    expect 201 '.version == 1'
    printf '%s%s%s' "$prefix" "$(head -c "$((fill + 1))" /dev/zero | tr '\0' x)" "$suffix" >"$BATS_TEST_TMPDIR/over"
    http POST /document --data-binary @"$BATS_TEST_TMPDIR/over"
    expect_error 413 payload_too_large
    http GET /document/lim/k
    expect 200 '.version == 1'
}

@test "key: 256 characters accepted, 257 is 422; namespace: 128 accepted, 129 is 422" {
    k256=$(printf 'k%.0s' $(seq 1 256))
    put "{\"namespace\":\"len\",\"key\":\"$k256\",\"payload\":1}"
    expect 201
    http GET "/document/len/$k256"
    expect 200 ".key == \"$k256\""
    put "{\"namespace\":\"len\",\"key\":\"${k256}x\",\"payload\":1}"
    expect_error 422 validation_failed key
    http GET "/document/len/${k256}x"
    expect_error 422 validation_failed key
    n128=$(printf 'n%.0s' $(seq 1 128))
    put "{\"namespace\":\"$n128\",\"key\":\"k\",\"payload\":1}"
    expect 201
    put "{\"namespace\":\"${n128}x\",\"key\":\"k\",\"payload\":1}"
    expect_error 422 validation_failed namespace
}

@test "keys with every allowed character round-trip, escaped or not" {
    put '{"namespace":"A-z_0.9","key":"Az09._:@~-x","payload":1}'
    expect 201
    http GET "/document/A-z_0.9/Az09._:@~-x"
    expect 200 '.key == "Az09._:@~-x"'
    http GET "/document/A-z_0.9/Az09._%3A%40~-x"
    expect 200 '.key == "Az09._:@~-x"'
}

@test "bad JSON: 400 invalid_json" {
    for b in '{' '{"namespace":' 'nope' '{"a":1}x' '' $'\xff\xfe' '{"namespace":"a","key":"b","payload":"\u0000"}' \
        '{"namespace":"a","namespace":"b","key":"c","payload":1}' '{"namespace":"a","key":"b","payload":"\ud800"}'; do
        http POST /document --data-binary "$b"
        expect_error 400 invalid_json || { echo "body: $b"; return 1; }
    done
    printf '{"namespace":"a","key":"b","payload":"\xc3\x28"}' >"$BATS_TEST_TMPDIR/badutf8"
    http POST /document --data-binary @"$BATS_TEST_TMPDIR/badutf8"
    expect_error 400 invalid_json
}

@test "nesting: 64 levels accepted, 65 is 400" {
    # The body object is level 1, so a payload of 63 arrays makes 64.
    open=$(printf '[%.0s' $(seq 1 63)); close=$(printf ']%.0s' $(seq 1 63))
    put "{\"namespace\":\"deep\",\"key\":\"k\",\"payload\":$open$close}"
    expect 201
    put "{\"namespace\":\"deep\",\"key\":\"k\",\"payload\":[$open$close]}"
    expect_error 400 invalid_json
}

@test "non-object body, missing or unknown fields, wrong types: 422 with field" {
    for b in '[]' '1' '"s"' 'null'; do
        put "$b"
        expect_error 422 validation_failed body || { echo "body $b"; return 1; }
    done
    put '{"key":"k","payload":1}'
    expect_error 422 validation_failed namespace
    put '{"namespace":"n","payload":1}'
    expect_error 422 validation_failed key
    put '{"namespace":"n","key":"k"}'
    expect_error 422 validation_failed payload
    put '{"namespace":"n","key":"k","payload":1,"extra":2}'
    expect_error 422 validation_failed extra
    put '{"namespace":1,"key":"k","payload":1}'
    expect_error 422 validation_failed namespace
    put '{"namespace":"n","key":["k"],"payload":1}'
    expect_error 422 validation_failed key
}

@test "hostile namespaces and keys: 422 or 404, never a 500, nothing stored" {
    for k in '..' '.hidden' '-x' 'a b' 'a/b' 'a%00b' "a'b" 'a"b' 'é' '' 'a;drop'; do
        put "$(jq -nc --arg k "$k" '{namespace:"h",key:$k,payload:1}')"
        expect_error 422 validation_failed key || { echo "key [$k]"; return 1; }
        put "$(jq -nc --arg k "$k" '{namespace:$k,key:"k",payload:1}')"
        expect_error 422 validation_failed namespace || { echo "namespace [$k]"; return 1; }
    done
    for p in '/document/..' '/document/%2e%2e' '/document/%2e%2e/x' '/document/a%00b' '/document/h/a%00b' \
        '/document/h/%2e%2e' '/document/h/a%2fb' '/document/h/%zz' '/document/%C3%A9/k' '/document/h/..%2f..%2fetc'; do
        http GET "$p"
        case "$CODE" in 404 | 422) ;; *) echo "GET $p: $CODE $BODY"; return 1 ;; esac
        jq -e '.error | type == "string"' <<<"$BODY" >/dev/null
    done
    [ "$(psql_q "select count(*) from documents where namespace = 'h'")" -eq 0 ]
}

@test "wrong methods: 405 with Allow" {
    http PUT /document/ns/_changes -d "{}"
    expect_error 405 method_not_allowed
    header_has Allow "GET, HEAD"
    http PUT /document -d '{}'
    expect_error 405 method_not_allowed
    header_has Allow "GET, HEAD, POST"
    http POST /document/ns/k -d '{}'
    expect_error 405 method_not_allowed
    header_has Allow "DELETE, GET, HEAD, PATCH, PUT"
    http DELETE /document/ns
    expect_error 405 method_not_allowed
    header_has Allow "GET, HEAD"
}

@test "HEAD on a document route answers like GET without a body" {
    put '{"namespace":"hd","key":"k","payload":1}'
    http HEAD /document/hd/k
    [ "$CODE" = 200 ]
    http HEAD /document/hd/missing
    [ "$CODE" = 404 ]
}

@test "20 concurrent writers to one key: versions 1..N without gaps, no failures" {
    for w in $(seq 1 20); do
        (
            for i in 1 2 3 4 5; do
                curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $TOKEN" \
                    -d "{\"namespace\":\"race\",\"key\":\"k\",\"payload\":{\"w\":$w,\"i\":$i}}" "$URL/document"
            done >"$BATS_TEST_TMPDIR/writer.$w"
        ) &
    done
    wait
    [ "$(cat "$BATS_TEST_TMPDIR"/writer.* | sort | uniq -c | tr -s ' ')" = " 100 201" ]
    [ "$(psql_q "select count(*), min(version), max(version), count(distinct version) from documents where namespace='race' and key='k'")" = "100|1|100|100" ]
    http GET /document/race/k
    expect 200 '.version == 100'
}

@test "a chunked request body is read like any other; over the limit it is 413" {
    http POST /document -H "Transfer-Encoding: chunked" -d '{"namespace":"chunk","key":"k","payload":[1,2]}'
    expect 201 '.payload == [1,2]'
    head -c 5000 /dev/zero | tr '\0' x >"$BATS_TEST_TMPDIR/big"
    http POST /document -H "Transfer-Encoding: chunked" --data-binary @"$BATS_TEST_TMPDIR/big"
    expect_error 413 payload_too_large
}

@test "a GET with a body is lighttpd's JSON 400; Content-Type is not checked" {
    http GET /document/chunk -d 'not json at all'
    expect 400 '.error == "bad_request"'
    http POST /document -H "Content-Type: text/plain" -d '{"namespace":"ct","key":"k","payload":1}'
    expect 201
}

@test "error bodies are valid UTF-8 JSON whatever bytes the client sent" {
    # lighttpd refuses a query that decodes to invalid UTF-8 itself (JSON 400).
    http GET "/document/ns?%FF%FE=1"
    [ "$CODE" = 400 ] || [ "$CODE" = 422 ]
    jq -e '.error | type == "string"' <<<"$BODY"
    iconv -f UTF-8 -t UTF-8 <<<"$BODY" >/dev/null
    # An unknown field of 60 two-byte characters: the detail cuts it at 64
    # bytes and the field at 79, both in the middle of a character.
    long=$(printf '\xc3\xa9%.0s' $(seq 1 60))
    put "{\"namespace\":\"n\",\"key\":\"k\",\"payload\":1,\"$long\":1}"
    expect_error 422 validation_failed
    iconv -f UTF-8 -t UTF-8 <<<"$BODY" >/dev/null
    [[ "$BODY" == *'\ufffd'* ]]
}
