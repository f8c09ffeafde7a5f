#!/usr/bin/env bash
# No function of the service's C is over 60 lines (the brief's standard;
# tests aside): common/*.c, fcgi-apps/*.c and fcgi-apps/*/*.c. Prints one
# line per offender, longest first ("N lines  file:function (from-to)"),
# and exits 1 when there is any; 0 when there is none; 2 when it cannot
# tell (ctags or jq missing).
#
# How a function is found: Universal Ctags' C parser gives each function
# definition's first line (the one naming it) and its last (the closing
# brace); the length counts both. So that no function escapes because a
# macro confused the parser, every line of a file that is a lone "}" (how
# clang-format, which make lint enforces, closes every function body that
# is not on one line; a struct or an initializer closes with "};" or
# "} name;") must be the end of a function ctags reported: one that is not
# is an offender too, to be looked at.
#
# tests/arch/long-functions.allow lists "file:function" entries allowed
# to stay long for now (# starts a comment); an entry that is no longer
# long, or names nothing, is an offender, so the list only shrinks.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 2
MAX=${FUNCTION_LINES_MAX:-60}
ALLOW=tests/arch/long-functions.allow

for tool in ctags jq; do
    command -v "$tool" >/dev/null || {
        echo "long-functions: $tool is missing (deploy/install-deps.sh installs it)" >&2
        exit 2
    }
done
ctags --list-fields 2>/dev/null | grep -w end >/dev/null || {
    echo "long-functions: this ctags is not Universal Ctags (no end field)" >&2
    exit 2
}

files=()
for f in common/*.c fcgi-apps/*.c fcgi-apps/*/*.c; do [ -f "$f" ] && files+=("$f"); done
# "file name first last" for each function defined (last 0: no end found).
tags=$(ctags --languages=C --language-force=C --kinds-C=f --fields=+ne --output-format=json -o - "${files[@]}" |
    jq -r 'select(.kind == "function") | "\(.path) \(.name) \(.line) \(.end // 0)"') || {
    echo "long-functions: ctags could not read the sources" >&2
    exit 2
}
allow=$([ -f "$ALLOW" ] && sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$ALLOW")

# Three inputs, told apart by their first line's tag: the functions, the
# lone braces (grep: "file:line:}"), the allowlist.
offenders=$(
    {
        echo "@tags"
        echo "$tags"
        echo "@braces"
        grep -Hn '^}$' "${files[@]}"
        echo "@allow"
        echo "$allow"
    } | awk -v max="$MAX" -v allow_file="$ALLOW" '
        /^@/ { part = $0; next }
        $0 == "" { next }
        part == "@tags" {
            if ($4 == 0) { print "?? lines  " $1 ":" $2 " (from " $3 ": ctags found no end)"; next }
            ends[$1 ":" $4] = 1
            n = $4 - $3 + 1
            if (n > max) { long[$1 ":" $2] = n; where[$1 ":" $2] = "(" $3 "-" $4 ")" }
            next
        }
        part == "@braces" {
            split($0, b, ":")
            if (!((b[1] ":" b[2]) in ends))
                print "?? lines  " b[1] ":" b[2] ": a lone } that ends no function ctags found"
            next
        }
        part == "@allow" { allowed[$0] = 1 }
        END {
            for (f in long)
                if (!(f in allowed)) print long[f] " lines  " f " " where[f]
            for (a in allowed)
                if (!(a in long))
                    print allow_file " lists " a ", which is not over " max " lines (or not there): remove it"
        }' | sort -rn
)
[ -z "$offenders" ] && exit 0
echo "$offenders"
exit 1
