#!/usr/bin/env bats
# GET /metrics (docs/operations.md): the whole replica's metrics, every
# process of every mode summed (common/metrics.h, docs/operations.md).

load ../lib/stack

setup_file() { stack_setup; }
teardown_file() { stack_teardown; }

# scrape: GET /metrics with the token; its text is in $BODY.
scrape() {
    http GET /metrics
    [ "$CODE" = 200 ] || { echo "GET /metrics: $CODE $BODY" >&2; return 1; }
}

# value SERIES: the value of one series (name and labels as written) in
# $BODY; 0 when it is not there (a counter not yet incremented).
value() { awk -v s="$1" '$1 == s {print $2; found = 1} END {if (!found) print 0}' <<<"$BODY"; }

# burst N PATH: N GET requests with the token, 8 at a time, so that several
# processes of the mode serve them; prints each status, one a line.
burst() {
    seq 1 "$1" | xargs -P 8 -I{} curl -s -o /dev/null -w '%{http_code}\n' --max-time 30 \
        -H "Authorization: Bearer $TOKEN" "$URL$2"
}

DOC404='backend_http_requests_total{mode="document",method="GET",status="404"}'

@test "GET /metrics without a token, or with a wrong one: 401" {
    http_anon GET /metrics
    expect_error 401 unauthorized
    header_has WWW-Authenticate Bearer
    TOKEN=wrong http GET /metrics
    expect_error 401 unauthorized
}

@test "POST /metrics: 405 with Allow" {
    http POST /metrics -d '{}'
    expect_error 405 method_not_allowed
    header_has Allow "GET, HEAD"
}

@test "GET /metrics: Prometheus text that promtool check metrics finds nothing to complain about" {
    http GET /document/m/k1
    scrape
    header_has Content-Type "text/plain; version=0.0.4; charset=utf-8"
    run promtool check metrics <<<"$BODY"
    [ "$status" -eq 0 ] || { echo "promtool: $output" >&2; return 1; }
    [ -z "$output" ] || { echo "promtool: $output" >&2; return 1; }
    [ "$(value backend_database_up)" = 1 ]
    [ "$(value 'backend_build_info{version="0.1.0"}')" = 1 ]
    grep -q '^backend_database_rtt_seconds [0-9.]*$' <<<"$BODY"
    grep -q '^backend_http_request_duration_seconds_bucket{mode="document",le="0.0005"} ' <<<"$BODY"
    grep -q '^backend_http_request_duration_seconds_bucket{mode="document",le="10"} ' <<<"$BODY"
    [ "$(value 'backend_processes{mode="document"}')" = 2 ]
    [ "$(value 'backend_processes{mode="health"}')" = 2 ]
    [ "$(value 'backend_db_connections{mode="document"}')" -ge 1 ]
    # the +Inf bucket is the count
    [ "$(value 'backend_http_request_duration_seconds_bucket{mode="document",le="+Inf"}')" = \
        "$(value 'backend_http_request_duration_seconds_count{mode="document"}')" ]
}

@test "after N requests the counter has risen by exactly N, whichever processes served them" {
    scrape
    before=$(value "$DOC404")
    count_before=$(value 'backend_http_request_duration_seconds_count{mode="document"}')
    statuses=$(burst 60 /document/m/never-written)
    [ "$(grep -c '^404$' <<<"$statuses")" -eq 60 ]
    scrape
    [ "$(value "$DOC404")" -eq $((before + 60)) ]
    [ "$(value 'backend_http_request_duration_seconds_count{mode="document"}')" -eq $((count_before + 60)) ]
    # requests of another kind counted apart
    http GET /document/m/k2
    [ "$CODE" = 404 ]
    http_anon GET /document/m/k2
    scrape
    [ "$(value "$DOC404")" -eq $((before + 61)) ]
    [ "$(value 'backend_http_requests_total{mode="document",method="GET",status="401"}')" -ge 1 ]
}

@test "kill -9 of a mode process: no counter goes backwards, and the next requests are counted exactly" {
    burst 40 /document/m/never-written >/dev/null
    scrape
    before=$(value "$DOC404")
    [ "$before" -ge 40 ]
    for pid in $(pgrep -P "$(service_pid main)" -f backend-document); do
        kill -9 "$pid"
        break
    done
    scrape
    [ "$(value "$DOC404")" -ge "$before" ]
    # lighttpd starts the process again; answers of a dead process (502)
    # are lighttpd's, not a mode's: only the 404s are counted.
    statuses=$(burst 60 /document/m/never-written)
    got=$(grep -c '^404$' <<<"$statuses" || true)
    [ "$got" -ge 1 ]
    scrape
    [ "$(value "$DOC404")" -eq $((before + got)) ]
    pgrep -P "$(service_pid main)" >>"$STACK_DIR/pids"
}

@test "kill -9 of the process that took the scrape: the next scrape still sees every count" {
    scrape
    before=$(value "$DOC404")
    hbefore=$(value 'backend_http_requests_total{mode="health",method="GET",status="200"}')
    for pid in $(pgrep -P "$(service_pid main)" -f backend-health); do kill -9 "$pid"; done
    for _ in $(seq 1 50); do
        http GET /metrics
        [ "$CODE" = 200 ] && break
        sleep 0.1
    done
    [ "$CODE" = 200 ]
    [ "$(value "$DOC404")" -eq "$before" ]
    [ "$(value 'backend_http_requests_total{mode="health",method="GET",status="200"}')" -ge "$hbefore" ]
    pgrep -P "$(service_pid main)" >>"$STACK_DIR/pids"
}

# access_line ID: the access log line of the request with X-Request-Id ID
# (written just after the answer: waited for).
access_line() {
    local line=""
    for _ in $(seq 1 100); do
        line=$(grep -F "\"request_id\":\"$1\"" "$STACK_DIR/main/lighttpd.log" | grep '"status"' | tail -n 1)
        [ -n "$line" ] && break
        sleep 0.05
    done
    [ -n "$line" ] || { echo "no access line for $1" >&2; return 1; }
    echo "$line"
}

TP_TRACE=4bf92f3577b34da6a3ce929d0e0e4736
TP_PARENT=00f067aa0ba902b7

@test "traceparent: a valid one is honoured: its trace_id, a span_id of our own, its span as parent" {
    for path in /health /document/t/k; do
        id=tp-valid-${path//\//-}
        http GET "$path" -H "X-Request-Id: $id" -H "traceparent: 00-$TP_TRACE-$TP_PARENT-01"
        line=$(access_line "$id")
        jq -e --arg t "$TP_TRACE" --arg p "$TP_PARENT" \
            '.trace_id == $t and .parent_span_id == $p and (.span_id | test("^[0-9a-f]{16}$")) and .span_id != $p' \
            <<<"$line" || { echo "$line" >&2; return 1; }
    done
}

@test "traceparent: malformed ones are ignored and a trace is started" {
    n=0
    for bad in "00-$TP_TRACE-$TP_PARENT" "ff-$TP_TRACE-$TP_PARENT-01" "00-${TP_TRACE^^}-$TP_PARENT-01" \
        "00-00000000000000000000000000000000-$TP_PARENT-01" "00-$TP_TRACE-0000000000000000-01" \
        "00-$TP_TRACE-$TP_PARENT-01-extra" "garbage"; do
        n=$((n + 1))
        http GET /health -H "X-Request-Id: tp-bad-$n" -H "traceparent: $bad"
        [ "$CODE" = 200 ]
        line=$(access_line "tp-bad-$n")
        jq -e --arg t "$TP_TRACE" \
            '(.trace_id | test("^[0-9a-f]{32}$")) and .trace_id != $t and (.span_id | test("^[0-9a-f]{16}$")) and (has("parent_span_id") | not)' \
            <<<"$line" || { echo "traceparent $bad: $line" >&2; return 1; }
    done
}

@test "traceparent: absent, a new trace per request, in every access line" {
    http GET /document/t/k -H "X-Request-Id: tp-none-1"
    http_anon GET /nope -H "X-Request-Id: tp-none-2"
    a=$(access_line tp-none-1)
    b=$(access_line tp-none-2)
    for line in "$a" "$b"; do
        jq -e '(.trace_id | test("^[0-9a-f]{32}$")) and (.span_id | test("^[0-9a-f]{16}$"))' <<<"$line" ||
            { echo "$line" >&2; return 1; }
    done
    [ "$(jq -r .trace_id <<<"$a")" != "$(jq -r .trace_id <<<"$b")" ]
}

# mcp_call_meta ID META [curl args...]: a stateless-era tools/call of the
# health tool on /mcp with X-Request-Id ID; META is more of params._meta
# (",\"traceparent\":..." or "").
mcp_call_meta() {
    local id=$1 meta=$2
    shift 2
    http POST /mcp -H "X-Request-Id: $id" -H 'Content-Type: application/json' \
        -H 'Accept: application/json, text/event-stream' -H 'MCP-Protocol-Version: 2026-07-28' \
        -H 'Mcp-Method: tools/call' -H 'Mcp-Name: health' "$@" \
        -d '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"health","arguments":{},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}'"$meta"'}}}'
    expect 200 '.result.isError == false' || return 1
}

@test "_meta.traceparent on /mcp: a valid one is honoured (over the header), in backend-mcp's access line" {
    mcp_call_meta mtp-valid ",\"traceparent\":\"00-$TP_TRACE-$TP_PARENT-01\""
    line=$(access_line mtp-valid)
    jq -e --arg t "$TP_TRACE" --arg p "$TP_PARENT" \
        '.path == "/mcp" and .trace_id == $t and .parent_span_id == $p and (.span_id | test("^[0-9a-f]{16}$")) and .span_id != $p' \
        <<<"$line" || { echo "$line" >&2; return 1; }
    mcp_call_meta mtp-over ",\"traceparent\":\"00-$TP_TRACE-$TP_PARENT-01\"" \
        -H "traceparent: 00-11111111111111111111111111111111-$TP_PARENT-01"
    jq -e --arg t "$TP_TRACE" '.trace_id == $t' <<<"$(access_line mtp-over)"
}

@test "_meta.traceparent on /mcp: a malformed one starts a new trace, even with a valid header" {
    n=0
    for bad in "\"00-$TP_TRACE-$TP_PARENT\"" "\"00-${TP_TRACE^^}-$TP_PARENT-01\"" "\"garbage\"" 7 null; do
        n=$((n + 1))
        mcp_call_meta "mtp-bad-$n" ",\"traceparent\":$bad" -H "traceparent: 00-$TP_TRACE-$TP_PARENT-01"
        line=$(access_line "mtp-bad-$n")
        jq -e --arg t "$TP_TRACE" \
            '(.trace_id | test("^[0-9a-f]{32}$")) and .trace_id != $t and (.span_id | test("^[0-9a-f]{16}$")) and (has("parent_span_id") | not)' \
            <<<"$line" || { echo "_meta.traceparent $bad: $line" >&2; return 1; }
    done
}

@test "_meta.traceparent on /mcp: absent, the header's trace, or a new one without it" {
    mcp_call_meta mtp-header "" -H "traceparent: 00-$TP_TRACE-$TP_PARENT-01"
    jq -e --arg t "$TP_TRACE" --arg p "$TP_PARENT" '.trace_id == $t and .parent_span_id == $p' <<<"$(access_line mtp-header)"
    mcp_call_meta mtp-none-1 ""
    mcp_call_meta mtp-none-2 ""
    a=$(access_line mtp-none-1)
    b=$(access_line mtp-none-2)
    jq -e '(.trace_id | test("^[0-9a-f]{32}$")) and (has("parent_span_id") | not)' <<<"$a"
    [ "$(jq -r .trace_id <<<"$a")" != "$(jq -r .trace_id <<<"$b")" ]
}

# queue_scrape_until JQ-ISH: scrapes until the series $1 has the value $2
# (the queue mode publishes its gauges every 5 s), at most 20 s.
queue_scrape_until() {
    for _ in $(seq 1 40); do
        scrape
        [ "$(value "$1")" = "$2" ] && return 0
        sleep 0.5
    done
    echo "$1 is $(value "$1"), not $2" >&2
    return 1
}

@test "backend_queue_items by queue namespace and state, the oldest ready age; 10 namespaces at most, the rest as _other" {
    # gq: 3 ready, of which 1 is then claimed (in flight), 1 delayed, 1 dead
    http POST /queue/gq -d '{"items":[{"payload":1},{"payload":2},{"payload":3},{"payload":4,"delay_seconds":600}]}'
    [ "$CODE" = 201 ]
    http POST /queue/gq -d '{"payload":5,"max_attempts":1}'
    dead_id=$(jq -r .id <<<"$BODY")
    # a claim takes the oldest ready items first: the batch's three, then the
    # max_attempts 1 one; all but the first are released, and that one, its
    # attempts used up, is dead at once
    http POST /queue/gq/claim -d '{"max":4}'
    [ "$(jq '.items | length' <<<"$BODY")" = 4 ]
    [ "$(jq -r '.items[3].id' <<<"$BODY")" = "$dead_id" ]
    while read -r id tok; do
        http POST "/queue/gq/$id/release" -d "{\"claim_token\":\"$tok\"}"
        [ "$CODE" = 200 ]
    done < <(jq -r '.items[1:][] | "\(.id) \(.claim_token)"' <<<"$BODY")
    # 12 more namespaces, q01 with 1 item ... q12 with 12: by size, then
    # name, gq (5 items) ranks 8th, q05 9th, q04 10th; q01..q03 are _other
    for i in $(seq 1 12); do
        items=$(jq -nc --argjson n "$i" '{items: [range($n) | {payload: .}]}')
        http POST "/queue/q$(printf %02d "$i")" -d "$items"
        [ "$CODE" = 201 ]
    done
    queue_scrape_until 'backend_queue_items{queue="_other",state="ready"}' 6
    [ "$(value 'backend_queue_items{queue="gq",state="ready"}')" = 2 ]
    [ "$(value 'backend_queue_items{queue="gq",state="in_flight"}')" = 1 ]
    [ "$(value 'backend_queue_items{queue="gq",state="delayed"}')" = 1 ]
    [ "$(value 'backend_queue_items{queue="gq",state="dead"}')" = 1 ]
    [ "$(value 'backend_queue_items{queue="q12",state="ready"}')" = 12 ]
    [ "$(value 'backend_queue_items{queue="q05",state="ready"}')" = 5 ]
    [ "$(value 'backend_queue_items{queue="q04",state="ready"}')" = 4 ]
    [ "$(grep -c 'queue="q03"' <<<"$BODY")" -eq 0 ]
    # the label set is bounded: 10 namespaces and _other, 4 states each
    [ "$(grep -c '^backend_queue_items{' <<<"$BODY")" -eq 44 ]
    [ "$(grep -c '^backend_queue_oldest_ready_age_seconds{' <<<"$BODY")" -eq 11 ]
    age=$(value 'backend_queue_oldest_ready_age_seconds{queue="gq"}')
    awk -v a="$age" 'BEGIN {exit !(a > 0 && a < 120)}'
    run promtool check metrics <<<"$BODY"
    [ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
}

@test "deploy/alerts.yaml: promtool check rules passes, and its rules name metrics /metrics serves" {
    run promtool check rules "$ROOT/deploy/alerts.yaml"
    [ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
    scrape
    for m in $(grep -o 'backend_[a-z_]*' "$ROOT/deploy/alerts.yaml" | sort -u); do
        grep -q "^${m}[{ ]" <<<"$BODY" || { echo "alerts.yaml names $m, which /metrics does not serve" >&2; return 1; }
    done
}

# ---- abuse limits (docs/operations.md), each on a service of its own ----

@test "AUTH_FAILURES_MAX: more wrong tokens than the limit: 429 with Retry-After even with the right token; /health and a missing token are not limited" {
    AUTH_FAILURES_MAX=3 RATE_LIMIT_RPS=0 service_up failures
    BASE=$(service_url failures)
    # missing tokens do not count
    for _ in 1 2 3 4 5 6; do
        BASE=$BASE http_anon GET /document/a/b
        expect_error 401 unauthorized
    done
    BASE=$BASE http GET /document/a/b
    [ "$CODE" = 404 ]
    for _ in 1 2 3 4; do
        BASE=$BASE TOKEN=wrong http GET /document/a/b
        expect_error 401 unauthorized
    done
    BASE=$BASE http GET /document/a/b
    expect_error 429 rate_limited
    secs=$(grep -i '^Retry-After:' <<<"$HEADERS" | tr -d '\r' | awk '{print $2}')
    [ "$secs" -ge 1 ] && [ "$secs" -le 60 ]
    BASE=$BASE http GET /metrics
    expect_error 429 rate_limited
    BASE=$BASE http_anon GET /health
    [ "$CODE" = 200 ]
    # counted whichever process served them
    BASE=$BASE TOKEN=wrong http GET /sql/tables
    expect_error 429 rate_limited
    service_down failures
}

@test "RATE_LIMIT_RPS: requests over the rate get 429 with Retry-After: 1; /health is never limited" {
    RATE_LIMIT_RPS=2 service_up rps
    BASE=$(service_url rps)
    # curl's options hold for every URL: one -H, one -w
    args=()
    for i in $(seq 1 60); do args+=(-o /dev/null "$BASE/document/r/k$i"); done
    codes=$(curl -s --no-progress-meter -Z --parallel-max 20 -w '%{http_code}\n' -H "Authorization: Bearer $TOKEN" "${args[@]}" 2>/dev/null | grep -oE '^[0-9]{3}')
    [ "$(wc -l <<<"$codes")" -eq 60 ]
    [ "$(grep -c '^429$' <<<"$codes")" -ge 1 ]
    [ -z "$(grep -v '^404$' <<<"$codes" | grep -v '^429$')" ] || { sort <<<"$codes" | uniq -c >&2; return 1; }
    hargs=()
    for _ in $(seq 1 30); do hargs+=(-o /dev/null "$BASE/health"); done
    hcodes=$(curl -s --no-progress-meter -Z --parallel-max 20 -w '%{http_code}\n' "${hargs[@]}" 2>/dev/null | grep -oE '^[0-9]{3}')
    [ "$(wc -l <<<"$hcodes")" -eq 30 ]
    [ -z "$(grep -v '^200$' <<<"$hcodes")" ]
    # a 429 says when to come back
    for _ in $(seq 1 20); do
        BASE=$BASE http GET /document/r/x
        [ "$CODE" = 429 ] && break
    done
    [ "$CODE" = 429 ] || skip "no 429 in 20 sequential requests (a very slow machine)"
    expect_error 429 rate_limited
    header_has Retry-After 1
    service_down rps
}

# mcp_post [curl args...]: an initialize on ${BASE:-$URL}/mcp with $TOKEN
# (session era: no session needed, the cheapest request that reaches the
# token check).
MCP_INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bats","version":"1"}}}'
mcp_post() { http POST /mcp -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' -d "$MCP_INIT" "$@"; }

# retry_after_in LO HI: the last response's Retry-After is within [LO, HI].
retry_after_in() {
    local secs
    secs=$(grep -i '^Retry-After:' <<<"$HEADERS" | tr -d '\r' | awk '{print $2}')
    [ -n "$secs" ] && [ "$secs" -ge "$1" ] && [ "$secs" -le "$2" ] || { echo "Retry-After: '$secs'" >&2; return 1; }
}

@test "/mcp: AUTH_FAILURES_MAX as on the FastCGI routes, counted in the same table: the limit is not multiplied by process count" {
    AUTH_FAILURES_MAX=3 RATE_LIMIT_RPS=0 service_up mcpfail
    BASE=$(service_url mcpfail)
    # missing tokens do not count
    for _ in 1 2 3 4 5; do
        BASE=$BASE http_anon POST /mcp -H 'Content-Type: application/json' -d "$MCP_INIT"
        expect_error 401 unauthorized
    done
    # three wrong tokens on /mcp: at the limit, not over it
    for _ in 1 2 3; do
        BASE=$BASE TOKEN=wrong mcp_post
        expect_error 401 unauthorized
    done
    BASE=$BASE mcp_post
    expect 200 '.result.serverInfo.name == "backend"'
    BASE=$BASE http GET /document/a/b
    [ "$CODE" = 404 ]
    # one more, on a FastCGI route: over it, on both servers
    BASE=$BASE TOKEN=wrong http GET /document/a/b
    expect_error 401 unauthorized
    BASE=$BASE mcp_post
    expect_error 429 rate_limited
    retry_after_in 1 60
    header_has X-Request-Id
    BASE=$BASE http GET /document/a/b
    expect_error 429 rate_limited
    # /health is never limited
    BASE=$BASE http_anon GET /health
    [ "$CODE" = 200 ]
    service_down mcpfail
}

@test "/mcp: RATE_LIMIT_RPS: requests over the rate get 429 rate_limited with Retry-After: 1" {
    RATE_LIMIT_RPS=2 service_up mcprps
    BASE=$(service_url mcprps)
    args=()
    # curl's -d, like -H, holds for every URL (given twice, it would join them)
    for _ in $(seq 1 30); do args+=(-o /dev/null "$BASE/mcp"); done
    codes=$(curl -s --no-progress-meter -Z --parallel-max 15 -w '%{http_code}\n' -H "Authorization: Bearer $TOKEN" -d "$MCP_INIT" \
        -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' "${args[@]}" 2>/dev/null |
        grep -oE '^[0-9]{3}')
    [ "$(wc -l <<<"$codes")" -eq 30 ]
    [ "$(grep -c '^429$' <<<"$codes")" -ge 1 ]
    [ -z "$(grep -v '^200$' <<<"$codes" | grep -v '^429$')" ] || { sort <<<"$codes" | uniq -c >&2; return 1; }
    for _ in $(seq 1 20); do
        BASE=$BASE mcp_post
        [ "$CODE" = 429 ] && break
    done
    [ "$CODE" = 429 ] || skip "no 429 in 20 sequential requests (a very slow machine)"
    expect_error 429 rate_limited
    header_has Retry-After 1
    service_down mcprps
}

@test "TRUSTED_PROXIES unset: a forged X-Forwarded-For is ignored, on the FastCGI routes and on /mcp" {
    AUTH_FAILURES_MAX=2 RATE_LIMIT_RPS=0 service_up untrusted
    BASE=$(service_url untrusted)
    for xff in 10.0.0.1 10.0.0.2 10.0.0.3; do
        BASE=$BASE TOKEN=wrong http GET /document/a/b -H "X-Forwarded-For: $xff"
        expect_error 401 unauthorized
    done
    # every failure was 127.0.0.1's: over the limit, whatever the header
    BASE=$BASE http GET /document/a/b -H "X-Forwarded-For: 10.0.0.9"
    expect_error 429 rate_limited
    BASE=$BASE mcp_post -H "X-Forwarded-For: 10.0.0.9"
    expect_error 429 rate_limited
    service_down untrusted
}

@test "TRUSTED_PROXIES: from a trusted peer the right-most untrusted X-Forwarded-For entry is the client; two clients, two counts" {
    AUTH_FAILURES_MAX=2 RATE_LIMIT_RPS=0 TRUSTED_PROXIES="127.0.0.0/8, ::1" service_up trusted
    BASE=$(service_url trusted)
    for _ in 1 2 3; do
        BASE=$BASE TOKEN=wrong http GET /document/a/b -H "X-Forwarded-For: 10.0.0.1"
        expect_error 401 unauthorized
    done
    BASE=$BASE http GET /document/a/b -H "X-Forwarded-For: 10.0.0.1"
    expect_error 429 rate_limited
    # a trusted hop is skipped; the client's own entries left of it are not read
    BASE=$BASE http GET /document/a/b -H "X-Forwarded-For: 10.0.0.7, 10.0.0.1, 127.0.0.5"
    expect_error 429 rate_limited
    BASE=$BASE http GET /document/a/b -H "X-Forwarded-For: 10.0.0.1, 10.0.0.2"
    [ "$CODE" = 404 ]
    # 10.0.0.2 has a count of its own: two wrong tokens are at the limit, a third is over
    for _ in 1 2; do
        BASE=$BASE TOKEN=wrong http GET /document/a/b -H "X-Forwarded-For: 10.0.0.2"
        expect_error 401 unauthorized
    done
    BASE=$BASE http GET /document/a/b -H "X-Forwarded-For: 10.0.0.2"
    [ "$CODE" = 404 ]
    BASE=$BASE TOKEN=wrong mcp_post -H "X-Forwarded-For: 10.0.0.2"
    expect_error 401 unauthorized
    BASE=$BASE http GET /document/a/b -H "X-Forwarded-For: 10.0.0.2"
    expect_error 429 rate_limited
    # /mcp: lighttpd appends its peer (trusted) to the header; backend-mcp
    # reads the same client from it, in the same table
    BASE=$BASE mcp_post -H "X-Forwarded-For: 10.0.0.1"
    expect_error 429 rate_limited
    BASE=$BASE mcp_post -H "X-Forwarded-For: 10.0.0.3"
    expect 200 '.result.serverInfo.name == "backend"'
    # without the header, the peer itself: not limited
    BASE=$BASE http GET /document/a/b
    [ "$CODE" = 404 ]
    service_down trusted
}

@test "backend_database_info names the server reached (host:port), with value 1" {
    scrape
    grep -qxF "backend_database_info{host=\"$PG_SOCK:$PG_PORT\"} 1" <<<"$BODY"
    grep -qxF "# TYPE backend_database_info gauge" <<<"$BODY"
}
