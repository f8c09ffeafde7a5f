#!/usr/bin/env bats
# Adding a mode is one command (docs/adding-a-mode.md). In a copy of the
# tree (with its build, so only the new mode compiles): make mode NAME=demo,
# make; then backend-demo carries no other mode (tests/arch/check.sh) and
# the skeleton's own test passes: its route answers through lighttpd,
# /health lists it, tools/list has its tool and the tool answers.

setup_file() {
    ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
    COPY=$(mktemp -d /tmp/backend-mode.XXXXXX)
    chmod 711 "$COPY"
    export ROOT COPY
    # The tree as it is now, committed or not (but not what was deleted),
    # timestamps kept.
    (cd "$ROOT" && git ls-files -co --exclude-standard -z |
        while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
        xargs -0 cp -a --parents -t "$COPY")
    cp -a "$ROOT/build" "$ROOT/bin" "$COPY/"
}
teardown_file() { rm -rf "$COPY"; }

@test "make mode NAME=demo: a mode that builds, carries only itself, and passes its own test" {
    cd "$COPY"
    run make -s mode NAME=demo
    echo "$output"
    [ "$status" -eq 0 ]
    [ -f fcgi-apps/demo.c ] && grep -q '&mode_demo,' fcgi-apps/registry.c
    run make -s all
    echo "$output" | tail -n 20
    [ "$status" -eq 0 ]
    [ -x bin/backend-demo ]
    [ "$(bin/backend-registry --modes | tr '\n' ' ')" = "document file health queue sql demo " ]
    run tests/arch/check.sh
    echo "$output"
    [ "$status" -eq 0 ] && ! grep -q '^not ok' <<<"$output"
    grep -q 'ok .* backend-demo carries no other mode' <<<"$output"
    run env BACKEND_BIN="$COPY/bin" bats --tap tests/integration/*-demo.bats
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$(grep -c '^ok ' <<<"$output")" -eq 3 ]
}

@test "make mode refuses a bad or taken name" {
    cd "$COPY"
    for bad in Demo 1x sql registry ''; do
        run make -s mode NAME="$bad"
        [ "$status" -ne 0 ]
    done
}
