#!/usr/bin/env bats
# Self-description (docs/openapi.md): GET /openapi.json, generated from
# the registry (fcgi-apps/openapi.c), and GET /docs, Swagger UI over it
# served by lighttpd from local files. Tools from npm, pinned in
# tests/openapi/package-lock.json (redocly, ajv, puppeteer-core,
# openapi-typescript, openapi-fetch, typescript) and Debian's chromium
# (deploy/install-deps.sh), installed by tests/openapi/install.sh.

load ../lib/stack

setup_file() {
    "$ROOT/tests/openapi/install.sh"
    # The contract test sends wrong tokens on purpose, more than the abuse
    # limit's default (docs/operations.md, "Abuse limits") allows.
    export AUTH_FAILURES_MAX=100000
    stack_setup
    # A table, so that the token-only part has something to describe.
    curl -sf -H "Authorization: Bearer $TOKEN" "$URL/sql/tables" \
        -d '{"name":"secret_builds","columns":[{"name":"sha","type":"text"},{"name":"n","type":"integer","nullable":true},{"name":"cost","type":"numeric","nullable":false}]}' >/dev/null
}
teardown_file() { stack_teardown; }

OPENAPI_BIN=$ROOT/tests/openapi/node_modules/.bin

@test "GET /openapi.json: public, OpenAPI 3.1, the generated document, no stored data named" {
    http_anon GET /openapi.json
    expect 200 '.openapi == "3.1.0"' '.components.securitySchemes.bearer.scheme == "bearer"' \
        '.paths["/health"].get.security == []' '.paths["/openapi.json"].get.security == []' \
        '.paths["/docs"].get.security == []' '.security == [{"bearer": []}]' \
        '[.components.schemas | keys[] | select(startswith("sql_row_"))] == []' \
        '[.paths | keys[] | select(contains("{") | not) | select(startswith("/sql/tables/"))] == []'
    header_has X-Request-Id
    [[ "$BODY" != *secret_builds* ]]
    # The same document backend-registry generates from the declarations.
    diff <(jq -S . <<<"$BODY") <("$BACKEND_BIN/backend-registry" --openapi | jq -S .)
    # A wrong token is no token.
    TOKEN=wrong http GET /openapi.json
    [ "$CODE" = 200 ]
    [[ "$BODY" != *secret_builds* ]]
}

@test "GET /openapi.json with the token: each sql table's paths, answering its rows" {
    http GET /openapi.json
    # The row as the service answers it: every column, numeric as a string.
    expect 200 '.components.schemas.sql_row_secret_builds.properties.sha.type == ["string", "null"]' \
        '.components.schemas.sql_row_secret_builds.properties.n.type == ["integer", "null"]' \
        '.components.schemas.sql_row_secret_builds.properties.cost.type == "string"' \
        '.components.schemas.sql_row_secret_builds.required == ["id", "sha", "n", "cost", "created_at"]' \
        '.components.schemas.sql_row_secret_builds.additionalProperties == false'
    # The table's own paths, the generic ones with the table named, whose
    # answers reference its row; operationIds stay unique.
    local row='{"$ref": "#/components/schemas/sql_row_secret_builds"}'
    jq -e --argjson row "$row" '.paths["/sql/tables/secret_builds/rows/{id}"].get.responses["200"].content["application/json"].schema == $row' <<<"$BODY"
    # a list's rows may hold only the columns ?select= names: the generic row, id required
    jq -e '.paths["/sql/tables/secret_builds/rows"].get.responses["200"].content["application/json"].schema == {"$ref": "#/components/schemas/SqlRowPage"}' <<<"$BODY"
    jq -e '.components.schemas.SqlRowPage.properties.items.items == {"$ref": "#/components/schemas/SqlRowSelected"}' <<<"$BODY"
    jq -e --argjson row "$row" '.paths["/sql/tables/secret_builds/rows"].patch.responses["200"].content["application/json"].schema.properties.items.items == $row' <<<"$BODY"
    jq -e --argjson row "$row" '.paths["/sql/tables/secret_builds/rows"].post.responses["201"].content["application/json"].schema.properties.items.items == $row' <<<"$BODY"
    jq -e '.paths["/sql/tables/secret_builds/rows"].get | .operationId == "sql_select_rows__secret_builds"
        and ([.parameters[] | select(.in == "path")] == [])' <<<"$BODY"
    jq -e '[.paths[][].operationId] | length == (unique | length)' <<<"$BODY"
    # Every row schema is referenced by a path.
    jq -e '(.paths | tostring) as $p | [.components.schemas | keys[] | select(startswith("sql_row_"))
        | . as $k | select($p | contains("\"#/components/schemas/" + $k + "\"") | not)] == []' <<<"$BODY"
}

@test "every operation lists its statuses with the one error shape, codes from the error table" {
    local doc
    doc=$("$BACKEND_BIN/backend-registry" --openapi)
    # Every authenticated operation answers 401 unauthorized and 503
    # auth_not_configured; every error response is the Error shape.
    jq -e '[.paths[][] | select(.security != []) | .responses["401"].content["application/json"].schema.allOf[1].properties.error.enum
        | index("unauthorized")] | all' <<<"$doc"
    jq -e '[.paths[][] | select(.security != []) | .responses["503"].content["application/json"].schema.allOf[1].properties.error.enum
        | index("auth_not_configured")] | all' <<<"$doc"
    jq -e '[.paths[][].responses | to_entries[] | select(.key | startswith("4") or startswith("5")) | .value.headers["X-Request-Id"]] | all' <<<"$doc"
    # A create answers 201 (docs/api.md, "Success codes").
    jq -e '.paths["/document"].post.responses["201"] and .paths["/sql/tables"].post.responses["201"]
        and .paths["/files/temp"].post.responses["201"] and .paths["/queue/{namespace}"].post.responses["201"]' <<<"$doc"
    jq -e '.paths["/document/{namespace}/{key}"].get.parameters[] | select(.name == "namespace") | .schema.pattern and .schema.maxLength == 128' <<<"$doc"
}

@test "redocly lint: no error, with and without the token" {
    http_anon GET /openapi.json
    echo "$BODY" >"$BATS_TEST_TMPDIR/public.json"
    http GET /openapi.json
    echo "$BODY" >"$BATS_TEST_TMPDIR/token.json"
    for f in public token; do
        run "$OPENAPI_BIN/redocly" lint "$BATS_TEST_TMPDIR/$f.json"
        echo "$output" | tail -n 5
        [ "$status" -eq 0 ]
        [[ "$output" == *"Your API description is valid"* ]]
    done
}

@test "every route lighttpd routes is in the document, and every path in it answers" {
    local doc ops routed conf missing
    doc=$("$BACKEND_BIN/backend-registry" --openapi)
    # The document's operations, "METHOD PATH", and its paths alone.
    ops=$(jq -r '.paths | to_entries[] | .key as $p | .value | keys[] | "\(ascii_upcase) \($p)"' <<<"$doc" | sort)
    # Every route of every mode (but a path no method takes), then what
    # lighttpd routes besides the modes, from the generated routing: its
    # exact paths (/mcp) and /docs.
    conf=$("$BACKEND_BIN/backend-registry" --lighttpd-conf)
    routed=$( (
        "$BACKEND_BIN/backend-registry" --routes | awk '$1 != "-" {print $1, $2}'
        grep -oE '"url"\] == "[^"]+"' <<<"$conf" | grep -oE '/[^"]+' | sed 's/^/POST /'
        grep -oE '"url"\] =~ "\^/[a-z]+\(' <<<"$conf" | grep -oE '/[a-z]+' | sed 's/^/GET /'
    ) | sort)
    [ "$(wc -l <<<"$routed")" -ge 25 ]
    missing=$(comm -23 <(echo "$routed") <(echo "$ops"))
    [ -z "$missing" ] || { echo "routed, not in the document: $missing"; return 1; }
    # Each operation of the document reaches a handler: neither lighttpd's
    # 404 ("no such route") nor the router's ("no route METHOD PATH"), nor
    # a 405.
    local method pattern path
    while read -r method pattern; do
        path=$(sed -E 's/\{id\}/1/g; s/\{[a-z_]+\}/x1/g' <<<"$pattern")
        case $method in
        GET | DELETE) http "$method" "$path" ;;
        *) http "$method" "$path" -d '{}' ;;
        esac
        if [ "$CODE" = 405 ] || [[ "$BODY" == *'"no route '* || "$BODY" == *"no such route"* ]]; then
            echo "$method $path: $CODE $BODY"
            return 1
        fi
    done <<<"$ops"
}

@test "contract: real requests for every operation, each response as the document describes it (ajv)" {
    run node "$ROOT/tests/openapi/contract.mjs" "$URL" "$TOKEN"
    echo "$output"
    [ "$status" -eq 0 ]
}

@test "a client generated from /openapi.json (openapi-typescript, openapi-fetch) type-checks and drives every operation; every answer as the document says (ajv)" {
    run "$ROOT/tests/openapi/client/run.sh" "$URL" "$TOKEN"
    echo "$output"
    [ "$status" -eq 0 ]
    grep -q 'answers checked against the document' <<<"$output"
}

@test "/docs in headless Chromium: every mode's routes, nothing from another host, Try it out of GET /health shows 200" {
    http_anon GET /docs
    [ "$CODE" = 200 ]
    header_has Content-Type "text/html; charset=utf-8"
    header_has X-Request-Id
    grep -q '<meta charset="utf-8">' <<<"$BODY"
    # Nothing from another host: no absolute or scheme-relative URL.
    if grep -qE '(src|href)="(https?:)?//' <<<"$BODY"; then return 1; fi
    mkdir -p "$ROOT/run"
    run timeout 180 node "$ROOT/tests/openapi/docs.mjs" "$URL" "$TOKEN" "$ROOT/run/openapi-docs.png"
    echo "$output"
    [ "$status" -eq 0 ]
}
