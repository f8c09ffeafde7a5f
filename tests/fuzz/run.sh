#!/usr/bin/env bash
# Runs every fuzzer in build-fuzz/fuzz for SECONDS each, from the seeds in
# tests/fuzz/corpus/<target> (new inputs go to a scratch copy, not the
# repository). A crash, leak or timeout fails the run and keeps its input
# under run/fuzz/. Ends with one summary line.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SECONDS_EACH=${1:-60}
OUT=$ROOT/run/fuzz
mkdir -p "$OUT"
passed=0
failed=0
for exe in "$ROOT"/build-fuzz/fuzz/fuzz_*; do
    name=$(basename "$exe")
    target=${name#fuzz_}
    work=$(mktemp -d)
    cp "$ROOT/tests/fuzz/corpus/$target"/* "$work/" 2>/dev/null || true
    if "$exe" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$OUT/$name-" "$work" >"$OUT/$name.log" 2>&1; then
        runs=$(awk '/stat::number_of_executed_units/ {print $2}' "$OUT/$name.log")
        echo "ok $name: ${runs:-?} inputs in ${SECONDS_EACH}s, no crash"
        passed=$((passed + 1))
    else
        echo "not ok $name: see $OUT/$name.log and the artifact beside it"
        grep -E "ERROR|SUMMARY|artifact" "$OUT/$name.log" | head -n 5 | sed 's/^/#   /'
        failed=$((failed + 1))
    fi
    rm -rf "$work"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
