#!/usr/bin/env bats
# The first two commands on a machine that has never seen the project:
# `make test` and `make run` in a fresh copy of this tree each succeed the
# first time. The machine here has the packages, so the test puts a fresh
# machine's package state in front of the build: stand-ins for dpkg-query,
# apt-get and pkg-config (tests/fresh/) that report nothing installed until
# the install step (deploy/install-deps.sh, through apt-get) has run. A
# Makefile that asks pkg-config for its flags before installing gets none
# and fails to compile, as it would on a real fresh machine.

load ../lib/stack

setup_file() {
    [ -z "${SANITIZER:-}" ] || skip "the fresh-machine path is the plain build's"
    STACK_DIR=$(mktemp -d /tmp/backend-test.XXXXXX)
    chmod 711 "$STACK_DIR"
    export STACK_DIR
}

teardown_file() {
    [ -n "${STACK_DIR:-}" ] || return 0
    [ -f "$STACK_DIR/group" ] && kill -KILL -- "-$(cat "$STACK_DIR/group")" 2>/dev/null
    for d in "$STACK_DIR"/run-clone/run/*/pg; do [ -d "$d" ] && pg_stop "$d" immediate 3>&-; done
    # Anything else still running from the copies is a leak: stop it, fail.
    local left
    left=$(pgrep -f "$STACK_DIR" | tr '\n' ' ')
    if [ -n "$left" ]; then
        echo "# processes left running: $left" >&3
        kill -KILL $left 2>/dev/null
        rm -rf "$STACK_DIR"
        return 1
    fi
    rm -rf "$STACK_DIR"
}

# fresh_copy DIR: this tree as a clone would have it (tracked files and new
# ones not ignored: no build, no bin, no node_modules), in DIR.
fresh_copy() {
    mkdir -p "$1"
    (cd "$ROOT" && git ls-files -co --exclude-standard -z | tar --null -T - -cf -) | tar -xf - -C "$1"
    [ ! -e "$1/build" ] && [ ! -e "$1/bin" ]
}

# fresh_machine NAME: an empty package state (FAKE_PKG_STATE) with the
# stand-ins, and FRESH_PATH, the PATH that puts them first.
fresh_machine() {
    export FAKE_PKG_STATE=$STACK_DIR/$1-state
    mkdir -p "$FAKE_PKG_STATE/bin"
    cp "$ROOT"/tests/fresh/* "$FAKE_PKG_STATE/bin/"
    FRESH_PATH=$FAKE_PKG_STATE/bin:$PATH
}

# NEWCOMER: env arguments for the environment of a newcomer's shell, with
# nothing of this suite's in it.
NEWCOMER=(-u DATABASE_URL -u PGHOST -u PGPORT -u PGUSER -u PGPASSWORD -u PGDATABASE
    -u DATASTORE_TOKEN -u DATASTORE_TOKEN_FILE -u BACKEND_RUN_DIR -u BACKEND_BIN -u BACKEND_WRAP
    -u UNIT_DIR -u TESTS -u SANITIZER -u URL -u TOKEN -u STACK_DIR -u FILE_TEMP_DIR
    -u MAKEFLAGS -u MAKELEVEL -u MFLAGS)

@test "the stand-ins report a fresh machine: nothing installed, no build flags" {
    fresh_machine probe
    run env PATH="$FRESH_PATH" dpkg-query -W -f='${Status}' libpq-dev
    [ "$status" -ne 0 ]
    run env PATH="$FRESH_PATH" pkg-config --cflags libpq
    [ "$status" -ne 0 ]
    run env PATH="$FRESH_PATH" apt-get install -y libpq-dev
    [ "$status" -eq 100 ]
}

@test "make test in a fresh clone succeeds the first time: it installs, then builds with the installed flags" {
    fresh_copy "$STACK_DIR/test-clone"
    fresh_machine test
    # make test's own path, with one integration file so that the nested
    # run stays short: install, build, unit tests, bats through lighttpd.
    run env "${NEWCOMER[@]}" PATH="$FRESH_PATH" TESTS=tests/integration/01-health.bats \
        make -C "$STACK_DIR/test-clone" --no-print-directory test
    echo "$output" | tail -n 40
    [ "$status" -eq 0 ]
    [[ "$output" =~ [0-9]+\ passed,\ 0\ failed ]]
    # It went through the install step: apt-get update, then the build
    # packages, before pkg-config was first asked.
    grep -q '^apt-get update' "$FAKE_PKG_STATE/apt.log"
    for p in libpq-dev libfcgi-dev libjansson-dev libmicrohttpd-dev libssl-dev lighttpd postgresql bats; do
        grep -qx "$p" "$FAKE_PKG_STATE/installed"
    done
    [ -x "$STACK_DIR/test-clone/bin/backend-health" ]
    [ -x "$STACK_DIR/test-clone/bin/backend-mcp" ]
}

@test "make run in a fresh clone succeeds the first time: installs, builds, serves, stops" {
    fresh_copy "$STACK_DIR/run-clone"
    fresh_machine run
    port=$(free_port)
    env "${NEWCOMER[@]}" PATH="$FRESH_PATH" PORT="$port" "$ROOT/tests/lib/spawn-group.py" \
        make -C "$STACK_DIR/run-clone" --no-print-directory run >"$STACK_DIR/run.log" 2>&1 3>&- &
    group=$!
    echo "$group" >"$STACK_DIR/group"
    for _ in $(seq 1 1200); do
        grep -q "^make run: backend is up at" "$STACK_DIR/run.log" && break
        [ -n "$(pids_running "$group")" ] || break
        sleep 0.1
    done
    tail -n 20 "$STACK_DIR/run.log"
    grep -q "^make run: backend is up at http://127.0.0.1:$port$" "$STACK_DIR/run.log"
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health")" = 200 ]
    grep -q '^apt-get update' "$FAKE_PKG_STATE/apt.log"
    grep -qx libpq-dev "$FAKE_PKG_STATE/installed"
    kill -TERM -- "-$group"
    for _ in $(seq 1 100); do [ -z "$(pids_running "$group")" ] && break; sleep 0.05; done
    [ -z "$(pids_running "$group")" ]
}
