#!/usr/bin/env bats
# The README's examples, run verbatim (but for the address) against a fresh
# service: every one of them answers without an error.

load ../lib/stack

setup_file() { stack_setup; }
teardown_file() { stack_teardown; }

@test "every curl example in the README's 'Try it' section runs and answers without an error" {
    sed -n '/^## Try it/,/^## Configuration/p' "$ROOT/README.md" |
        awk '/^```sh$/ {inside=1; next} /^```$/ {inside=0} inside' |
        sed "s#http://127.0.0.1:4000#$URL#g" >"$BATS_TEST_TMPDIR/examples.sh"
    [ "$(grep -c curl "$BATS_TEST_TMPDIR/examples.sh")" -ge 18 ]
    run bash -euo pipefail "$BATS_TEST_TMPDIR/examples.sh"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ "$output" != *'"error"'* ]]
    [[ "$output" == *'"status":"ok"'* ]]
    [[ "$output" == *'"acked":true'* ]]
    [[ "$output" == *'"deleted" : true'* || "$output" == *'"deleted":true'* ]]
}
