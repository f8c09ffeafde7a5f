/*
 * sql/filter: reading a request's query parameters into a filter_query
 * (filter.h): filters, ordering, projection, counting; the cursor is
 * filter_cursor.c's, the type checks filter_value.c's.
 */
#define _POSIX_C_SOURCE 200809L
#include "filter.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ident.h"

const char *const filter_reserved_names[] = {"select",      "order",        "limit",   "after", "count",
                                             "on_conflict", "max_affected", "confirm", NULL};

/* filter_reserved_names' allow bits, in the same order. */
static const unsigned reserved_bits[] = {
    FILTER_ALLOW_SELECT, FILTER_ALLOW_ORDER,       FILTER_ALLOW_LIMIT,        FILTER_ALLOW_AFTER,
    FILTER_ALLOW_COUNT,  FILTER_ALLOW_ON_CONFLICT, FILTER_ALLOW_MAX_AFFECTED, FILTER_ALLOW_CONFIRM,
};
/* Indexes of filter_reserved_names. */
enum { R_SELECT, R_ORDER, R_LIMIT, R_AFTER, R_COUNT, R_ON_CONFLICT, R_MAX_AFFECTED, R_CONFIRM, RESERVED_N };

const table_column filter_id_column = {"id", COL_BIGINT, false, true};
const table_column filter_created_at_column = {"created_at", COL_TIMESTAMPTZ, false, false};

/* Returns name's index in filter_reserved_names, or -1. */
static int reserved_index(const char *name) {
    for (int i = 0; filter_reserved_names[i]; i++)
        if (strcmp(filter_reserved_names[i], name) == 0) return i;
    return -1;
}

bool filter_reserved(const char *name) { return reserved_index(name) >= 0; }

const table_column *filter_column(const table_spec *s, const char *name) {
    for (size_t i = 0; i < s->ncols; i++)
        if (strcmp(s->cols[i].name, name) == 0) return &s->cols[i];
    if (strcmp(name, "id") == 0) return &filter_id_column;
    if (strcmp(name, "created_at") == 0) return &filter_created_at_column;
    return NULL;
}

/* ---- one filter ---- */

/* The operators, by the name a value starts with ("gt." ...). */
static const struct {
    const char *name;
    filter_op op;
} op_names[] = {
    {"eq", FILTER_EQ}, {"neq", FILTER_NEQ},    {"gt", FILTER_GT},     {"gte", FILTER_GTE},
    {"lt", FILTER_LT}, {"lte", FILTER_LTE},    {"like", FILTER_LIKE}, {"ilike", FILTER_ILIKE},
    {"in", FILTER_IN}, {"is", FILTER_IS_NULL},
};

/* PostgREST's operators this service does not have: a value starting
 * with one of them and a dot is refused rather than read as a text, so
 * that adding one later changes no query's meaning. */
static const char *const unsupported_ops[] = {"isdistinct", "match", "imatch", "fts", "plfts", "phfts",
                                              "wfts",       "cs",    "cd",     "ov",  "sl",    "sr",
                                              "nxr",        "nxl",   "adj",    NULL};

/* When v starts "<name>." returns what follows the dot, else NULL. */
static const char *after_prefix(const char *v, const char *name) {
    size_t n = strlen(name);
    return strncmp(v, name, n) == 0 && v[n] == '.' ? v + n + 1 : NULL;
}

/* When v starts with an operator and a dot, sets *op and returns the
 * operand that follows; else NULL. */
static const char *op_prefix(const char *v, filter_op *op) {
    for (size_t i = 0; i < sizeof op_names / sizeof op_names[0]; i++) {
        const char *rest = after_prefix(v, op_names[i].name);
        if (rest != NULL) {
            *op = op_names[i].op;
            return rest;
        }
    }
    return NULL;
}

/* When v starts with an operator this service does not have (or an
 * operator with PostgREST's (any)/(all) modifier), returns its name's
 * length; else 0. */
static size_t unsupported_prefix(const char *v) {
    for (const char *const *u = unsupported_ops; *u; u++)
        if (after_prefix(v, *u) != NULL) return strlen(*u);
    for (size_t i = 0; i < sizeof op_names / sizeof op_names[0]; i++) {
        size_t n = strlen(op_names[i].name);
        if (strncmp(v, op_names[i].name, n) == 0 &&
            (strncmp(v + n, "(any).", 6) == 0 || strncmp(v + n, "(all).", 6) == 0))
            return n + 5;
    }
    return 0;
}

/* The operand of is.: null, true, false or unknown (any case); the last
 * three for a boolean column only. */
static bool parse_is(filter_cond *c, const char *rest, api_error *err) {
    const char *name = c->col->name;
    if (strcasecmp(rest, "null") == 0)
        c->op = FILTER_IS_NULL;
    else if (strcasecmp(rest, "true") == 0)
        c->op = FILTER_IS_TRUE;
    else if (strcasecmp(rest, "false") == 0)
        c->op = FILTER_IS_FALSE;
    else if (strcasecmp(rest, "unknown") == 0)
        c->op = FILTER_IS_UNKNOWN;
    else
        return API_INVALID(err, name, "filter %s: is. takes null, true, false or unknown", name);
    if (c->op != FILTER_IS_NULL && c->col->type != COL_BOOLEAN)
        return API_INVALID(err, name, "filter %s: is.%s applies to boolean columns only (column type %s)",
                           name, rest, col_type_name(c->col->type));
    return true;
}

/* Checks one value of column c; a 422 naming it when its type refuses it. */
static bool value_ok(const table_column *c, const char *v, api_error *err) {
    char why[160];
    if (filter_value_ok(c->type, v, why, sizeof why)) return true;
    return API_INVALID(err, c->name, "filter %s: '%.64s' %s (column type %s)", c->name, v, why,
                       col_type_name(c->type));
}

/* Appends s to b as one element of a PostgreSQL array literal: in double
 * quotes, '"' and '\' escaped (so that NULL, blanks and commas are plain
 * text). */
static void array_element(strbuf *b, const char *s, size_t n) {
    strbuf_puts(b, "\"");
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\') strbuf_puts(b, "\\");
        strbuf_append(b, &s[i], 1);
    }
    strbuf_puts(b, "\"");
}

/* Reads one element of an in-list at *p (blanks around it skipped): a
 * double-quoted value ('\' takes the next character as it is), or the
 * text up to the next comma, which may not hold '"', '(' or ')'. The
 * element, unescaped, goes into item. Advances past it and its comma;
 * *last is set when the list ends after it. Returns false when malformed. */
static bool list_element(const char **p, strbuf *item, bool *last) {
    const char *s = *p;
    strbuf_reset(item);
    while (*s == ' ') s++;
    if (*s == '"') {
        for (s++; *s != '"'; s++) {
            if (*s == '\0') return false;
            if (*s == '\\' && *++s == '\0') return false;
            strbuf_append(item, s, 1);
        }
        s++;
        while (*s == ' ') s++;
    } else {
        const char *start = s;
        while (*s != ',' && *s != '\0' && *s != '"' && *s != '(' && *s != ')') s++;
        const char *end = s;
        while (end > start && end[-1] == ' ') end--;
        strbuf_append(item, start, (size_t)(end - start));
    }
    if (*s != ',' && *s != '\0') return false;
    *last = *s == '\0';
    *p = *s ? s + 1 : s;
    return true;
}

/* The operand of in.: "(a,b,...)" (PostgREST's list: docs/sql.md), each
 * value checked against the column, into a PostgreSQL array literal. */
static bool parse_in(filter_cond *c, const char *rest, pool *p, api_error *err) {
    const char *name = c->col->name;
    size_t n = strlen(rest);
    if (n < 2 || rest[0] != '(' || rest[n - 1] != ')')
        return API_INVALID(err, name, "filter %s: in. takes a list in parentheses: in.(a,b,c)", name);
    char *inner = pool_strndup(p, rest + 1, n - 2);
    const char *s = inner;
    while (*s == ' ') s++;
    strbuf *arr = strbuf_new(), *item = strbuf_new();
    strbuf_puts(arr, "{");
    bool ok = true, last = *s == '\0'; /* in.() is the empty list */
    for (c->nitems = 0; ok && !last; c->nitems++) {
        if (c->nitems == FILTER_IN_MAX) {
            ok = API_INVALID(err, name, "filter %s: at most %d values in one in.(...)", name, FILTER_IN_MAX);
        } else if (!list_element(&s, item, &last)) {
            ok = API_INVALID(
                err, name,
                "filter %s: malformed in.(...) list: quote a value holding , ( ) or \" with double "
                "quotes (\"a,b\"), and \\ before a \" inside them",
                name);
        } else if ((ok = value_ok(c->col, item->data, err))) {
            if (c->nitems) strbuf_puts(arr, ",");
            array_element(arr, item->data, item->len);
        }
    }
    strbuf_puts(arr, "}");
    c->param = pool_strdup(p, arr->data);
    strbuf_free(arr);
    strbuf_free(item);
    return ok;
}

/* Reads the operator and operand of `value` (the not. prefix read) into c. */
static bool parse_operation(filter_cond *c, const char *value, bool bare, pool *p, api_error *err) {
    const char *name = c->col->name;
    const char *rest = op_prefix(value, &c->op);
    size_t u = rest == NULL ? unsupported_prefix(value) : 0;
    if (u > 0)
        return API_INVALID(
            err, name,
            "filter %s: operator %.*s is not supported (eq neq gt gte lt lte like ilike in is); to "
            "match this text, write eq.%.64s",
            name, (int)u, value, value);
    if (rest == NULL && !bare)
        return API_INVALID(err, name, "filter %s: not. must be followed by an operator (eq., in., is., ...)",
                           name);
    if (rest == NULL) { /* ?col=value: equality */
        c->op = FILTER_EQ;
        rest = value;
    }
    if (c->op == FILTER_IS_NULL) return parse_is(c, rest, err);
    if (c->op == FILTER_IN) return parse_in(c, rest, p, err);
    if (c->op == FILTER_LIKE || c->op == FILTER_ILIKE) {
        if (c->col->type != COL_TEXT)
            return API_INVALID(err, name, "filter %s: %s applies to text columns only (column type %s)", name,
                               c->op == FILTER_LIKE ? "like" : "ilike", col_type_name(c->col->type));
        if (!value_ok(c->col, rest, err)) return false;
        c->param = filter_like_pattern(p, rest);
        return true;
    }
    if (!value_ok(c->col, rest, err)) return false;
    c->param = rest;
    return true;
}

/* One ?<name>=<value> that is not a reserved name: a filter on a column. */
static bool parse_filter(filter_query *q, const char *name, const char *value, pool *p, api_error *err) {
    const table_column *col = filter_column(q->spec, name);
    if (col == NULL)
        return API_INVALID(err, name, "unknown query parameter %.64s (not a column of table %s)", name,
                           q->spec->name);
    if (q->nconds == FILTER_MAX)
        return API_INVALID(err, name, "at most %d filters in one request", FILTER_MAX);
    if (strlen(value) > FILTER_TEXT_MAX)
        return API_INVALID(err, name, "filter %s: longer than %d bytes", name, FILTER_TEXT_MAX);
    filter_cond *c = &q->conds[q->nconds];
    memset(c, 0, sizeof *c);
    c->col = col;
    const char *rest = after_prefix(value, "not");
    c->negated = rest != NULL;
    if (!parse_operation(c, c->negated ? rest : value, !c->negated, p, err)) return false;
    q->nconds++;
    return true;
}

char *filter_like_pattern(pool *p, const char *s) {
    size_t n = strlen(s);
    char *out = pool_alloc(p, 2 * n + 1), *o = out;
    for (; *s; s++) {
        if (*s == '*') {
            *o++ = '%';
            continue;
        }
        if (*s == '%' || *s == '_' || *s == '\\') *o++ = '\\';
        *o++ = *s;
    }
    *o = '\0';
    return out;
}

/* ---- order, select, count ---- */

/* Reads one term of ?order= (blanks around it skipped) into k. */
static bool order_term(const table_spec *s, const char *term, filter_key *k, api_error *err) {
    char buf[128];
    size_t n = strlen(term);
    if (n >= sizeof buf) return API_INVALID(err, "order", "order: term %.64s... is too long", term);
    memcpy(buf, term, n + 1);
    char *save = NULL, *col = strtok_r(buf, ".", &save), *t = strtok_r(NULL, ".", &save);
    if (col == NULL || (k->col = filter_column(s, col)) == NULL)
        return API_INVALID(err, "order", "order: %.64s is not a column of table %s", col ? col : "''",
                           s->name);
    k->desc = false;
    if (t != NULL && (strcmp(t, "asc") == 0 || strcmp(t, "desc") == 0)) {
        k->desc = t[0] == 'd';
        t = strtok_r(NULL, ".", &save);
    }
    k->nulls_first = k->desc;
    if (t != NULL && (strcmp(t, "nullsfirst") == 0 || strcmp(t, "nullslast") == 0)) {
        k->nulls_first = t[5] == 'f';
        t = strtok_r(NULL, ".", &save);
    }
    /* strtok_r skips empty pieces: a doubled or trailing dot is refused too */
    if (t != NULL || term[n - 1] == '.' || strstr(term, "..") != NULL || term[0] == '.')
        return API_INVALID(err, "order", "order: %.64s is not <column>[.asc|.desc][.nullsfirst|.nullslast]",
                           term);
    return true;
}

/* Splits v at commas into at most max pieces, each with its blanks
 * trimmed (pool strings). Returns the count, or -1 when there are more
 * than max or a piece is empty. */
static int split_list(pool *p, const char *v, const char **pieces, int max) {
    int n = 0;
    for (const char *s = v;; n++) {
        const char *comma = strchr(s, ',');
        const char *end = comma ? comma : s + strlen(s);
        while (*s == ' ') s++;
        while (end > s && end[-1] == ' ') end--;
        if (end == s || n == max) return -1;
        pieces[n] = pool_strndup(p, s, (size_t)(end - s));
        if (comma == NULL) return n + 1;
        s = comma + 1;
    }
}

/* ?order=: asc or desc (by id, as before), or a list of terms; the
 * ordering then ends with id (filter.h). Absent: by id ascending. */
static bool parse_order(filter_query *q, const char *v, pool *p, api_error *err) {
    q->nkeys = 0;
    if (v == NULL || strcmp(v, "asc") == 0 || strcmp(v, "desc") == 0) {
        q->keys[0] = (filter_key){&filter_id_column, v != NULL && v[0] == 'd', v != NULL && v[0] == 'd'};
        q->nkeys = 1;
        q->id_order = true;
        return true;
    }
    const char *terms[FILTER_ORDER_MAX];
    int n = split_list(p, v, terms, FILTER_ORDER_MAX);
    if (n < 0)
        return API_INVALID(err, "order",
                           "order takes 1 to %d terms <column>[.asc|.desc][.nullsfirst|.nullslast], "
                           "comma-separated",
                           FILTER_ORDER_MAX);
    bool has_id = false;
    for (int i = 0; i < n; i++) {
        filter_key k;
        if (!order_term(q->spec, terms[i], &k, err)) return false;
        for (size_t j = 0; j < q->nkeys; j++)
            if (q->keys[j].col == k.col)
                return API_INVALID(err, "order", "order names %s twice", k.col->name);
        if (!has_id) q->keys[q->nkeys++] = k; /* terms after id never matter */
        has_id = has_id || k.col == &filter_id_column;
    }
    if (!has_id) {
        bool desc = q->keys[q->nkeys - 1].desc;
        q->keys[q->nkeys++] = (filter_key){&filter_id_column, desc, desc};
    }
    q->id_order = q->nkeys == 1;
    return true;
}

/* ?select=: * or a list of columns, id always first (filter.h). Absent:
 * every column, created_at last. */
static bool parse_select(filter_query *q, const char *v, pool *p, api_error *err) {
    q->ncols = 0;
    if (v == NULL || strcmp(v, "*") == 0) {
        for (size_t i = 0; i < q->spec->ncols; i++) q->cols[q->ncols++] = &q->spec->cols[i];
        q->cols[q->ncols++] = &filter_created_at_column;
        return true;
    }
    const char *names[FILTER_SELECT_MAX];
    int n = split_list(p, v, names, FILTER_SELECT_MAX);
    if (n < 0)
        return API_INVALID(err, "select",
                           "select takes * or 1 to %d column names, comma-separated, each once",
                           FILTER_SELECT_MAX);
    bool id_seen = false;
    for (int i = 0; i < n; i++) {
        const table_column *c = filter_column(q->spec, names[i]);
        if (c == NULL)
            return API_INVALID(err, "select", "select: %.64s is not a column of table %s", names[i],
                               q->spec->name);
        bool twice = c == &filter_id_column && id_seen;
        for (size_t j = 0; j < q->ncols; j++) twice = twice || q->cols[j] == c;
        if (twice) return API_INVALID(err, "select", "select names %s twice", c->name);
        if (c == &filter_id_column)
            id_seen = true; /* always first anyway */
        else
            q->cols[q->ncols++] = c;
    }
    return true;
}

/* ---- the whole query ---- */

/* Sorts one parameter: a reserved name into seen (once, when allowed), or
 * a filter. */
static bool take_param(filter_query *q, const query_param *qp, unsigned allow, const char **seen, pool *p,
                       api_error *err) {
    int r = reserved_index(qp->name);
    if (r < 0) {
        if (allow & FILTER_ALLOW_FILTERS) return parse_filter(q, qp->name, qp->value, p, err);
        return API_INVALID(err, qp->name, "unknown query parameter %.64s", qp->name);
    }
    if (!(allow & reserved_bits[r]))
        return API_INVALID(err, qp->name, "query parameter %s does not apply to this route", qp->name);
    if (seen[r] != NULL)
        return API_INVALID(err, qp->name, "query parameter %s is given more than once", qp->name);
    if (reserved_bits[r] &
            (FILTER_ALLOW_SELECT | FILTER_ALLOW_ORDER | FILTER_ALLOW_AFTER | FILTER_ALLOW_COUNT) &&
        strlen(qp->value) > FILTER_TEXT_MAX)
        return API_INVALID(err, qp->name, "%s is longer than %d bytes", qp->name, FILTER_TEXT_MAX);
    seen[r] = qp->value;
    return true;
}

bool filter_parse(const table_spec *s, const query_param *params, size_t n, unsigned allow, pool *p,
                  filter_query *out, api_error *err) {
    const char *seen[RESERVED_N] = {0};
    memset(out, 0, sizeof *out);
    out->spec = s;
    for (size_t i = 0; i < n; i++)
        if (!take_param(out, &params[i], allow, seen, p, err)) return false;
    const char *after = seen[R_AFTER], *count = seen[R_COUNT];
    if (!parse_order(out, seen[R_ORDER], p, err) || !parse_select(out, seen[R_SELECT], p, err)) return false;
    if (count != NULL && strcmp(count, "exact") != 0)
        return API_INVALID(err, "count",
                           "count takes exact (planned and estimated counts are not supported)");
    out->count = count != NULL;
    return after == NULL || filter_cursor_read(out, after, p, err);
}
