/* Unit tests: the sql mode's query language (sql/filter.h), parsing and
 * the SQL text it builds: pure functions, no database (the oracle test,
 * tests/integration/24-sql-filter-oracle.bats, runs the SQL on
 * PostgreSQL). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "query_split.h"
#include "sql/filter.h"

static table_spec g_spec, g_wide;
static pool *g_pool;
static filter_query g_q;
static api_error g_err;

/* The table every test reads: one column of each type, and a NOT NULL one. */
static void make_spec(void) {
    static const struct {
        const char *name;
        col_type type;
    } cols[] = {{"t", COL_TEXT},    {"n", COL_INTEGER},  {"b", COL_BIGINT},       {"d", COL_DOUBLE},
                {"x", COL_NUMERIC}, {"ok", COL_BOOLEAN}, {"at", COL_TIMESTAMPTZ}, {"day", COL_DATE},
                {"j", COL_JSONB},   {"u", COL_UUID},     {"count", COL_INTEGER}};
    g_spec.name = "things";
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
        g_spec.cols[g_spec.ncols++] = (table_column){cols[i].name, cols[i].type, true, false};
    g_spec.cols[g_spec.ncols++] = (table_column){"nn", COL_TEXT, false, true};
    /* 64 columns c1..c64 */
    g_wide.name = "wide";
    for (int i = 0; i < TABLE_COLUMNS_MAX; i++) {
        char *name = pool_alloc(g_pool, 8);
        snprintf(name, 8, "c%d", i + 1);
        g_wide.cols[g_wide.ncols++] = (table_column){name, COL_INTEGER, true, false};
    }
}

/* Parses qs against spec s; returns 0, or the error's status (its field
 * is in g_err.field). */
static int parse_on(const table_spec *s, const char *qs, unsigned allow) {
    query_param *qp;
    long n = query_split(g_pool, qs, &qp);
    memset(&g_err, 0, sizeof g_err);
    if (n < 0) return -1;
    return filter_parse(s, qp, (size_t)n, allow, g_pool, &g_q, &g_err) ? 0 : g_err.status;
}

static int parse(const char *qs) { return parse_on(&g_spec, qs, FILTER_ALLOW_LIST); }

/* Appends " | <param>" for each parameter, and returns b's text (a pool copy). */
static const char *with_params(strbuf *b, const filter_params *ps) {
    for (size_t i = 0; i < ps->n; i++) strbuf_printf(b, " | %s", ps->values[i] ? ps->values[i] : "NULL");
    const char *out = pool_strdup(g_pool, b->data);
    strbuf_free(b);
    return out;
}

/* The WHERE of qs with its parameters, "<sql> | p1 | p2", or the error. */
static const char *where(const char *qs) {
    if (parse(qs) != 0) return pool_strdup(g_pool, g_err.detail);
    strbuf *b = strbuf_new();
    filter_params ps;
    filter_params_init(&ps, g_pool);
    filter_sql_where(&g_q, b, &ps);
    return with_params(b, &ps);
}

/* The keyset predicate of qs with its parameters. */
static const char *keyset(const char *qs) {
    if (parse(qs) != 0) return pool_strdup(g_pool, g_err.detail);
    strbuf *b = strbuf_new();
    filter_params ps;
    filter_params_init(&ps, g_pool);
    filter_sql_keyset(&g_q, b, &ps);
    return with_params(b, &ps);
}

/* The ORDER BY of qs. */
static const char *order(const char *qs) {
    if (parse(qs) != 0) return pool_strdup(g_pool, g_err.detail);
    strbuf *b = strbuf_new();
    filter_sql_order(&g_q, g_pool, b);
    const char *out = pool_strdup(g_pool, b->data);
    strbuf_free(b);
    return out;
}

/* The projection of qs. */
static const char *projection(const table_spec *s, const char *qs) {
    if (parse_on(s, qs, FILTER_ALLOW_LIST) != 0) return pool_strdup(g_pool, g_err.detail);
    strbuf *b = strbuf_new();
    filter_sql_projection(&g_q, g_pool, b);
    const char *out = pool_strdup(g_pool, b->data);
    strbuf_free(b);
    return out;
}

/* True when qs is refused with a 422 naming field. */
static bool refused(const char *qs, const char *field) {
    return parse(qs) == 422 && strcmp(g_err.field, field) == 0 &&
           strcmp(g_err.code, "validation_failed") == 0;
}

/* A cursor for g_q (as last parsed) from keys. */
static const char *cursor(const char *const *keys) {
    const char *out = NULL;
    api_error e;
    return filter_cursor_make(&g_q, keys, g_pool, &out, &e) ? out : pool_strdup(g_pool, e.detail);
}

/* "<prefix><cursor>" as a query string. */
static const char *qs_after(const char *prefix, const char *c) {
    size_t n = strlen(prefix) + strlen(c) + 1;
    char *out = pool_alloc(g_pool, n);
    snprintf(out, n, "%s%s", prefix, c);
    return out;
}

static char *repeat(const char *unit, size_t times, const char *sep) {
    strbuf *b = strbuf_new();
    for (size_t i = 0; i < times; i++) strbuf_printf(b, "%s%s", i ? sep : "", unit);
    char *out = pool_strdup(g_pool, b->data);
    strbuf_free(b);
    return out;
}

static void test_operators(void) {
    CHECK_STR(where("n=eq.5"), "_t.\"n\" = $1::integer | 5", "eq");
    CHECK_STR(where("n=neq.5"), "_t.\"n\" <> $1::integer | 5", "neq");
    CHECK_STR(where("n=gt.5"), "_t.\"n\" > $1::integer | 5", "gt");
    CHECK_STR(where("n=gte.-5"), "_t.\"n\" >= $1::integer | -5", "gte");
    CHECK_STR(where("n=lt.%2B5"), "_t.\"n\" < $1::integer | +5", "lt (a + sign, percent-encoded)");
    CHECK_STR(where("n=lte.5"), "_t.\"n\" <= $1::integer | 5", "lte");
    CHECK_STR(where("t=like.a*b"), "_t.\"t\" LIKE $1::text | a%b", "like: * is the wildcard");
    CHECK_STR(where("t=ilike.*A*"), "_t.\"t\" ILIKE $1::text | %A%", "ilike");
    CHECK_STR(where("t=like.50%25_off%5C*"), "_t.\"t\" LIKE $1::text | 50\\%\\_off\\\\%",
              "like: %, _ and \\ in the text match themselves (escaped)");
    CHECK_STR(where("n=in.(1,2,3)"), "_t.\"n\" = ANY ($1::integer[]) | {\"1\",\"2\",\"3\"}", "in");
    CHECK_STR(where("t=is.null"), "_t.\"t\" IS NULL", "is.null");
    CHECK_STR(where("n=is.NULL"), "_t.\"n\" IS NULL", "is.NULL (any case), any type");
    CHECK_STR(where("ok=is.true"), "_t.\"ok\" IS TRUE", "is.true");
    CHECK_STR(where("ok=is.False"), "_t.\"ok\" IS FALSE", "is.false");
    CHECK_STR(where("ok=is.unknown"), "_t.\"ok\" IS UNKNOWN", "is.unknown");
    CHECK_STR(where("n=not.in.(1,2)"), "NOT (_t.\"n\" = ANY ($1::integer[])) | {\"1\",\"2\"}", "not.in");
    CHECK_STR(where("n=not.eq.5"), "NOT (_t.\"n\" = $1::integer) | 5", "not.eq");
    CHECK_STR(where("t=not.like.a*"), "NOT (_t.\"t\" LIKE $1::text) | a%", "not.like");
    CHECK_STR(where("t=not.is.null"), "NOT (_t.\"t\" IS NULL)", "not.is.null");
    CHECK_STR(where("ok=not.is.true"), "NOT (_t.\"ok\" IS TRUE)", "not.is.true");
    CHECK_STR(where("n=gt.1&n=lt.5&t=x"),
              "_t.\"n\" > $1::integer AND _t.\"n\" < $2::integer AND _t.\"t\" = $3::text | 1 | 5 | x",
              "several filters AND together, one column twice too");
    CHECK_STR(where(""), "TRUE", "no filter: TRUE");
    CHECK(parse("") == 0 && g_q.nconds == 0, "no filter: nconds is 0 (a write by filter refuses it)");
    /* every type's cast */
    CHECK_STR(where("b=eq.9223372036854775807"), "_t.\"b\" = $1::bigint | 9223372036854775807", "bigint");
    CHECK_STR(where("d=gt.1.5e3"), "_t.\"d\" > $1::double precision | 1.5e3", "double");
    CHECK_STR(where("x=lt.123456789012345678901234567890.5"),
              "_t.\"x\" < $1::numeric | 123456789012345678901234567890.5", "numeric keeps every digit");
    CHECK_STR(where("ok=eq.true"), "_t.\"ok\" = $1::boolean | true", "boolean");
    CHECK_STR(where("at=gte.2024-01-02T03:04:05.123456Z"),
              "_t.\"at\" >= $1::timestamptz | 2024-01-02T03:04:05.123456Z", "timestamptz");
    CHECK_STR(where("day=lt.2024-02-29"), "_t.\"day\" < $1::date | 2024-02-29", "date");
    CHECK_STR(where("j=eq.{\"a\":1}"), "_t.\"j\" = $1::jsonb | {\"a\":1}", "jsonb");
    CHECK_STR(where("u=eq.A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"),
              "_t.\"u\" = $1::uuid | A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", "uuid");
    CHECK_STR(where("id=gt.5"), "_t.\"id\" > $1::bigint | 5", "id is a column to filter");
    CHECK_STR(where("created_at=lt.2024-01-01"), "_t.\"created_at\" < $1::timestamptz | 2024-01-01",
              "created_at is a column to filter");
    CHECK_STR(where("j=in.(\"{\\\"a\\\":1}\",2)"), "_t.\"j\" = ANY ($1::jsonb[]) | {\"{\\\"a\\\":1}\",\"2\"}",
              "in on jsonb: an object quoted (its quotes escaped), each element a JSON text");
    CHECK(refused("j=in.({\"a\":1})", "j"), "in on jsonb: an unquoted object (it holds quotes) is 422");
    CHECK_STR(where("d=gt.5&d=lt.Infinity"),
              "_t.\"d\" > $1::double precision AND _t.\"d\" < $2::double precision | 5 | Infinity",
              "double: Infinity");
}

static void test_bare_values(void) {
    CHECK_STR(where("t=hello"), "_t.\"t\" = $1::text | hello", "bare value: equality");
    CHECK_STR(where("t=gt.5"), "_t.\"t\" > $1::text | 5", "a value starting gt. is a comparison");
    CHECK_STR(where("t=eq.gt.5"), "_t.\"t\" = $1::text | gt.5",
              "eq. matches an operator-looking text literally");
    CHECK_STR(where("t=eq.not.x"), "_t.\"t\" = $1::text | not.x", "eq.not.x is the text not.x");
    CHECK_STR(where("t=eq."), "_t.\"t\" = $1::text | ", "eq. of the empty text");
    CHECK_STR(where("t="), "_t.\"t\" = $1::text | ", "a bare empty value: equality with ''");
    CHECK_STR(where("t=gt"), "_t.\"t\" = $1::text | gt", "an operator's name without a dot is a text");
    CHECK_STR(where("t=GT.5"), "_t.\"t\" = $1::text | GT.5", "operators are lower case: GT.5 is a text");
    CHECK_STR(where("t=isnull"), "_t.\"t\" = $1::text | isnull", "isnull is a text");
    CHECK_STR(where("t=a*b"), "_t.\"t\" = $1::text | a*b", "a bare * is no wildcard");
    CHECK_STR(where("t=eq.a*b"), "_t.\"t\" = $1::text | a*b", "nor under eq.");
    CHECK_STR(where("t=like.gt.5"), "_t.\"t\" LIKE $1::text | gt.5", "like.gt.5: the pattern gt.5");
    CHECK_STR(where("t=eq.cs.{a}"), "_t.\"t\" = $1::text | cs.{a}",
              "eq. takes an unsupported operator's text");
    CHECK_STR(where("t=eq.\"quoted\""), "_t.\"t\" = $1::text | \"quoted\"",
              "a single value's quotes are part of it (PostgREST)");
    CHECK_STR(where("t=hello+world"), "_t.\"t\" = $1::text | hello world", "+ is a space");
    CHECK(refused("t=cs.{a}", "t"), "a PostgREST operator this service lacks (cs.) is 422, not a text");
    CHECK(refused("t=fts.word", "t"), "fts. is 422");
    CHECK(refused("t=eq(any).{a,b}", "t"), "the (any) modifier is 422");
    CHECK(refused("t=not.x", "t"), "not. followed by no operator is 422");
    CHECK(refused("t=not.not.eq.x", "t"), "not.not. is 422");
    CHECK(refused("t=in.x", "t"), "a value starting in. must be a list (eq.in.x for the text)");
    CHECK(refused("t=is.x", "t"), "a value starting is. must be null, true, false or unknown");
    CHECK(refused("n=gt.5.5", "n"), "gt.5.5 on an integer: 422 naming the column");
    CHECK(refused("n=eq.gt.5", "n"), "eq.gt.5 on an integer: not an integer");
}

static void test_in_lists(void) {
    CHECK_STR(where("t=in.(\"a,b\",\"c\\\"d\",e)"),
              "_t.\"t\" = ANY ($1::text[]) | {\"a,b\",\"c\\\"d\",\"e\"}",
              "in: double quotes hold commas; \\\" is a quote");
    CHECK_STR(where("t=in.(\"(x)\",\"a\\\\b\")"), "_t.\"t\" = ANY ($1::text[]) | {\"(x)\",\"a\\\\b\"}",
              "in: quoted parentheses; \\\\ is one backslash (escaped again in the array literal)");
    CHECK_STR(where("t=in.()"), "_t.\"t\" = ANY ($1::text[]) | {}", "in.() is the empty list");
    CHECK(parse("t=in.()") == 0 && g_q.conds[0].nitems == 0, "in.(): no item");
    CHECK_STR(where("t=in.(\"\")"), "_t.\"t\" = ANY ($1::text[]) | {\"\"}", "in.(\"\"): the empty text");
    CHECK_STR(where("n=in.( 1 , 2 )"), "_t.\"n\" = ANY ($1::integer[]) | {\"1\",\"2\"}",
              "blanks around unquoted items are dropped");
    CHECK_STR(where("t=in.(\" a \", b c)"), "_t.\"t\" = ANY ($1::text[]) | {\" a \",\"b c\"}",
              "quoted blanks stay; inner blanks stay");
    CHECK_STR(where("t=in.(a,)"), "_t.\"t\" = ANY ($1::text[]) | {\"a\",\"\"}",
              "a trailing comma: an empty item");
    CHECK_STR(where("t=in.(NULL,null)"), "_t.\"t\" = ANY ($1::text[]) | {\"NULL\",\"null\"}",
              "NULL in a list is the text NULL (is.null finds NULLs)");
    CHECK_STR(where("t=in.(a.b:c)"), "_t.\"t\" = ANY ($1::text[]) | {\"a.b:c\"}",
              "dots and colons need no quotes");
    CHECK(parse("t=in.(a,\"b\",c)") == 0 && g_q.conds[0].nitems == 3, "three items counted");
    CHECK(refused("t=in.(\"a\"x)", "t"), "text after a closing quote is 422");
    CHECK(refused("t=in.(a\"b)", "t"), "a quote inside an unquoted item is 422");
    CHECK(refused("t=in.(a(b)", "t"), "a parenthesis inside an unquoted item is 422");
    CHECK(refused("t=in.(\"open)", "t"), "an unterminated quote is 422");
    CHECK(refused("t=in.(\"a\\", "t"), "a trailing backslash is 422");
    CHECK(refused("n=in.(1,2", "n"), "no closing parenthesis is 422");
    CHECK(refused("n=in.1,2", "n"), "no parentheses is 422");
    CHECK(refused("n=in.(1,x)", "n"), "an item of the wrong type is 422 naming the column");
    CHECK(refused("n=in.(1,)", "n"), "an empty item on an integer is 422");
    CHECK(parse("ok=in.(true,f)") == 0, "in on booleans");
}

static void test_type_errors(void) {
    static const char *const bad[] = {
        "n=abc",
        "n=1.5",
        "n=2147483648",
        "n=-2147483649",
        "n= 5",
        "n=",
        "b=9223372036854775808",
        "b=-9223372036854775809",
        "b=1e3",
        "d=abc",
        "d=1e400",
        "d=-1e400",
        "d=1e-400",
        "d=1.2.3",
        "d=0x10",
        "d=",
        "x=abc",
        "x=1e1001",
        "x=1e-1001",
        "x=1,5",
        "ok=maybe",
        "ok=tru",
        "ok=",
        "ok=2",
        "day=2024-02-30",
        "day=2023-02-29",
        "day=1900-02-29",
        "day=2024-13-01",
        "day=0000-01-01",
        "day=24-01-01",
        "day=2024-1-1",
        "day=2024-01-01T00:00",
        "day=01/02/2024",
        "day=today",
        "at=2024-01-01T25:00:00Z",
        "at=2024-01-01T10:60:00Z",
        "at=2024-01-01T10:00:60Z",
        "at=2024-01-01T10:00:00%2B16:00",
        "at=2024-01-01T10:00:00%2B15:60",
        "at=2024-01-01T10:00:00 01:00",
        "at=2024-01-01T10",
        "at=2024-01-01T10:00:00.",
        "at=2024-01-01T10:00:00.1234567890Z",
        "at=now",
        "at=infinity",
        "at=2024-02-30",
        "u=xyz",
        "u=a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1",
        "u=a0eebc999c0b-4ef8-bb6d-6bb9bd380a11",
        "u={a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
        "j={bad",
        "j=",
        "j=%22a%5Cu0000b%22",
        "t=%FF",
        "t=%C0%AF",
        "t=%ED%A0%80",
        "t=%F4%90%80%80",
        "id=abc",
        "created_at=x",
        "n=like.5",
        "n=ilike.5",
        "j=like.a",
        "u=like.a*",
        "day=like.2024*",
        "n=is.true",
        "t=is.false",
        "j=is.unknown",
        "count=5",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char field[64];
        snprintf(field, sizeof field, "%.*s", (int)strcspn(bad[i], "="), bad[i]);
        char name[160];
        snprintf(name, sizeof name, "422 naming %s: %s", field, bad[i]);
        CHECK(refused(bad[i], field), name);
    }
    static const char *const good[] = {
        "n=-2147483648",
        "n=2147483647",
        "n=%2B0",
        "n=007",
        "b=-9223372036854775808",
        "d=1e-310",
        "d=.5",
        "d=5.",
        "d=-0",
        "d=NaN",
        "d=-inf",
        "d=%2BInfinity",
        "x=1e1000",
        "x=-1e-1000",
        "x=NaN",
        "x=.5",
        "x=1.5E%2B3",
        "ok=t",
        "ok=FALSE",
        "ok=yes",
        "ok=No",
        "ok=on",
        "ok=off",
        "ok=1",
        "ok=0",
        "ok=Y",
        "day=2024-02-29",
        "day=2000-02-29",
        "day=0001-01-01",
        "day=9999-12-31",
        "at=2024-01-01",
        "at=2024-01-01T10:00Z",
        "at=2024-01-01t10:00:00z",
        "at=2024-01-01 10:00:00",
        "at=2024-01-01T10:00:00%2B15:59",
        "at=2024-01-01T10:00:00-0130",
        "at=2024-01-01T10:00:00%2B01",
        "at=2024-01-01T10:00:00.123456789Z",
        "at=2024-01-01T23:59:59.999999-12:00",
        "u=a0eebc999c0b4ef8bb6d6bb9bd380a11",
        "j=1",
        "j=null",
        "j=%22text%22",
        "j=[1,{\"a\":[]}]",
        "j=123456789012345678901234567890",
        "t=%E2%82%AC",
        "t=%F0%9F%98%80",
        "t=\"'; drop table x; --",
        "created_at=gte.2024-01-01T00:00:00Z",
        "id=in.(1,2,3)",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char name[160];
        snprintf(name, sizeof name, "accepted: %s", good[i]);
        CHECK(parse(good[i]) == 0, name);
    }
    CHECK(refused("nosuch=1", "nosuch"), "an unknown column is 422 naming it");
    CHECK(parse("n=abc") == 422 && strstr(g_err.detail, "not an integer") != NULL &&
              strstr(g_err.detail, "integer") != NULL,
          "the detail says what is wrong, in the service's words");
    CHECK(parse("n=like.5") == 422 && strstr(g_err.detail, "text columns only") != NULL,
          "like on a number: the operator does not apply");
    CHECK(refused("Bad%20Name=1", "Bad Name"), "a name that is no identifier is 422 naming it");
}

static void test_limits(void) {
    /* filters: 32 pass, 33 fail (the 33rd named) */
    char *f32 = repeat("n=1", FILTER_MAX, "&");
    CHECK(parse(f32) == 0 && g_q.nconds == FILTER_MAX, "32 filters pass");
    char *f33 = repeat("n=1", FILTER_MAX, "&");
    f33 = (char *)qs_after(f33, "&t=x");
    CHECK(refused(f33, "t"), "a 33rd filter is 422");
    /* in: 1000 values pass, 1001 fail */
    char *in1000 = (char *)qs_after("n=in.(", qs_after(repeat("1", FILTER_IN_MAX, ","), ")"));
    CHECK(parse(in1000) == 0 && g_q.conds[0].nitems == FILTER_IN_MAX, "1000 values in in.() pass");
    char *in1001 = (char *)qs_after("n=in.(", qs_after(repeat("1", FILTER_IN_MAX + 1, ","), ")"));
    CHECK(refused(in1001, "n"), "1001 values in in.() are 422");
    /* a value: 4096 bytes pass, 4097 fail */
    char *v4096 = (char *)qs_after("t=", repeat("a", FILTER_TEXT_MAX, ""));
    CHECK(parse(v4096) == 0, "a 4096-byte value passes");
    char *v4097 = (char *)qs_after("t=", repeat("a", FILTER_TEXT_MAX + 1, ""));
    CHECK(refused(v4097, "t"), "a 4097-byte value is 422");
    char *o4097 = (char *)qs_after("order=t,", repeat(" ", FILTER_TEXT_MAX - 1, ""));
    CHECK(refused(o4097, "order"), "a 4097-byte order is 422");
    /* order: 8 terms pass, 9 fail */
    CHECK(parse_on(&g_wide, "order=c1,c2,c3,c4,c5,c6,c7,c8", FILTER_ALLOW_LIST) == 0 && g_q.nkeys == 9,
          "8 order terms pass (id makes 9 keys)");
    CHECK(parse_on(&g_wide, "order=c1,c2,c3,c4,c5,c6,c7,c8,c9", FILTER_ALLOW_LIST) == 422 &&
              strcmp(g_err.field, "order") == 0,
          "9 order terms are 422");
    /* select: every column of a 64-column table, id and created_at (66) pass */
    strbuf *b = strbuf_new();
    strbuf_puts(b, "select=id,created_at");
    for (int i = 1; i <= TABLE_COLUMNS_MAX; i++) strbuf_printf(b, ",c%d", i);
    CHECK(parse_on(&g_wide, b->data, FILTER_ALLOW_LIST) == 0 && g_q.ncols == TABLE_COLUMNS_MAX + 1,
          "select of all 66 names passes");
    strbuf_puts(b, ",c1");
    CHECK(parse_on(&g_wide, b->data, FILTER_ALLOW_LIST) == 422 && strcmp(g_err.field, "select") == 0,
          "a 67th select name is 422");
    strbuf_free(b);
}

static void test_order(void) {
    CHECK_STR(order(""), "_t.\"id\" ASC NULLS LAST", "default: id ascending");
    CHECK(parse("") == 0 && g_q.id_order && g_q.nkeys == 1, "default is the id ordering");
    CHECK_STR(order("order=desc"), "_t.\"id\" DESC NULLS FIRST", "order=desc: id descending (as before)");
    CHECK_STR(order("order=asc"), "_t.\"id\" ASC NULLS LAST", "order=asc");
    CHECK(parse("order=id.desc") == 0 && g_q.id_order, "order=id.desc is the id ordering");
    CHECK_STR(order("order=t"), "_t.\"t\" ASC NULLS LAST, _t.\"id\" ASC NULLS LAST", "a column; id ends it");
    CHECK_STR(order("order=t.desc"), "_t.\"t\" DESC NULLS FIRST, _t.\"id\" DESC NULLS FIRST",
              "desc: PostgreSQL's NULLS FIRST spelled out; id follows the last term's direction");
    CHECK_STR(order("order=t.desc.nullslast,n.nullsfirst"),
              "_t.\"t\" DESC NULLS LAST, _t.\"n\" ASC NULLS FIRST, _t.\"id\" ASC NULLS LAST",
              "nullsfirst and nullslast, with or without a direction");
    CHECK_STR(order("order= t.asc , n.desc "),
              "_t.\"t\" ASC NULLS LAST, _t.\"n\" DESC NULLS FIRST, _t.\"id\" DESC NULLS FIRST",
              "blanks around terms are dropped");
    CHECK_STR(order("order=n,id.desc,t"), "_t.\"n\" ASC NULLS LAST, _t.\"id\" DESC NULLS FIRST",
              "terms after id never matter: dropped");
    CHECK_STR(order("order=count.desc,created_at"),
              "_t.\"count\" DESC NULLS FIRST, _t.\"created_at\" ASC NULLS LAST, _t.\"id\" ASC NULLS LAST",
              "a reserved-named column and created_at can be ordered by");
    static const char *const bad[] = {"order=nosuch",           "order=t.up",  "order=t.asc.nullsfirst.x",
                                      "order=t..asc",           "order=t.",    "order=.t",
                                      "order=t,t.desc",         "order=",      "order=t,",
                                      "order=t.nullsfirst.asc", "order=t.ASC", "order=DESC"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char name[96];
        snprintf(name, sizeof name, "422 naming order: %s", bad[i]);
        CHECK(refused(bad[i], "order"), name);
    }
    CHECK(refused("order=asc&order=desc", "order"), "order given twice is 422");
}

static void test_select_count_reserved(void) {
    CHECK_STR(projection(&g_spec, "select=t,n"), "_t.\"id\", _t.\"t\", _t.\"n\"",
              "select: id first, then as listed");
    CHECK_STR(projection(&g_spec, "select=x,at"),
              "_t.\"id\", _t.\"x\"::text AS \"x\", to_char((_t.\"at\") AT TIME ZONE 'UTC', "
              "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS \"at\"",
              "numeric as text, timestamps in UTC, as every row shows them");
    CHECK_STR(projection(&g_spec, "select=id"), "_t.\"id\"", "select=id: the id alone");
    CHECK_STR(projection(&g_spec, "select=n,id"), "_t.\"id\", _t.\"n\"", "id listed: still first, once");
    CHECK(parse("select=*") == 0 && g_q.ncols == g_spec.ncols + 1, "select=*: every column and created_at");
    CHECK(parse("") == 0 && g_q.ncols == g_spec.ncols + 1 &&
              g_q.cols[g_q.ncols - 1] == &filter_created_at_column,
          "no select: every column, created_at last");
    CHECK(refused("select=nosuch", "select"), "select of an unknown column is 422");
    CHECK(refused("select=t,t", "select"), "select naming a column twice is 422");
    CHECK(refused("select=id,id", "select"), "select naming id twice is 422");
    CHECK(refused("select=", "select"), "an empty select is 422");
    CHECK(refused("select=*,t", "select"), "* with names is 422");
    CHECK(refused("select=t,,n", "select"), "an empty name is 422");
    CHECK(refused("select=t:alias", "select"), "aliases are not supported: 422");
    CHECK(parse("count=exact") == 0 && g_q.count, "count=exact");
    CHECK(parse("") == 0 && !g_q.count, "no count");
    CHECK(refused("count=planned", "count"), "count=planned is 422");
    CHECK(refused("count=5", "count"), "count is never a filter, even on a column called count");
    /* reserved names and what a route allows */
    CHECK(parse("limit=5&n=1") == 0 && g_q.nconds == 1, "limit passes through to the route");
    CHECK(refused("on_conflict=t", "on_conflict"), "on_conflict does not apply to a list");
    CHECK(refused("max_affected=1", "max_affected"), "nor max_affected");
    CHECK(refused("confirm=things", "confirm"), "nor confirm");
    CHECK(parse_on(&g_spec, "n=1&max_affected=5", FILTER_ALLOW_FILTERS | FILTER_ALLOW_MAX_AFFECTED) == 0 &&
              g_q.nconds == 1,
          "a write by filter: filters and max_affected");
    CHECK(parse_on(&g_spec, "order=t", FILTER_ALLOW_FILTERS) == 422 && strcmp(g_err.field, "order") == 0,
          "order where the route takes none is 422");
    CHECK(parse_on(&g_spec, "t=x", FILTER_ALLOW_ON_CONFLICT) == 422 && strcmp(g_err.field, "t") == 0,
          "a filter where the route takes none is 422 naming it");
    CHECK(refused("select=t&select=n", "select"), "select given twice is 422");
    CHECK(filter_reserved("on_conflict") && filter_reserved("confirm") && !filter_reserved("t"),
          "filter_reserved knows the eight names");
    int k = 0;
    for (const char *const *r = filter_reserved_names; *r; r++) k++;
    CHECK(k == 8, "eight reserved names");
}

static void test_like_pattern(void) {
    CHECK_STR(filter_like_pattern(g_pool, "a*b%c_d\\e*"), "a%b\\%c\\_d\\\\e%", "like pattern translation");
    CHECK_STR(filter_like_pattern(g_pool, ""), "", "empty pattern");
    CHECK_STR(filter_like_pattern(g_pool, "***"), "%%%", "stars only");
}

static void test_cursor(void) {
    /* the id ordering: the plain id, both ways */
    CHECK(parse("after=5") == 0 && g_q.has_after && strcmp(g_q.after[0], "5") == 0,
          "after=<id> (id ordering)");
    CHECK(parse("order=desc&after=007") == 0 && strcmp(g_q.after[0], "7") == 0, "after=007 reads 7");
    CHECK_STR(keyset("after=5"), "_t.\"id\" > $1::bigint | 5", "keyset: id after 5");
    CHECK_STR(keyset("order=desc&after=5"), "_t.\"id\" < $1::bigint | 5", "keyset: id before 5 descending");
    CHECK_STR(keyset(""), "TRUE", "no cursor: TRUE");
    CHECK(refused("after=-1", "after"), "a negative id is 422");
    CHECK(refused("after=1000000000000000000", "after"), "an id past the largest is 422");
    CHECK(refused("after=", "after"), "an empty after is 422");
    CHECK(refused("after=abc", "after"), "a non-id after with the id ordering is 422");
    CHECK(refused("order=t&after=5", "after"), "a row id with another ordering is 422");
    const char *k1[] = {"7"};
    CHECK(parse("") == 0 && strcmp(cursor(k1), "7") == 0, "next of the id ordering is the id");

    /* a column ordering: an opaque cursor, read back exactly */
    CHECK(parse("order=t.desc") == 0, "order=t.desc");
    const char *k2[] = {"a,b \"c\" \xe2\x82\xac", "42"};
    const char *c2 = cursor(k2);
    CHECK(c2[0] == 'A' &&
              strspn(c2, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == strlen(c2),
          "the cursor is base64url, starting with a letter (never taken for an id)");
    CHECK(parse(qs_after("order=t.desc&after=", c2)) == 0 && g_q.has_after &&
              strcmp(g_q.after[0], k2[0]) == 0 && strcmp(g_q.after[1], "42") == 0,
          "a cursor reads back its keys");
    CHECK_STR(keyset(qs_after("order=t.desc&after=", c2)),
              "(_t.\"t\" < $1::text OR (_t.\"t\" = $1::text AND _t.\"id\" < $2::bigint)) | a,b \"c\" "
              "\xe2\x82\xac | 42",
              "keyset descending, NULLS FIRST: a NULL t sorts before, so is not after");
    CHECK(refused(qs_after("order=t.asc&after=", c2), "after"), "the cursor of another direction is 422");
    CHECK(refused(qs_after("order=n.desc&after=", c2), "after"), "the cursor of another column is 422");
    CHECK(refused(qs_after("order=t.desc.nullslast&after=", c2), "after"), "another NULL placement is 422");
    CHECK(parse_on(&g_wide, qs_after("order=c1.desc&after=", c2), FILTER_ALLOW_LIST) == 422 &&
              strcmp(g_err.field, "after") == 0,
          "the cursor of another table is 422");
    CHECK(refused(qs_after("after=", c2), "after"), "a cursor with the id ordering is 422");
    char *bad = pool_strdup(g_pool, c2);
    bad[5] = bad[5] == 'A' ? 'B' : 'A';
    CHECK(refused(qs_after("order=t.desc&after=", bad), "after"), "an edited cursor is 422");
    bad = pool_strndup(g_pool, c2, strlen(c2) - 1);
    CHECK(refused(qs_after("order=t.desc&after=", bad), "after"), "a truncated cursor is 422");
    CHECK(refused("order=t.desc&after=A!!", "after"), "a cursor with non-base64 characters is 422");
    CHECK(refused("order=t.desc&after=A", "after"), "a one-character cursor is 422");

    /* NULL keys, nullable columns: NULL placement in the keyset */
    CHECK(parse("order=n") == 0, "order=n");
    const char *k3[] = {"5", "10"};
    CHECK_STR(keyset(qs_after("order=n&after=", cursor(k3))),
              "((_t.\"n\" > $1::integer OR _t.\"n\" IS NULL) OR (_t.\"n\" = $1::integer AND _t.\"id\" > "
              "$2::bigint)) | 5 | 10",
              "ascending, NULLS LAST: after 5 come larger values and every NULL");
    const char *k4[] = {NULL, "10"};
    CHECK_STR(keyset(qs_after("order=n&after=", cursor(k4))),
              "((_t.\"n\" IS NULL AND _t.\"id\" > $1::bigint)) | 10",
              "ascending, NULLS LAST, at a NULL: only NULLs with a larger id");
    CHECK(parse("order=n.nullsfirst") == 0, "order=n.nullsfirst");
    CHECK_STR(keyset(qs_after("order=n.nullsfirst&after=", cursor(k4))),
              "(_t.\"n\" IS NOT NULL OR (_t.\"n\" IS NULL AND _t.\"id\" > $1::bigint)) | 10",
              "NULLS FIRST, at a NULL: every value, and the NULLs with a larger id");
    CHECK_STR(keyset(qs_after("order=n.nullsfirst&after=", cursor(k3))),
              "(_t.\"n\" > $1::integer OR (_t.\"n\" = $1::integer AND _t.\"id\" > $2::bigint)) | 5 | 10",
              "NULLS FIRST at a value: NULLs are behind");
    CHECK(parse("order=nn.desc.nullslast") == 0, "order on a NOT NULL column");
    const char *k5[] = {"x", "3"};
    CHECK_STR(keyset(qs_after("order=nn.desc.nullslast&after=", cursor(k5))),
              "(_t.\"nn\" < $1::text OR (_t.\"nn\" = $1::text AND _t.\"id\" < $2::bigint)) | x | 3",
              "a NOT NULL column has no NULL branch");
    CHECK(parse("order=nn.desc") == 0, "order=nn.desc");
    CHECK(refused(qs_after("order=nn.desc&after=", cursor(k4)), "after"),
          "a NULL key of a NOT NULL column is 422");
    CHECK(parse("order=n") == 0, "order=n");
    const char *k6[] = {"abc", "10"};
    CHECK(refused(qs_after("order=n&after=", cursor(k6)), "after"), "a key of the wrong type is 422");

    /* dates and timestamps travel with their era */
    CHECK(parse("order=at,day.desc") == 0, "order=at,day.desc");
    const char *k7[] = {"2024-01-02T03:04:05.123456 AD", "0044-03-15 BC", "9"};
    CHECK_STR(keyset(qs_after("order=at,day.desc&after=", cursor(k7))),
              "((_t.\"at\" > ($1::timestamp AT TIME ZONE 'UTC') OR _t.\"at\" IS NULL) OR (_t.\"at\" = "
              "($1::timestamp AT "
              "TIME ZONE 'UTC') AND (_t.\"day\" < $2::date OR (_t.\"day\" = $2::date AND _t.\"id\" < "
              "$3::bigint)))) | "
              "2024-01-02T03:04:05.123456 AD | 0044-03-15 BC | 9",
              "timestamps read back in UTC, dates as such");
    const char *k8[] = {"infinity", "-infinity", "9"};
    CHECK(parse(qs_after("order=at,day.desc&after=", cursor(k8))) == 0, "infinite keys read back");
    const char *k9[] = {"2024-02-30T00:00:00.000000 AD", "2024-01-01 AD", "9"};
    CHECK(refused(qs_after("order=at,day.desc&after=", cursor(k9)), "after"),
          "a day that does not exist is 422");
    const char *k10[] = {"2024-01-01T00:00:00 AD", "2024-01-01 AD", "9"};
    CHECK(refused(qs_after("order=at,day.desc&after=", cursor(k10)), "after"),
          "a timestamp key without micros is 422");
    const char *k11[] = {"4714-11-24T00:00:00.000000 BC", "5874897-12-31 AD", "9"};
    CHECK(parse(qs_after("order=at,day.desc&after=", cursor(k11))) == 0,
          "PostgreSQL's first and last days pass");
    const char *k12[] = {"4714-11-23T00:00:00.000000 BC", "2024-01-01 AD", "9"};
    CHECK(refused(qs_after("order=at,day.desc&after=", cursor(k12)), "after"),
          "before PostgreSQL's first day is 422");
    const char *k13[] = {"2024-01-01T00:00:00.000000 AD", "5874898-01-01 AD", "9"};
    CHECK(refused(qs_after("order=at,day.desc&after=", cursor(k13)), "after"), "after its last date is 422");

    /* the cursor's length, at its edge: the keys of 3072 bytes encode in
     * 4096 characters */
    CHECK(parse("order=t") == 0, "order=t");
    size_t fixed = 10 + 4 + 3 + 3 + 2; /* head, sum, two keys' flags and lengths, the id "10" */
    const char *k14[] = {repeat("a", FILTER_CURSOR_MAX / 4 * 3 - fixed, ""), "10"};
    const char *c14 = NULL;
    api_error e;
    CHECK(filter_cursor_make(&g_q, k14, g_pool, &c14, &e) && strlen(c14) == FILTER_CURSOR_MAX,
          "a cursor of 4096 characters is made");
    CHECK(parse(qs_after("order=t&after=", c14)) == 0 && strcmp(g_q.after[0], k14[0]) == 0, "and read back");
    const char *k15[] = {repeat("a", FILTER_CURSOR_MAX / 4 * 3 - fixed + 1, ""), "10"};
    CHECK(!filter_cursor_make(&g_q, k15, g_pool, &c14, &e) && e.status == 422 &&
              strcmp(e.field, "order") == 0,
          "one byte more: 422 naming order (the page ends on values too long to continue from)");
    CHECK(refused(qs_after("order=t&after=", repeat("A", FILTER_CURSOR_MAX + 1, "")), "after"),
          "an after over 4096 characters is 422");
}

static void test_statements(void) {
    CHECK(parse("n=gt.1&select=t&order=t.desc&count=exact") == 0, "a list query");
    strbuf *b = strbuf_new();
    filter_params ps;
    filter_params_init(&ps, g_pool);
    filter_sql_list(&g_q, 101, b, &ps);
    const char *got = with_params(b, &ps);
    CHECK_STR(got,
              "SELECT (SELECT to_json(_r)::text FROM (SELECT _t.\"id\", _t.\"t\") _r), _t.\"t\", "
              "_t.\"id\"::text FROM "
              "(SELECT _t.* FROM \"sql_things\" _t WHERE _t.\"n\" > $1::integer ORDER BY _t.\"t\" DESC NULLS "
              "FIRST, "
              "_t.\"id\" DESC NULLS FIRST LIMIT $2::int) _t ORDER BY _t.\"t\" DESC NULLS FIRST, _t.\"id\" "
              "DESC NULLS "
              "FIRST | 1 | 101",
              "the list statement: the page chosen inside, JSON made outside, keys after the row");
    b = strbuf_new();
    filter_params_init(&ps, g_pool);
    filter_sql_count(&g_q, b, &ps);
    got = with_params(b, &ps);
    CHECK_STR(got, "SELECT count(*) FROM \"sql_things\" _t WHERE _t.\"n\" > $1::integer | 1",
              "the count statement");
    CHECK(parse("") == 0, "no filter");
    b = strbuf_new();
    filter_params_init(&ps, g_pool);
    filter_sql_count(&g_q, b, &ps);
    got = with_params(b, &ps);
    CHECK_STR(got, "SELECT count(*) FROM \"sql_things\" _t", "count without a filter");
    CHECK(parse("order=day.desc,at&after=5") == 422, "a row id with a date ordering is 422");
    CHECK(parse("order=day.desc,at,u,ok,j,x,d") == 0, "an ordering of every other type");
    b = strbuf_new();
    filter_sql_keys(&g_q, g_pool, b);
    CHECK_STR(
        b->data,
        "CASE WHEN isfinite(_t.\"day\") THEN to_char(_t.\"day\", 'YYYY-MM-DD BC') ELSE _t.\"day\"::text END, "
        "CASE WHEN isfinite(_t.\"at\") THEN to_char(_t.\"at\" AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS.US BC') ELSE _t.\"at\"::text END, _t.\"u\"::text, _t.\"ok\"::text, "
        "_t.\"j\"::text, _t.\"x\"::text, _t.\"d\"::text, _t.\"id\"::text",
        "the keys as text");
    strbuf_free(b);
    /* a filter's values are parameters: nothing of them is in the text */
    CHECK(parse("t=eq.'); drop table x; --&n=in.(1,2)") == 0, "hostile text");
    b = strbuf_new();
    filter_params_init(&ps, g_pool);
    filter_sql_list(&g_q, 2, b, &ps);
    CHECK(strstr(b->data, "drop") == NULL && ps.n == 3 && strcmp(ps.values[0], "'); drop table x; --") == 0,
          "a hostile value travels as a parameter only");
    strbuf_free(b);
}

int main(void) {
    g_pool = pool_new();
    make_spec();
    test_operators();
    test_bare_values();
    test_in_lists();
    test_type_errors();
    test_limits();
    test_order();
    test_select_count_reserved();
    test_like_pattern();
    test_cursor();
    test_statements();
    pool_free(g_pool);
    return CHECK_DONE();
}
