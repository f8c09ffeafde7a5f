#!/usr/bin/env bats
# Deployment: the Kubernetes manifests agree with the code, the container
# entrypoint runs with the manifest's variables, and the service works
# through a real PgBouncer in transaction pooling mode.

load ../lib/stack

setup_file() { stack_setup; }
teardown_file() {
    [ -f "$STACK_DIR/pgbouncer/pid" ] && kill "$(cat "$STACK_DIR/pgbouncer/pid")" 2>/dev/null
    stack_teardown
}

@test "the manifests parse as YAML and agree with the code (probe, port, variables, file tier)" {
    run /usr/bin/python3 "$ROOT/tests/manifest_check.py" "$ROOT"
    echo "$output"
    [ "$status" -eq 0 ]
}

@test "the consistency check catches a wrong probe path and an unknown variable" {
    mkdir -p "$BATS_TEST_TMPDIR/copy/deploy" "$BATS_TEST_TMPDIR/copy/common" "$BATS_TEST_TMPDIR/copy/fcgi-apps"
    cp "$ROOT/Dockerfile" "$BATS_TEST_TMPDIR/copy/"
    cp "$ROOT/common/config.c" "$BATS_TEST_TMPDIR/copy/common/"
    cp "$ROOT/fcgi-apps/health.c" "$BATS_TEST_TMPDIR/copy/fcgi-apps/"
    sed -e 's#path: /health#path: /healthz#' -e 's#name: LOG_LEVEL#name: LOG_LEVELS#' \
        "$ROOT/deploy/k8s.yaml" >"$BATS_TEST_TMPDIR/copy/deploy/k8s.yaml"
    run /usr/bin/python3 "$ROOT/tests/manifest_check.py" "$BATS_TEST_TMPDIR/copy"
    [ "$status" -eq 1 ]
    [[ "$output" == *"livenessProbe path /healthz is not /health"* ]]
    [[ "$output" == *"the manifest sets LOG_LEVELS, which the service does not read"* ]]
}

@test "the entrypoint with the manifest's variables: /health 200, a write, SIGTERM ends everything" {
    port=$(free_port)
    printf 'k8s-token\n' >"$STACK_DIR/k8s-token"
    (
        unset DATABASE_URL DATASTORE_TOKEN FILE_TEMP_DIR
        # The manifest's literal values; paths that are volumes in the pod
        # point into this test's folder; PG* as the Secret would give them.
        while IFS='=' read -r name value; do export "$name=$value"; done \
            < <(/usr/bin/python3 "$ROOT/tests/manifest_check.py" "$ROOT" --env | sed -n 's/^ENV //p')
        export DATASTORE_TOKEN_FILE=$STACK_DIR/k8s-token FILE_TEMP_DIR=$STACK_DIR/k8s-files
        export PORT=$port LISTEN_ADDR=127.0.0.1 BACKEND_RUN_DIR=$STACK_DIR/k8s
        export PGHOST=$PG_SOCK PGPORT=$PG_PORT PGUSER=postgres PGDATABASE=postgres
        exec "$ROOT/deploy/entrypoint.sh" >"$STACK_DIR/k8s.log" 2>&1 3>&-
    ) &
    runner=$!
    echo "$runner" >>"$STACK_DIR/pids"
    wait_healthy "http://127.0.0.1:$port" 15
    kids=$(pgrep -P "$(pgrep -P "$runner" lighttpd)" | tr '\n' ' ')
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer k8s-token" \
        -d '{"namespace":"k8s","key":"k","payload":1}' "http://127.0.0.1:$port/document")
    [ "$code" = 201 ]
    printf 'f' | curl -s -o /dev/null -H "Authorization: Bearer k8s-token" --data-binary @- "http://127.0.0.1:$port/files/temp"
    [ "$(ls "$STACK_DIR/k8s-files" | wc -l)" -eq 1 ]
    kill -TERM "$runner"
    for i in $(seq 1 150); do kill -0 "$runner" 2>/dev/null || break; sleep 0.1; done
    [ -z "$(pids_running "$runner")" ]
    for k in $kids; do ! kill -0 "$k" 2>/dev/null; done
}

@test "container entrypoint: an invalid configuration refuses to start with one line" {
    run env -u DATABASE_URL BODY_MAX_BYTES=0 BACKEND_RUN_DIR="$STACK_DIR/entry2" PORT="$(free_port)" \
        "$ROOT/deploy/entrypoint.sh"
    [ "$status" -eq 2 ]
    [ "$output" = 'backend: invalid configuration: BODY_MAX_BYTES must be a positive integer no larger than 1073741824 (got "0")' ]
}

# pgbouncer_up: a PgBouncer (transaction pooling) in front of this file's
# PostgreSQL, run as the postgres user (it refuses root). Sets PGB_PORT.
pgbouncer_up() {
    local dir=$STACK_DIR/pgbouncer
    PGB_PORT=$(free_port)
    mkdir -p "$dir"
    printf '"postgres" ""\n' >"$dir/users.txt"
    cat >"$dir/pgbouncer.ini" <<INI
[databases]
postgres = host=$PG_SOCK port=$PG_PORT dbname=postgres user=postgres
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGB_PORT
unix_socket_dir =
auth_type = trust
auth_file = $dir/users.txt
pool_mode = transaction
default_pool_size = 5
max_client_conn = 200
logfile = $dir/pgbouncer.log
pidfile = $dir/pid
INI
    [ "$(id -u)" -eq 0 ] && chown -R postgres: "$dir"
    as_pg pgbouncer -d "$dir/pgbouncer.ini" 3>&-
    for i in $(seq 1 50); do [ -s "$dir/pid" ] && break; sleep 0.1; done
    [ -s "$dir/pid" ]
}

@test "through a real PgBouncer in transaction mode: documents, a queue cycle with long-poll, files" {
    pgbouncer_up
    DATABASE_URL="host=127.0.0.1 port=$PGB_PORT user=postgres dbname=postgres" DATABASE_POOLER=transaction \
        service_up pgb
    BASE=$(service_url pgb)
    for i in 1 2 3; do
        BASE=$BASE http POST /document -d "{\"namespace\":\"pgb\",\"key\":\"k\",\"payload\":$i}"
        expect 201 ".version == $i"
    done
    BASE=$BASE http GET /document/pgb/k
    expect 200 '.version == 3' '.payload == 3'
    BASE=$BASE http GET "/document/pgb/k?version=1"
    expect 200 '.payload == 1'
    BASE=$BASE http POST /queue/pgb -d '{"payload":"job"}'
    expect 201
    BASE=$BASE http POST /queue/pgb/claim -d '{"visibility_timeout_seconds":30}'
    expect 200 '.items[0].payload == "job"'
    id=$(jq '.items[0].id' <<<"$BODY")
    tok=$(jq -r '.items[0].claim_token' <<<"$BODY")
    BASE=$BASE http DELETE "/queue/pgb/$id?claim_token=$tok"
    expect 200 '.acked == true'
    # Long-poll without LISTEN (it cannot work through the pool): still woken.
    ( sleep 1; curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" -d '{"payload":"late"}' "$BASE/queue/pgb" ) &
    start=$(date +%s%N)
    BASE=$BASE http POST /queue/pgb/claim -d '{"wait_seconds":10}'
    elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
    wait
    expect 200 '.items[0].payload == "late"'
    [ "$elapsed" -lt 6000 ]  # woken, not timed out (wait 10 s)
    printf 'pooled' >"$BATS_TEST_TMPDIR/pooled"
    BASE=$BASE http POST /files/temp --data-binary @"$BATS_TEST_TMPDIR/pooled"
    expect 201 '.size == 6'
    # The statements went through PgBouncer.
    grep -q "login attempt: db=postgres user=postgres" "$STACK_DIR/pgbouncer/pgbouncer.log"
    service_down pgb
}
