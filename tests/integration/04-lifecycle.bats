#!/usr/bin/env bats
# Start-up, outages and process lifecycle.

load ../lib/stack
bats_require_minimum_version 1.5.0

setup_file() { stack_setup; }
teardown_file() { stack_teardown; }

@test "16 mode processes initialising at once against a new database all succeed; one sentinel per mode" {
    psql_q "CREATE DATABASE fresh"
    url="host=$PG_SOCK port=$PG_PORT user=postgres dbname=fresh"
    pids=()
    for i in $(seq 1 8); do
        DATABASE_URL=$url "$BACKEND_BIN/backend-document" --init 2>"$BATS_TEST_TMPDIR/init.d$i" &
        pids+=($!)
        DATABASE_URL=$url "$BACKEND_BIN/backend-health" --init 2>"$BATS_TEST_TMPDIR/init.h$i" &
        pids+=($!)
    done
    failed=0
    for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
    cat "$BATS_TEST_TMPDIR"/init.* >&2
    [ "$failed" -eq 0 ]
    [ "$(psql "$url" -XAtq -c "select string_agg(mode || ':' || n, ',' order by mode) from (select mode, count(*) n from sentinels group by mode) s")" = "document:1,health:1" ]
    [ "$(psql "$url" -XAtq -c "select count(*) from information_schema.tables where table_name in ('documents','document_heads','sentinels')")" -eq 3 ]
}

@test "PostgreSQL restart during a stream of writes: every 201 is readable, outage answers are 503" {
    (
        for i in $(seq 1 400); do
            code=$(curl -s -o "$BATS_TEST_TMPDIR/w.body" -w '%{http_code}' --max-time 10 \
                -H "Authorization: Bearer $TOKEN" \
                -d "{\"namespace\":\"outage\",\"key\":\"k$((i % 7))\",\"payload\":{\"i\":$i}}" "$URL/document")
            if [ "$code" = 201 ]; then
                echo "201 $(jq -r '"\(.key) \(.version) \(.payload.i)"' "$BATS_TEST_TMPDIR/w.body")"
            else
                echo "$code $(jq -r '.error' "$BATS_TEST_TMPDIR/w.body")"
            fi
            sleep 0.01
        done >"$BATS_TEST_TMPDIR/writes"
    ) &
    writer=$!
    sleep 1
    pg_stop "$PG_DIR" fast
    sleep 1.5
    pg_restart "$PG_DIR"
    wait "$writer"
    # Only 201s and 503 database_unavailable.
    run ! grep -vE '^(201 |503 database_unavailable$)' "$BATS_TEST_TMPDIR/writes"
    grep -q '^503 database_unavailable$' "$BATS_TEST_TMPDIR/writes"
    [ "$(grep -c '^201 ' "$BATS_TEST_TMPDIR/writes")" -gt 100 ]
    # The last writes, after the restart, succeeded: the service healed.
    [ "$(tail -n 20 "$BATS_TEST_TMPDIR/writes" | grep -c '^201 ')" -eq 20 ]
    # Every acknowledged write is there, at the version it was given.
    while read -r _ key version i; do
        echo "$key $version $i"
    done < <(grep '^201 ' "$BATS_TEST_TMPDIR/writes") | sort >"$BATS_TEST_TMPDIR/acked"
    psql_q "select key || ' ' || version || ' ' || (payload->>'i') from documents where namespace = 'outage'" |
        sort >"$BATS_TEST_TMPDIR/stored"
    [ -z "$(comm -23 "$BATS_TEST_TMPDIR/acked" "$BATS_TEST_TMPDIR/stored")" ]
}

@test "a killed mode process is replaced by lighttpd; the service answers again" {
    pid=$(pgrep -P "$(service_pid main)" -f backend-document | head -n 1)
    [ -n "$pid" ]
    kill -9 "$pid"
    ok=0
    for i in $(seq 1 50); do
        http GET /document/any
        [ "$CODE" = 200 ] && ok=$((ok + 1))
        case "$CODE" in 200 | 502 | 503) ;; *) echo "status $CODE: $BODY"; return 1 ;; esac
        sleep 0.05
    done
    [ "$ok" -gt 40 ]
    [ "$(pgrep -P "$(service_pid main)" -f backend-document | wc -l)" -eq 2 ]
    # record the replacement so teardown checks it is stopped too
    pgrep -P "$(service_pid main)" >>"$STACK_DIR/pids"
}

@test "make run: throwaway PostgreSQL, healthy, SIGTERM stops everything" {
    port=$(free_port)
    (
        unset DATABASE_URL PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE DATASTORE_TOKEN
        export PORT=$port BACKEND_RUN_DIR=$STACK_DIR/devrun
        exec "$ROOT/deploy/dev-run.sh" >"$STACK_DIR/devrun.log" 2>&1 3>&-
    ) &
    runner=$!
    echo "$runner" >>"$STACK_DIR/pids"
    start=$(date +%s%N)
    # initdb and the first start take a few seconds on an idle machine and
    # more on a loaded one: the bound is generous, the time is reported.
    wait_healthy "http://127.0.0.1:$port" 60
    elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
    echo "# healthy after $elapsed ms" >&3
    for i in $(seq 1 50); do grep -q "export TOKEN=" "$STACK_DIR/devrun.log" && break; sleep 0.1; done
    token=$(sed -n 's/^  export TOKEN=//p' "$STACK_DIR/devrun.log")
    [ ${#token} -eq 32 ]
    grep -q "^  PostgreSQL: throwaway, in $STACK_DIR/devrun/pg " "$STACK_DIR/devrun.log"
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
        -d '{"namespace":"demo","key":"hello","payload":{"hi":1}}' "http://127.0.0.1:$port/document")
    [ "$code" = 201 ]
    kill -TERM "$runner"
    for _ in $(seq 1 100); do [ -n "$(pids_running "$runner")" ] || break; sleep 0.1; done
    [ -z "$(pids_running "$runner")" ]
    read -ra left <<<"$(pgrep -f "$STACK_DIR/devrun" | tr '\n' ' ')"
    [ -z "$(pids_running "${left[@]}")" ]
    ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
}
