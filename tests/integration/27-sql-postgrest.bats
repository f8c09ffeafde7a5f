#!/usr/bin/env bats
# sql mode at PostgREST's level (docs/sql.md): the query language on the
# row routes, through lighttpd and the MCP tools.

load ../lib/stack
bats_require_minimum_version 1.5.0

setup_file() { stack_setup; }
teardown_file() { stack_teardown; }

create() { http POST /sql/tables -d "$1"; }
insert() { http POST "/sql/tables/$1/rows" -d "$2"; }

# rows TABLE QUERY: GET the rows with this query string; expects 200.
rows() {
    http GET "/sql/tables/$1/rows?$2"
    expect 200
}

# ids: the ids of the last page, comma-separated.
ids() { jq -r '[.items[].id] | map(tostring) | join(",")' <<<"$BODY"; }

# mcp_call TOOL ARGS-JSON: one stateless tools/call through /mcp; sets
# BODY to the tool's structured answer (or its error, parsed) and
# TOOL_ERROR to isError.
mcp_call() {
    local meta='{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"bats","version":"1"}}'
    http POST /mcp -H 'MCP-Protocol-Version: 2026-07-28' -H 'Mcp-Method: tools/call' -H "Mcp-Name: $1" \
        -H 'Accept: application/json, text/event-stream' \
        -d "$(jq -cn --arg t "$1" --argjson a "$2" --argjson m "$meta" '{jsonrpc:"2.0",id:1,method:"tools/call",params:{name:$t,arguments:$a,_meta:$m}}')"
    [ "$CODE" = 200 ] || { echo "mcp: $CODE $BODY" >&2; return 1; }
    local result=$BODY
    TOOL_ERROR=$(jq -r '.result.isError' <<<"$result")
    BODY=$(jq -c 'if .result.isError then (.result.content[0].text | fromjson) else .result.structuredContent end' <<<"$result")
}

@test "filters: every operator and not., on several types; bare equality and its operator prefix" {
    create '{"name":"f","columns":[{"name":"s","type":"text"},{"name":"n","type":"integer"},{"name":"ok","type":"boolean"},{"name":"at","type":"timestamptz"},{"name":"x","type":"numeric"}]}'
    expect 201
    insert f '[{"s":"apple","n":1,"ok":true,"at":"2024-01-01T00:00:00Z","x":"1.50"},
               {"s":"Apple pie","n":2,"ok":false,"at":"2024-01-02T00:00:00Z","x":"2"},
               {"s":"gt.5","n":5,"ok":null,"at":null,"x":null},
               {"s":"a%b","n":null,"ok":true,"at":"2024-01-03T00:00:00Z","x":"123456789012345678901234567890.1"},
               {"s":null,"n":7,"ok":false,"at":"2024-01-04T00:00:00Z","x":"-3"}]'
    expect 201
    rows f "n=eq.2";            [ "$(ids)" = 2 ]
    rows f "n=neq.2";           [ "$(ids)" = 1,3,5 ]
    rows f "n=gt.2";            [ "$(ids)" = 3,5 ]
    rows f "n=gte.2";           [ "$(ids)" = 2,3,5 ]
    rows f "n=lt.5";            [ "$(ids)" = 1,2 ]
    rows f "n=lte.5";           [ "$(ids)" = 1,2,3 ]
    rows f "n=in.(1,5,9)";      [ "$(ids)" = 1,3 ]
    rows f "n=not.in.(1,5)";    [ "$(ids)" = 2,5 ]
    rows f "n=is.null";         [ "$(ids)" = 4 ]
    rows f "n=not.is.null";     [ "$(ids)" = 1,2,3,5 ]
    rows f "n=not.eq.2";        [ "$(ids)" = 1,3,5 ]
    rows f "s=like.*pp*";       [ "$(ids)" = 1,2 ]
    rows f "s=like.A*";         [ "$(ids)" = 2 ]
    rows f "s=ilike.*PP*";      [ "$(ids)" = 1,2 ]
    rows f "s=not.like.a*";     [ "$(ids)" = 2,3 ]
    rows f "s=like.a%25b";      [ "$(ids)" = 4 ]
    rows f "ok=is.true";        [ "$(ids)" = 1,4 ]
    rows f "ok=is.false";       [ "$(ids)" = 2,5 ]
    rows f "ok=not.is.true";    [ "$(ids)" = 2,3,5 ]
    rows f "at=gt.2024-01-02T00:00:00Z"; [ "$(ids)" = 4,5 ]
    rows f "x=gt.100";          [ "$(ids)" = 4 ]
    rows f "x=eq.1.5";          [ "$(ids)" = 1 ]
    # several filters AND together
    rows f "n=gt.1&ok=is.false"; [ "$(ids)" = 2,5 ]
    # a bare value is equality, unless it starts with an operator and a dot
    rows f "s=apple";           [ "$(ids)" = 1 ]
    rows f "s=gt.5";            [ "$(ids)" = 1,2,3,4 ]   # text greater than '5'
    rows f "s=eq.gt.5";         [ "$(ids)" = 3 ]
    rows f "n=5";               [ "$(ids)" = 3 ]
    rows f "id=in.(2,4)";       [ "$(ids)" = 2,4 ]
}

@test "filters: hostile and wrong shapes are 422 naming the column, never PostgreSQL's words" {
    create '{"name":"h","columns":[{"name":"s","type":"text"},{"name":"n","type":"integer"},{"name":"d","type":"date"},{"name":"u","type":"uuid"},{"name":"j","type":"jsonb"}]}'
    expect 201
    insert h '{"s":"a","n":1,"d":"2024-01-01","u":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11","j":{"a":1}}'
    expect 201
    local q field
    while IFS='|' read -r q field; do
        http GET "/sql/tables/h/rows?$q" -g
        expect_error 422 validation_failed "$field" || { echo "query: $q" >&2; return 1; }
        # PostgreSQL's own phrasing never reaches the client
        if grep -qiE 'invalid input syntax|operator does not exist|syntax error|ERROR:' <<<"$BODY"; then
            echo "PostgreSQL's text for $q: $BODY" >&2
            return 1
        fi
    done <<'EOF_CASES'
n=like.1*|n
n=ilike.1|n
n=abc|n
n=gt.1.5|n
n=eq.99999999999|n
n=in.(1,x)|n
n=in.(1,2|n
n=in.1,2|n
n=is.maybe|n
n=is.true|n
n=not.5|n
n=not.not.eq.5|n
n=cs.{1}|n
n=eq(any).{1}|n
d=eq.2024-02-30|d
d=gt.yesterday|d
u=eq.not-a-uuid|u
u=in.(a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,zzz)|u
j=eq.{bad|j
s=like.x%00y|s
nosuch=1|nosuch
s%27%3B%20DROP%20TABLE%20sql_h%3B--=1|s'; DROP TABLE sql_h;--
order=nosuch.asc|order
order=n.sideways|order
order=n.asc.nullsfirst.extra|order
order=n,n|order
order=%22n%22%3B|order
select=n,nosuch|select
select=n::text|select
select=n,n|select
count=planned|count
after=garbage|after
after=-1|after
on_conflict=s|on_conflict
max_affected=1|max_affected
confirm=h|confirm
EOF_CASES
    # the table is whole after all of that
    rows h ""
    [ "$(ids)" = 1 ]
    # a limit at its edge: 32 filters pass, 33 do not
    local many="" i
    for i in $(seq 1 32); do many="${many}n=gte.0&"; done
    rows h "${many%&}"
    [ "$(ids)" = 1 ]
    http GET "/sql/tables/h/rows?${many}n=gte.0"
    expect_error 422 validation_failed n
}

@test "order: several columns, directions and nulls placement; the old order=desc; select; count" {
    create '{"name":"o","columns":[{"name":"g","type":"integer"},{"name":"s","type":"text"}]}'
    expect 201
    insert o '[{"g":2,"s":"b"},{"g":1,"s":"a"},{"g":null,"s":"c"},{"g":2,"s":"a"},{"g":1,"s":null}]'
    expect 201
    rows o "order=g.asc,s.asc";               [ "$(ids)" = 2,5,4,1,3 ]
    rows o "order=g.asc.nullsfirst,s.desc";   [ "$(ids)" = 3,5,2,1,4 ]
    rows o "order=g.desc,s.asc.nullsfirst";   [ "$(ids)" = 3,4,1,5,2 ]
    rows o "order=g.desc.nullslast,id.asc";   [ "$(ids)" = 1,4,2,5,3 ]
    rows o "order=desc";                      [ "$(ids)" = 5,4,3,2,1 ]
    rows o "order=desc&limit=2"
    [ "$(ids)" = 5,4 ] && expect 200 '.next == "4"'
    rows o "order=s.asc&select=s"
    expect 200 '.items[0] | keys_unsorted == ["id","s"]'
    rows o "select=s,g&g=2"
    expect 200 '.items == [{"id":1,"s":"b","g":2},{"id":4,"s":"a","g":2}]'
    rows o "count=exact&g=2&limit=1"
    expect 200 '.count == 2' '(.items | length) == 1' '.next != null'
    rows o "count=exact&g=9"
    expect 200 '.count == 0' '.items == []' '.next == null'
    rows o "limit=2"
    expect 200 'has("count") | not'
}

@test "paging: a non-unique ordering, page by page, while rows are inserted: no row skipped or repeated" {
    create '{"name":"pg","columns":[{"name":"grp","type":"integer"},{"name":"v","type":"text"}]}'
    expect 201
    insert pg "$(jq -cn '[range(0;300) | {grp: (. % 7), v: "r\(.)"}]')"
    expect 201
    # a writer inserts rows while the reader pages by grp (ties within each
    # grp broken by id): grp -1 sorts before every page, grp 3 in the middle
    (for i in $(seq 1 30); do
        curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" -d "[{\"grp\":-1,\"v\":\"late$i\"},{\"grp\":3,\"v\":\"mid$i\"}]" "$URL/sql/tables/pg/rows"
    done) &
    local writer=$!
    local seen="" after="" page=0
    while :; do
        rows pg "order=grp.asc&limit=13${after:+&after=$after}"
        seen="$seen $(jq -r '.items[] | "\(.id):\(.grp)"' <<<"$BODY")"
        after=$(jq -r '.next // empty' <<<"$BODY")
        page=$((page + 1))
        [ -n "$after" ] || break
        [ "$page" -lt 200 ] || { echo "too many pages" >&2; return 1; }
    done
    wait "$writer"
    # no id twice
    local dups
    dups=$(tr ' ' '\n' <<<"$seen" | sed '/^$/d' | cut -d: -f1 | sort | uniq -d)
    [ -z "$dups" ] || { echo "repeated: $dups" >&2; return 1; }
    # the order held: grp never goes down, and within a grp ids go up
    tr ' ' '\n' <<<"$seen" | sed '/^$/d' | awk -F: 'NR>1 && ($2<g || ($2==g && $1<=i)) {bad=1} {g=$2; i=$1} END {exit bad}'
    # every one of the first 300 rows was seen (they were there before the first page)
    local first
    first=$(tr ' ' '\n' <<<"$seen" | sed '/^$/d' | cut -d: -f1 | awk '$1<=300' | sort -u | wc -l)
    [ "$first" -eq 300 ]
}

@test "the opaque cursor: continues exactly, refused under another ordering or when edited" {
    create '{"name":"cur","columns":[{"name":"k","type":"text"}]}'
    expect 201
    insert cur '[{"k":"b"},{"k":"a"},{"k":"b"},{"k":null},{"k":"a"}]'
    expect 201
    rows cur "order=k.desc&limit=2"
    [ "$(ids)" = 4,3 ]
    local next
    next=$(jq -r .next <<<"$BODY")
    [ "$next" != 1 ]
    rows cur "order=k.desc&limit=2&after=$next"
    [ "$(ids)" = 1,5 ]
    rows cur "order=k.desc&limit=2&after=$(jq -r .next <<<"$BODY")"
    [ "$(ids)" = 2 ] && expect 200 '.next == null'
    http GET "/sql/tables/cur/rows?order=k.asc&after=$next"
    expect_error 422 validation_failed after
    # one character edited in the middle (the checksum sees it)
    local c=${next:12:1} edited
    [ "$c" = B ] && edited="${next:0:12}C${next:13}" || edited="${next:0:12}B${next:13}"
    http GET "/sql/tables/cur/rows?order=k.desc&after=$edited"
    expect_error 422 validation_failed after
    http GET "/sql/tables/cur/rows?after=$next"
    expect_error 422 validation_failed after
}

@test "reserved names cannot be new columns; an id filter and order work; the tool takes the same query" {
    local r
    for r in select order limit after count on_conflict max_affected confirm; do
        create "{\"name\":\"r_$r\",\"columns\":[{\"name\":\"$r\",\"type\":\"text\"}]}"
        expect_error 422 validation_failed 'columns[0].name'
    done
    create '{"name":"tool","columns":[{"name":"n","type":"integer"}]}'
    expect 201
    insert tool "$(jq -cn '[range(1;6) | {n: .}]')"
    expect 201
    mcp_call sql_select_rows '{"name":"tool","where":{"n":"gt.2"},"order":"n.desc","select":"n","count":"exact","limit":2}'
    [ "$TOOL_ERROR" = false ]
    expect 200 '.items == [{"id":5,"n":5},{"id":4,"n":4}]' '.count == 3' '.next | type == "string"'
    mcp_call sql_select_rows "$(jq -cn --arg a "$(jq -r .next <<<"$BODY")" '{name:"tool",where:{n:"gt.2"},order:"n.desc",select:"n",after:$a}')"
    expect 200 '.items == [{"id":3,"n":3}]' '.next == null'
    mcp_call sql_select_rows '{"name":"tool","where":{"n":"like.1"}}'
    [ "$TOOL_ERROR" = true ]
    expect 200 '.error == "validation_failed"' '.field == "n"'
}

@test "writes by filter: PATCH and DELETE change the matching rows, answer them and their count; no filter is 422" {
    create '{"name":"w","columns":[{"name":"g","type":"integer"},{"name":"s","type":"text"},{"name":"code","type":"text","unique":true}]}'
    expect 201
    insert w "$(jq -cn '[range(1;11) | {g: (. % 3), s: "v\(.)", code: "c\(.)"}]')"
    expect 201
    http PATCH "/sql/tables/w/rows?g=eq.1" -d '{"s":"one"}'
    expect 200 '.count == 4' '[.items[].id] == [1,4,7,10]' 'all(.items[]; .s == "one" and .g == 1)'
    rows w "s=eq.one"
    [ "$(ids)" = 1,4,7,10 ]
    rows w "s=neq.one"
    [ "$(ids)" = 2,3,5,6,8,9 ]
    # nothing matches: 200, no items, count 0
    http PATCH "/sql/tables/w/rows?g=eq.9" -d '{"s":"x"}'
    expect 200 '.items == []' '.count == 0'
    # no filter: 422, nothing changed
    http PATCH "/sql/tables/w/rows" -d '{"s":"all"}'
    expect_error 422 validation_failed
    http DELETE "/sql/tables/w/rows"
    expect_error 422 validation_failed
    [ "$(psql_q "SELECT count(*) FROM sql_w WHERE s = 'all'")" = 0 ]
    [ "$(psql_q "SELECT count(*) FROM sql_w")" = 10 ]
    # the body's values and the filters are checked like everywhere else
    http PATCH "/sql/tables/w/rows?g=eq.1" -d '{"g":"x"}'
    expect_error 422 validation_failed g
    http PATCH "/sql/tables/w/rows?g=eq.1" -d '{"nope":1}'
    expect_error 422 validation_failed nope
    http PATCH "/sql/tables/w/rows?g=eq.1" -d '{"id":5}'
    expect_error 422 validation_failed id
    http PATCH "/sql/tables/w/rows?g=eq.1" -d '{}'
    expect_error 422 validation_failed set
    http PATCH "/sql/tables/w/rows?g=like.1" -d '{"s":"x"}'
    expect_error 422 validation_failed g
    http PATCH "/sql/tables/w/rows?g=eq.1&order=g" -d '{"s":"x"}'
    expect_error 422 validation_failed order
    http DELETE "/sql/tables/w/rows?g=eq.1&select=g"
    expect_error 422 validation_failed select
    # a unique value taken by two rows at once: 409 naming the column, nothing changed
    http PATCH "/sql/tables/w/rows?g=eq.2" -d '{"code":"same"}'
    expect_error 409 conflict code
    [ "$(psql_q "SELECT count(*) FROM sql_w WHERE code = 'same'")" = 0 ]
    # DELETE answers the deleted rows
    http DELETE "/sql/tables/w/rows?g=eq.0&s=like.v*"
    expect 200 '.count == 3' '[.items[].id] == [3,6,9]'
    rows w ""
    [ "$(ids)" = 1,2,4,5,7,8,10 ]
    http DELETE "/sql/tables/nosuch/rows?g=eq.1"
    expect_error 404 not_found name
}

@test "writes by filter: max_affected exactly at the count writes, one under changes nothing; items capped at 1000, count whole" {
    create '{"name":"m","columns":[{"name":"g","type":"integer"}]}'
    expect 201
    insert m "$(jq -cn '[range(0;10) | {g: (. % 2)}]')"
    expect 201
    http PATCH "/sql/tables/m/rows?g=eq.1&max_affected=4" -d '{"g":7}'
    expect_error 422 validation_failed max_affected
    [ "$(psql_q "SELECT count(*) FROM sql_m WHERE g = 7")" = 0 ]
    http PATCH "/sql/tables/m/rows?g=eq.1&max_affected=5" -d '{"g":7}'
    expect 200 '.count == 5'
    [ "$(psql_q "SELECT count(*) FROM sql_m WHERE g = 7")" = 5 ]
    http DELETE "/sql/tables/m/rows?g=eq.0&max_affected=4"
    expect_error 422 validation_failed max_affected
    [ "$(psql_q "SELECT count(*) FROM sql_m")" = 10 ]
    http DELETE "/sql/tables/m/rows?g=eq.0&max_affected=5"
    expect 200 '.count == 5'
    [ "$(psql_q "SELECT count(*) FROM sql_m")" = 5 ]
    http DELETE "/sql/tables/m/rows?g=eq.7&max_affected=-1"
    expect_error 422 validation_failed max_affected
    # 1001 rows changed: 1000 answered, the count says all
    insert m "$(jq -cn '[range(0;1000) | {g: 3}]')"
    expect 201
    insert m '{"g":3}'
    expect 201
    http PATCH "/sql/tables/m/rows?g=eq.3" -d '{"g":4}'
    expect 200 '.count == 1001' '(.items | length) == 1000' '.items | map(.id) | . == sort'
    http DELETE "/sql/tables/m/rows?g=eq.4&max_affected=1001"
    expect 200 '.count == 1001' '(.items | length) == 1000'
    [ "$(psql_q "SELECT count(*) FROM sql_m")" = 5 ]
}

@test "writes by filter through the tools: sql_update_rows and sql_delete_rows" {
    create '{"name":"wt","columns":[{"name":"n","type":"integer"},{"name":"s","type":"text"}]}'
    expect 201
    insert wt "$(jq -cn '[range(1;6) | {n: ., s: "a"}]')"
    expect 201
    mcp_call sql_update_rows '{"name":"wt","where":{"n":"gte.4"},"set":{"s":"b"}}'
    [ "$TOOL_ERROR" = false ]
    expect 200 '.count == 2' '[.items[].id] == [4,5]' 'all(.items[]; .s == "b")'
    mcp_call sql_update_rows '{"name":"wt","set":{"s":"c"}}'
    [ "$TOOL_ERROR" = true ]
    expect 200 '.error == "validation_failed"'
    mcp_call sql_delete_rows '{"name":"wt","where":{"s":"a"},"max_affected":2}'
    [ "$TOOL_ERROR" = true ]
    expect 200 '.field == "max_affected"'
    mcp_call sql_delete_rows '{"name":"wt","where":{"s":"a"},"max_affected":3}'
    [ "$TOOL_ERROR" = false ]
    expect 200 '.count == 3'
    [ "$(psql_q "SELECT string_agg(id::text, ',' ORDER BY id) FROM sql_wt")" = 4,5 ]
}

@test "upsert: on_conflict inserts or updates, each row says inserted; the columns a body names are set" {
    create '{"name":"up","columns":[{"name":"sha","type":"text","unique":true},{"name":"ok","type":"boolean"},{"name":"note","type":"text"}]}'
    expect 201
    http POST "/sql/tables/up/rows?on_conflict=sha" -d '{"sha":"a","ok":false,"note":"first"}'
    expect 201 '.items[0].inserted == true' '.items[0].sha == "a"' '.items[0].id == 1'
    http POST "/sql/tables/up/rows?on_conflict=sha" -d '[{"sha":"a","ok":true},{"sha":"b","ok":true}]'
    expect 201 '.items == (.items | sort_by(.id))' '[.items[] | [.id, .sha, .inserted, .ok]] == [[1,"a",false,true],[3,"b",true,true]]'
    # a column the body does not name keeps its value
    http GET /sql/tables/up/rows/1
    expect 200 '.note == "first"' '.ok == true' 'has("inserted") | not'
    [ "$(psql_q "SELECT count(*) FROM sql_up")" = 2 ]
    # without on_conflict a taken value is still 409
    insert up '{"sha":"a"}'
    expect_error 409 conflict sha
    # on_conflict must name a unique column; one body may not hold a key twice
    http POST "/sql/tables/up/rows?on_conflict=note" -d '{"sha":"z"}'
    expect_error 422 validation_failed on_conflict
    http POST "/sql/tables/up/rows?on_conflict=nosuch" -d '{"sha":"z"}'
    expect_error 422 validation_failed on_conflict
    http POST "/sql/tables/up/rows?on_conflict=Bad" -d '{"sha":"z"}'
    expect_error 422 validation_failed on_conflict
    http POST "/sql/tables/up/rows?on_conflict=sha" -d '[{"sha":"x"},{"sha":"x"}]'
    expect_error 422 validation_failed on_conflict
    http POST "/sql/tables/up/rows?on_conflict=sha" -d '{"sha":"y","ok":"no"}'
    expect_error 422 validation_failed ok
    [ "$(psql_q "SELECT count(*) FROM sql_up")" = 2 ]
    # the tool takes on_conflict too
    mcp_call sql_insert_rows '{"name":"up","on_conflict":"sha","rows":{"sha":"b","note":"tool"}}'
    [ "$TOOL_ERROR" = false ]
    expect 200 '.items[0].inserted == false' '.items[0].id == 3' '.items[0].note == "tool"'
}

@test "upsert: 50 concurrent upserts of one value make one row" {
    create '{"name":"race","columns":[{"name":"k","type":"text","unique":true},{"name":"n","type":"integer"}]}'
    expect 201
    local i
    for i in $(seq 1 50); do
        curl -s -o "$BATS_TEST_TMPDIR/up.$i" -w '%{http_code}\n' -H "Authorization: Bearer $TOKEN" \
            -d "{\"k\":\"same\",\"n\":$i}" "$URL/sql/tables/race/rows?on_conflict=k" >"$BATS_TEST_TMPDIR/code.$i" &
    done
    wait
    [ "$(cat "$BATS_TEST_TMPDIR"/code.* | sort -u)" = 201 ]
    [ "$(psql_q "SELECT count(*) FROM sql_race")" = 1 ]
    # exactly one of them inserted, the 49 others updated that row
    [ "$(cat "$BATS_TEST_TMPDIR"/up.* | jq -s '[.[].items[0].inserted] | map(select(.)) | length')" = 1 ]
    [ "$(cat "$BATS_TEST_TMPDIR"/up.* | jq -s '[.[].items[0].id] | unique | length')" = 1 ]
}

@test "drop a table: confirm must name it; gone from the catalog, the registry and /openapi.json at once; the name is free again" {
    create '{"name":"gone","columns":[{"name":"a","type":"text"}]}'
    expect 201
    insert gone '{"a":"x"}'
    expect 201
    http DELETE /sql/tables/gone
    expect_error 422 validation_failed confirm
    http DELETE "/sql/tables/gone?confirm=other"
    expect_error 422 validation_failed confirm
    http DELETE "/sql/tables/gone?confirm=gone&a=1"
    expect_error 422 validation_failed a
    [ "$(psql_q "SELECT count(*) FROM sql_gone")" = 1 ]
    http GET /openapi.json
    expect 200 '.components.schemas | has("sql_row_gone")'
    http DELETE "/sql/tables/gone?confirm=gone"
    expect 200 '. == {"name":"gone","dropped":true}'
    [ "$(psql_q "SELECT count(*) FROM pg_tables WHERE tablename = 'sql_gone'")" = 0 ]
    [ "$(psql_q "SELECT count(*) FROM sql__tables WHERE name = 'gone'")" = 0 ]
    http GET /openapi.json
    expect 200 '.components.schemas | has("sql_row_gone") | not' '.paths | has("/sql/tables/gone/rows") | not'
    http DELETE "/sql/tables/gone?confirm=gone"
    expect_error 404 not_found name
    # every worker of both processes answers 404 for its rows, never a 500
    local i
    for i in $(seq 1 12); do
        http GET /sql/tables/gone/rows
        expect_error 404 not_found name
        insert gone '{"a":"y"}'
        expect_error 404 not_found name
    done
    # the name is free: a new table of it, other columns, works everywhere
    create '{"name":"gone","columns":[{"name":"b","type":"integer"}]}'
    expect 201
    for i in $(seq 1 12); do
        insert gone "{\"b\":$i}"
        expect 201 ".items[0].b == $i" '.items[0] | has("a") | not'
    done
    rows gone "b=gt.10"
    [ "$(jq -c '[.items[].b]' <<<"$BODY")" = "[11,12]" ]
    # the tool
    mcp_call sql_drop_table '{"name":"gone"}'
    [ "$TOOL_ERROR" = true ]
    expect 200 '.field == "confirm"'
    mcp_call sql_drop_table '{"name":"gone","confirm":"gone"}'
    [ "$TOOL_ERROR" = false ]
    expect 200 '.dropped == true'
}

@test "drop a table while writers insert into it: each insert is 201 or 404, never a 500" {
    create '{"name":"busy","columns":[{"name":"n","type":"integer"}]}'
    expect 201
    local i
    for i in $(seq 1 40); do
        curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $TOKEN" -d "{\"n\":$i}" \
            "$URL/sql/tables/busy/rows" >"$BATS_TEST_TMPDIR/busy.$i" &
        [ "$i" = 20 ] && { http DELETE "/sql/tables/busy?confirm=busy"; expect 200; }
    done
    wait
    cat "$BATS_TEST_TMPDIR"/busy.* | sort | uniq -c >&3
    [ -z "$(cat "$BATS_TEST_TMPDIR"/busy.* | grep -vE '^(201|404)$')" ]
}

@test "columns: added (with a default) and dropped while writers insert; every worker and /openapi.json see it at once" {
    create '{"name":"cc","columns":[{"name":"a","type":"text"},{"name":"u","type":"text","unique":true},{"name":"v","type":"text","unique":true}]}'
    expect 201
    insert cc '[{"a":"x","u":"u1","v":"v1"},{"a":"y","u":"u2","v":"v2"}]'
    expect 201
    # every worker of both processes caches the table first
    local i
    for i in $(seq 1 12); do rows cc "limit=1"; done
    (for i in $(seq 1 60); do
        curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $TOKEN" -d "{\"a\":\"w$i\"}" "$URL/sql/tables/cc/rows"
    done) >"$BATS_TEST_TMPDIR/writers" &
    local writer=$!
    http POST /sql/tables/cc/columns -d '{"column":"n","type":"integer","default":7}'
    expect 201 '.columns[-1] == {"name":"n","type":"integer","nullable":true,"unique":false}'
    for i in $(seq 1 12); do
        http GET /sql/tables/cc/rows/1
        expect 200 '.n == 7' || return 1
        insert cc "{\"a\":\"n$i\",\"n\":$i}"
        expect 201 ".items[0].n == $i" || return 1
    done
    http GET /openapi.json
    expect 200 '.components.schemas.sql_row_cc.properties.n.type == ["integer", "null"]'
    # drop a unique column in the middle: the next one's uniqueness still names it
    http DELETE /sql/tables/cc/columns/u
    expect 200 '[.columns[].name] == ["a","v","n"]'
    for i in $(seq 1 12); do
        rows cc "limit=1"
        expect 200 '.items[0] | has("u") | not' || return 1
        insert cc '{"u":"x","n":1}'
        expect_error 422 validation_failed u || return 1
    done
    insert cc '{"v":"v1","n":1}'
    expect_error 409 conflict v
    wait "$writer"
    [ -z "$(grep -v '^201$' "$BATS_TEST_TMPDIR/writers")" ] || { sort "$BATS_TEST_TMPDIR/writers" | uniq -c >&2; return 1; }
    [ "$(psql_q "SELECT count(*) FROM sql_cc WHERE a LIKE 'w%'")" = 60 ]
    http GET /openapi.json
    expect 200 '.components.schemas.sql_row_cc.properties | has("u") | not'
    # the tool: add, then drop alone
    mcp_call sql_alter_table '{"name":"cc","column":"note","type":"text","unique":true}'
    [ "$TOOL_ERROR" = false ]
    expect 200 '.columns[-1].name == "note"'
    insert cc '{"note":"same","n":1}'
    expect 201
    insert cc '{"note":"same","n":2}'
    expect_error 409 conflict note
    mcp_call sql_alter_table '{"name":"cc","drop":"note"}'
    [ "$TOOL_ERROR" = false ]
    expect 200 '[.columns[].name] == ["a","v","n"]'
}

@test "columns: what a change refuses" {
    create '{"name":"cr","columns":[{"name":"a","type":"text"}]}'
    expect 201
    insert cr '[{"a":"x"},{"a":"x"}]'
    expect 201
    http POST /sql/tables/cr/columns -d '{"column":"a","type":"text"}'
    expect_error 409 conflict name
    http POST /sql/tables/cr/columns -d '{"column":"count","type":"text"}'
    expect_error 422 validation_failed column
    http POST /sql/tables/cr/columns -d '{"column":"id","type":"text"}'
    expect_error 422 validation_failed column
    http POST /sql/tables/cr/columns -d '{"column":"b","type":"money"}'
    expect_error 422 validation_failed type
    http POST /sql/tables/cr/columns -d '{"column":"b","type":"integer","default":"x"}'
    expect_error 422 validation_failed default
    http POST /sql/tables/cr/columns -d '{"column":"b","type":"date","default":"2024-02-30"}'
    expect_error 422 validation_failed default
    http POST /sql/tables/cr/columns -d '{"column":"b","type":"text","nullable":false}'
    expect_error 422 validation_failed default
    http POST /sql/tables/cr/columns -d '{"column":"b","type":"text","unique":true,"default":"same"}'
    expect_error 409 conflict name
    http POST /sql/tables/nosuch/columns -d '{"column":"b","type":"text"}'
    expect_error 404 not_found name
    http DELETE /sql/tables/cr/columns/nosuch
    expect_error 404 not_found column
    http DELETE /sql/tables/cr/columns/a
    expect_error 422 validation_failed column
    # nothing changed: the table is as created
    http GET /sql/tables/cr
    expect 200 '.columns == [{"name":"a","type":"text","nullable":true,"unique":false}]'
    [ "$(psql_q "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = 'sql_cr'")" = id,a,created_at ]
    # a default with a quote travels safely
    http POST /sql/tables/cr/columns -d "{\"column\":\"q\",\"type\":\"text\",\"default\":\"it's'; DROP TABLE sql_cr; --\"}"
    expect 201
    rows cr ""
    expect 200 "all(.items[]; .q == \"it's'; DROP TABLE sql_cr; --\")"
}

@test "no request of this file was answered 500, and no server error was logged but the dropped tables'" {
    run ! grep '"status":50[0-2]' "$STACK_DIR/main/lighttpd.log"
    grep '"level":"error"' "$STACK_DIR/main/lighttpd.log" | grep -v -e 'database error 42P01' -e 'database error 21000' -e 'database error SQLCH' -e 'database error 42703' | cut -c1-250 | sort | uniq -c >&2
    # Expected: statements on a table dropped under them (42P01), or whose
    # definition changed under them (SQLCH, 42703: read again, retried), an
    # upsert body holding one key twice (21000, answered 422); nothing else
    [ -z "$(grep '"level":"error"' "$STACK_DIR/main/lighttpd.log" | grep -v -e 'database error 42P01' -e 'database error 21000' -e 'database error SQLCH' -e 'database error 42703')" ]
}
