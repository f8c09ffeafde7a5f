#!/usr/bin/env bats
# Hostile input, as a matrix generated from the route list the executables
# print (`backend-registry --routes`: every route of every registered mode),
# so a new route is covered the day it is added. Each case must be answered
# with the one error shape (docs/api.md): a status from the expected
# set, never 5xx, a JSON body with string .error and .detail, and
# X-Request-Id (lighttpd's own error pages, deploy/errors/, carry no
# X-Request-Id: docs/errors.md). A test collects every failing case, then
# fails with the list; the case counts are printed and summed at the end.

load ../lib/stack

setup_file() {
    # Small limits keep the over-limit bodies small; the matrix is the same.
    export BODY_MAX_BYTES=8192 FILE_MAX_BYTES=16384
    # The matrix presents hundreds of wrong tokens from one address in a
    # minute: far over AUTH_FAILURES_MAX's default, which would answer 429
    # for the rest of the file (the limit has its own tests, 17-metrics).
    export AUTH_FAILURES_MAX=1000000
    stack_setup
    "$BACKEND_BIN/backend-registry" --routes >"$STACK_DIR/routes"
    # Fixtures, so that a route's captures name things that exist and a case
    # is refused for its hostile part, not for a missing document or table.
    auth=(-H "Authorization: Bearer $TOKEN")
    curl -sf "${auth[@]}" -d '{"namespace":"hns","key":"hk","payload":1}' "$URL/document" >/dev/null
    QID=$(curl -sf "${auth[@]}" -d '{"payload":1}' "$URL/queue/hns" | jq -r .id)
    curl -sf "${auth[@]}" -d '{"name":"htable","columns":[{"name":"v","type":"text"}]}' "$URL/sql/tables" >/dev/null
    ROWID=$(curl -sf "${auth[@]}" -d '{"v":"x"}' "$URL/sql/tables/htable/rows" | jq -r '.items[0].id')
    export QID ROWID
    [ -n "$QID" ] && [ "$QID" != null ] && [ -n "$ROWID" ] && [ "$ROWID" != null ]
}
teardown_file() { stack_teardown; }

AUTH() { printf '%s' "Authorization: Bearer $TOKEN"; }

# The routes: "METHOD PATTERN public|auth" lines ("-": no method).
routes() { cat "$STACK_DIR/routes"; }

# body METHOD: curl arguments for a small JSON body, none for GET (lighttpd
# itself refuses a GET with a body: its JSON 400).
# body METHOD PATTERN: curl arguments for a harmless body (none for GET),
# with the one Content-Type a route declares for its body (the merge patch)
# so that the check under test is reached before the 415 (docs/api.md,
# order of checks).
body() {
    [ "$1" = GET ] && return
    printf '%s\n' -d '{}'
    [ "$1 $2" = "PATCH /document/{namespace}/{key}" ] && printf '%s\n' -HContent-Type:application/merge-patch+json
    return 0
}

# fill PATTERN: the pattern with every {capture} naming a fixture that exists.
fill() {
    local p=$1 id=1
    case $p in
    /queue/*) id=$QID ;;
    /sql/*) id=$ROWID ;;
    /files/*) id=0123456789abcdef0123456789abcdef ;;
    esac
    p=${p//\{namespace\}/hns}
    p=${p//\{key\}/hk}
    p=${p//\{name\}/htable}
    printf '%s' "${p//\{id\}/$id}"
}

# Routes that take a JSON body: POST and PATCH, but the file upload (raw
# bytes) and the dead-letter retry (takes no body; it ignores one).
json_body_route() {
    case "$1 $2" in
    "POST /files/"* | "POST /queue/{namespace}/dead/{id}/retry") return 1 ;;
    "POST "* | "PATCH "*) return 0 ;;
    esac
    return 1
}

# hcase CATEGORY "CODES" METHOD PATH [curl args...]: one hostile case. Any
# failure is appended to the file's failure list (the test fails at its
# end, listing all of them).
hcase() {
    local cat=$1 want=$2 method=$3 path=$4 why=""
    shift 4
    _request "$method" "$path" --path-as-is "$@"
    echo . >>"$BATS_FILE_TMPDIR/count.$cat"
    [[ " $want " == *" $CODE "* ]] || why="status $CODE, expected one of [$want]"
    [ "${CODE:-0}" -ge 500 ] && why="$why; a 5xx"
    jq -e '(.error | type == "string") and (.detail | type == "string")' >/dev/null 2>&1 <<<"$BODY" ||
        why="$why; not the error shape: ${BODY:0:160}"
    # lighttpd's own answers are its error files, verbatim, without an id.
    local own=$ROOT/deploy/errors/status-$CODE.html
    if ! { [ -f "$own" ] && [ "$BODY" = "$(cat "$own")" ]; }; then
        grep -qi '^X-Request-Id: ' <<<"$HEADERS" || why="$why; no X-Request-Id"
    fi
    if [ -n "${HCASE_HEADER:-}" ]; then
        grep -qi "^$HCASE_HEADER" <<<"$HEADERS" || why="$why; no header $HCASE_HEADER"
    fi
    [ -z "$why" ] || echo "$cat: $method ${path:0:100} -> $why" >>"$BATS_FILE_TMPDIR/failures.$cat"
}

# done_category CATEGORY: prints the count; fails listing the failed cases.
done_category() {
    local n
    n=$(wc -l <"$BATS_FILE_TMPDIR/count.$1")
    echo "# $1: $n cases" >&3
    if [ -s "$BATS_FILE_TMPDIR/failures.$1" ]; then
        echo "$(wc -l <"$BATS_FILE_TMPDIR/failures.$1") of $n cases failed:"
        head -n 40 "$BATS_FILE_TMPDIR/failures.$1"
        return 1
    fi
    [ "$n" -gt 0 ]
}

@test "the route list covers every mode and matches the health report" {
    for m in document file health queue sql; do
        grep -q " /${m/file/files}" "$STACK_DIR/routes" || { echo "no route of $m"; return 1; }
    done
    [ "$(wc -l <"$STACK_DIR/routes")" -ge 20 ]
    http_anon GET /health
    expect 200
    [ "$(jq -r '.modes | map(select(. != "mcp")) | join(" ")' <<<"$BODY")" = "$("$BACKEND_BIN/backend-registry" --modes | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')" ]
    for m in document file health queue sql; do jq -e --arg m "$m" '.modes | index($m) != null' <<<"$BODY" >/dev/null; done
}

@test "bodies one byte over the limit on every route: 413 (405 for a path without methods)" {
    head -c $((BODY_MAX_BYTES + 1)) /dev/zero | tr '\0' ' ' >"$BATS_FILE_TMPDIR/over"
    head -c $((FILE_MAX_BYTES + 1)) /dev/zero | tr '\0' 'x' >"$BATS_FILE_TMPDIR/over-file"
    while read -r method pattern access; do
        path=$(fill "$pattern")
        body=$BATS_FILE_TMPDIR/over
        [ "$pattern" = /files/temp ] && body=$BATS_FILE_TMPDIR/over-file
        want=413 anon=401
        [ "$method" = - ] && { method=POST; want=405; }
        # A GET with a body never reaches a mode: lighttpd's JSON 400.
        [ "$method" = GET ] && { want=400; anon=400; }
        hcase body-over-limit "$want" "$method" "$path" -H "$(AUTH)" --data-binary @"$body"
        # The same without a token: 401 comes first (nothing is read).
        [ "$access" = auth ] && hcase body-over-limit "$anon" "$method" "$path" --data-binary @"$body"
    done < <(routes)
    # Nothing of an over-limit upload is left on disk.
    [ -z "$(find "$STACK_DIR/files" -type f 2>/dev/null)" ]
    done_category body-over-limit
}

@test "hostile JSON bodies on every route that takes one: 400 invalid_json (422 where the JSON is well-formed)" {
    d=$BATS_FILE_TMPDIR
    printf '{"payload":"\xff\xfe"}' >"$d/utf8-ff"
    printf '{"payload":"\xc3"}' >"$d/utf8-trunc"
    printf '{"payload":"\xed\xa0\x80"}' >"$d/utf8-surrogate"
    printf '{"pay\xc0\xafload":1}' >"$d/utf8-overlong"
    printf '{"payload":%s1%s}' "$(printf '[%.0s' $(seq 64))" "$(printf ']%.0s' $(seq 64))" >"$d/nest65"
    printf '%s1%s' "$(printf '[%.0s' $(seq 65))" "$(printf ']%.0s' $(seq 65))" >"$d/nest65-array"
    printf '{"payload":1,"payload":2}' >"$d/dup"
    printf '{"a":{"b":1,"b":1}}' >"$d/dup-inner"
    printf '{"payload":1e999}' >"$d/huge-1e999"
    printf '{"payload":-1e999}' >"$d/huge-neg"
    # (a huge integer as a payload is valid JSON, stored exactly: not here)
    printf '{"max_attempts":123456789012345678901234567890,"max":123456789012345678901234567890}' >"$d/huge-int"
    printf '{"max":1e999,"delay_seconds":99999999999999999999}' >"$d/huge-fields"
    printf '{"payload":"a\\u0000b"}' >"$d/nul-value"
    printf '{"a\\u0000b":1}' >"$d/nul-key"
    printf '{"namespace":"\\u0000","key":"\\u0000","name":"\\u0000"}' >"$d/nul-names"
    printf '{"payload":1} x' >"$d/trailing"
    printf '\xef\xbb\xbf{"payload":1}' >"$d/bom"
    while read -r method pattern access; do
        json_body_route "$method" "$pattern" || continue
        path=$(fill "$pattern")
        # A document PATCH is a merge patch: sent as one (else it is 415
        # before its body is read), and any well-formed JSON is a patch, so
        # only the malformed bodies apply to it.
        ct=()
        merge_patch=false
        if [ "$method $pattern" = "PATCH /document/{namespace}/{key}" ]; then
            ct=(-H 'Content-Type: application/merge-patch+json')
            merge_patch=true
        fi
        for f in utf8-ff utf8-trunc utf8-surrogate utf8-overlong nest65 nest65-array dup dup-inner trailing bom; do
            hcase json-body 400 "$method" "$path" -H "$(AUTH)" "${ct[@]}" --data-binary @"$d/$f"
            [ "$CODE" = 400 ] && ! grep -q '"error":"invalid_json"' <<<"$BODY" &&
                echo "json-body: $f on $method $path -> $BODY" >>"$BATS_FILE_TMPDIR/failures.json-body"
        done
        [ "$merge_patch" = true ] && continue
        for f in huge-1e999 huge-neg huge-int huge-fields nul-value nul-key nul-names; do
            hcase json-body "400 422" "$method" "$path" -H "$(AUTH)" --data-binary @"$d/$f"
        done
    done < <(routes)
    # Nothing hostile was stored.
    [ "$(psql_q "select count(*) from documents")" -eq 1 ]
    [ "$(psql_q "select count(*) from queue_items")" -eq 1 ]
    [ "$(psql_q "select count(*) from sql_htable")" -eq 1 ]
    done_category json-body
}

@test "hostile path segments and overlong paths on every route: 404, 405 or 422" {
    long=$(head -c 4100 /dev/zero | tr '\0' a)
    while read -r method pattern access; do
        [ "$method" = - ] && method=GET
        # Each capture in turn, then a hostile tail after the whole path.
        caps=$(grep -o '{[a-z]*}' <<<"$pattern" || true)
        for seg in .. %2e%2e %00 %2f ..%2f..%2fetc %zz '' "$long"; do
            for c in $caps; do
                p=${pattern/$c/$seg}
                [[ "$p" == */ ]] && continue # a trailing slash: the parent route
                # shellcheck disable=SC2046 # body prints curl arguments, split on purpose
                hcase paths "400 404 405 414 422" "$method" "$(fill "$p")" -H "$(AUTH)" $(body "$method" "$pattern")
            done
            # (one trailing slash is ignored by design, request.c: not a tail)
            # shellcheck disable=SC2046 # body prints curl arguments, split on purpose
            [ -n "$seg" ] && hcase paths "400 404 405 414 422" "$method" "$(fill "$pattern")/$seg" -H "$(AUTH)" $(body "$method" "$pattern")
        done
        # shellcheck disable=SC2046 # body prints curl arguments, split on purpose
        hcase paths "400 404 405 414 422" "$method" "$(fill "$pattern")/../../../etc/passwd" -H "$(AUTH)" $(body "$method" "$pattern")
        # shellcheck disable=SC2046 # body prints curl arguments, split on purpose
        hcase paths "400 404 405 414 422" "$method" "$(fill "$pattern")$(printf '/s%.0s' $(seq 17))" -H "$(AUTH)" $(body "$method" "$pattern")
    done < <(routes)
    # Nothing hostile was stored.
    psql_q "select namespace, key, version from documents"
    [ "$(psql_q "select count(*) from documents")" -eq 1 ]
    done_category paths
}

@test "wrong methods on every path: 405 with Allow listing the right ones" {
    for pattern in $(routes | awk '{print $2}' | sort -u); do
        allowed=$(routes | awk -v p="$pattern" '$2 == p && $1 != "-" {print $1}' | tr '\n' ' ')
        # The public path answers its 405 without a token too.
        for method in GET POST PUT PATCH DELETE OPTIONS; do
            [[ " $allowed " == *" $method "* ]] && continue
            # A path without methods gets an empty Allow, which lighttpd drops.
            [ -n "$allowed" ] && export HCASE_HEADER="Allow:"
            # shellcheck disable=SC2046 # body prints curl arguments, split on purpose
            hcase methods 405 "$method" "$(fill "$pattern")" -H "$(AUTH)" $(body "$method" "$pattern")
            unset HCASE_HEADER
            [ "$CODE" = 405 ] || continue
            allow=$(grep -i '^Allow:' <<<"$HEADERS" | tr -d '\r')
            for a in $allowed; do
                [[ "$allow" == *"$a"* ]] ||
                    echo "methods: $method $pattern -> $allow lacks $a" >>"$BATS_FILE_TMPDIR/failures.methods"
            done
            grep -q '"error":"method_not_allowed"' <<<"$BODY" ||
                echo "methods: $method $pattern -> $BODY" >>"$BATS_FILE_TMPDIR/failures.methods"
        done
    done
    done_category methods
}

@test "missing, empty, wrong-length, wrong and schemeless tokens on every authenticated route: 401" {
    wrong_same=${TOKEN%?}X
    while read -r method pattern access; do
        [ "$access" = auth ] || continue
        [ "$method" = - ] && method=GET
        path=$(fill "$pattern")
        export HCASE_HEADER="WWW-Authenticate: Bearer"
        # shellcheck disable=SC2046 # body prints curl arguments, split on purpose
        hcase auth 401 "$method" "$path" $(body "$method" "$pattern")
        for h in "Bearer" "Bearer " "Bearer ${TOKEN}x" "Bearer ${TOKEN%?}" "Bearer $wrong_same" \
            "Bearer x" "$TOKEN" "Basic $TOKEN" "Token $TOKEN" "Bearer$TOKEN" "Bearer  $TOKEN x"; do
            # shellcheck disable=SC2046 # body prints curl arguments, split on purpose
            hcase auth 401 "$method" "$path" -H "Authorization: $h" $(body "$method" "$pattern")
        done
        unset HCASE_HEADER
    done < <(routes)
    done_category auth
}

@test "16 KiB header values on every route: lighttpd's JSON 431; under its limit, refused tokens and replaced ids" {
    # lighttpd's limit on the request header (server.max-request-field-size,
    # 8 KiB by default) answers 16 KiB values itself; 6 KiB values reach the
    # modes.
    big=$(head -c 16384 /dev/zero | tr '\0' a)
    mid=$(head -c 6144 /dev/zero | tr '\0' a)
    while read -r method pattern access; do
        [ "$method" = - ] && method=GET
        path=$(fill "$pattern")
        for h in "Authorization: Bearer $big" "X-Request-Id: $big" "X-Junk: $big" "Cookie: $big"; do
            # shellcheck disable=SC2046 # body prints curl arguments, split on purpose
            hcase headers 431 "$method" "$path" -H "$(AUTH)" -H "$h" $(body "$method" "$pattern")
            grep -q '"error":"headers_too_large"' <<<"$BODY" ||
                echo "headers: 431 body $BODY" >>"$BATS_FILE_TMPDIR/failures.headers"
        done
        # A 6 KiB token: 401 (/health is public: its answer is no error).
        if [ "$access" = auth ]; then
            # shellcheck disable=SC2046 # body prints curl arguments, split on purpose
            hcase headers 401 "$method" "$path" -H "Authorization: Bearer $mid" $(body "$method" "$pattern")
        fi
        # A 6 KiB request id on a wrong method: 405, the id replaced.
        hcase headers 405 TRACE "$path" -H "$(AUTH)" -H "X-Request-Id: $mid"
        if grep -qi "^X-Request-Id: aaaaaaaa" <<<"$HEADERS"; then
            echo "headers: TRACE $path echoed the 6 KiB id" >>"$BATS_FILE_TMPDIR/failures.headers"
        fi
    done < <(routes)
    done_category headers
}

@test "query strings with repeated, empty and unknown parameters on every route that takes one: 422" {
    # The parameter each query-taking route reads (docs of each mode); the
    # list must name only routes that exist.
    declare -A param=(
        ["GET /document/{namespace}"]=limit
        ["GET /document/{namespace}/{key}"]=version
        ["GET /document/{namespace}/{key}/versions"]=limit
        ["DELETE /document/{namespace}/{key}"]=-
        ["GET /queue/{namespace}"]=-
        ["DELETE /queue/{namespace}/{id}"]=claim_token
        ["GET /queue/{namespace}/dead"]=limit
        ["GET /sql/tables"]=limit
        ["GET /sql/tables/{name}"]=-
        ["DELETE /sql/tables/{name}"]=confirm
        ["GET /sql/tables/{name}/rows"]=limit
        ["GET /sql/tables/{name}/rows/{id}"]=-
        ["PATCH /sql/tables/{name}/rows/{id}"]=-
        ["DELETE /sql/tables/{name}/rows/{id}"]=-
    )
    for k in "${!param[@]}"; do grep -qx "$k auth" "$STACK_DIR/routes" || { echo "no route $k"; return 1; }; done
    while read -r method pattern access; do
        p=${param["$method $pattern"]:-}
        [ -n "$p" ] || continue
        path=$(fill "$pattern")
        # (empty pieces, "&&" or "=1", are skipped by design: request.c)
        qs=("zzz=1" "a&b" "%00=1" "limit%00=1" "%zz=1")
        # "-": the route takes no parameter, so any is unknown.
        [ "$p" != - ] && qs+=("$p=1&$p=1" "$p=1&$p=2" "$p=" "$p" "$p=&$p=" "$p=%00" "$p=1&zzz=")
        # (a column may be filtered twice: v=a&v=b is two conditions, not an error)
        [ "$pattern" = "/sql/tables/{name}/rows" ] && qs+=("v=not.a" "v=cs.{1}" "v=in.(a" "order=desc&order=asc"
            "select=v&select=v" "count=exact&count=exact" "nosuchcolumn=1" "on_conflict=v")
        for q in "${qs[@]}"; do
            # shellcheck disable=SC2046 # body prints curl arguments, split on purpose
            hcase query 422 "$method" "$path?$q" -H "$(AUTH)" $(body "$method" "$pattern")
        done
    done < <(routes)
    done_category query
}

@test "/mcp: 401 without or with a wrong token, 403 for a foreign Host or Origin" {
    init='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"h","version":"1"}}}'
    acc=(-H "Accept: application/json, text/event-stream" -H "Content-Type: application/json")
    HCASE_HEADER="WWW-Authenticate: Bearer" hcase mcp 401 POST /mcp "${acc[@]}" -d "$init"
    for h in "Bearer x" "Bearer ${TOKEN}x" "$TOKEN" "Basic $TOKEN" "Bearer"; do
        HCASE_HEADER="WWW-Authenticate: Bearer" hcase mcp 401 POST /mcp "${acc[@]}" -H "Authorization: $h" -d "$init"
    done
    HCASE_HEADER="WWW-Authenticate: Bearer" hcase mcp 401 GET /mcp -H "Accept: text/event-stream"
    HCASE_HEADER="WWW-Authenticate: Bearer" hcase mcp 401 DELETE /mcp
    for host in evil.example "evil.example:4000" "localhost.evil.example" "127.0.0.1.evil" "[::2]"; do
        hcase mcp 403 POST /mcp "${acc[@]}" -H "Host: $host" -H "$(AUTH)" -d "$init"
        grep -q '"error":"forbidden_host"' <<<"$BODY" || echo "mcp: Host $host -> $BODY" >>"$BATS_FILE_TMPDIR/failures.mcp"
        # Host comes before auth: no token, still 403.
        hcase mcp 403 POST /mcp "${acc[@]}" -H "Host: $host" -d "$init"
    done
    hcase mcp 403 POST /mcp "${acc[@]}" -H "Origin: http://evil.example" -H "$(AUTH)" -d "$init"
    grep -q '"error":"forbidden_origin"' <<<"$BODY" || echo "mcp: Origin -> $BODY" >>"$BATS_FILE_TMPDIR/failures.mcp"
    # Over the body limit, with the token: 413.
    hcase mcp 413 POST /mcp "${acc[@]}" -H "$(AUTH)" --data-binary @<(head -c $((BODY_MAX_BYTES + 1)) /dev/zero | tr '\0' ' ')
    done_category mcp
}

@test "lighttpd's own errors are JSON in the contract's shape: 400, 414, 431" {
    hostport=${URL#http://}
    raw() { # raw REQUEST-TEXT: sends it, sets CODE, HEADERS, BODY
        local out
        out=$(python3 - "${hostport%:*}" "${hostport#*:}" "$1" <<'PY'
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
s.sendall(sys.argv[3].encode().decode("unicode_escape").encode("latin-1"))
data = b""
while True:
    try:
        chunk = s.recv(65536)
    except socket.timeout:
        break
    if not chunk:
        break
    data += chunk
sys.stdout.write(data.decode("latin-1"))
PY
)
        CODE=$(head -n1 <<<"$out" | awk '{print $2}')
        HEADERS=${out%%$'\r\n\r\n'*}
        BODY=${out#*$'\r\n\r\n'}
    }
    n=0
    for req in "GET /health HTTP/1.1\r\nHost: x\r\nBad Header Line\r\nConnection: close\r\n\r\n" \
        "GET /health HTTP/1.1\r\nHost: x\r\nHost: y\r\nConnection: close\r\n\r\n" \
        "GET health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" \
        "GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\nConnection: close\r\n\r\n" \
        "GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"; do
        raw "$req"
        n=$((n + 1))
        [ "$CODE" = 400 ] || { echo "status $CODE for $req"; return 1; }
        jq -e '.error == "bad_request" and (.detail | type == "string")' <<<"$BODY" || { echo "body $BODY"; return 1; }
        grep -qi '^Content-Type: application/json' <<<"$HEADERS"
    done
    http_anon GET "/health?$(head -c 70000 /dev/zero | tr '\0' a)"
    n=$((n + 1))
    [ "$CODE" = 414 ] || [ "$CODE" = 431 ]
    jq -e '(.error == "uri_too_long" or .error == "headers_too_large") and (.detail | type == "string")' <<<"$BODY"
    echo . >"$BATS_FILE_TMPDIR/count.lighttpd"
    for _ in $(seq 2 "$n"); do echo . >>"$BATS_FILE_TMPDIR/count.lighttpd"; done
    echo "# lighttpd: $n cases" >&3
}

@test "summary: every hostile case answered with the contract error, no 5xx anywhere in the access log" {
    [ -z "$(ls "$BATS_FILE_TMPDIR"/failures.* 2>/dev/null)" ]
    total=$(cat "$BATS_FILE_TMPDIR"/count.* | wc -l)
    echo "# hostile cases: $total, all answered with the contract error" >&3
    echo "hostile cases: $total" >"$BATS_FILE_TMPDIR/total"
    [ "$total" -ge 1000 ]
    # Every request the modes logged, whatever its case: none was a 5xx.
    [ -z "$(grep -h '"status":5' "$STACK_DIR"/main/lighttpd.log)" ]
}
