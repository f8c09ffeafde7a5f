#!/usr/bin/env bats
# sql mode (docs/sql.md) through lighttpd: typed tables on demand.

load ../lib/stack
bats_require_minimum_version 1.5.0

setup_file() { stack_setup; }
teardown_file() { stack_teardown; }

create() { http POST /sql/tables -d "$1"; }
insert() { http POST "/sql/tables/$1/rows" -d "$2"; }

# The tables of the public schema, sorted, one line each.
catalog() { psql_q "SELECT string_agg(tablename, ' ' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'"; }

# fcgi_direct N METHOD URI [BODY]: one request straight to sql process N,
# bypassing lighttpd's balancing. Prints the status line's code.
fcgi_direct() {
    local sock=$STACK_DIR/main/sockets/sql.sock-$1 body=${4:-}
    printf '%s' "$body" | env -i REQUEST_METHOD="$2" REQUEST_URI="$3" SCRIPT_NAME="$3" \
        CONTENT_LENGTH="${#body}" HTTP_AUTHORIZATION="Bearer $TOKEN" \
        cgi-fcgi -bind -connect "$sock" | tr -d '\r' | sed -n 's/^Status: \([0-9]*\).*/\1/p'
}

@test "POST /sql/tables: 201 with name, table, columns (defaults filled), created_at; GET one and list" {
    create '{"name":"builds","columns":[{"name":"sha","type":"text","nullable":false,"unique":true},{"name":"ok","type":"boolean"}]}'
    expect 201 '.name == "builds"' '.table == "sql_builds"' \
        '.columns == [{"name":"sha","type":"text","nullable":false,"unique":true},{"name":"ok","type":"boolean","nullable":true,"unique":false}]' \
        '.created_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z$")'
    created=$BODY
    http GET /sql/tables/builds
    expect 200
    [ "$(jq -S . <<<"$BODY")" = "$(jq -S . <<<"$created")" ]
    http GET /sql/tables
    expect 200 '[.items[].name] | index("builds") != null' '.next == null'
    # A real table, with id and created_at.
    [ "$(psql_q "SELECT string_agg(column_name || ':' || data_type || ':' || is_nullable, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = 'sql_builds'")" = \
        "id:bigint:NO,sha:text:NO,ok:boolean:YES,created_at:timestamp with time zone:NO" ]
    [ "$(psql_q "SELECT is_identity || identity_generation FROM information_schema.columns WHERE table_name = 'sql_builds' AND column_name = 'id'")" = "YESALWAYS" ]
    create '{"name":"builds","columns":[{"name":"x","type":"text"}]}'
    expect_error 409 conflict name
    http GET /sql/tables/nosuch
    expect_error 404 not_found name
}

@test "table names: 48 characters pass, 49 fail; hostile names are 422 and change nothing" {
    n48=$(printf 'a%.0s' {1..48})
    create "{\"name\":\"$n48\",\"columns\":[{\"name\":\"v\",\"type\":\"text\"}]}"
    expect 201 ".table == \"sql_$n48\""
    before=$(catalog)
    create "{\"name\":\"${n48}b\",\"columns\":[{\"name\":\"v\",\"type\":\"text\"}]}"
    expect_error 422 validation_failed name
    long=$(printf 'x%.0s' {1..1000})
    for name in '"x; drop table sentinels"' '"X"' '"a-b"' '"pg_class"' '"pg_x"' "\"$long\"" '"a\"b"' "\"a'b\"" \
        '"\u0430bc"' '"caf\u00e9"' '"a\u0000b"' '""' '"1abc"' '"_a"' '"a b"' '"information_schema"' \
        '"a;"' '"\u2024a"' 'null' '42' '["a"]'; do
        create "{\"name\":$name,\"columns\":[{\"name\":\"v\",\"type\":\"text\"}]}"
        expect_error 422 validation_failed name || { echo "name $name"; return 1; }
    done
    [ "$(catalog)" = "$before" ]
    [ "$(psql_q "SELECT count(*) FROM sentinels WHERE mode = 'sql'")" = 1 ]
}

@test "columns: 64 pass, 65 fail; reserved, duplicate, hostile names and unknown types are 422" {
    cols=$(for i in $(seq 1 64); do printf '{"name":"c%d","type":"integer"},' "$i"; done)
    create "{\"name\":\"wide\",\"columns\":[${cols%,}]}"
    expect 201 '.columns | length == 64'
    insert wide "{\"c1\":1,\"c64\":64}"
    expect 201 '.items[0].c1 == 1' '.items[0].c64 == 64' '.items[0].c2 == null'
    before=$(catalog)
    create "{\"name\":\"wider\",\"columns\":[${cols}{\"name\":\"c65\",\"type\":\"integer\"}]}"
    expect_error 422 validation_failed columns
    create '{"name":"nocols","columns":[]}'
    expect_error 422 validation_failed columns
    create '{"name":"nocols"}'
    expect_error 422 validation_failed columns
    for c in id created_at xmin ctid tableoid 'x; drop table sentinels' X a-b '' 'a"b' "a'b"; do
        create "{\"name\":\"badcol\",\"columns\":[{\"name\":$(jq -Rn --arg c "$c" '$c'),\"type\":\"text\"}]}"
        expect_error 422 validation_failed 'columns[0].name' || { echo "column $c"; return 1; }
    done
    create '{"name":"badcol","columns":[{"name":"a","type":"text"},{"name":"a","type":"integer"}]}'
    expect_error 422 validation_failed 'columns[1].name'
    for t in varchar TEXT int float '"text; drop table sentinels"' 'serial' '"text primary key"' ''; do
        create "{\"name\":\"badcol\",\"columns\":[{\"name\":\"a\",\"type\":$(jq -Rn --arg t "$t" '$t')}]}"
        expect_error 422 validation_failed 'columns[0].type' || { echo "type $t"; return 1; }
    done
    create '{"name":"badcol","columns":[{"name":"a","type":"text","nullable":"no"}]}'
    expect_error 422 validation_failed 'columns[0].nullable'
    create '{"name":"badcol","columns":[{"name":"a","type":"text","default":"x"}]}'
    expect_error 422 validation_failed 'columns[0].default'
    create '{"name":"badcol","columns":[{"name":"a","type":"text"}],"owner":"me"}'
    expect_error 422 validation_failed owner
    create '[1]'
    expect_error 422 validation_failed body
    [ "$(catalog)" = "$before" ]
}

@test "a concurrent create of one name: one 201, the others 409, never a 500" {
    body='{"name":"race","columns":[{"name":"v","type":"text"}]}'
    for i in 1 2 3 4 5 6; do
        curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $TOKEN" -d "$body" "$URL/sql/tables" &
    done >"$BATS_TEST_TMPDIR/codes"
    wait
    sort "$BATS_TEST_TMPDIR/codes" | uniq -c | tr -s ' ' >"$BATS_TEST_TMPDIR/counts"
    cat "$BATS_TEST_TMPDIR/counts"
    [ "$(grep -c . "$BATS_TEST_TMPDIR/codes")" = 6 ]
    [ "$(grep -c '^201$' "$BATS_TEST_TMPDIR/codes")" = 1 ]
    [ "$(grep -c '^409$' "$BATS_TEST_TMPDIR/codes")" = 5 ]
}

@test "a table made by one sql process is usable at once through the other" {
    [ -S "$STACK_DIR/main/sockets/sql.sock-0" ] && [ -S "$STACK_DIR/main/sockets/sql.sock-1" ]
    # Both processes know the registry's state before the table exists.
    [ "$(fcgi_direct 0 GET /sql/tables/xproc/rows)" = 404 ]
    [ "$(fcgi_direct 1 GET /sql/tables/xproc/rows)" = 404 ]
    [ "$(fcgi_direct 0 POST /sql/tables '{"name":"xproc","columns":[{"name":"v","type":"integer"}]}')" = 201 ]
    [ "$(fcgi_direct 1 POST /sql/tables/xproc/rows '{"v":1}')" = 201 ]
    [ "$(fcgi_direct 0 POST /sql/tables/xproc/rows '{"v":2}')" = 201 ]
    [ "$(fcgi_direct 1 POST /sql/tables '{"name":"xproc2","columns":[{"name":"v","type":"integer"}]}')" = 201 ]
    [ "$(fcgi_direct 0 POST /sql/tables/xproc2/rows '[{"v":1},{"v":2}]')" = 201 ]
    [ "$(fcgi_direct 0 GET /sql/tables/xproc2/rows/2)" = 200 ]
    [ "$(fcgi_direct 1 GET /sql/tables/xproc2/rows/2)" = 200 ]
    # And through lighttpd, many at once.
    for i in $(seq 1 12); do
        curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $TOKEN" -d "{\"v\":$i}" "$URL/sql/tables/xproc/rows" &
    done >"$BATS_TEST_TMPDIR/codes"
    wait
    [ "$(grep -c '^201$' "$BATS_TEST_TMPDIR/codes")" = 12 ]
    [ "$(psql_q 'SELECT count(*) FROM sql_xproc')" = 14 ]
}

@test "every type round-trips a value" {
    create '{"name":"types","columns":[{"name":"t","type":"text"},{"name":"i","type":"integer"},{"name":"b","type":"bigint"},{"name":"f","type":"double"},{"name":"n","type":"numeric"},{"name":"n2","type":"numeric"},{"name":"ok","type":"boolean"},{"name":"at","type":"timestamptz"},{"name":"d","type":"date"},{"name":"j","type":"jsonb"},{"name":"u","type":"uuid"}]}'
    expect 201
    row='{"t":"h\u00e9llo \u2603","i":-2147483648,"b":9007199254740993,"f":1.5e300,"n":123456789012345678901234567890,"n2":"-0.000000000000000000000000000001","ok":false,"at":"2024-03-01T12:30:00.123456+02:00","d":"2024-02-29","j":{"a":{"b":[1,{"c":null},"x"]},"e":true},"u":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}'
    insert types "$row"
    expect 201 '.items | length == 1' '.items[0].id == 1' '.items[0].t == "h\u00e9llo \u2603"' '.items[0].i == -2147483648' \
        '.items[0].f == 1.5e300' '.items[0].n == "123456789012345678901234567890"' \
        '.items[0].n2 == "-0.000000000000000000000000000001"' '.items[0].ok == false' \
        '.items[0].at == "2024-03-01T10:30:00.123456Z"' '.items[0].d == "2024-02-29"' \
        '.items[0].j == {"a":{"b":[1,{"c":null},"x"]},"e":true}' \
        '.items[0].u == "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"' \
        '.items[0].created_at | test("Z$")'
    # jq rounds big integers: compare the raw text.
    [[ "$BODY" == *'"b":9007199254740993'* ]]
    for path in /sql/tables/types/rows/1 /sql/tables/types/rows; do
        http GET "$path"
        expect 200
        [[ "$BODY" == *'"b":9007199254740993'* ]]
        [[ "$BODY" == *'"n":"123456789012345678901234567890"'* ]]
        [[ "$BODY" == *'"at":"2024-03-01T10:30:00.123456Z"'* ]]
    done
    [ "$(psql_q 'SELECT n FROM sql_types WHERE id = 1')" = 123456789012345678901234567890 ]
    # numeric as a string in; nulls everywhere.
    insert types '{"n":"3.14159265358979323846264338327950288"}'
    expect 201 '.items[0].n == "3.14159265358979323846264338327950288"' '.items[0].t == null' '.items[0].j == null'
    insert types '{"t":null,"i":null,"b":null,"f":null,"n":null,"ok":null,"at":null,"d":null,"j":null,"u":null}'
    expect 201 '.items[0] | [.t,.i,.b,.f,.n,.ok,.at,.d,.j,.u] == [null,null,null,null,null,null,null,null,null,null]'
    [ "$(psql_q "SELECT j IS NULL FROM sql_types WHERE id = 3")" = t ]
    # jsonb takes any JSON value.
    for v in '"s"' '[1,[2]]' '0.1' 'true'; do
        insert types "{\"j\":$v}"
        expect 201 ".items[0].j == $v" || return 1
    done
    insert types '{"i":7.0,"b":-9223372036854775808}'
    expect 201 '.items[0].i == 7'
    [[ "$BODY" == *'"b":-9223372036854775808'* ]]
}

@test "each type refuses a value of the wrong JSON type with 422 naming the column" {
    for case in 't:1' 't:true' 'i:"1"' 'i:1.5' 'i:true' 'i:2147483648' 'b:"1"' 'b:1e19' 'f:"1.5"' 'f:false' \
        'n:true' 'n:[1]' 'ok:"true"' 'ok:1' 'at:1700000000' 'd:20240101' 'u:1' 'u:{}' 'j:"\u0000"'; do
        col=${case%%:*} val=${case#*:}
        insert types "{\"$col\":$val}"
        expect_error 422 validation_failed "$col" || { echo "case $case"; return 1; }
    done
    # Values of the right JSON type that PostgreSQL refuses: still 422 naming the column.
    for case in 'u:"not-a-uuid"' 'd:"2024-02-30"' 'd:"soon"' 'at:"2024-13-01T00:00:00Z"' 'n:"abc"' \
        'b:9223372036854775808' 'i:1.00000000000000000001' 'b:7.0000000000000000000001' 'at:"infinity"' \
        'at:" -Infinity "'; do
        col=${case%%:*} val=${case#*:}
        insert types "[{\"t\":\"ok\"},{\"$col\":$val}]"
        expect_error 422 validation_failed "$col" || { echo "case $case"; return 1; }
    done
    [ "$(psql_q "SELECT count(*) FROM sql_types WHERE t = 'ok'")" = 0 ]
    # a whole number written with a fraction part is still an integer
    insert types '{"t":"whole","i":2.0,"b":3.000}'
    expect 201 '.items[0].i == 2' '.items[0].b == 3'
}

@test "hostile values are stored and read back byte for byte, or refused with 422" {
    create '{"name":"notes","columns":[{"name":"body","type":"text","nullable":false},{"name":"meta","type":"jsonb"}]}'
    expect 201
    for v in "'); drop table sentinels; --" "Robert'); DROP TABLE sql_notes;--" 'back\slash \\ \" quote' \
        '$1 $$ %s %n \x00' "é☃𝄞 ‮rtl" "$(printf 'tab\tnew\nline')" '"; select pg_sleep(10); --'; do
        body=$(jq -cn --arg v "$v" '{body: $v, meta: {($v): [$v]}}')
        insert notes "$body"
        expect 201 || return 1
        id=$(jq '.items[0].id' <<<"$BODY")
        http GET "/sql/tables/notes/rows/$id"
        expect 200 || return 1
        [ "$(jq -r .body <<<"$BODY")" = "$v" ] || { echo "text $v came back as $(jq .body <<<"$BODY")"; return 1; }
        [ "$(jq -c .meta <<<"$BODY")" = "$(jq -c .meta <<<"$body")" ] || return 1
        [ "$(psql_q "SELECT body = \$x\$$v\$x\$ FROM sql_notes WHERE id = $id")" = t ] || return 1
        http GET "/sql/tables/notes/rows?body=$(jq -rn --arg v "$v" '$v|@uri')"
        expect 200 ".items | length == 1" ".items[0].id == $id" || return 1
    done
    insert notes '{"body":"a\u0000b"}'
    expect_error 422 validation_failed body
    insert notes '{"body":"x","meta":{"k":["a\u0000"]}}'
    expect_error 422 validation_failed meta
    [ "$(psql_q "SELECT count(*) FROM sentinels")" -ge 1 ]
}

@test "rows: 1000 in one request pass, 1001 fail; one transaction, all or none" {
    create '{"name":"bulk","columns":[{"name":"k","type":"integer","unique":true}]}'
    expect 201
    jq -cn '[range(1;1001) | {k: .}]' >"$BATS_TEST_TMPDIR/1000.json"
    insert bulk "@$BATS_TEST_TMPDIR/1000.json"
    expect 201 '.items | length == 1000' '[.items[].k] == [range(1;1001)]' '[.items[].id] == [range(1;1001)]'
    jq -cn '[range(2001;3002) | {k: .}]' >"$BATS_TEST_TMPDIR/1001.json"
    insert bulk "@$BATS_TEST_TMPDIR/1001.json"
    expect_error 422 validation_failed body
    # A unique value taken by the last row of a batch: 409 naming it, nothing inserted.
    insert bulk '[{"k":5001},{"k":5002},{"k":7}]'
    expect_error 409 conflict k
    # A refused value in the middle of a batch: 422, nothing inserted.
    insert bulk '[{"k":5001},{"k":"x"},{"k":5003}]'
    expect_error 422 validation_failed k
    insert bulk '[{"k":5001},{"k":99999999999},{"k":5003}]'
    expect_error 422 validation_failed k
    [ "$(psql_q 'SELECT count(*) FROM sql_bulk')" = 1000 ]
    insert bulk '[]'
    expect 201 '.items == []'
    insert bulk '[1]'
    expect_error 422 validation_failed body
    insert bulk '"x"'
    expect_error 422 validation_failed body
}

@test "rows: unique 409, not null 422, unknown or system column 422, bad JSON 400, unknown table 404" {
    insert builds '{"sha":"abc","ok":true}'
    expect 201 '.items[0].sha == "abc"' '.items[0].ok == true' '.items[0].id | type == "number"'
    insert builds '{"sha":"abc"}'
    expect_error 409 conflict sha
    insert builds '{"ok":true}'
    expect_error 422 validation_failed sha
    insert builds '{"sha":null}'
    expect_error 422 validation_failed sha
    insert builds '{"sha":"x","nope":1}'
    expect_error 422 validation_failed nope
    insert builds '{"sha":"x","id":5}'
    expect_error 422 validation_failed id
    insert builds '{"sha":"x","created_at":"2020-01-01T00:00:00Z"}'
    expect_error 422 validation_failed created_at
    insert builds '{"sha":'
    expect_error 400 invalid_json
    insert nosuch '{"a":1}'
    expect_error 404 not_found name
    insert 'Bad-Name' '{"a":1}'
    expect_error 422 validation_failed name
    # a long value in a unique column is refused, not a 500
    insert builds "{\"sha\":\"$(head -c 300000 /dev/zero | tr '\0' 'a' | head -c 9000)$(head -c 6000 /dev/urandom | base64 -w0)\"}"
    expect_error 422 validation_failed
}

@test "list: keyset pagination by id, order, limit, equality filters" {
    create '{"name":"pages","columns":[{"name":"k","type":"integer"},{"name":"tag","type":"text"},{"name":"on","type":"boolean"},{"name":"at","type":"timestamptz"}]}'
    expect 201
    insert pages "$(jq -cn '[range(1;8) | {k: ., tag: (if . % 2 == 0 then "even" else "odd" end), on: (. > 4), at: "2024-01-0\(.)T00:00:00Z"}]')"
    expect 201
    http GET "/sql/tables/pages/rows?limit=3"
    expect 200 '[.items[].k] == [1,2,3]' '.next == "3"'
    http GET "/sql/tables/pages/rows?limit=3&after=3"
    expect 200 '[.items[].k] == [4,5,6]' '.next == "6"'
    http GET "/sql/tables/pages/rows?limit=3&after=6"
    expect 200 '[.items[].k] == [7]' '.next == null'
    http GET "/sql/tables/pages/rows?order=desc&limit=3"
    expect 200 '[.items[].k] == [7,6,5]' '.next == "5"'
    http GET "/sql/tables/pages/rows?order=desc&after=5"
    expect 200 '[.items[].k] == [4,3,2,1]' '.next == null'
    http GET "/sql/tables/pages/rows?order=asc"
    expect 200 '[.items[].k] == [1,2,3,4,5,6,7]'
    http GET "/sql/tables/pages/rows?tag=even"
    expect 200 '[.items[].k] == [2,4,6]'
    http GET "/sql/tables/pages/rows?tag=odd&on=true&limit=1"
    expect 200 '[.items[].k] == [5]' '.next == "5"'
    http GET "/sql/tables/pages/rows?tag=odd&on=true&after=5"
    expect 200 '[.items[].k] == [7]' '.next == null'
    http GET "/sql/tables/pages/rows?k=3"
    expect 200 '[.items[].k] == [3]'
    http GET "/sql/tables/pages/rows?at=2024-01-02T01:00:00%2B01:00"
    expect 200 '[.items[].k] == [2]'
    http GET "/sql/tables/pages/rows?tag=none"
    expect 200 '.items == []' '.next == null'
    http GET "/sql/tables/pages/rows?nope=1"
    expect_error 422 validation_failed nope
    http GET "/sql/tables/pages/rows?id=1"
    expect 200 '[.items[].k] == [1]'
    http GET "/sql/tables/pages/rows?order=sideways"
    expect_error 422 validation_failed order
    http GET "/sql/tables/pages/rows?order=DESC"
    expect_error 422 validation_failed order
    http GET "/sql/tables/pages/rows?k=abc"
    expect_error 422 validation_failed k
    http GET "/sql/tables/pages/rows?on=maybe"
    expect_error 422 validation_failed on
    http GET "/sql/tables/pages/rows?at=yesterday-ish"
    expect_error 422 validation_failed at
    http GET "/sql/tables/pages/rows?limit=1001"
    expect_error 422 validation_failed limit
    http GET "/sql/tables/pages/rows?limit=0"
    expect_error 422 validation_failed limit
    http GET "/sql/tables/pages/rows?after=x"
    expect_error 422 validation_failed after
    # a column filtered twice: both hold
    http GET "/sql/tables/pages/rows?k=1&k=2"
    expect 200 '.items == []'
    http GET "/sql/tables/pages/rows?k=gt.1&k=lt.4"
    expect 200 '[.items[].k] == [2,3]'
    http GET "/sql/tables/nosuch/rows"
    expect_error 404 not_found name
}

@test "GET, PATCH, DELETE one row" {
    create '{"name":"items","columns":[{"name":"title","type":"text","nullable":false},{"name":"qty","type":"integer"},{"name":"code","type":"text","unique":true}]}'
    expect 201
    insert items '[{"title":"a","qty":1,"code":"A"},{"title":"b","qty":2,"code":"B"}]'
    expect 201
    http GET /sql/tables/items/rows/1
    expect 200 '.id == 1' '.title == "a"' '.qty == 1' '.code == "A"' '.created_at | test("Z$")'
    created=$(jq -r .created_at <<<"$BODY")
    http PATCH /sql/tables/items/rows/1 -d '{"qty":5}'
    expect 200 '.id == 1' '.title == "a"' '.qty == 5' '.code == "A"' ".created_at == \"$created\""
    http PATCH /sql/tables/items/rows/1 -d '{"qty":null,"title":"a2"}'
    expect 200 '.qty == null' '.title == "a2"'
    http PATCH /sql/tables/items/rows/1 -d '{}'
    expect 200 '.qty == null' '.title == "a2"' '.code == "A"'
    http PATCH /sql/tables/items/rows/1 -d '{"title":null}'
    expect_error 422 validation_failed title
    http PATCH /sql/tables/items/rows/1 -d '{"qty":"many"}'
    expect_error 422 validation_failed qty
    http PATCH /sql/tables/items/rows/1 -d '{"nope":1}'
    expect_error 422 validation_failed nope
    http PATCH /sql/tables/items/rows/1 -d '{"id":9}'
    expect_error 422 validation_failed id
    http PATCH /sql/tables/items/rows/1 -d '{"created_at":"2020-01-01T00:00:00Z"}'
    expect_error 422 validation_failed created_at
    http PATCH /sql/tables/items/rows/1 -d '{"code":"B"}'
    expect_error 409 conflict code
    http PATCH /sql/tables/items/rows/1 -d '[{"qty":1}]'
    expect_error 422 validation_failed body
    http PATCH /sql/tables/items/rows/99 -d '{"qty":1}'
    expect_error 404 not_found id
    http DELETE /sql/tables/items/rows/2
    expect 200 '.id == 2' '.title == "b"' '.qty == 2'
    http GET /sql/tables/items/rows/2
    expect_error 404 not_found id
    http DELETE /sql/tables/items/rows/2
    expect_error 404 not_found id
    for id in 0 -1 abc 1.5 99999999999999999999; do
        http GET "/sql/tables/items/rows/$id"
        expect_error 422 validation_failed id || return 1
    done
    http GET /sql/tables/nosuch/rows/1
    expect_error 404 not_found name
}

@test "columns named like the statements' own aliases (x, r, t, u, e, ord) behave as any other" {
    create '{"name":"aliases","columns":[{"name":"x","type":"text"},{"name":"r","type":"jsonb"},{"name":"t","type":"integer"},{"name":"u","type":"text"},{"name":"e","type":"text"},{"name":"ord","type":"integer"}]}'
    expect 201
    insert aliases '[{"x":null,"r":{"a":1},"t":1,"u":"u1","e":"e1","ord":7},{"x":"hi","t":2}]'
    expect 201 '.items | length == 2' '.items[0].x == null' '.items[0].r == {"a":1}' '.items[1].x == "hi"'
    http GET /sql/tables/aliases/rows/1
    expect 200 '.id == 1' '.x == null' '.t == 1' '.ord == 7'
    http PATCH /sql/tables/aliases/rows/1 -d '{"r":{"b":2},"x":"set"}'
    expect 200 '.r == {"b":2}' '.x == "set"' '.u == "u1"'
    http GET '/sql/tables/aliases/rows?x=hi'
    expect 200 '.items | length == 1' '.items[0].id == 2'
    http DELETE /sql/tables/aliases/rows/2
    expect 200 '.x == "hi"'
    # the list route's own parameters cannot be column names
    for c in after limit order; do
        create '{"name":"clash","columns":[{"name":"'$c'","type":"text"}]}'
        expect_error 422 validation_failed 'columns[0].name' || return 1
    done
}

@test "methods, auth, health" {
    http PUT /sql/tables
    expect_error 405 method_not_allowed
    header_has Allow "GET, HEAD, POST"
    http PUT /sql/tables/items/rows/1
    expect_error 405 method_not_allowed
    header_has Allow "DELETE, GET, HEAD, PATCH"
    http PUT /sql/tables/items
    expect_error 405 method_not_allowed
    header_has Allow "DELETE, GET, HEAD"
    http PUT /sql/tables/items/rows
    expect_error 405 method_not_allowed
    header_has Allow "DELETE, GET, HEAD, PATCH, POST"
    http_anon GET /sql/tables
    expect_error 401 unauthorized
    http GET /sql/nothing
    expect_error 404 not_found
    http_anon GET /health
    expect 200 '.modes | index("sql") != null' '[.sentinels[].mode] | index("sql") != null'
}

@test "a table dropped out of band: 404, never a 500; recreated out of band: used again" {
    create '{"name":"gone","columns":[{"name":"v","type":"integer"}]}'
    expect 201
    # Warm every sql process's cache with the table.
    for i in 1 2 3 4; do insert gone '{"v":1}'; expect 201; done
    psql_q 'DROP TABLE sql_gone'
    for i in 1 2 3 4; do
        insert gone '{"v":2}'
        expect_error 404 not_found name || return 1
        http GET /sql/tables/gone/rows
        expect_error 404 not_found name || return 1
    done
    psql_q 'CREATE TABLE sql_gone (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v integer, created_at timestamptz NOT NULL DEFAULT now())'
    for i in 1 2 3 4; do
        insert gone '{"v":3}'
        expect 201 '.items[0].v == 3' || return 1
    done
}

@test "with DATABASE_POOLER=transaction (statements sent as text each time): every route works" {
    DATABASE_POOLER=transaction service_up pooled
    # shellcheck disable=SC2034 # BASE is where _request sends (stack.bash)
    BASE=$(service_url pooled)
    create '{"name":"pooled","columns":[{"name":"v","type":"numeric"},{"name":"u","type":"text","unique":true}]}'
    expect 201
    insert pooled '[{"v":1.50,"u":"a"},{"v":"2","u":"b"}]'
    expect 201 '[.items[].v] == ["1.50","2"]'
    insert pooled '{"u":"a"}'
    expect_error 409 conflict u
    insert pooled '{"v":"x"}'
    expect_error 422 validation_failed v
    http GET "/sql/tables/pooled/rows?u=b"
    expect 200 '[.items[].v] == ["2"]'
    http PATCH /sql/tables/pooled/rows/1 -d '{"v":3}'
    expect 200 '.v == "3"' '.u == "a"'
    http DELETE /sql/tables/pooled/rows/2
    expect 200 '.u == "b"'
    http GET /sql/tables/pooled
    expect 200 '.table == "sql_pooled"'
    service_down pooled
}

@test "the catalog holds only the tables the suite created" {
    # The sql mode's tables (sql_<name>: the other modes' own tables are
    # theirs, and grow with them): the registry and those the suite made.
    expected="sql__tables sql_$(printf 'a%.0s' {1..48}) sql_aliases sql_builds sql_bulk sql_gone sql_items sql_notes sql_pages sql_pooled sql_race sql_types sql_wide sql_xproc sql_xproc2"
    sql_tables=$(tr ' ' '\n' <<<"$(catalog)" | grep '^sql_' | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')
    [ "$sql_tables" = "$(tr ' ' '\n' <<<"$expected" | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')" ] || { echo "catalog: $(catalog)"; return 1; }
    [ "$(psql_q "SELECT string_agg(name, ' ' ORDER BY name) FROM sql__tables")" = \
        "$(printf 'a%.0s' {1..48}) aliases builds bulk gone items notes pages pooled race types wide xproc xproc2" ]
    # one sentinel a mode (backend-registry --modes)
    [ "$(psql_q "SELECT count(*) FROM sentinels")" = "$("$BACKEND_BIN/backend-registry" --modes | grep -c .)" ]
}

@test "no request of this file was answered 500, and no server error was logged" {
    run ! grep '"status":50[0-2]' "$STACK_DIR/main/lighttpd.log"
    # Expected: the dropped table (42P01) and the value too large for its index (54000).
    [ -z "$(grep '"level":"error"' "$STACK_DIR/main/lighttpd.log" | grep -v -e 'database error 42P01' -e 'database error 54000')" ]
    grep -q 'database error 42P01' "$STACK_DIR/main/lighttpd.log"
}
