#!/usr/bin/env bash
# The architecture's one direction, checked (TAP on stdout; tests/run.sh
# counts it): fcgi-apps/<mode> -> common/, never back, and each mode
# executable carries its own mode and common/ only (docs/architecture.md);
# and no function is over 60 lines (long-functions.sh).
#   BACKEND_BIN  the executables (default bin)
#   BUILD_DIR    the objects (default build)
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 2
BIN=${BACKEND_BIN:-$ROOT/bin}
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
# Each mode executable's code (its .text section) must be smaller than
# backend-registry's, which links every mode and common/, as every mode
# executable did before each carried only its own mode (8321f3f^). The code,
# not the file: debug information grows with every line of common/, and the
# health mode carries the generated OpenAPI document as data (.rodata); the
# symbols of other modes are checked directly above. Measured against
# today's all-modes build rather than a number from then, since common/
# grows (metrics, tracing, inputs) for every executable alike.
text_size() { size -A "$1" | awk '$1 == ".text" { print $2 }'; }
n=0
result() { # result OK|FAIL DESCRIPTION [DETAIL...]
    n=$((n + 1))
    if [ "$1" = OK ]; then echo "ok $n $2"; else
        echo "not ok $n $2"
        shift 2
        printf '#   %s\n' "$@"
    fi
}

# common/'s code without its comments (string literals kept).
code_of() { gcc -fpreprocessed -dD -E -P "$1" 2>/dev/null; }

# 1. common/ includes nothing of fcgi-apps/: every "local" header it names
#    is in common/.
bad=()
for f in common/*.c common/*.h; do
    while read -r h; do
        [ -f "common/$h" ] || bad+=("$f includes \"$h\"")
    done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
done
[ ${#bad[@]} -eq 0 ] && result OK "common/ includes only common/ headers" ||
    result FAIL "common/ includes only common/ headers" "${bad[@]}"

# 2. common/'s code names no mode, no mode's route and no mode's setting.
modes=$("$BIN/backend-registry" --modes) || { result FAIL "backend-registry --modes"; exit 1; }
settings=$("$BIN/backend-registry" --settings | cut -f1)
bad=()
for f in common/*.c common/*.h; do
    code=$(code_of "$f")
    for m in $modes mcp; do
        hits=$(grep -nE "\"/?$m([\"/_ ]|\$)" <<<"$code" || true)
        [ -z "$hits" ] || bad+=("$f names mode $m: $hits")
    done
    for s in $settings; do
        hits=$(grep -nw -- "$s" <<<"$code" || true)
        [ -z "$hits" ] || bad+=("$f names setting $s: $hits")
    done
done
[ ${#bad[@]} -eq 0 ] && result OK "common/ names no mode, route or mode setting" ||
    result FAIL "common/ names no mode, route or mode setting" "${bad[@]}"

# 2b. The parts of the docs printed from the code (the settings, the error
#     table, processes and connections, counts) are what the code prints
#     now (tools/docs-blocks.sh; make rewrites them).
if diffs=$(tools/docs-blocks.sh --check "$BIN/backend-registry" README.md docs/*.md 2>&1); then
    result OK "the docs' generated parts are what the code prints"
else
    mapfile -t lines < <(head -n 30 <<<"$diffs")
    result FAIL "the docs' generated parts are what the code prints" "run make (it rewrites them)" "${lines[@]}"
fi

# 2c. The repository stands alone: no tracked file (but CI's) cites the
#     external contract's file or folder, or its sections; what the code
#     relies on is stated in docs/api.md. The patterns are written so that
#     they do not match themselves. Outside a git checkout (a copy of the
#     tree), every file of it is read.
# The files another change is rewriting now; to be emptied with it.
cites_allowed=()
cites=(-e 'contract[.]md' -e '[.][.]/shared' -e 'contract sections? [0-9]')
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    excludes=(':!.ci')
    for f in "${cites_allowed[@]}"; do excludes+=(":!$f"); done
    hits=$(git grep -n -i -E "${cites[@]}" -- . "${excludes[@]}")
else
    hits=$(grep -rnIiE "${cites[@]}" --exclude-dir={.ci,.git,build,bin,run,node_modules} . |
        sed 's|^\./||' | while IFS= read -r line; do
            for f in "${cites_allowed[@]}"; do
                # shellcheck disable=SC2053 # the allowed names are patterns
                [[ ${line%%:*} == $f ]] && continue 2
            done
            echo "$line"
        done)
fi
mapfile -t lines < <(head -n 20 <<<"$hits")
[ -z "$hits" ] && result OK "no file cites the contract outside the repository (docs/api.md states it)" ||
    result FAIL "no file cites the contract outside the repository (docs/api.md states it)" \
        "cite docs/api.md (or the doc of the mode) instead:" "${lines[@]}"

# 2d. No function over 60 lines in common/ and fcgi-apps/ (tests aside),
#     but those tests/arch/long-functions.allow still lists.
if long=$(tests/arch/long-functions.sh 2>&1); then
    result OK "no function over 60 lines in common/ and fcgi-apps/"
else
    mapfile -t lines <<<"$long"
    result FAIL "no function over 60 lines in common/ and fcgi-apps/" "${lines[@]}"
fi

# 3. backend-<mode> links no other mode: none of another mode's global
#    symbols (its mode_<name> value included) is in it; and it is smaller
#    than when every executable carried every mode.
for m in $modes; do
    exe=$BIN/backend-$m
    mine=$(nm -g --defined-only "$exe" | awk '{print $3}' | sort -u)
    bad=()
    for o in $modes; do
        [ "$o" = "$m" ] && continue
        objs=("$BUILD_DIR/modes/$o.o")
        [ -d "$BUILD_DIR/modes/$o" ] && objs+=("$BUILD_DIR/modes/$o"/*.o)
        theirs=$(nm -g --defined-only "${objs[@]}" 2>/dev/null | awk 'NF == 3 {print $3}' | sort -u)
        both=$(comm -12 <(echo "$mine") <(echo "$theirs") | tr '\n' ' ')
        [ -z "$both" ] || bad+=("symbols of mode $o: $both")
    done
    [ ${#bad[@]} -eq 0 ] && result OK "backend-$m carries no other mode" ||
        result FAIL "backend-$m carries no other mode" "${bad[@]}"
    [ -n "${SANITIZER:-}" ] && continue # instrumented builds are larger
    size=$(text_size "$exe")
    all=$(text_size "$BIN/backend-registry")
    [ -n "$size" ] && [ -n "$all" ] && [ "$size" -lt "$all" ] &&
        result OK "backend-$m has $size bytes of code, under the all-modes build's $all" ||
        result FAIL "backend-$m has $size bytes of code, under the all-modes build's $all"
done
# 4. A handler reads its inputs as its route declares them, validated by
#    the serve loop (mode.h, handler_fn): no mode file reads a path
#    capture, a query parameter or a negotiation header from the raw
#    request, or validates a body itself. (The serve loop also clears what a
#    route does not declare, so such a read would find nothing.)
raw='req->(params|query|nquery|nparams|if_match|if_none_match|last_event_id|accept|content_type)\b|request_query(_known)?\(|input_(path|query|body|headers)\(|request_json(_object|_value)?\('
bad=()
for f in fcgi-apps/*.c fcgi-apps/*/*.c; do
    case "$f" in fcgi-apps/mcp/* | fcgi-apps/generate.c | fcgi-apps/openapi.c | fcgi-apps/registry.c | fcgi-apps/main.c) continue ;; esac
    hits=$(code_of "$f" | grep -nE "$raw" || true)
    [ -z "$hits" ] || bad+=("$f: $hits")
done
[ ${#bad[@]} -eq 0 ] && result OK "mode files read only their declared, validated inputs" ||
    result FAIL "mode files read only their declared, validated inputs" "${bad[@]}"

# 5. No code reads local time through the process's TZ or changes the
#    environment: no object calls localtime, mktime, tzset or setenv and
#    the like. Schedules compute their zones' rules from the zone database
#    alone (fcgi-apps/queue/tz.c, docs/queue.md "Schedules: cron syntax"),
#    so two schedules in two zones never disturb each other.
bad=()
for o in "$BUILD_DIR"/common/*.o "$BUILD_DIR"/modes/*.o "$BUILD_DIR"/modes/*/*.o "$BUILD_DIR"/mcp/*.o; do
    [ -f "$o" ] || continue
    hits=$(nm -u "$o" | awk '{print $NF}' |
        grep -xE 'localtime|localtime_r|mktime|timelocal|tzset|setenv|putenv|unsetenv|clearenv' | tr '\n' ' ')
    [ -z "$hits" ] || bad+=("$o calls $hits")
done
[ ${#bad[@]} -eq 0 ] && result OK "nothing calls localtime, mktime, tzset or changes the environment (TZ)" ||
    result FAIL "nothing calls localtime, mktime, tzset or changes the environment (TZ)" "${bad[@]}"
echo "1..$n"
