#!/usr/bin/env bash
# The parts of the docs that come from the code, printed into them: make
# rewrites them (the Makefile's docs rule), tests/arch/check.sh fails when
# one differs from what the code prints now (docs/testing.md, "Generated
# docs").
#
#   tools/docs-blocks.sh [--check] REGISTRY FILE...
#
# REGISTRY is bin/backend-registry. In each FILE:
#   - a block: a line "<!-- generated: SOURCE -->", then what SOURCE prints,
#     then a line "<!-- end generated -->". SOURCE is "backend-registry
#     --OPTION" (one of its printing options: --errors-md, --processes-md,
#     --settings-md), or "deploy/errors" (lighttpd's own error answers,
#     from deploy/errors/status-NNN.html);
#   - a figure inside a line: "<!-- figure NAME -->VALUE<!-- /figure -->",
#     NAME one of the names `backend-registry --figures` prints.
# Without --check, each FILE whose generated parts differ is rewritten in
# place (and named on stderr); with --check, nothing is written and the
# differences are printed. Exits 1 when --check finds one, 2 on a marker
# that names no source or figure, or a block without its end.
set -euo pipefail
check=0
if [ "${1:-}" = --check ]; then
    check=1
    shift
fi
registry=$1
shift
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

declare -A figure
while read -r name value; do figure[$name]=$value; done < <("$registry" --figures)

fail() {
    echo "docs-blocks: $*" >&2
    exit 2
}

# lighttpd_errors: the errors lighttpd answers itself, one row per error
# page: its status, and the code and detail of the JSON body it sends.
lighttpd_errors() {
    local f status body code detail
    echo "| status | error | detail (the body's own) |"
    echo "|---|---|---|"
    for f in "$root"/deploy/errors/status-*.html; do
        status=${f##*status-}
        status=${status%.html}
        body=$(cat "$f")
        code=$(sed -n 's/.*"error":"\([^"]*\)".*/\1/p' <<<"$body")
        detail=$(sed -n 's/.*"detail":"\([^"]*\)".*/\1/p' <<<"$body")
        [ -n "$code" ] && [ -n "$detail" ] || fail "$f: not {\"error\":...,\"detail\":...}"
        echo "| $status | \`$code\` | $detail |"
    done
}

# block SOURCE: prints what SOURCE prints.
block() {
    case "$1" in
    "backend-registry --errors-md" | "backend-registry --processes-md" | "backend-registry --settings-md")
        "$registry" "${1#backend-registry }" ;;
    deploy/errors) lighttpd_errors ;;
    *) fail "$file: no source \"$1\"" ;;
    esac
}

# figures LINE: LINE with each figure's value put in.
figures() {
    local line=$1 out="" re='^(.*)<!-- figure ([A-Za-z0-9_.]+) -->[^<]*<!-- /figure -->(.*)$'
    # From the right, so what is put in is never read again.
    while [[ $line =~ $re ]]; do
        local name=${BASH_REMATCH[2]} tail=${BASH_REMATCH[3]}
        [ -n "${figure[$name]+x}" ] || fail "$file: no figure \"$name\" (backend-registry --figures)"
        out="<!-- figure $name -->${figure[$name]}<!-- /figure -->$tail$out"
        line=${BASH_REMATCH[1]}
    done
    printf '%s\n' "$line$out"
}

# generate FILE: prints FILE with its generated parts as the code gives them.
generate() {
    local line source="" start='^<!-- generated: (.*) -->$'
    while IFS= read -r line || [ -n "$line" ]; do
        if [ -n "$source" ]; then
            [ "$line" = "<!-- end generated -->" ] || continue
            block "$source"
            source=""
        elif [[ $line =~ $start ]]; then
            source=${BASH_REMATCH[1]}
            printf '%s\n' "$line"
            continue
        elif [[ $line == *"<!-- figure "* ]]; then
            figures "$line"
            continue
        fi
        printf '%s\n' "$line"
    done <"$1"
    [ -z "$source" ] || fail "$1: \"<!-- generated: $source -->\" has no \"<!-- end generated -->\""
}

differs=0
for file in "$@"; do
    generate "$file" >"$tmp/out"
    cmp -s "$tmp/out" "$file" && continue
    if [ "$check" = 1 ]; then
        echo "$file differs from what the code prints (make rewrites it):"
        diff -u "$file" "$tmp/out" | sed -n '3,40p'
        differs=1
    else
        cp "$tmp/out" "$file"
        echo "docs-blocks: rewrote $file" >&2
    fi
done
exit "$differs"
