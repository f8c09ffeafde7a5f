#!/usr/bin/env bats
# file mode (docs/file.md) through lighttpd.

load ../lib/stack

setup_file() {
    export FILE_MAX_BYTES=2097152
    stack_setup
}
teardown_file() {
    mountpoint -q "$STACK_DIR/full" 2>/dev/null && umount "$STACK_DIR/full"
    stack_teardown
}

# upload FILE [curl args]: POST the file's bytes to /files/temp.
upload() {
    local f=$1
    shift
    http POST /files/temp --data-binary @"$f" "$@"
}

# listing [DIR]: the names in DIR (FILE_TEMP_DIR), dot files too, sorted.
# shellcheck disable=SC2120 # callers may name another folder
listing() { ls -A "${1:-$FILE_TEMP_DIR}" | sort; }

@test "uploads of 0 bytes, 1 byte, 1 MiB and exactly FILE_MAX_BYTES: stored bytes and sha256 equal the sent ones" {
    : >"$BATS_TEST_TMPDIR/f0"
    printf 'x' >"$BATS_TEST_TMPDIR/f1"
    head -c 1048576 /dev/urandom >"$BATS_TEST_TMPDIR/f1m"
    head -c 2097152 /dev/urandom >"$BATS_TEST_TMPDIR/fmax"
    for f in f0 f1 f1m fmax; do
        upload "$BATS_TEST_TMPDIR/$f" -H "Content-Type: application/x-test"
        size=$(stat -c %s "$BATS_TEST_TMPDIR/$f")
        sum=$(sha256sum "$BATS_TEST_TMPDIR/$f" | cut -d' ' -f1)
        expect 201 ".size == $size" ".sha256 == \"$sum\"" '.content_type == "application/x-test"' \
            '.id | test("^[0-9a-f]{32}$")' '.created_at | test("Z$")' '.expires_at | test("Z$")' || return 1
        id=$(jq -r .id <<<"$BODY")
        cmp "$BATS_TEST_TMPDIR/$f" "$FILE_TEMP_DIR/$id"
        [ "$(sha256sum "$FILE_TEMP_DIR/$id" | cut -d' ' -f1)" = "$sum" ]
        [ "$(stat -c %a "$FILE_TEMP_DIR/$id")" = 600 ]
    done
    [ "$(stat -c %a "$FILE_TEMP_DIR")" = 700 ]
    [ "$(psql_q "select count(*) from files")" -eq 4 ]
}

@test "expires_at is created_at plus FILE_TTL_SECONDS; no Content-Type means application/octet-stream" {
    printf 'abc' >"$BATS_TEST_TMPDIR/abc"
    http POST /files/temp --data-binary @"$BATS_TEST_TMPDIR/abc" -H "Content-Type:"
    expect 201 '.content_type == "application/octet-stream"' \
        '((.expires_at | sub("\\.[0-9]+Z$"; "Z") | fromdate) - (.created_at | sub("\\.[0-9]+Z$"; "Z") | fromdate)) == 86400'
}

@test "one byte over FILE_MAX_BYTES: 413 and the folder holds exactly what it held" {
    before=$(listing)
    head -c 2097153 /dev/zero >"$BATS_TEST_TMPDIR/over"
    upload "$BATS_TEST_TMPDIR/over"
    expect_error 413 payload_too_large
    [ "$(listing)" = "$before" ]
}

@test "write-only: GET /files/temp is 405 Allow: POST; any method on /files/temp/{id} is 405" {
    http GET /files/temp
    expect_error 405 method_not_allowed
    header_has Allow POST
    printf 'secret' >"$BATS_TEST_TMPDIR/s"
    upload "$BATS_TEST_TMPDIR/s"
    id=$(jq -r .id <<<"$BODY")
    for m in GET HEAD DELETE PUT POST; do
        body=()
        [ "$m" = POST ] && body=(-d x)
        http "$m" "/files/temp/$id" "${body[@]}"
        [ "$CODE" = 405 ] || { echo "$m: $CODE"; return 1; }
    done
    http GET "/files/temp/$id"
    expect_error 405 method_not_allowed
    [[ "$BODY" != *secret* ]]
    http_anon POST /files/temp -d 'x'
    expect_error 401 unauthorized
}

@test "a client that goes away half-way leaves nothing behind (and the body streamed meanwhile)" {
    before=$(listing)
    hostport=${URL#http://}
    exec 5<>"/dev/tcp/${hostport%:*}/${hostport#*:}"
    printf 'POST /files/temp HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 2000000\r\n\r\n' "$TOKEN" >&5
    head -c 1000000 /dev/zero >&5
    sleep 0.7
    # Mid-upload: the bytes are already on disk under a temporary name.
    partial=$(find "$FILE_TEMP_DIR" -maxdepth 1 -name '.tmp-*' -printf '%f\n')
    [ -n "$partial" ]
    exec 5>&-
    for _ in $(seq 1 50); do [ "$(listing)" = "$before" ] && break; sleep 0.1; done
    [ "$(listing)" = "$before" ]
}

@test "database down after the bytes are on disk: 503 and the file is removed; back up: 201" {
    before=$(listing)
    pg_stop "$PG_DIR" fast
    printf 'orphan?' >"$BATS_TEST_TMPDIR/o"
    upload "$BATS_TEST_TMPDIR/o"
    expect_error 503 database_unavailable
    [ "$(listing)" = "$before" ]
    pg_restart "$PG_DIR"
    upload "$BATS_TEST_TMPDIR/o"
    expect 201 '.size == 7'
}

@test "ids are unique over 10,000 uploads and hold no path characters" {
    n=10000
    [ "${SANITIZER:-}" = valgrind ] && n=1000   # valgrind runs ~30x slower
    per=$((n / 8))
    for w in $(seq 1 8); do
        (
            urls=()
            for _ in $(seq 1 "$per"); do urls+=("$URL/files/temp"); done
            curl -s -H "Authorization: Bearer $TOKEN" -d "w$w" "${urls[@]}" >"$BATS_TEST_TMPDIR/ids.$w"
        ) &
    done
    wait
    cat "$BATS_TEST_TMPDIR"/ids.* | jq -r .id >"$BATS_TEST_TMPDIR/ids"
    [ "$(wc -l <"$BATS_TEST_TMPDIR/ids")" -eq "$n" ]
    [ "$(sort -u "$BATS_TEST_TMPDIR/ids" | wc -l)" -eq "$n" ]
    ! grep -qv '^[0-9a-f]\{32\}$' "$BATS_TEST_TMPDIR/ids"
}

@test "disk full: 507 and nothing left behind" {
    mkdir -p "$STACK_DIR/full"
    if ! mount -t tmpfs -o size=1m tmpfs "$STACK_DIR/full" 2>/dev/null; then
        skip "cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN)"
    fi
    FILE_TEMP_DIR=$STACK_DIR/full/files service_up fullsvc
    BASE=$(service_url fullsvc)
    head -c 1572864 /dev/urandom >"$BATS_TEST_TMPDIR/big"
    BASE=$BASE upload "$BATS_TEST_TMPDIR/big"
    expect_error 507 insufficient_storage
    [ -z "$(ls -A "$STACK_DIR/full/files")" ]
    # Space for a small one is still there: the failed upload freed its bytes.
    printf 'small' >"$BATS_TEST_TMPDIR/small"
    BASE=$BASE upload "$BATS_TEST_TMPDIR/small"
    expect 201 '.size == 5'
    service_down fullsvc
    umount "$STACK_DIR/full"
}

@test "64 MiB upload: the file process's peak RSS grows by less than 4 MiB" {
    [ -z "${SANITIZER:-}" ] || skip "RSS under $SANITIZER measures the instrumentation, not the service"
    FILE_MAX_BYTES=67108864 FILE_TEMP_DIR=$STACK_DIR/bigfiles service_up big
    BASE=$(service_url big)
    printf 'warm' >"$BATS_TEST_TMPDIR/warm"
    for _ in $(seq 1 20); do BASE=$BASE upload "$BATS_TEST_TMPDIR/warm"; done
    pids=$(pgrep -P "$(service_pid big)" -f backend-file)
    declare -A before
    for p in $pids; do before[$p]=$(awk '/VmHWM/ {print $2}' "/proc/$p/status"); done
    head -c 67108864 /dev/urandom >"$BATS_TEST_TMPDIR/64m"
    BASE=$BASE upload "$BATS_TEST_TMPDIR/64m"
    expect 201 '.size == 67108864'
    growth=0
    for p in $pids; do
        after=$(awk '/VmHWM/ {print $2}' "/proc/$p/status")
        g=$((after - before[$p]))
        [ "$g" -gt "$growth" ] && growth=$g
    done
    echo "peak RSS growth of the file process for a 64 MiB upload: ${growth} KiB" >&3
    [ "$growth" -lt 4096 ]
    service_down big
}

@test "TTL sweep removes expired files and rows, never a file still being written (an upload slower than DB_TIMEOUT_MS)" {
    # DB_TIMEOUT_MS below the upload's 4 s: the database budget of an upload
    # starts when its body has arrived, not when the request did.
    FILE_TTL_SECONDS=2 DB_TIMEOUT_MS=1500 FILE_TEMP_DIR=$STACK_DIR/ttlfiles service_up ttl
    BASE=$(service_url ttl)
    printf 'old' >"$BATS_TEST_TMPDIR/old"
    BASE=$BASE upload "$BATS_TEST_TMPDIR/old"
    id=$(jq -r .id <<<"$BODY")
    [ -f "$STACK_DIR/ttlfiles/$id" ]
    # A slow upload running longer than the TTL, writing every 0.4 s.
    hostport=${BASE#http://}
    exec 6<>"/dev/tcp/${hostport%:*}/${hostport#*:}"
    printf 'POST /files/temp HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 11\r\nConnection: close\r\n\r\n' "$TOKEN" >&6
    for _ in $(seq 1 10); do printf 'x' >&6; sleep 0.4; done
    [ ! -f "$STACK_DIR/ttlfiles/$id" ]
    [ "$(psql_q "select count(*) from files where id = '$id'")" -eq 0 ]
    printf 'y' >&6
    resp=$(timeout 5 cat <&6)
    exec 6>&-
    [[ "$resp" == "HTTP/1.1 201"* ]]
    newid=$(sed -n 's/.*"id" *: *"\([0-9a-f]*\)".*/\1/p' <<<"$resp")
    [ -f "$STACK_DIR/ttlfiles/$newid" ]
    service_down ttl
}

@test "an unusable FILE_TEMP_DIR: one line at start-up, uploads 507, health lists the problem and stays 200" {
    : >"$STACK_DIR/not-a-folder"
    FILE_TEMP_DIR=$STACK_DIR/not-a-folder/files service_up badfiles
    BASE=$(service_url badfiles)
    grep -q "backend-file: FILE_TEMP_DIR $STACK_DIR/not-a-folder/files cannot be created" "$STACK_DIR/badfiles/lighttpd.log"
    printf 'z' >"$BATS_TEST_TMPDIR/z"
    BASE=$BASE upload "$BATS_TEST_TMPDIR/z"
    expect_error 507 insufficient_storage
    BASE=$BASE http_anon GET /health
    expect 200 '.status == "ok"' '.problems | length == 1' '.problems[0].mode == "file"' \
        '.problems[0].detail | contains("FILE_TEMP_DIR")'
    BASE=$BASE http POST /document -d '{"namespace":"still","key":"works","payload":1}'
    expect 201
    service_down badfiles
}
