#!/usr/bin/env bash
# The test suites: the C unit tests, the architecture check (tests/arch/),
# then the bats integration suite through lighttpd. Ends with one line
# "N passed, N failed" and exits non-zero when anything failed (a sanitizer
# report counts as a failure).
#   UNIT_DIR   where the unit test executables are (default build/tests)
#   BACKEND_BIN, SANITIZER (asan | valgrind): see the Makefile
#   TESTS      bats files or folders to run (default tests/integration)
#   SUITES     which suites: any of unit, arch, integration (default all;
#              make unit runs "unit arch", make integration "integration")
#   JOBS       integration files run at once (default 1); SERIAL names the
#              files (basenames) that run alone after the others
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2
UNIT_DIR=${UNIT_DIR:-$ROOT/build/tests}
passed=0
failed=0

count() { # reads TAP on stdin, echoes it, adds to the totals
    local line
    while IFS= read -r line; do
        echo "$line"
        case "$line" in
        "ok "*) passed=$((passed + 1)) ;;
        "not ok "*) failed=$((failed + 1)) ;;
        "# exit 0") ;;
        "# exit "*) failed=$((failed + 1)) ;; # a unit test binary crashed or failed
        esac
    done
}

# run_parallel FILE...: the bats files, JOBS at a time (each starts its own
# PostgreSQL and lighttpd on free ports, so they are independent), each
# one's TAP kept apart and counted whole when it ends, in the order they
# end. The files listed in SERIAL (the ones that load the machine on
# purpose, whose bounds assume it is otherwise idle) run alone after the
# others. SLACK_FACTOR (tests/lib/stack.bash) widens the time bounds of
# what runs beside other files.
run_parallel() {
    local dir f started pids=() serial=() parallel=()
    dir=$(mktemp -d /tmp/backend-run.XXXXXX)
    for f in "$@"; do
        if [[ " ${SERIAL:-} " == *" $(basename "$f") "* ]]; then serial+=("$f"); else parallel+=("$f"); fi
    done
    for f in "${parallel[@]}"; do
        while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n 2>/dev/null || true; done
        (
            started=$SECONDS
            SLACK_FACTOR=${SLACK_FACTOR:-2} bats --tap --timing "$f" >"$dir/$(basename "$f").tap" 2>&1
            echo "# $(basename "$f"): $((SECONDS - started)) s (beside others)" >>"$dir/$(basename "$f").tap"
            mv "$dir/$(basename "$f").tap" "$dir/$(basename "$f").done"
        ) &
        pids+=($!)
    done
    wait "${pids[@]}" 2>/dev/null || true
    for f in "${parallel[@]}"; do count <"$dir/$(basename "$f").done"; done
    for f in "${serial[@]}"; do
        started=$SECONDS
        count < <(bats --tap --timing "$f" 2>&1)
        echo "# $(basename "$f"): $((SECONDS - started)) s (alone)"
    done
    rm -rf "$dir"
}

SUITES=${SUITES:-unit arch integration}
wants() { [[ " $SUITES " == *" $1 "* ]]; }

if wants unit; then
    echo "# unit tests"
    for t in "$UNIT_DIR"/test_*; do
        [ -x "$t" ] || continue
        echo "# $(basename "$t")"
        count < <("$t" 2>&1; echo "# exit $?")
    done
fi

if wants arch; then
    echo "# architecture: one direction, one mode per executable"
    count < <(BUILD_DIR=$(dirname "$UNIT_DIR") tests/arch/check.sh 2>&1; echo "# exit $?")
fi

rm -rf "$ROOT/run/sanitizer-reports"
if wants integration; then
    echo "# integration tests"
    # One bats run per file, each timed, so a slow file shows in the log.
    files=()
    for t in ${TESTS:-tests/integration}; do
        if [ -d "$t" ]; then files+=("$t"/*.bats); else files+=("$t"); fi
    done
    if [ "${JOBS:-1}" -le 1 ]; then
        for f in "${files[@]}"; do
            started=$SECONDS
            count < <(bats --tap --timing "$f" 2>&1)
            echo "# $(basename "$f"): $((SECONDS - started)) s"
        done
    else
        run_parallel "${files[@]}"
    fi
fi

if [ -d "$ROOT/run/sanitizer-reports" ]; then
    echo "# sanitizer reports (each one is a failure):"
    for f in "$ROOT"/run/sanitizer-reports/*; do
        echo "# --- $f"
        sed 's/^/#   /' "$f" | head -n 60
        failed=$((failed + 1))
    done
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
