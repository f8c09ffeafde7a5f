#!/usr/bin/env bats
# Adding a mode is one command (docs/adding-a-mode.md). In a copy of the
# tree (with its build, so only the new mode compiles), make mode NAME=demo
# writes the mode file and its tests and touches nothing else; then, with
# no other change: the build, the architecture check (backend-demo carries
# no other mode), the OpenAPI contract test and the generated client's test
# (18-openapi.bats's, which want requests for every operation: the demo's
# are among them) and the new mode's own suite all pass.

setup_file() {
    ROOT=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
    "$ROOT/tests/openapi/install.sh"
    COPY=$(mktemp -d /tmp/backend-mode.XXXXXX)
    chmod 711 "$COPY"
    export ROOT COPY
    # The tree as it is now, committed or not (but not what was deleted),
    # timestamps kept; the OpenAPI tests' tools shared, not installed again.
    (cd "$ROOT" && git ls-files -co --exclude-standard -z |
        while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
        xargs -0 cp -a --parents -t "$COPY")
    cp -a "$ROOT/build" "$ROOT/bin" "$COPY/"
    ln -s "$ROOT/tests/openapi/node_modules" "$COPY/tests/openapi/node_modules"
}
teardown_file() { rm -rf "$COPY"; }

# The tree's files but the build's, each with its checksum.
sums() { (cd "$COPY" && find . -path ./build -prune -o -path ./bin -prune -o -path ./tests/openapi/node_modules -prune \
    -o -type f -print0 | sort -z | xargs -0 sha1sum); }

@test "make mode NAME=demo: only its own files, then the build, the architecture check, the OpenAPI tests and its suite pass" {
    cd "$COPY"
    local before
    before=$(sums)
    run make -s mode NAME=demo
    echo "$output"
    [ "$status" -eq 0 ]
    # What it wrote, and nothing else changed.
    run diff <(echo "$before") <(sums)
    echo "$output"
    [ "$(grep -c '^>' <<<"$output")" -eq 4 ] && [ "$(grep -c '^<' <<<"$output")" -eq 0 ]
    for f in 'fcgi-apps/demo\.c' 'tests/integration/[0-9]+-demo\.bats' 'tests/openapi/client/requests/demo\.ts' \
        'tests/openapi/contract/demo\.mjs'; do
        grep -qE " \./$f\$" <<<"$output"
    done
    # Written as make format writes it.
    clang-format --dry-run -Werror fcgi-apps/demo.c
    run make -s -j2 all
    echo "$output" | tail -n 20
    [ "$status" -eq 0 ]
    [ -x bin/backend-demo ]
    # the registry found it beside the modes the tree had (no list to edit)
    [ "$(bin/backend-registry --modes | tr '\n' ' ')" = "$( (echo demo; "$ROOT/bin/backend-registry" --modes) | LC_ALL=C sort | tr '\n' ' ')" ]
    run tests/arch/check.sh
    echo "$output"
    [ "$status" -eq 0 ] && ! grep -q '^not ok' <<<"$output"
    grep -q 'ok .* backend-demo carries no other mode' <<<"$output"
    # The OpenAPI contract test and the generated client's test, on the
    # copy's stack: each wants a request for every operation, the demo's
    # two included, and type-checks the client's against the document.
    run env BACKEND_BIN="$COPY/bin" bats --tap --filter 'contract:|a client generated' tests/integration/18-openapi.bats
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$(grep -c '^ok ' <<<"$output")" -eq 2 ]
    run env BACKEND_BIN="$COPY/bin" bats --tap tests/integration/*-demo.bats
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$(grep -c '^ok ' <<<"$output")" -eq 3 ]
}

@test "make mode refuses a bad or taken name" {
    cd "$COPY"
    for bad in Demo 1x sql registry openapi docs demo ''; do
        run make -s mode NAME="$bad"
        [ "$status" -ne 0 ]
    done
}
