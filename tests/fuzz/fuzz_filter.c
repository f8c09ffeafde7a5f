/* libFuzzer target: the sql mode's query language (fcgi-apps/sql/filter.h)
 * over fuzzed query strings against a fixed table of every column type.
 * The input (up to its first NUL) is a query string, split and decoded as
 * request.c does. Invariants, each checked here independently of the
 * code under test:
 *   - a refusal is a 422 validation_failed naming the parameter;
 *   - an accepted query's statements (list, count) hold no request text:
 *     outside its single-quoted literals (each one of the builder's fixed
 *     formats) and double-quoted names (each a column of the table, or the
 *     table) there are only SQL words, digits, blanks and punctuation;
 *   - every $n is a parameter that exists, and every parameter is used;
 *   - an in.(...) parameter is a well-formed array literal of as many
 *     elements as the list had;
 *   - a cursor made from the keys of a row (values drawn from the input)
 *     reads back to the same keys under the same query, and is refused
 *     under another ordering. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/query_split.h"
#include "sql/filter.h"

static table_spec g_spec;

static void make_spec(void) {
    static const struct {
        const char *name;
        col_type type;
    } cols[] = {{"t", COL_TEXT},    {"n", COL_INTEGER},  {"b", COL_BIGINT},       {"d", COL_DOUBLE},
                {"x", COL_NUMERIC}, {"ok", COL_BOOLEAN}, {"at", COL_TIMESTAMPTZ}, {"day", COL_DATE},
                {"j", COL_JSONB},   {"u", COL_UUID},     {"count", COL_TEXT}};
    g_spec.name = "things";
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
        g_spec.cols[g_spec.ncols++] = (table_column){cols[i].name, cols[i].type, true, false};
    g_spec.cols[g_spec.ncols++] = (table_column){"nn", COL_TEXT, false, true};
}

/* True when the quoted name is the table or one of its columns. */
static bool known_name(const char *s, size_t n) {
    if (n == strlen("sql_things") && memcmp(s, "sql_things", n) == 0) return true;
    if ((n == 2 && memcmp(s, "id", 2) == 0) || (n == 10 && memcmp(s, "created_at", 10) == 0)) return true;
    for (size_t i = 0; i < g_spec.ncols; i++)
        if (strlen(g_spec.cols[i].name) == n && memcmp(g_spec.cols[i].name, s, n) == 0) return true;
    return false;
}

/* True when the literal is one of the builder's fixed ones. */
static bool known_literal(const char *s, size_t n) {
    static const char *const fixed[] = {"UTC", "YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"", "YYYY-MM-DD BC",
                                        "YYYY-MM-DD\"T\"HH24:MI:SS.US BC", NULL};
    for (const char *const *f = fixed; *f; f++)
        if (strlen(*f) == n && memcmp(*f, s, n) == 0) return true;
    return false;
}

/* Checks a statement's text and its placeholders against nparams. */
static void check_sql(const char *sql, size_t nparams) {
    bool *used = calloc(nparams + 1, 1);
    for (const char *c = sql; *c; c++) {
        if (*c == '\'' || *c == '"') {
            const char *end = strchr(c + 1, *c);
            if (end == NULL) abort();
            if (*c == '\'' ? !known_literal(c + 1, (size_t)(end - c - 1))
                           : !known_name(c + 1, (size_t)(end - c - 1)))
                abort();
            c = end;
        } else if (*c == '$') {
            char *end;
            unsigned long n = strtoul(c + 1, &end, 10);
            if (end == c + 1 || n < 1 || n > nparams) abort();
            used[n] = true;
            c = end - 1;
        } else if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                     strchr("_ (),.:*<>=[]", *c) != NULL)) {
            abort();
        }
    }
    for (size_t i = 1; i <= nparams; i++)
        if (!used[i]) abort();
    free(used);
}

/* Counts the elements of a PostgreSQL array literal of quoted elements;
 * aborts when it is not one. */
static size_t array_elements(const char *s) {
    size_t n = strlen(s), count = 0;
    if (n < 2 || s[0] != '{' || s[n - 1] != '}') abort();
    for (size_t i = 1; i < n - 1; count++) {
        if (s[i] != '"') abort();
        for (i++; s[i] != '"'; i++) {
            if (i >= n - 1) abort();
            if (s[i] == '\\') i++;
        }
        i++;
        if (s[i] == ',')
            i++;
        else if (i != n - 1)
            abort();
    }
    return count;
}

/* Builds the list and count statements of q and checks them. */
static void check_statements(const filter_query *q, pool *p) {
    for (int which = 0; which < 2; which++) {
        strbuf *b = strbuf_new();
        filter_params ps;
        filter_params_init(&ps, p);
        if (which == 0)
            filter_sql_list(q, 101, b, &ps);
        else
            filter_sql_count(q, b, &ps);
        check_sql(b->data, ps.n);
        strbuf_free(b);
    }
    for (size_t i = 0; i < q->nconds; i++)
        if (q->conds[i].op == FILTER_IN && array_elements(q->conds[i].param) != q->conds[i].nitems) abort();
}

/* A key text for column type t drawn from seed, valid for the column (or
 * NULL, when nullable allows it). */
static const char *key_for(col_type t, bool nullable, const char *seed) {
    if (filter_key_ok(t, seed)) return seed;
    if (nullable && seed[0] == '\0') return NULL;
    static const char *const valid[COL_TYPE_COUNT] = {[COL_TEXT] = "x",
                                                      [COL_INTEGER] = "1",
                                                      [COL_BIGINT] = "2",
                                                      [COL_DOUBLE] = "0.5",
                                                      [COL_NUMERIC] = "1.5",
                                                      [COL_BOOLEAN] = "true",
                                                      [COL_TIMESTAMPTZ] = "2024-01-02T03:04:05.000006 AD",
                                                      [COL_DATE] = "0044-03-15 BC",
                                                      [COL_JSONB] = "{}",
                                                      [COL_UUID] = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"};
    return valid[t];
}

/* A cursor for q's ordering with keys drawn from the query's values reads
 * back to them (unless it is too long: a 422 naming order). */
static void check_cursor(const filter_query *q, const query_param *qp, size_t n, pool *p) {
    const char *keys[FILTER_KEYS_MAX];
    for (size_t i = 0; i < q->nkeys; i++)
        keys[i] = key_for(q->keys[i].col->type, q->keys[i].col->nullable, n ? qp[i % n].value : "");
    const char *next;
    api_error err;
    if (!filter_cursor_make(q, keys, p, &next, &err)) {
        if (err.status != 422 || strcmp(err.field, "order") != 0) abort();
        return;
    }
    if (q->id_order) return; /* the plain id */
    filter_query back;
    memcpy(&back, q, sizeof back);
    if (!filter_cursor_read(&back, next, p, &err)) abort();
    for (size_t i = 0; i < q->nkeys; i++)
        if ((keys[i] == NULL) != (back.after[i] == NULL) || (keys[i] && strcmp(keys[i], back.after[i]) != 0))
            abort();
    /* another ordering: the first key's direction turned */
    back.keys[0].desc = !back.keys[0].desc;
    if (filter_cursor_read(&back, next, p, &err) || err.status != 422 || strcmp(err.field, "after") != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (g_spec.ncols == 0) make_spec();
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    pool *p = pool_new();
    query_param *qp;
    long n = query_split(p, text, &qp);
    filter_query q;
    api_error err;
    if (n >= 0) {
        if (!filter_parse(&g_spec, qp, (size_t)n, FILTER_ALLOW_LIST, p, &q, &err)) {
            if (err.status != 422 || strcmp(err.code, "validation_failed") != 0) abort();
        } else {
            check_statements(&q, p);
            check_cursor(&q, qp, (size_t)n, p);
        }
    }
    pool_free(p);
    free(text);
    return 0;
}
