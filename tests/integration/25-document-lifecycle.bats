#!/usr/bin/env bats
# document mode (docs/document.md): namespace discovery, retention policies,
# background compaction (what it keeps, what it removes, 410 for what it
# removed), the changes feed's compaction point, one compactor at a time,
# and writers that lose nothing while it runs.

load ../lib/stack
bats_require_minimum_version 1.5.0

setup_file() {
    # Compaction as soon as a policy allows it, a round every second.
    export DOCUMENT_COMPACT_MIN_AGE_SECONDS=0
    export DOCUMENT_COMPACT_INTERVAL_SECONDS=1
    stack_setup
}
teardown_file() { stack_teardown; }

# versions NS KEY: the kept version numbers of a key, as "1 2 3".
versions() {
    http GET "/document/$1/$2/versions?limit=1000"
    jq -r '[.items[].version] | map(tostring) | join(" ")' <<<"$BODY"
}

# settle NS KEY WANT: waits (up to 15 s) until the key's kept versions are
# WANT; fails showing what is kept when they never are.
settle() {
    local got
    for _ in $(seq 1 60); do
        got=$(versions "$1" "$2")
        [ "$got" = "$3" ] && return 0
        sleep 0.25
    done
    echo "$1/$2 keeps versions '$got', expected '$3'" >&2
    return 1
}

# seq_of NS KEY VERSION: the changes feed's seq of one version.
seq_of() {
    http GET "/document/$1/_changes?since=0&limit=1000"
    jq -r --arg k "$2" --argjson v "$3" '.items[] | select(.key == $k and .version == $v) | .seq' <<<"$BODY"
}

# write NS KEY N: N versions of a key, payload {"n": i}.
write() {
    for i in $(seq 1 "$3"); do
        http PUT "/document/$1/$2" -d "{\"n\":$i}"
        [ "$CODE" = 201 ] || return 1
    done
}

@test "GET /document: every namespace that has a version, by name (bytewise), paginated, with last_seq and last_write_at" {
    http GET /document
    expect 200 '.items == []' '.next == null'
    for ns in a.b B a a-b; do
        http POST /document -d "{\"namespace\":\"$ns\",\"key\":\"k\",\"payload\":1}"
        expect 201
    done
    http PUT /document/a/k2 -d '{"x":1}'
    expect 201
    # a namespace whose only key is deleted has versions: it is listed
    http DELETE /document/B/k
    expect 200
    tomb_seq=$(seq_of B k 2)
    a_seq=$(seq_of a k2 1)
    http GET /document
    expect 200 '[.items[].namespace] == ["B","a","a-b","a.b"]' '.next == null' \
        "(.items[1].last_seq) == $a_seq" "(.items[0].last_seq) == $tomb_seq" \
        'all(.items[]; (.last_write_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$")) and (.last_seq | type) == "number")'
    # pages of one: next is the last name shown, the last page's next is null
    http GET '/document?limit=1'
    expect 200 '[.items[].namespace] == ["B"]' '.next == "B"'
    http GET '/document?limit=3&after=B'
    expect 200 '[.items[].namespace] == ["a","a-b","a.b"]' '.next == null'
    http GET '/document?limit=2&after=a'
    expect 200 '[.items[].namespace] == ["a-b","a.b"]' '.next == null'
    http GET '/document?after=a.b'
    expect 200 '.items == []' '.next == null'
    http GET '/document?limit=1000'
    expect 200 '(.items | length) == 4'
    # the limits and a bad cursor: 422 naming the parameter
    http GET '/document?limit=1001'
    expect_error 422 validation_failed limit
    http GET '/document?limit=0'
    expect_error 422 validation_failed limit
    http GET '/document?after=-x'
    expect_error 422 validation_failed after
    http GET "/document?after=$(printf 'n%.0s' $(seq 1 129))"
    expect_error 422 validation_failed after
    http GET "/document?after=$(printf 'n%.0s' $(seq 1 128))"
    expect 200 '.items == []'
    http GET '/document?prefix=a'
    expect_error 422 validation_failed prefix
    # POST /document still writes; another method is 405 with both
    http DELETE /document
    expect_error 405 method_not_allowed
    header_has Allow "GET, HEAD, POST"
    http_anon GET /document
    expect_error 401 unauthorized
}

@test "retention policy: PUT, GET, DELETE; every bound at its edge; the defaults when there is none" {
    http GET /document/pol/_retention
    expect 200 '. == {"namespace":"pol","keep_versions":null,"keep_deleted_seconds":null,"default":true}'
    http PUT /document/pol/_retention -d '{"keep_versions":10,"keep_deleted_seconds":604800}'
    expect 200 '. == {"namespace":"pol","keep_versions":10,"keep_deleted_seconds":604800,"default":false}'
    http GET /document/pol/_retention
    expect 200 '. == {"namespace":"pol","keep_versions":10,"keep_deleted_seconds":604800,"default":false}'
    # a member left out (or null) is null
    http PUT /document/pol/_retention -d '{"keep_versions":3}'
    expect 200 '.keep_versions == 3' '.keep_deleted_seconds == null' '.default == false'
    http PUT /document/pol/_retention -d '{"keep_versions":null,"keep_deleted_seconds":0}'
    expect 200 '.keep_versions == null' '.keep_deleted_seconds == 0'
    http PUT /document/pol/_retention -d '{}'
    expect 200 '.keep_versions == null' '.keep_deleted_seconds == null' '.default == false'
    # edges: keep_versions 1..1000000, keep_deleted_seconds 0..315360000
    http PUT /document/pol/_retention -d '{"keep_versions":1,"keep_deleted_seconds":315360000}'
    expect 200 '.keep_versions == 1' '.keep_deleted_seconds == 315360000'
    http PUT /document/pol/_retention -d '{"keep_versions":1000000}'
    expect 200 '.keep_versions == 1000000'
    http PUT /document/pol/_retention -d '{"keep_versions":0}'
    expect_error 422 validation_failed keep_versions
    http PUT /document/pol/_retention -d '{"keep_versions":1000001}'
    expect_error 422 validation_failed keep_versions
    http PUT /document/pol/_retention -d '{"keep_deleted_seconds":-1}'
    expect_error 422 validation_failed keep_deleted_seconds
    http PUT /document/pol/_retention -d '{"keep_deleted_seconds":315360001}'
    expect_error 422 validation_failed keep_deleted_seconds
    http PUT /document/pol/_retention -d '{"keep_versions":"3"}'
    expect_error 422 validation_failed keep_versions
    http PUT /document/pol/_retention -d '{"keep_versions":2.5}'
    expect_error 422 validation_failed keep_versions
    http PUT /document/pol/_retention -d '{"keep":3}'
    expect_error 422 validation_failed keep
    http PUT /document/pol/_retention -d '[1]'
    expect_error 422 validation_failed
    http PUT /document/pol/_retention -d '{"keep_versions":'
    expect_error 400 invalid_json
    http PUT /document/-bad/_retention -d '{}'
    expect_error 422 validation_failed namespace
    # the failed PUTs changed nothing
    http GET /document/pol/_retention
    expect 200 '.keep_versions == 1000000' '.keep_deleted_seconds == null'
    # DELETE: back to the defaults (twice: the same answer)
    http DELETE /document/pol/_retention
    expect 200 '. == {"namespace":"pol","keep_versions":null,"keep_deleted_seconds":null,"default":true}'
    http DELETE /document/pol/_retention
    expect 200 '.default == true'
    http GET /document/pol/_retention
    expect 200 '.default == true' '.keep_versions == null'
    # _retention is a route of its own, never a key: no document was written
    http GET /document/pol
    expect 200 '.items == []'
    http GET /document/pol/_retention/versions
    expect_error 422 validation_failed key
    http PATCH /document/pol/_retention -H 'Content-Type: application/merge-patch+json' -d '{}'
    expect_error 405 method_not_allowed
    header_has Allow "DELETE, GET, HEAD, PUT"
    http POST /document -d '{"namespace":"pol","key":"_retention","payload":1}'
    expect_error 422 validation_failed key
    # a key named retention is an ordinary document
    http PUT /document/pol/retention -d '{"doc":true}'
    expect 201 '.key == "retention"'
    http GET /document/pol/retention
    expect 200 '.payload.doc == true'
}

@test "compaction keeps each key's newest keep_versions, the latest of a live key and every tombstone; a removed version is 410; numbers never restart" {
    write cv a 5
    write cv b 2
    http DELETE /document/cv/b
    expect 200 '.version == 3'
    write cv b 2
    write cv c 1
    [ "$(versions cv a)" = "1 2 3 4 5" ]
    http PUT /document/cv/_retention -d '{"keep_versions":2}'
    expect 200
    settle cv a "4 5"
    # b: 3 is its tombstone, kept; 1 and 2 removed
    settle cv b "3 4 5"
    settle cv c "1"
    http GET '/document/cv/a?version=3'
    expect_error 410 gone version
    http GET '/document/cv/a?version=1'
    expect_error 410 gone version
    http GET '/document/cv/a?version=4'
    expect 200 '.version == 4' '.payload.n == 4'
    header_has ETag '"4"'
    http GET '/document/cv/a?version=6'
    expect_error 404 not_found version
    http GET '/document/cv/b?version=3'
    expect_error 404 not_found version
    http GET '/document/cv/b?version=2'
    expect_error 410 gone version
    http GET '/document/cv/nokey?version=1'
    expect_error 404 not_found version
    http GET /document/cv/a
    expect 200 '.version == 5' '.payload.n == 5'
    # the next write is 6, and then 4 goes
    http PUT /document/cv/a -d '{"n":6}'
    expect 201 '.version == 6'
    settle cv a "5 6"
    http GET '/document/cv/a/versions?limit=1'
    expect 200 '[.items[].version] == [5]' '.next == "5"'
    # keep_versions 1: only the latest stays, of every key
    http PUT /document/cv/_retention -d '{"keep_versions":1}'
    expect 200
    settle cv a "6"
    settle cv b "3 5"
    settle cv c "1"
    # the list of the namespace is untouched
    http GET /document/cv
    expect 200 '[.items[] | [.key, .version]] == [["a",6],["b",5],["c",1]]'
}

@test "keep_deleted_seconds: a deleted key keeps only its tombstone once it is that old; a live key is not touched; a revived key goes on counting" {
    write cd x 2
    http DELETE /document/cd/x
    expect 200 '.version == 3'
    write cd y 2
    http PUT /document/cd/_retention -d '{"keep_deleted_seconds":0}'
    expect 200
    settle cd x "3"
    settle cd y "1 2"
    http PUT /document/cd/x -H 'If-None-Match: *' -d '{"back":true}'
    expect 201 '.version == 4'
    header_has ETag '"4"'
    # an old ETag never matches the new version
    http PUT /document/cd/x -H 'If-Match: "1"' -d '{"n":5}'
    expect_error 412 precondition_failed If-Match
    settle cd x "3 4"
    # keep_deleted_seconds 3: kept while the tombstone is younger
    write cd z 2
    http PUT /document/cd/_retention -d '{"keep_deleted_seconds":3}'
    expect 200
    http DELETE /document/cd/z
    expect 200 '.version == 3'
    sleep 1.5
    [ "$(versions cd z)" = "1 2 3" ]
    settle cd z "3"
}

@test "changes feed: since below the compaction point is 410 with resume; no since starts there; at or past it nothing is noticed; an event stream ends with event: gone" {
    write cf a 3
    write cf b 1
    s1=$(seq_of cf a 1) s2=$(seq_of cf a 2) s3=$(seq_of cf a 3) s4=$(seq_of cf b 1)
    http GET /document/cf/_changes
    expect 200 '(.items | length) == 4' "(.next == \"$s4\")"
    http PUT /document/cf/_retention -d '{"keep_versions":1}'
    expect 200
    settle cf a "3"
    # the compaction point is the highest seq removed: a's version 2
    http GET '/document/cf/_changes?since=0'
    expect_error 410 gone since
    expect 410 ".resume == \"$s2\""
    http GET "/document/cf/_changes?since=$s1"
    expect_error 410 gone since
    expect 410 ".resume == \"$s2\""
    http GET "/document/cf/_changes?since=0&wait_seconds=5"
    expect 410 ".resume == \"$s2\""
    # no since: from the compaction point
    http GET /document/cf/_changes
    expect 200 '[.items[] | [.key, .version]] == [["a",3],["b",1]]' "(.next == \"$s4\")"
    http GET "/document/cf/_changes?since=$s2&include_payload=true"
    expect 200 '[.items[] | [.key, .version, .payload.n]] == [["a",3,3],["b",1,1]]'
    http GET "/document/cf/_changes?since=$s3"
    expect 200 '[.items[] | [.key, .version]] == [["b",1]]'
    http GET '/document/cf/_changes?since=now'
    expect 200 '.items == []' "(.next == \"$s4\")"
    # an event stream whose cursor is below: one event gone, and it ends
    out=$BATS_TEST_TMPDIR/gone
    curl -sN --max-time 10 -H "Authorization: Bearer $TOKEN" -H 'Accept: text/event-stream' \
        -H "Last-Event-ID: $s1" "$URL/document/cf/_changes" >"$out"
    [ "$(grep -c '^event: gone$' "$out")" -eq 1 ] || { cat "$out"; return 1; }
    run ! grep -q '^event: change$' "$out"
    [ "$(sed -n 's/^data: //p' "$out" | jq -r .resume)" = "$s2" ]
    # a stream at the compaction point sees the rest
    curl -sN --max-time 1 -H "Authorization: Bearer $TOKEN" -H 'Accept: text/event-stream' \
        "$URL/document/cf/_changes?since=$s2" >"$out.2" || true
    [ "$(sed -n 's/^id: //p' "$out.2" | tr '\n' ' ')" = "$s3 $s4 " ]
    run ! grep -q '^event: gone$' "$out.2"
    # another namespace's point is its own
    write cf2 a 2
    http GET '/document/cf2/_changes?since=0'
    expect 200 '(.items | length) == 2'
}

@test "an event stream that compaction overtakes while it waits gets one event: gone with resume, and ends" {
    http PUT /document/ov/k -d '{"n":1}'
    expect 201
    s1=$(seq_of ov k 1)
    http PUT /document/ov/_retention -d '{"keep_versions":1}'
    expect 200
    out=$BATS_TEST_TMPDIR/overtaken
    curl -sN --max-time 20 -H "Authorization: Bearer $TOKEN" -H 'Accept: text/event-stream' \
        "$URL/document/ov/_changes?since=now" >"$out" 3>&- &
    reader=$!
    sleep 1
    # three versions written behind the reader's back (no notification, so
    # it sleeps on), then compacted while it waits
    for _ in 1 2 3; do
        psql_q "WITH h AS (UPDATE document_heads SET version = version + 1 WHERE namespace = 'ov' AND key = 'k'
                RETURNING version) INSERT INTO documents (namespace, key, version, payload)
                SELECT 'ov', 'k', version, '{}' FROM h"
    done
    settle ov k "4"
    # the point: version 3's seq, between the reader's cursor and version 4's
    point=$(psql_q "SELECT compacted_seq FROM document_compaction WHERE namespace = 'ov'")
    s4=$(psql_q "SELECT seq FROM documents WHERE namespace = 'ov' AND key = 'k' AND version = 4")
    [ "$point" -gt "$s1" ] && [ "$point" -lt "$s4" ]
    # now wake it: it reads, finds itself below the point, says so and ends
    psql_q "NOTIFY backend_document, 'ov'"
    wait "$reader"
    [ "$(grep -c '^event: gone$' "$out")" -eq 1 ] || { cat "$out"; return 1; }
    run ! grep -q '^event: change$' "$out"
    [ "$(sed -n 's/^data: //p' "$out" | jq -r .resume)" = "$point" ]
    # following from resume: the kept version
    http GET "/document/ov/_changes?since=$point"
    expect 200 '[.items[] | [.key, .version]] == [["k",4]]'
}

@test "one compactor at a time: while another holds the compactor's lock nothing is removed, then the round runs" {
    write one k 4
    ( psql "$PG_URL" -XAtq -c "SELECT pg_advisory_lock(6582116, 1)" -c "SELECT pg_sleep(6)" >/dev/null 3>&- ) &
    holder=$!
    # the lock is held before the policy is set
    held=false
    for _ in $(seq 1 50); do
        [ "$(psql_q "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory'
            AND l.classid = 6582116 AND l.objid = 1 AND l.granted AND a.application_name = 'psql'")" = 1 ] &&
            held=true && break
        sleep 0.1
    done
    [ "$held" = true ]
    http PUT /document/one/_retention -d '{"keep_versions":1}'
    expect 200
    sleep 2.5
    [ "$(versions one k)" = "1 2 3 4" ]
    wait "$holder"
    settle one k "4"
}

@test "batches of at most 1000 versions; a writer during compaction loses nothing; the numbers go on" {
    # 2500 versions of one key, written by the mode's own write function
    psql_q "SELECT count(*) FROM generate_series(1, 2500) g, LATERAL document_write_put('big', 'k', jsonb_build_object('n', g), true)" >/dev/null
    [ "$(psql_q "SELECT count(*) FROM documents WHERE namespace = 'big'")" = 2500 ]
    # one batch, run by hand while holding the compactor's lock (so the
    # service's rounds wait): at most 1000 removed
    removed=$(psql "$PG_URL" -XAtq -c "SELECT pg_advisory_lock(6582116, 1)" \
        -c "PREPARE b AS SELECT document_compact(NULL, NULL, 0, 1000)" \
        -c "INSERT INTO document_retention (namespace, keep_versions) VALUES ('big', 1)" \
        -c "EXECUTE b" -c "EXECUTE b" -c "DELETE FROM document_retention WHERE namespace = 'big'" |
        grep -v '^$' | tr '\n' ' ')
    [ "$removed" = "1000 1000 " ] || { echo "batches removed: $removed"; return 1; }
    [ "$(psql_q "SELECT count(*) FROM documents WHERE namespace = 'big'")" = 500 ]
    # now the service compacts while a writer writes to the same key
    http PUT /document/big/_retention -d '{"keep_versions":2}'
    expect 200
    ( for i in $(seq 1 300); do
        curl -s -o /dev/null -w '%{http_code} ' -H "Authorization: Bearer $TOKEN" -X PUT \
            -d "{\"w\":$i}" "$URL/document/big/k"
    done >"$BATS_TEST_TMPDIR/codes" 3>&- ) &
    writer=$!
    # the backlog goes while the writer is still at it
    overlapped=false
    for _ in $(seq 1 100); do
        if [ "$(psql_q "SELECT count(*) FROM documents WHERE namespace = 'big'")" -lt 100 ]; then
            kill -0 "$writer" 2>/dev/null && overlapped=true
            break
        fi
        sleep 0.1
    done
    wait "$writer"
    [ "$overlapped" = true ]
    [ "$(tr ' ' '\n' <"$BATS_TEST_TMPDIR/codes" | grep -c '^201$')" = 300 ] || { cat "$BATS_TEST_TMPDIR/codes"; return 1; }
    settle big k "2799 2800"
    http GET /document/big/k
    expect 200 '.version == 2800' '.payload.w == 300'
    http GET '/document/big/k?version=2799'
    expect 200 '.payload.w == 299'
    http GET '/document/big/k?version=2798'
    expect_error 410 gone version
    # the feed from the compaction point holds the two kept
    http GET /document/big/_changes
    expect 200 '[.items[].version] == [2799, 2800]'
    http PUT /document/big/k -d '{"w":301}'
    expect 201 '.version == 2801'
}

@test "settings: the bounds of the retention variables are checked at start-up" {
    check() { env "$1=$2" "$BACKEND_BIN/backend-registry" --check-config >/dev/null 2>&1; }
    check DOCUMENT_KEEP_VERSIONS 1
    check DOCUMENT_KEEP_VERSIONS 1000000
    run ! check DOCUMENT_KEEP_VERSIONS 0
    run ! check DOCUMENT_KEEP_VERSIONS 1000001
    run ! check DOCUMENT_KEEP_VERSIONS x
    check DOCUMENT_KEEP_VERSIONS ''
    check DOCUMENT_KEEP_DELETED_SECONDS 0
    check DOCUMENT_KEEP_DELETED_SECONDS 315360000
    run ! check DOCUMENT_KEEP_DELETED_SECONDS 315360001
    run ! check DOCUMENT_KEEP_DELETED_SECONDS -1
    check DOCUMENT_COMPACT_MIN_AGE_SECONDS 0
    run ! check DOCUMENT_COMPACT_MIN_AGE_SECONDS -1
    check DOCUMENT_COMPACT_INTERVAL_SECONDS 1
    check DOCUMENT_COMPACT_INTERVAL_SECONDS 10
    run ! check DOCUMENT_COMPACT_INTERVAL_SECONDS 0
    run ! check DOCUMENT_COMPACT_INTERVAL_SECONDS 11
}

# Last: a second service on the same database whose defaults apply to
# every namespace with no policy of its own.
@test "defaults from DOCUMENT_KEEP_VERSIONS for a namespace with no policy; nothing younger than DOCUMENT_COMPACT_MIN_AGE_SECONDS is removed" {
    (
        export DOCUMENT_KEEP_VERSIONS=1 DOCUMENT_KEEP_DELETED_SECONDS=86400 DOCUMENT_COMPACT_MIN_AGE_SECONDS=4
        service_up aged
    )
    # shellcheck disable=SC2034 # BASE is where _request sends (stack.bash)
    BASE=$(service_url aged)
    http GET /document/dflt/_retention
    expect 200 '. == {"namespace":"dflt","keep_versions":1,"keep_deleted_seconds":86400,"default":true}'
    # a namespace's own policy wins over the defaults
    http PUT /document/own/_retention -d '{}'
    expect 200
    write own k 3
    write dflt k 3
    sleep 2
    [ "$(versions dflt k)" = "1 2 3" ]
    settle dflt k "3"
    [ "$(versions own k)" = "1 2 3" ]
    service_down aged
}
