#!/usr/bin/env bash
# The architecture's one direction, checked (TAP on stdout; tests/run.sh
# counts it): fcgi-apps/<mode> -> common/, never back, and each mode
# executable carries its own mode and common/ only (docs/architecture.md).
#   BACKEND_BIN  the executables (default bin)
#   BUILD_DIR    the objects (default build)
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 2
BIN=${BACKEND_BIN:-$ROOT/bin}
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
# The size of every mode executable before each carried only its own mode
# (all of them linked every mode): each must now be smaller. Raised by
# 8 KiB in issue 19, where common/ gained streamed answers and the
# conditional headers (backend-sql, the largest, grew 870 bytes of text and
# 6.5 KB of file, mostly debug information); that no mode carries another
# is checked directly above.
SIZE_BEFORE=401104
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

# 2b. The configuration table in the docs is the one the declarations give.
table=$(sed -n '/^<!-- settings: generated/,/^<!-- end of settings/p' docs/configuration.md | sed '1d;$d')
if [ "$table" = "$("$BIN/backend-registry" --settings-md)" ]; then
    result OK "docs/configuration.md holds the settings the modes declare"
else
    result FAIL "docs/configuration.md holds the settings the modes declare" \
        "regenerate it: bin/backend-registry --settings-md" \
        "$(diff <(echo "$table") <("$BIN/backend-registry" --settings-md) | head -n 10)"
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
    size=$(stat -c %s "$exe")
    [ "$size" -lt "$SIZE_BEFORE" ] && result OK "backend-$m is $size bytes, under $SIZE_BEFORE" ||
        result FAIL "backend-$m is $size bytes, under $SIZE_BEFORE"
done
echo "1..$n"
