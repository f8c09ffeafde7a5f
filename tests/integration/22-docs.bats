#!/usr/bin/env bats
# The docs as a reader uses them (docs/testing.md, "The docs are tested"):
# every ```sh block of README.md and docs/*.md runs against a live service,
# and every route a doc names as "METHOD /path" is one the service has. A
# doc's commands that cannot run here are tagged ```sh no-run.

load ../lib/stack

# PostgreSQL for the whole file; each doc gets a database and a service of
# its own (its examples build on each other and on nothing else).
setup_file() { stack_db_setup; }
teardown_file() { stack_teardown; }

# The docs a reader gets: the README and every file of docs/.
docs() { (cd "$ROOT" && printf '%s\n' README.md docs/*.md); }

# sh_blocks FILE: FILE's ```sh blocks in order (the lines between the
# fences), without those whose info string says more than "sh".
sh_blocks() {
    awk '/^```/ { if (fence) { fence = 0; run = 0 } else { fence = 1; run = ($0 == "```sh") }; next }
         fence && run' "$ROOT/$1"
}

# A curl that also says each answer's status on stderr ("HTTP 201"), so a
# 5xx fails the run whatever the doc does with the body; a -w of the doc's
# own wins over it (curl keeps the last).
CURL_WRAPPER='curl() { command curl -w "%{stderr}HTTP %{http_code}\n" "$@"; }'

@test "every sh block of the README and docs/ runs against a fresh service" {
    local n=0 ran=0 failed=() doc
    while read -r doc; do
        sh_blocks "$doc" >"$BATS_TEST_TMPDIR/blocks"
        [ -s "$BATS_TEST_TMPDIR/blocks" ] || continue
        n=$((n + 1))
        psql_q "CREATE DATABASE docs_$n"
        DATABASE_URL=${PG_URL/dbname=postgres/dbname=docs_$n} service_up "doc$n"
        local url dir=$BATS_TEST_TMPDIR/doc$n
        url=$(service_url "doc$n")
        mkdir -p "$dir"
        { echo "$CURL_WRAPPER"; sed "s#http://127.0.0.1:4000#$url#g" "$BATS_TEST_TMPDIR/blocks"; } >"$dir/run.sh"
        ran=$((ran + $(grep -c . "$BATS_TEST_TMPDIR/blocks")))
        # In a folder of its own, so that what a block writes stays there.
        if ! (cd "$dir" && TOKEN=$DATASTORE_TOKEN timeout 120 bash -euo pipefail run.sh >out 2>err) ||
            grep -q '^HTTP 5' "$dir/err"; then
            failed+=("$doc")
            echo "# $doc: its sh blocks failed (exit status or a 5xx); stderr:"
            tail -n 20 "$dir/err"
            echo "# stdout:"
            tail -n 20 "$dir/out"
        fi
        service_down "doc$n"
    done < <(docs)
    echo "# $n docs with sh blocks, $ran lines run" >&3
    [ ${#failed[@]} -eq 0 ]
    # The README's examples at least (a broken extraction runs nothing).
    [ "$n" -ge 3 ] && [ "$ran" -ge 25 ]
}

# route_known METHOD PATH: true when a registered route, or a path lighttpd
# serves itself, takes METHOD on PATH ({name} in PATH stands for any one
# segment). As the router decides (common/router.c): of the patterns PATH
# matches, those with the most literal segments take it, and one of them
# must take METHOD (GET routes take HEAD too). Reads
# $BATS_TEST_TMPDIR/routes and /served.
route_known() {
    local method=$1 path=$2 m pattern _ kind re best=-1 takes=()
    local -a want have
    IFS=/ read -ra want <<<"$path"
    while read -r m pattern _; do
        IFS=/ read -ra have <<<"$pattern"
        [ ${#have[@]} -eq ${#want[@]} ] || continue
        local i literals=0
        for i in "${!have[@]}"; do
            if [[ ${have[$i]} == "{"*"}" ]]; then
                [ -n "${want[$i]}" ] || continue 2
            else
                [ "${have[$i]}" = "${want[$i]}" ] || continue 2
                literals=$((literals + 1))
            fi
        done
        [ "$literals" -gt "$best" ] && best=$literals takes=()
        [ "$literals" -eq "$best" ] && takes+=("$m")
    done <"$BATS_TEST_TMPDIR/routes"
    for m in "${takes[@]}"; do
        [ "$m" = "$method" ] || { [ "$m" = GET ] && [ "$method" = HEAD ]; } && return 0
    done
    # lighttpd's own: "proxy RE" takes any method (its server decides),
    # "static RE" GET and HEAD.
    local concrete
    concrete=$(sed 's/{[^}]*}/x/g' <<<"$path")
    while read -r kind re; do
        [ "$kind" = proxy ] || [ "$method" = GET ] || [ "$method" = HEAD ] || continue
        [[ $concrete =~ $re ]] && return 0
    done <"$BATS_TEST_TMPDIR/served"
    return 1
}

@test "every METHOD /path the README and docs/ name is a route the service has" {
    "$BACKEND_BIN/backend-registry" --routes >"$BATS_TEST_TMPDIR/routes"
    # What lighttpd serves itself, from the routing it is given: each
    # condition block with a proxy.server (a server of its own, /mcp) or an
    # alias.url (static files, /docs), as an anchored regular expression.
    "$BACKEND_BIN/backend-registry" --lighttpd-conf | awk '
        /^\$HTTP\["url"\] == "/ { split($0, q, "\""); cond = "^" q[4] "$"; next }
        /^\$HTTP\["url"\] =~ "/ { split($0, q, "\""); cond = q[4]; gsub(/\\\\/, "\\", cond); next }
        /^}/ { cond = "" }
        cond != "" && /proxy\.server/ { print "proxy " cond }
        cond != "" && /alias\.url/ { print "static " cond }' >"$BATS_TEST_TMPDIR/served"
    grep -q '^proxy ' "$BATS_TEST_TMPDIR/served"
    grep -q '^static ' "$BATS_TEST_TMPDIR/served"
    local re="\\b(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) /[^] \`)\"'<>*,;|?[]*"
    local n=0 bad=() doc where method path
    while read -r doc; do
        while IFS=: read -r where method path; do
            path=${path%%[.:]}
            n=$((n + 1))
            route_known "$method" "$path" || bad+=("$doc:$where: $method $path")
        done < <(grep -noE "$re" "$ROOT/$doc" | sed 's/^\([0-9]*\):\([A-Z]*\) /\1:\2:/')
    done < <(docs)
    echo "# $n routes named in the docs" >&3
    if [ ${#bad[@]} -gt 0 ]; then
        echo "not routes of the service (backend-registry --routes, or lighttpd's own):"
        printf '  %s\n' "${bad[@]}"
        return 1
    fi
    [ "$n" -ge 40 ]
}

@test "the route check refuses a route that does not exist, and takes a pattern's instances" {
    "$BACKEND_BIN/backend-registry" --routes >"$BATS_TEST_TMPDIR/routes"
    printf 'proxy ^/mcp$\nstatic ^/docs(/ui/[A-Za-z0-9._-]+)?$\n' >"$BATS_TEST_TMPDIR/served"
    # What the docs once said: the queue's counts are GET /queue/{namespace}.
    run route_known GET "/queue/{namespace}/stats"
    [ "$status" -ne 0 ]
    route_known GET "/queue/{namespace}"
    route_known GET "/document/ci-status/demo"
    route_known HEAD "/health"
    route_known DELETE "/mcp"
    route_known GET "/docs"
    run route_known POST "/health"
    [ "$status" -ne 0 ]
    run route_known DELETE "/docs"
    [ "$status" -ne 0 ]
    # A path that takes no method (an uploaded file's) is no route to name.
    run route_known GET "/files/temp/{id}"
    [ "$status" -ne 0 ]
    # A literal segment of the doc's may be a capture of the route's, but a
    # route with more literal segments takes the path first, as the router
    # does: ack is the batch ack's, which takes POST only.
    route_known DELETE "/queue/jobs/42"
    run route_known DELETE "/queue/{namespace}/ack"
    [ "$status" -ne 0 ]
}
