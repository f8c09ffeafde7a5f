#!/usr/bin/env bats
# The web console (docs/console.md): GET /console and its files, served by
# lighttpd from deploy/console with the security headers, then the page in
# Debian's headless chromium (tests/console/console.mjs, puppeteer-core and
# axe-core pinned in tests/console/package-lock.json, installed by
# tests/console/install.sh) over data this file writes. Screenshots of each
# view go to run/console/.

load ../lib/stack

NS=console-docs
QUEUE=console-jobs
TABLE=console_builds

setup_file() {
    "$ROOT/tests/console/install.sh"
    stack_setup
    local c
    # A key with two versions, the second holding HTML; a key outside the
    # prefix the page searches.
    curl -sf -H "Authorization: Bearer $TOKEN" -X PUT "$URL/document/$NS/build-1" -d '{"status":"queued"}' >/dev/null
    curl -sf -H "Authorization: Bearer $TOKEN" -X PUT "$URL/document/$NS/build-1" \
        -d '{"status":"passed","note":"<img src=x onerror=window.__xss=1>"}' >/dev/null
    curl -sf -H "Authorization: Bearer $TOKEN" -X PUT "$URL/document/$NS/other-1" -d '{"status":"other"}' >/dev/null
    # Two dead letters (one attempt each, claimed and released), one
    # holding script, and one ready item.
    curl -sf -H "Authorization: Bearer $TOKEN" "$URL/queue/$QUEUE" \
        -d '{"items":[{"payload":{"t":"<script>window.__xss=1</script>"},"max_attempts":1},{"payload":{"t":"dead two"},"max_attempts":1}]}' >/dev/null
    c=$(curl -sf -H "Authorization: Bearer $TOKEN" "$URL/queue/$QUEUE/claim" -d '{"max":2}')
    for i in 0 1; do
        curl -sf -H "Authorization: Bearer $TOKEN" "$URL/queue/$QUEUE/$(jq ".items[$i].id" <<<"$c")/release" \
            -d "{\"claim_token\":$(jq ".items[$i].claim_token" <<<"$c")}" >/dev/null
    done
    curl -sf -H "Authorization: Bearer $TOKEN" "$URL/queue/$QUEUE" -d '{"payload":{"t":"ready"}}' >/dev/null
    # 25 rows: pages of 20 and 5; n = 7 holds HTML.
    curl -sf -H "Authorization: Bearer $TOKEN" "$URL/sql/tables" \
        -d "{\"name\":\"$TABLE\",\"columns\":[{\"name\":\"sha\",\"type\":\"text\"},{\"name\":\"n\",\"type\":\"integer\"}]}" >/dev/null
    curl -sf -H "Authorization: Bearer $TOKEN" "$URL/sql/tables/$TABLE/rows" \
        -d "$(jq -nc '[range(1;26) | {sha: (if . == 7 then "<img src=x onerror=window.__xss=1>" else "sha\(.)" end), n: .}]')" >/dev/null
}
teardown_file() { stack_teardown; }

@test "GET /console: public, the page and its files from this origin, with CSP, Referrer-Policy, nosniff" {
    local path
    for path in /console /console/app/console.js /console/app/console.css /console/lib/uPlot.iife.min.js /console/lib/uPlot.min.css; do
        http_anon GET "$path"
        [ "$CODE" = 200 ] || { echo "$path: $CODE"; return 1; }
        header_has Content-Security-Policy "default-src 'self'; frame-ancestors 'none'"
        header_has Referrer-Policy no-referrer
        header_has X-Content-Type-Options nosniff
        header_has X-Request-Id
    done
    http_anon GET /console
    header_has Content-Type "text/html; charset=utf-8"
    grep -q '<meta charset="utf-8">' <<<"$BODY"
    # Nothing from another host, no inline script or style (the policy
    # would block them): every script and stylesheet is a file of /console.
    if grep -qE '(src|href)="(https?:)?//' <<<"$BODY"; then return 1; fi
    if grep -qE '<script>|<style|style="| on[a-z]+="' <<<"$BODY"; then return 1; fi
    [ "$(grep -oE '(src|href)="/[^"]*"' <<<"$BODY" | grep -vc '"/console/')" = 0 ]
    http_anon GET /console/app/console.js
    header_has Content-Type "text/javascript; charset=utf-8"
    # The page never writes HTML from a string.
    if grep -qE 'innerHTML|outerHTML|insertAdjacentHTML|document\.write' <<<"$BODY"; then return 1; fi
}

@test "/console serves only its files: not the package files, nor other paths" {
    local path
    for path in /console/package.json /console/package-lock.json /console/node_modules/uplot/package.json \
        /console/app/nope.js /console/lib/nope.js /console/x; do
        http_anon GET "$path"
        [ "$CODE" != 200 ] || { echo "$path served"; return 1; }
        [[ "$BODY" != *'"name"'* ]]
    done
}

@test "the console in headless Chromium: each view shows the data written here, actions round-trip, HTML stays text, axe finds nothing serious" {
    mkdir -p "$ROOT/run/console"
    local id_before
    id_before=$(psql_q "SELECT count(*) FROM queue_items WHERE namespace = '$QUEUE'")
    [ "$id_before" = 3 ]
    run timeout 240 node "$ROOT/tests/console/console.mjs" "$URL" "$TOKEN" "$ROOT/run/console"
    echo "$output"
    [ "$status" -eq 0 ]
    for v in overview documents queues tables tokens; do [ -s "$ROOT/run/console/$v.png" ]; done
    # What the page did, in the database: the queue paused, one dead letter
    # retried (attempts back to 0), the other deleted; the tail's write is
    # there; the token made is revoked.
    local retried deleted
    retried=$(sed -n 's/^dead retried: //p' <<<"$output")
    deleted=$(sed -n 's/^dead deleted: //p' <<<"$output")
    [ -n "$retried" ] && [ -n "$deleted" ]
    [ "$(psql_q "SELECT count(*) FROM queue_paused WHERE namespace = '$QUEUE'")" = 1 ]
    [ "$(psql_q "SELECT attempts FROM queue_items WHERE id = $retried")" = 0 ]
    [ "$(psql_q "SELECT count(*) FROM queue_items WHERE id = $deleted")" = 0 ]
    [ "$(psql_q "SELECT count(*) FROM queue_items WHERE namespace = '$QUEUE' AND attempts >= max_attempts")" = 0 ]
    [ "$(psql_q "SELECT count(*) FROM queue_items WHERE namespace = '$QUEUE'")" = 2 ]
    local revoked
    revoked=$(sed -n 's/^token revoked: //p' <<<"$output")
    [ -n "$revoked" ]
    [ "$(psql_q "SELECT count(*) FROM auth_tokens")" = 0 ]
    # The column added through the form, nullable text.
    [ "$(psql_q "SELECT data_type || ' ' || is_nullable FROM information_schema.columns WHERE table_name = 'sql_$TABLE' AND column_name = 'note'")" = "text YES" ]
    [ "$(psql_q "SELECT count(*) FROM documents WHERE namespace = '$NS' AND key = 'build-live'")" = 1 ]
}
