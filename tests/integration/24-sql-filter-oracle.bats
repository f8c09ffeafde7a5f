#!/usr/bin/env bats
# The sql mode's query language (fcgi-apps/sql/filter.h) against a real
# PostgreSQL: tests/unit/oracle_filter.c runs the SQL the builder makes
# from query strings, and the same conditions written by hand in SQL, on a
# table of every column type (NULLs, ties, BC dates, infinity, NaN, a
# denormal double, 30-digit numerics), and compares the rows
# (docs/sql.md, "Filters, ordering, projection and paging"). PostgreSQL
# only: the routes are not involved.

load ../lib/stack
bats_require_minimum_version 1.5.0

ORACLE=${UNIT_DIR:-$ROOT/build/tests}/oracle_filter

setup_file() { stack_db_setup; }
teardown_file() { stack_teardown; }

# oracle SECTION MIN: runs a section of the oracle; passes when it exits 0
# having made at least MIN checks (so that a section that checks nothing
# fails). Prints what failed.
oracle() {
    run "$ORACLE" "$1"
    local checks
    checks=$(grep -c '^ok ' <<<"$output" || true)
    if [ "$status" -ne 0 ] || [ "$checks" -lt "$2" ]; then
        echo "oracle $1: exit $status, $checks checks (at least $2 expected)" >&2
        grep -v '^ok ' <<<"$output" | head -n 40 >&2
        return 1
    fi
}

@test "the table of every type, by the mode's own DDL" {
    oracle setup 1
}

@test "operator x type matrix: the builder's WHERE selects the rows the hand-written SQL does (143 cases, each discriminating)" {
    oracle matrix 286
}

@test "paging: every ordering, page by page through next, is the hand-written ORDER BY (28 orderings x 4 page sizes)" {
    oracle paging 224
}

@test "count=exact counts what the hand-written WHERE counts, the cursor aside" {
    oracle count 6
}

@test "rows inserted between pages: none skipped or repeated, those sorting after the cursor seen" {
    oracle concurrent 9
}

@test "every value C accepts, PostgreSQL reads as the column's type" {
    oracle values 40
}

@test "a value PostgreSQL still refuses is 422 naming its column (or after), in the service's words" {
    oracle blame 5
}
