/*
 * oracle_filter: the sql mode's query language (sql/filter.h) against a
 * real PostgreSQL. Each case runs the SQL the builder makes from a query
 * string and the same condition written by hand in SQL, on a table of
 * every column type (NULLs, ties, edge values: BC dates, infinity, NaN,
 * a denormal double, 30-digit numerics), and compares the rows.
 *
 *   oracle_filter SECTION      (DATABASE_URL names the database)
 *
 * SECTION: setup (the table), matrix (operator x type), paging (every
 * ordering, page by page through the cursor), count, concurrent (rows
 * inserted between pages), values (what C accepts, PostgreSQL reads),
 * blame (a value PostgreSQL refuses is named in the service's words).
 * Prints TAP; exits 1 when a case fails. Driven by
 * tests/integration/24-sql-filter-oracle.bats; not part of the unit suite
 * (it needs the database).
 */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config.h"
#include "db.h"
#include "query_split.h"
#include "sql/filter.h"

static PGconn *g_pg;
static pool *g_pool;
static table_spec g_spec;

/* ---- the table ---- */

enum { ROWS = 90 };

/* Each column's values, as SQL text PostgreSQL casts (NULL: SQL NULL). */
static const char *const t_vals[] = {NULL,       "",     "apple", "Apple",    "apple",      "a%b",
                                     "a_b",      "a\\b", "a*b",   "50% off",  "with,comma", "quote\"d",
                                     "paren(x)", "gt.5", "not.x", "\xc3\xa9", "Z",          "b"};
static const char *const n_vals[] = {NULL, "-2147483648", "-1", "0", "1", "2", "2", "5", "2147483647", "1"};
static const char *const b_vals[] = {NULL, "-9223372036854775808", "0", "10",
                                     "10", "9223372036854775807",  "-3"};
static const char *const d_vals[] = {NULL,
                                     "-1e300",
                                     "-0.25",
                                     "0",
                                     "0.1",
                                     "1.5",
                                     "1.5",
                                     "1e-310",
                                     "Infinity",
                                     "NaN",
                                     "-0",
                                     "0.30000000000000004",
                                     "0.3",
                                     "2.718281828459045",
                                     "-1.7976931348623157e308",
                                     "5e-324"};
static const char *const x_vals[] = {
    NULL, "-1.5", "0", "0.10", "0.1", "1.50", "100", "123456789012345678901234567890.123", "NaN", "1e-20"};
static const char *const ok_vals[] = {NULL, "true", "false", "true"};
static const char *const at_vals[] = {NULL,
                                      "2024-01-01T00:00:00Z",
                                      "2024-01-01T00:00:00.000001Z",
                                      "1999-12-31T23:59:59.999999-05:00",
                                      "0044-03-15 12:00:00+00 BC",
                                      "2262-04-11T23:47:16.854775Z",
                                      "-infinity",
                                      "2024-01-01T00:00:00Z"};
static const char *const day_vals[] = {NULL,         "2024-02-29",    "2024-03-01",
                                       "0001-01-01", "0044-03-15 BC", "9999-12-31",
                                       "infinity",   "2024-02-29",    "12024-01-01"};
static const char *const j_vals[] = {NULL,  "{\"a\":1}", "[1,2]", "\"text\"",  "1",
                                     "1.0", "null",      "true",  "{\"a\":1}", "{\"b\":[1,{\"c\":null}]}"};
static const char *const u_vals[] = {
    NULL, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "00000000-0000-0000-0000-000000000000",
    "ffffffff-ffff-ffff-ffff-ffffffffffff", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"};
static const char *const nn_vals[] = {"3", "1", "2", "1"};

#define VALS(a) a, sizeof a / sizeof a[0]
static const struct {
    const char *name;
    col_type type;
    const char *const *vals;
    size_t nvals;
} g_cols[] = {
    {"t", COL_TEXT, VALS(t_vals)},          {"n", COL_INTEGER, VALS(n_vals)},
    {"b", COL_BIGINT, VALS(b_vals)},        {"d", COL_DOUBLE, VALS(d_vals)},
    {"x", COL_NUMERIC, VALS(x_vals)},       {"ok", COL_BOOLEAN, VALS(ok_vals)},
    {"at", COL_TIMESTAMPTZ, VALS(at_vals)}, {"day", COL_DATE, VALS(day_vals)},
    {"j", COL_JSONB, VALS(j_vals)},         {"u", COL_UUID, VALS(u_vals)},
    {"nn", COL_INTEGER, VALS(nn_vals)},
};
enum { NCOLS = sizeof g_cols / sizeof g_cols[0] };

/* The table's definition as the mode keeps it: sql_<name>. */
static void make_spec(table_spec *s, const char *name) {
    memset(s, 0, sizeof *s);
    s->name = name;
    for (size_t i = 0; i < NCOLS; i++)
        s->cols[s->ncols++] =
            (table_column){g_cols[i].name, g_cols[i].type, strcmp(g_cols[i].name, "nn") != 0, false};
}

static void die(const char *what, PGresult *res) {
    fprintf(stderr, "oracle_filter: %s: %s\n", what, res ? PQresultErrorMessage(res) : PQerrorMessage(g_pg));
    exit(2);
}

static void clear_result(void *res) { PQclear(res); }

/* Runs sql (parameters optional); dies when it fails. The result is
 * cleared with the pool. */
static PGresult *must(const char *sql, int n, const char *const *params) {
    PGresult *res = PQexecParams(g_pg, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) die(sql, res);
    pool_defer(g_pool, clear_result, res);
    return res;
}

/* Inserts row i of the data set (each column's value picked by a hash of
 * the row and the column, so that values and NULLs mix) into table. */
static void insert_row(const char *table, long i) {
    strbuf *b = strbuf_new();
    const char *params[NCOLS];
    strbuf_printf(b, "INSERT INTO %s (", table);
    for (size_t c = 0; c < NCOLS; c++) strbuf_printf(b, "%s\"%s\"", c ? ", " : "", g_cols[c].name);
    strbuf_puts(b, ") VALUES (");
    for (size_t c = 0; c < NCOLS; c++) {
        unsigned long h = (unsigned long)(i + 1) * 2654435761u + (unsigned long)c * 97u;
        h ^= h >> 13;
        h *= 0x5bd1e995u;
        h ^= h >> 15;
        /* the first 20 rows hold every value of every column */
        params[c] = g_cols[c].vals[(i < 20 ? (unsigned long)(i + 3 * (long)c) : h) % g_cols[c].nvals];
        strbuf_printf(b, "%s$%zu::%s", c ? ", " : "", c + 1, col_type_sql(g_cols[c].type));
    }
    strbuf_puts(b, ")");
    must(b->data, NCOLS, params);
    strbuf_free(b);
}

/* Creates sql_<name> by the mode's own DDL and fills it with rows. */
static void create_table(const char *name, long rows) {
    table_spec s;
    make_spec(&s, name);
    char table[64], drop[128];
    snprintf(table, sizeof table, "sql_%s", name);
    snprintf(drop, sizeof drop, "DROP TABLE IF EXISTS %s", table);
    must(drop, 0, NULL);
    must(table_spec_ddl(g_pool, &s), 0, NULL);
    for (long i = 0; i < rows; i++) insert_row(table, i);
}

/* ---- running both sides ---- */

/* The ids of a result's column col, comma-separated (a pool string). */
static const char *ids(PGresult *res, int col) {
    strbuf *b = strbuf_new();
    for (int i = 0; i < PQntuples(res); i++) strbuf_printf(b, "%s%s", i ? "," : "", PQgetvalue(res, i, col));
    const char *out = pool_strdup(g_pool, b->data);
    strbuf_free(b);
    return out;
}

/* Parses qs against s (the list's parameters allowed); dies when refused:
 * every case here is a valid query. */
static void parse(const table_spec *s, const char *qs, filter_query *q) {
    query_param *qp;
    api_error err;
    long n = query_split(g_pool, qs, &qp);
    if (n < 0 || !filter_parse(s, qp, (size_t)n, FILTER_ALLOW_LIST, g_pool, q, &err)) {
        fprintf(stderr, "oracle_filter: %s refused: %s (%s)\n", qs, n < 0 ? "escape" : err.detail,
                n < 0 ? "" : err.field);
        exit(2);
    }
}

/* The ids the builder's WHERE selects for qs, in id order. */
static const char *built_ids(const char *qs) {
    filter_query q;
    parse(&g_spec, qs, &q);
    strbuf *b = strbuf_new();
    filter_params ps;
    filter_params_init(&ps, g_pool);
    strbuf_puts(b, "SELECT _t.id FROM sql_oracle _t WHERE ");
    filter_sql_where(&q, b, &ps);
    strbuf_puts(b, " ORDER BY _t.id");
    PGresult *res = must(b->data, (int)ps.n, ps.values);
    strbuf_free(b);
    return ids(res, 0);
}

/* The ids the hand-written condition selects, in id order. */
static const char *hand_ids(const char *table, const char *cond, const char *order) {
    char sql[1024];
    snprintf(sql, sizeof sql, "SELECT id FROM %s WHERE %s ORDER BY %s", table, cond, order);
    return ids(must(sql, 0, NULL), 0);
}

static long rows_in(const char *table) {
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    return atol(PQgetvalue(must(sql, 0, NULL), 0, 0));
}

/* ---- matrix ---- */

/* A query string and the same condition by hand; trivial when it selects
 * no row or every row on purpose. */
typedef struct oracle_case {
    const char *qs, *hand;
    bool trivial;
} oracle_case;

static const oracle_case matrix[] = {
    /* text */
    {"t=eq.apple", "t = 'apple'", false},
    {"t=apple", "t = 'apple'", false},
    {"t=neq.apple", "t <> 'apple'", false},
    {"t=gt.a_b", "t > 'a_b'", false},
    {"t=gte.apple", "t >= 'apple'", false},
    {"t=lt.Z", "t < 'Z'", false},
    {"t=lte.b", "t <= 'b'", false},
    {"t=like.a*", "left(t, 1) = 'a'", false},
    {"t=like.*b", "right(t, 1) = 'b'", false},
    {"t=like.a%25b", "t = 'a%b'", false},
    {"t=like.a_b", "t = 'a_b'", false},
    {"t=like.a%5Cb", "t = 'a\\b'", false},
    {"t=like.a*b", "left(t, 1) = 'a' AND right(t, 1) = 'b' AND length(t) >= 2", false},
    {"t=like.*%25*", "strpos(t, '%') > 0", false},
    {"t=like.*_*", "strpos(t, '_') > 0", false},
    {"t=ilike.APPLE", "lower(t) = 'apple'", false},
    {"t=ilike.*E", "lower(right(t, 1)) = 'e'", false},
    {"t=like.*", "t IS NOT NULL", false},
    {"t=not.like.a*", "NOT (left(t, 1) = 'a')", false},
    {"t=not.ilike.*P*", "NOT (strpos(lower(t), 'p') > 0)", false},
    {"t=in.(apple,Z,\"with,comma\")", "t IN ('apple', 'Z', 'with,comma')", false},
    {"t=in.(\"quote\\\"d\",\"paren(x)\",\"a\\\\b\")", "t IN ('quote\"d', 'paren(x)', 'a\\b')", false},
    {"t=in.(\"\",b)", "t IN ('', 'b')", false},
    {"t=not.in.(apple,Z)", "NOT (t IN ('apple', 'Z'))", false},
    {"t=is.null", "t IS NULL", false},
    {"t=not.is.null", "t IS NOT NULL", false},
    {"t=gt.5", "t > '5'", false},
    {"t=eq.gt.5", "t = 'gt.5'", false},
    {"t=eq.not.x", "t = 'not.x'", false},
    {"t=eq.", "t = ''", false},
    {"t=", "t = ''", false},
    {"t=not.eq.apple", "NOT (t = 'apple')", false},
    {"t=%C3%A9", "t = '\xc3\xa9'", false},
    {"t=eq.50%25+off", "t = '50% off'", false},
    {"t=in.()", "FALSE", true},
    {"t=not.in.()", "TRUE", true},
    /* integer */
    {"n=eq.1", "n = 1", false},
    {"n=1", "n = 1", false},
    {"n=neq.1", "n <> 1", false},
    {"n=gt.1", "n > 1", false},
    {"n=gte.2", "n >= 2", false},
    {"n=lt.0", "n < 0", false},
    {"n=lte.-1", "n <= -1", false},
    {"n=in.(1,5,-1)", "n IN (1, 5, -1)", false},
    {"n=in.( 1 , 5 )", "n IN (1, 5)", false},
    {"n=not.in.(1,2)", "NOT (n IN (1, 2))", false},
    {"n=is.null", "n IS NULL", false},
    {"n=not.is.null", "n IS NOT NULL", false},
    {"n=eq.-2147483648", "n = -2147483648", false},
    {"n=gt.2147483646", "n > 2147483646", false},
    {"n=not.gt.1", "NOT (n > 1)", false},
    {"n=gte.%2B1", "n >= 1", false},
    {"n=eq.0005", "n = 5", false},
    /* bigint */
    {"b=eq.10", "b = 10", false},
    {"b=gt.0", "b > 0", false},
    {"b=lt.0", "b < 0", false},
    {"b=in.(10,-3)", "b IN (10, -3)", false},
    {"b=eq.9223372036854775807", "b = 9223372036854775807", false},
    {"b=lte.-9223372036854775808", "b <= -9223372036854775808", false},
    {"b=neq.10", "b <> 10", false},
    {"b=is.null", "b IS NULL", false},
    {"b=not.is.null", "b IS NOT NULL", false},
    /* double */
    {"d=eq.1.5", "d = 1.5", false},
    {"d=gt.0", "d > 0", false},
    {"d=lt.0", "d < 0", false},
    {"d=eq.0", "d = 0", false},
    {"d=eq.-0", "d = 0", false},
    {"d=gte.1e-310", "d >= '1e-310'::float8", false},
    {"d=lt.-1e299", "d < -1e299", false},
    {"d=eq.NaN", "d = 'NaN'::float8", false},
    {"d=eq.Infinity", "d = 'Infinity'::float8", false},
    {"d=lt.inf", "d < 'Infinity'::float8", false},
    {"d=in.(0.1,1.5)", "d IN (0.1, 1.5)", false},
    {"d=not.in.(1.5)", "NOT (d IN (1.5))", false},
    {"d=lte.0.1", "d <= 0.1", false},
    {"d=is.null", "d IS NULL", false},
    /* numeric */
    {"x=eq.0.1", "x = 0.1", false},
    {"x=gt.1", "x > 1", false},
    {"x=lt.0", "x < 0", false},
    {"x=eq.NaN", "x = 'NaN'::numeric", false},
    {"x=gt.1e20", "x > 1e20", false},
    {"x=eq.123456789012345678901234567890.123", "x = 123456789012345678901234567890.123", false},
    {"x=lt.123456789012345678901234567890.1229", "x < 123456789012345678901234567890.1229", false},
    {"x=in.(0.1,100)", "x IN (0.1, 100)", false},
    {"x=neq.0", "x <> 0", false},
    {"x=gte.1E-20", "x >= 1e-20", false},
    {"x=is.null", "x IS NULL", false},
    /* boolean */
    {"ok=eq.true", "ok = true", false},
    {"ok=true", "ok = true", false},
    {"ok=eq.false", "ok = false", false},
    {"ok=f", "ok = false", false},
    {"ok=yes", "ok = true", false},
    {"ok=is.true", "ok IS TRUE", false},
    {"ok=is.false", "ok IS FALSE", false},
    {"ok=is.unknown", "ok IS NULL", false},
    {"ok=not.is.true", "ok IS NOT TRUE", false},
    {"ok=not.is.false", "ok IS NOT FALSE", false},
    {"ok=not.eq.true", "NOT (ok = true)", false},
    {"ok=neq.true", "ok <> true", false},
    {"ok=in.(true)", "ok = true", false},
    {"ok=gt.false", "ok > false", false},
    {"ok=is.null", "ok IS NULL", false},
    /* timestamptz */
    {"at=eq.2024-01-01T00:00:00Z", "at = '2024-01-01 00:00:00+00'", false},
    {"at=gt.2024-01-01", "at > '2024-01-01'::timestamptz", false},
    {"at=lt.2000-01-01T05:00:00%2B01:00", "at < '2000-01-01 04:00:00+00'", false},
    {"at=gte.2024-01-01T00:00:00.000001Z", "at >= '2024-01-01 00:00:00.000001+00'", false},
    {"at=in.(2024-01-01T00:00:00Z,1999-12-31T23:59:59.999999-05:00)",
     "at IN ('2024-01-01 00:00:00+00', '2000-01-01 04:59:59.999999+00')", false},
    {"at=lte.2262-04-11T23:47:16.854775Z", "at <= '2262-04-11 23:47:16.854775+00'", false},
    {"at=neq.2024-01-01T00:00:00Z", "at <> '2024-01-01 00:00:00+00'", false},
    {"at=gt.0001-01-01", "at > '0001-01-01 00:00:00'::timestamptz", false},
    {"at=eq.2024-01-01 00:00:00%2B00:00", "at = '2024-01-01 00:00:00+00'", false},
    {"at=is.null", "at IS NULL", false},
    {"at=not.is.null", "at IS NOT NULL", false},
    /* date */
    {"day=eq.2024-02-29", "day = '2024-02-29'", false},
    {"day=gt.2024-02-29", "day > '2024-02-29'", false},
    {"day=lt.0002-01-01", "day < '0002-01-01'", false},
    {"day=gte.9999-12-31", "day >= '9999-12-31'", false},
    {"day=in.(2024-03-01,0001-01-01)", "day IN ('2024-03-01', '0001-01-01')", false},
    {"day=not.in.(2024-02-29)", "NOT (day IN ('2024-02-29'))", false},
    {"day=neq.2024-02-29", "day <> '2024-02-29'", false},
    {"day=is.null", "day IS NULL", false},
    /* jsonb */
    {"j=eq.{\"a\":1}", "j = '{\"a\": 1}'::jsonb", false},
    {"j=1", "j = '1'::jsonb", false},
    {"j=eq.null", "j = 'null'::jsonb", false},
    {"j=in.(\"{\\\"a\\\":1}\",true)", "j IN ('{\"a\":1}'::jsonb, 'true'::jsonb)", false},
    {"j=neq.%22text%22", "j <> '\"text\"'::jsonb", false},
    {"j=gt.1", "j > '1'::jsonb", false},
    {"j=is.null", "j IS NULL", false},
    {"j=not.is.null", "j IS NOT NULL", false},
    /* uuid */
    {"u=eq.a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "u = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", false},
    {"u=eq.A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", "u = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", false},
    {"u=eq.a0eebc999c0b4ef8bb6d6bb9bd380a11", "u = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", false},
    {"u=gt.00000000-0000-0000-0000-000000000000", "u > '00000000-0000-0000-0000-000000000000'", false},
    {"u=in.(00000000-0000-0000-0000-000000000000,ffffffff-ffff-ffff-ffff-ffffffffffff)",
     "u IN ('00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff')", false},
    {"u=neq.a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "u <> 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", false},
    {"u=is.null", "u IS NULL", false},
    /* id, created_at, several filters */
    {"id=gt.10", "id > 10", false},
    {"id=in.(1,2,3)", "id IN (1, 2, 3)", false},
    {"id=not.lte.5", "NOT (id <= 5)", false},
    {"created_at=gte.2000-01-01", "created_at >= '2000-01-01'", true},
    {"n=gt.0&t=not.is.null&ok=is.true", "n > 0 AND t IS NOT NULL AND ok IS TRUE", false},
    {"n=gt.0&n=lt.5", "n > 0 AND n < 5", false},
    {"d=gte.0&x=not.is.null&day=lt.3000-01-01", "d >= 0 AND x IS NOT NULL AND day < '3000-01-01'", false},
};

/* Each case: the builder's rows are the hand-written condition's. */
static void section_matrix(void) {
    long all = rows_in("sql_oracle");
    for (size_t i = 0; i < sizeof matrix / sizeof matrix[0]; i++) {
        const oracle_case *c = &matrix[i];
        const char *got = built_ids(c->qs), *want = hand_ids("sql_oracle", c->hand, "id");
        char name[512];
        snprintf(name, sizeof name, "%s selects what %s does (%s)", c->qs, c->hand, want);
        if (strcmp(got, want) != 0) fprintf(stdout, "# built: %s\n# hand:  %s\n", got, want);
        CHECK(strcmp(got, want) == 0, name);
        long n = want[0] ? 1 : 0;
        for (const char *s = want; *s; s++) n += *s == ',';
        snprintf(name, sizeof name, "%s is a %s case (%ld of %ld rows)", c->qs,
                 c->trivial ? "trivial" : "discriminating", n, all);
        CHECK(c->trivial ? (n == 0 || n == all) : (n > 0 && n < all), name);
    }
}

/* ---- paging ---- */

/* An ordering (and filters) as a query string, and by hand. */
typedef struct paging_case {
    const char *qs, *where, *order;
} paging_case;

static const paging_case paging[] = {
    {"", "TRUE", "id ASC"},
    {"order=desc", "TRUE", "id DESC"},
    {"order=id.desc", "TRUE", "id DESC"},
    {"order=t", "TRUE", "t ASC NULLS LAST, id ASC"},
    {"order=t.desc", "TRUE", "t DESC NULLS FIRST, id DESC"},
    {"order=t.desc.nullslast", "TRUE", "t DESC NULLS LAST, id DESC"},
    {"order=t.nullsfirst", "TRUE", "t ASC NULLS FIRST, id ASC"},
    {"order=n,b.desc", "TRUE", "n ASC NULLS LAST, b DESC NULLS FIRST, id DESC"},
    {"order=b.nullsfirst,n.desc.nullslast", "TRUE", "b ASC NULLS FIRST, n DESC NULLS LAST, id DESC"},
    {"order=d", "TRUE", "d ASC NULLS LAST, id ASC"},
    {"order=d.desc.nullslast", "TRUE", "d DESC NULLS LAST, id DESC"},
    {"order=x.desc", "TRUE", "x DESC NULLS FIRST, id DESC"},
    {"order=x.nullsfirst,d", "TRUE", "x ASC NULLS FIRST, d ASC NULLS LAST, id ASC"},
    {"order=ok.nullsfirst,n.desc", "TRUE", "ok ASC NULLS FIRST, n DESC NULLS FIRST, id DESC"},
    {"order=at", "TRUE", "at ASC NULLS LAST, id ASC"},
    {"order=at.desc.nullslast", "TRUE", "at DESC NULLS LAST, id DESC"},
    {"order=day.desc", "TRUE", "day DESC NULLS FIRST, id DESC"},
    {"order=day.nullsfirst", "TRUE", "day ASC NULLS FIRST, id ASC"},
    {"order=j", "TRUE", "j ASC NULLS LAST, id ASC"},
    {"order=j.desc", "TRUE", "j DESC NULLS FIRST, id DESC"},
    {"order=u.desc", "TRUE", "u DESC NULLS FIRST, id DESC"},
    {"order=nn,created_at.desc", "TRUE", "nn ASC, created_at DESC, id DESC"},
    {"order=nn.desc,id", "TRUE", "nn DESC, id ASC"},
    {"order=ok,at.desc,day,t", "TRUE",
     "ok ASC NULLS LAST, at DESC NULLS FIRST, day ASC NULLS LAST, t ASC NULLS LAST, id ASC"},
    {"order=t&n=gt.0", "n > 0", "t ASC NULLS LAST, id ASC"},
    {"order=x,d,t.desc&ok=not.is.null", "ok IS NOT NULL",
     "x ASC NULLS LAST, d ASC NULLS LAST, t DESC NULLS FIRST, id DESC"},
    {"order=desc&t=like.a*", "left(t, 1) = 'a'", "id DESC"},
    {"order=day.desc.nullslast&day=not.is.null&select=day,t", "day IS NOT NULL",
     "day DESC NULLS LAST, id DESC"},
};

/* "<qs>&after=<cursor>" (the cursor is URL-safe: base64url, or digits). */
static const char *with_after(const char *qs, const char *after) {
    size_t n = strlen(qs) + strlen(after) + 8;
    char *out = pool_alloc(g_pool, n);
    snprintf(out, n, "%s%safter=%s", qs, qs[0] ? "&" : "", after);
    return out;
}

/* Runs one page of qs on s: its ids appended to got (comma-separated),
 * each row's JSON checked (an object whose id is the row's and whose keys
 * are the projection's). Returns next, or NULL on the last page. */
static const char *one_page(const table_spec *s, const char *qs, long size, strbuf *got, bool *json_ok) {
    filter_query q;
    parse(s, qs, &q);
    strbuf *b = strbuf_new();
    filter_params ps;
    filter_params_init(&ps, g_pool);
    filter_sql_list(&q, size + 1, b, &ps);
    PGresult *res = must(b->data, (int)ps.n, ps.values);
    strbuf_free(b);
    int n = PQntuples(res), shown = n > size ? (int)size : n;
    for (int i = 0; i < shown; i++) {
        json_t *row = json_loads(PQgetvalue(res, i, 0), 0, NULL);
        const char *id = PQgetvalue(res, i, (int)q.nkeys); /* the last key is the id */
        json_t *jid = json_object_get(row, "id");
        if (row == NULL || json_object_size(row) != q.ncols + 1 || jid == NULL ||
            json_integer_value(jid) != atoll(id))
            *json_ok = false;
        for (size_t c = 0; row != NULL && c < q.ncols; c++)
            if (json_object_get(row, q.cols[c]->name) == NULL) *json_ok = false;
        json_decref(row);
        strbuf_printf(got, "%s%s", got->len ? "," : "", id);
    }
    if (n <= size) return NULL;
    const char *next;
    api_error err;
    if (!filter_next(&q, res, shown - 1, g_pool, &next, &err)) {
        fprintf(stderr, "oracle_filter: no next: %s\n", err.detail);
        exit(2);
    }
    return next;
}

/* Pages through qs on table s, size rows a page; returns the ids in the
 * order seen. */
static const char *page_through(const table_spec *s, const char *qs, long size, bool *json_ok) {
    strbuf *got = strbuf_new();
    const char *next = one_page(s, qs, size, got, json_ok);
    for (int pages = 0; next != NULL && pages < 2 * ROWS + 10; pages++)
        next = one_page(s, with_after(qs, next), size, got, json_ok);
    const char *out = pool_strdup(g_pool, got->data);
    strbuf_free(got);
    return out;
}

static void section_paging(void) {
    static const long sizes[] = {1, 4, 7, 1000};
    for (size_t i = 0; i < sizeof paging / sizeof paging[0]; i++) {
        const paging_case *c = &paging[i];
        const char *want = hand_ids("sql_oracle", c->where, c->order);
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            bool json_ok = true;
            const char *got = page_through(&g_spec, c->qs, sizes[k], &json_ok);
            char name[512];
            snprintf(name, sizeof name, "pages of %ld through '%s' are ORDER BY %s", sizes[k], c->qs,
                     c->order);
            if (strcmp(got, want) != 0) fprintf(stdout, "# paged: %s\n# hand:  %s\n", got, want);
            CHECK(strcmp(got, want) == 0, name);
            snprintf(name, sizeof name, "pages of %ld through '%s': each row's JSON has its id and columns",
                     sizes[k], c->qs);
            CHECK(json_ok, name);
        }
    }
}

/* ---- count ---- */

static void section_count(void) {
    static const oracle_case cases[] = {
        {"count=exact", "TRUE", false},
        {"count=exact&n=gt.0", "n > 0", false},
        {"count=exact&t=like.a*&order=t.desc", "left(t, 1) = 'a'", false},
        {"count=exact&ok=is.null&d=not.is.null", "ok IS NULL AND d IS NOT NULL", false},
        {"count=exact&u=in.()", "FALSE", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        filter_query q;
        parse(&g_spec, cases[i].qs, &q);
        strbuf *b = strbuf_new();
        filter_params ps;
        filter_params_init(&ps, g_pool);
        filter_sql_count(&q, b, &ps);
        const char *got = PQgetvalue(must(b->data, (int)ps.n, ps.values), 0, 0);
        strbuf_free(b);
        char sql[512], name[512];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM sql_oracle WHERE %s", cases[i].hand);
        const char *want = PQgetvalue(must(sql, 0, NULL), 0, 0);
        snprintf(name, sizeof name, "%s counts %s rows (WHERE %s)", cases[i].qs, want, cases[i].hand);
        CHECK(q.count && strcmp(got, want) == 0, name);
    }
    /* the count ignores the cursor: every row matching the filters */
    filter_query q;
    parse(&g_spec, "count=exact&order=t&n=gt.0", &q);
    const char *keys[] = {"b", "50"};
    const char *next;
    api_error err;
    filter_cursor_make(&q, keys, g_pool, &next, &err);
    parse(&g_spec, with_after("count=exact&order=t&n=gt.0", next), &q);
    strbuf *b = strbuf_new();
    filter_params ps;
    filter_params_init(&ps, g_pool);
    filter_sql_count(&q, b, &ps);
    const char *got = PQgetvalue(must(b->data, (int)ps.n, ps.values), 0, 0);
    strbuf_free(b);
    const char *want = PQgetvalue(must("SELECT count(*) FROM sql_oracle WHERE n > 0", 0, NULL), 0, 0);
    CHECK(strcmp(got, want) == 0, "with after, the count is still every row matching the filters");
}

/* ---- concurrent inserts between pages ---- */

/* The position of id in the comma-separated list, or -1. */
static long position(const char *list, const char *id) {
    long pos = 0;
    size_t n = strlen(id);
    for (const char *s = list; *s; pos++) {
        const char *comma = strchr(s, ',');
        size_t len = comma ? (size_t)(comma - s) : strlen(s);
        if (len == n && strncmp(s, id, n) == 0) return pos;
        if (comma == NULL) break;
        s = comma + 1;
    }
    return -1;
}

/* Pages through qs on sql_oracle_c, inserting 5 rows after each page (4
 * of the data set, and one tying with the page's last row on every
 * column), then checks against the final table's order: every row there
 * at the start is seen once; a row inserted later is seen exactly when it
 * sorts after the page's last row it was inserted behind. */
static void concurrent_case(const table_spec *s, const char *qs, const char *order, long *inserted_seen,
                            long *inserted_unseen) {
    create_table("oracle_c", 30);
    strbuf *got = strbuf_new(), *log = strbuf_new(); /* log: "<inserted id>:<cursor id>;" */
    bool json_ok = true;
    long seed = 1000;
    const char *next = one_page(s, qs, 4, got, &json_ok);
    /* inserts after each of the first 12 pages (an ordering where new rows
     * always sort last would never end otherwise) */
    for (int pages = 0; next != NULL && pages < 12; pages++) {
        const char *last = strrchr(got->data, ',') ? strrchr(got->data, ',') + 1 : got->data;
        for (int k = 0; k < 4; k++) insert_row("sql_oracle_c", seed++);
        char sql[512];
        snprintf(sql, sizeof sql,
                 "INSERT INTO sql_oracle_c (t, n, b, d, x, ok, at, day, j, u, nn) SELECT t, n, b, d, x, ok, "
                 "at, day, j, "
                 "u, nn FROM sql_oracle_c WHERE id = %s",
                 last);
        must(sql, 0, NULL);
        PGresult *res = must("SELECT id FROM sql_oracle_c ORDER BY id DESC LIMIT 5", 0, NULL);
        for (int r = 0; r < PQntuples(res); r++) strbuf_printf(log, "%s:%s;", PQgetvalue(res, r, 0), last);
        next = one_page(s, with_after(qs, next), 4, got, &json_ok);
    }
    for (int pages = 0; next != NULL && pages < 200; pages++)
        next = one_page(s, with_after(qs, next), 4, got, &json_ok);
    const char *final = hand_ids("sql_oracle_c", "TRUE", order);
    /* the expected sequence: the final order, less the rows inserted
     * before the position the paging had reached */
    strbuf *want = strbuf_new();
    for (const char *p = final; *p;) {
        const char *comma = strchr(p, ',');
        char id[24];
        snprintf(id, sizeof id, "%.*s", (int)(comma ? (size_t)(comma - p) : strlen(p)), p);
        char key[32];
        snprintf(key, sizeof key, ";%s:", id);
        strbuf *hay = strbuf_new();
        strbuf_printf(hay, ";%s", log->data);
        const char *entry = strstr(hay->data, key);
        bool keep = true;
        if (entry != NULL) {
            char cursor_id[24];
            snprintf(cursor_id, sizeof cursor_id, "%.*s", (int)strcspn(entry + strlen(key), ";"),
                     entry + strlen(key));
            keep = position(final, id) > position(final, cursor_id);
            (*(keep ? inserted_seen : inserted_unseen))++;
        }
        strbuf_free(hay);
        if (keep) strbuf_printf(want, "%s%s", want->len ? "," : "", id);
        p = comma ? comma + 1 : p + strlen(p);
    }
    char name[256];
    snprintf(name, sizeof name, "'%s' under inserts between pages: no row skipped or repeated", qs);
    if (strcmp(got->data, want->data) != 0)
        fprintf(stdout, "# paged: %s\n# want:  %s\n", got->data, want->data);
    CHECK(strcmp(got->data, want->data) == 0, name);
    strbuf_free(got);
    strbuf_free(log);
    strbuf_free(want);
}

static void section_concurrent(void) {
    static const paging_case cases[] = {
        {"order=n", "", "n ASC NULLS LAST, id ASC"},
        {"order=t.desc", "", "t DESC NULLS FIRST, id DESC"},
        {"order=n.desc.nullslast,t", "", "n DESC NULLS LAST, t ASC NULLS LAST, id ASC"},
        {"order=day.nullsfirst", "", "day ASC NULLS FIRST, id ASC"},
        {"order=at.desc", "", "at DESC NULLS FIRST, id DESC"},
        {"order=d", "", "d ASC NULLS LAST, id ASC"},
        {"", "", "id ASC"},
        {"order=desc", "", "id DESC"},
    };
    table_spec s;
    make_spec(&s, "oracle_c");
    long seen = 0, unseen = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        concurrent_case(&s, cases[i].qs, cases[i].order, &seen, &unseen);
    char name[128];
    snprintf(name, sizeof name, "rows inserted after the cursor were seen (%ld) and before it not (%ld)",
             seen, unseen);
    CHECK(seen > 0 && unseen > 0, name);
}

/* ---- values: what C accepts, PostgreSQL reads ---- */

static void section_values(void) {
    static const struct {
        col_type type;
        const char *v;
    } vals[] = {
        {COL_INTEGER, "-2147483648"},
        {COL_INTEGER, "2147483647"},
        {COL_INTEGER, "2147483648"},
        {COL_INTEGER, "+0"},
        {COL_INTEGER, "0000000000000000000000000000001"},
        {COL_INTEGER, "-0"},
        {COL_INTEGER, "1e3"},
        {COL_BIGINT, "-9223372036854775808"},
        {COL_BIGINT, "9223372036854775807"},
        {COL_BIGINT, "9223372036854775808"},
        {COL_DOUBLE, "1e308"},
        {COL_DOUBLE, "1.8e308"},
        {COL_DOUBLE, "1e-310"},
        {COL_DOUBLE, "4.9e-324"},
        {COL_DOUBLE, "2e-324"},
        {COL_DOUBLE, "1e-400"},
        {COL_DOUBLE, ".5"},
        {COL_DOUBLE, "5."},
        {COL_DOUBLE, "-inf"},
        {COL_DOUBLE, "+Infinity"},
        {COL_DOUBLE, "nan"},
        {COL_DOUBLE, "NaN"},
        {COL_DOUBLE, "1E+5"},
        {COL_DOUBLE, "0.1e-5"},
        {COL_NUMERIC, "1e1000"},
        {COL_NUMERIC, "-1e-1000"},
        {COL_NUMERIC, "nan"},
        {COL_NUMERIC, "Infinity"},
        {COL_NUMERIC, "-inf"},
        {COL_NUMERIC, "+.5"},
        {COL_NUMERIC, "5."},
        {COL_NUMERIC, "123456789012345678901234567890123456789012345678901234567890"},
        {COL_BOOLEAN, "t"},
        {COL_BOOLEAN, "TRUE"},
        {COL_BOOLEAN, "Yes"},
        {COL_BOOLEAN, "n"},
        {COL_BOOLEAN, "ON"},
        {COL_BOOLEAN, "off"},
        {COL_BOOLEAN, "1"},
        {COL_BOOLEAN, "0"},
        {COL_UUID, "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"},
        {COL_UUID, "a0eebc999c0b4ef8bb6d6bb9bd380a11"},
        {COL_DATE, "2024-02-29"},
        {COL_DATE, "2000-02-29"},
        {COL_DATE, "1900-02-28"},
        {COL_DATE, "0001-01-01"},
        {COL_DATE, "9999-12-31"},
        {COL_DATE, "2023-02-29"},
        {COL_TIMESTAMPTZ, "2024-01-01"},
        {COL_TIMESTAMPTZ, "2024-01-01T10:00Z"},
        {COL_TIMESTAMPTZ, "2024-01-01t10:00:00z"},
        {COL_TIMESTAMPTZ, "2024-01-01 10:00:00"},
        {COL_TIMESTAMPTZ, "2024-01-01T10:00:00+15:59"},
        {COL_TIMESTAMPTZ, "2024-01-01T10:00:00-15:59"},
        {COL_TIMESTAMPTZ, "2024-01-01T10:00:00+0130"},
        {COL_TIMESTAMPTZ, "2024-01-01T10:00:00-01"},
        {COL_TIMESTAMPTZ, "2024-01-01T10:00:00.123456789Z"},
        {COL_TIMESTAMPTZ, "9999-12-31T23:59:59.999999999Z"},
        {COL_TIMESTAMPTZ, "0001-01-01T00:00:00+15:59"},
        {COL_TIMESTAMPTZ, "2024-01-01T23:59:59.9999999-15:00"},
        {COL_JSONB, "{\"a\":[1,2,{\"b\":null}]}"},
        {COL_JSONB, "1e308"},
        {COL_JSONB, "123456789012345678901234567890"},
        {COL_JSONB, "\"\\ud83d\\ude00\""},
        {COL_JSONB, "\"\\ud800\""},
        {COL_JSONB, "\"a\\u0000b\""},
        {COL_JSONB, "-0"},
        {COL_TEXT, "\xf0\x9f\x98\x80"},
        {COL_TEXT, "\xed\xa0\x80"},
        {COL_TEXT, "\xc0\xaf"},
    };
    long accepted = 0;
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        char why[160], sql[96], name[256];
        if (!filter_value_ok(vals[i].type, vals[i].v, why, sizeof why)) continue;
        accepted++;
        snprintf(sql, sizeof sql, "SELECT $1::%s", col_type_sql(vals[i].type));
        const char *params[] = {vals[i].v};
        PGresult *res = PQexecParams(g_pg, sql, 1, NULL, params, NULL, NULL, 0);
        snprintf(name, sizeof name, "C accepts '%s' as %s, and PostgreSQL reads it", vals[i].v,
                 col_type_name(vals[i].type));
        if (PQresultStatus(res) != PGRES_TUPLES_OK) fprintf(stdout, "# %s", PQresultErrorMessage(res));
        CHECK(PQresultStatus(res) == PGRES_TUPLES_OK, name);
        PQclear(res);
    }
    char name[96];
    snprintf(name, sizeof name, "%ld of %zu candidate values accepted by C", accepted,
             sizeof vals / sizeof vals[0]);
    CHECK(accepted > 40 && accepted < (long)(sizeof vals / sizeof vals[0]), name);
}

/* ---- blame: the safety net, with a value C let through by force ---- */

/* Runs q's list statement through the service's database layer; returns
 * false with err set when PostgreSQL refuses it. */
static bool run_list(const filter_query *q, api_error *err) {
    strbuf *b = strbuf_new();
    filter_params ps;
    filter_params_init(&ps, g_pool);
    filter_sql_list(q, 10, b, &ps);
    db_stmt *st = pool_alloc(g_pool, sizeof *st);
    char *name = pool_alloc(g_pool, 32);
    db_stmt_name(name, 32, "oracle");
    *st = (db_stmt){name, pool_strdup(g_pool, b->data), (int)ps.n};
    strbuf_free(b);
    unsigned long long prepared_on = 0;
    db_begin(10000);
    return db_query_built(g_pool, st, &prepared_on, ps.values, err) != NULL;
}

/* Parses qs, sets its first filter's parameter (or cursor key `key`) to
 * forced, runs it and blames: returns the error. */
static api_error blamed(const char *qs, const char *forced, int key) {
    filter_query q;
    parse(&g_spec, qs, &q);
    if (key < 0)
        q.conds[0].param = forced;
    else
        q.after[key] = forced;
    api_error err = {0};
    if (run_list(&q, &err)) return err; /* status 0: PostgreSQL read it */
    filter_blame(&q, g_pool, &err);
    return err;
}

static void section_blame(void) {
    config_load();
    api_error e = blamed("day=eq.2024-01-01", "2024-02-30", -1);
    CHECK(e.status == 422 && strcmp(e.field, "day") == 0 && strstr(e.detail, "filter day") != NULL &&
              strstr(e.detail, "out of range") == NULL,
          "a date PostgreSQL refuses: 422 naming the column, in the service's words");
    filter_query q;
    parse(&g_spec, "n=gt.0&day=in.(2024-01-01)", &q);
    q.conds[1].param = "{\"2024-01-01\",\"2024-13-01\"}";
    api_error err = {0};
    CHECK(!run_list(&q, &err) && err.status == 422, "a month 13 in an in-list: PostgreSQL refuses it");
    filter_blame(&q, g_pool, &err);
    CHECK(err.status == 422 && strcmp(err.field, "day") == 0, "an in-list value refused: named day");
    /* a cursor key PostgreSQL refuses: named after */
    parse(&g_spec, "order=at", &q);
    const char *keys[] = {"2024-01-01T00:00:00.000000 AD", "5"}, *next;
    filter_cursor_make(&q, keys, g_pool, &next, &err);
    parse(&g_spec, with_after("order=at", next), &q);
    q.after[0] = "2024-01-01T25:00:00.000000 AD";
    memset(&err, 0, sizeof err);
    CHECK(!run_list(&q, &err) && err.status == 422, "a cursor hour 25: PostgreSQL refuses it");
    filter_blame(&q, g_pool, &err);
    CHECK(err.status == 422 && strcmp(err.field, "after") == 0 && strstr(err.detail, "after") != NULL,
          "a cursor value refused: named after");
    e = blamed("day=eq.2024-01-01", "2024-01-02", -1);
    CHECK(e.status == 0, "a value PostgreSQL reads is not blamed");
    db_disconnect();
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: oracle_filter setup|matrix|paging|count|concurrent|values|blame\n");
        return 2;
    }
    const char *url = getenv("DATABASE_URL");
    g_pg = PQconnectdb(url ? url : "");
    if (PQstatus(g_pg) != CONNECTION_OK) die("connect", NULL);
    g_pool = pool_new();
    make_spec(&g_spec, "oracle");
    const char *s = argv[1];
    if (strcmp(s, "setup") == 0) {
        create_table("oracle", ROWS);
        CHECK(rows_in("sql_oracle") == ROWS, "the table of every type is filled");
    } else if (strcmp(s, "matrix") == 0) {
        section_matrix();
    } else if (strcmp(s, "paging") == 0) {
        section_paging();
    } else if (strcmp(s, "count") == 0) {
        section_count();
    } else if (strcmp(s, "concurrent") == 0) {
        section_concurrent();
    } else if (strcmp(s, "values") == 0) {
        section_values();
    } else if (strcmp(s, "blame") == 0) {
        section_blame();
    } else {
        fprintf(stderr, "oracle_filter: no section %s\n", s);
        return 2;
    }
    pool_free(g_pool);
    PQfinish(g_pg);
    return CHECK_DONE();
}
