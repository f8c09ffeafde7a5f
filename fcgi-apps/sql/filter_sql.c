/*
 * sql/filter_sql: a filter_query as SQL (filter.h). The text holds only
 * fixed words, names quoted by ident.h and $n placeholders; each value is
 * a parameter, cast to its column's type from tablespec.h's fixed table.
 * The table is always the alias _t (no column can be called that: names
 * start with a letter).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "filter.h"
#include "ident.h"
#include "schema.h"

void filter_params_init(filter_params *ps, pool *p) { *ps = (filter_params){.pool = p}; }

size_t filter_params_add(filter_params *ps, const char *v) {
    if (ps->n == ps->cap) {
        size_t cap = ps->cap ? 2 * ps->cap : 8;
        const char **values = pool_alloc(ps->pool, cap * sizeof *values);
        if (ps->n) memcpy(values, ps->values, ps->n * sizeof *values);
        ps->values = values;
        ps->cap = cap;
    }
    ps->values[ps->n++] = v;
    return ps->n;
}

/* Returns _t."<name>" for column c (a pool string; the name passed
 * ident.h when the table was read). */
static const char *column_ref(pool *p, const table_column *c) {
    const char *q = ident_quote(p, c->name);
    size_t n = strlen(q) + 4;
    char *out = pool_alloc(p, n);
    snprintf(out, n, "_t.%s", q);
    return out;
}

/* ---- WHERE ---- */

/* The comparison operators, by filter_op (FILTER_EQ to FILTER_LTE). */
static const char *const comparisons[] = {"=", "<>", ">", ">=", "<", "<="};

/* Appends one condition: NOT (...) when negated. */
static void cond_sql(const filter_cond *c, strbuf *b, filter_params *ps) {
    const char *col = column_ref(ps->pool, c->col), *type = col_type_sql(c->col->type);
    if (c->negated) strbuf_puts(b, "NOT (");
    switch (c->op) {
    case FILTER_EQ:
    case FILTER_NEQ:
    case FILTER_GT:
    case FILTER_GTE:
    case FILTER_LT:
    case FILTER_LTE:
        strbuf_printf(b, "%s %s $%zu::%s", col, comparisons[c->op], filter_params_add(ps, c->param), type);
        break;
    case FILTER_LIKE:
    case FILTER_ILIKE: /* the pattern escapes with '\', LIKE's default */
        strbuf_printf(b, "%s %s $%zu::text", col, c->op == FILTER_LIKE ? "LIKE" : "ILIKE",
                      filter_params_add(ps, c->param));
        break;
    case FILTER_IN:
        strbuf_printf(b, "%s = ANY ($%zu::%s[])", col, filter_params_add(ps, c->param), type);
        break;
    case FILTER_IS_NULL: strbuf_printf(b, "%s IS NULL", col); break;
    case FILTER_IS_TRUE: strbuf_printf(b, "%s IS TRUE", col); break;
    case FILTER_IS_FALSE: strbuf_printf(b, "%s IS FALSE", col); break;
    case FILTER_IS_UNKNOWN: strbuf_printf(b, "%s IS UNKNOWN", col); break;
    }
    if (c->negated) strbuf_puts(b, ")");
}

void filter_sql_where(const filter_query *q, strbuf *b, filter_params *ps) {
    if (q->nconds == 0) strbuf_puts(b, "TRUE");
    for (size_t i = 0; i < q->nconds; i++) {
        if (i) strbuf_puts(b, " AND ");
        cond_sql(&q->conds[i], b, ps);
    }
}

/* ---- the keyset ---- */

/* Writes the cast of cursor value $n back to a column of type t into buf:
 * the inverse of filter_sql_keys' text. */
static void key_cast(char *buf, size_t size, size_t n, col_type t) {
    if (t == COL_TIMESTAMPTZ) /* written in UTC, without a zone */
        snprintf(buf, size, "($%zu::timestamp AT TIME ZONE 'UTC')", n);
    else
        snprintf(buf, size, "$%zu::%s", n, col_type_sql(t));
}

/* Appends the predicate "after the cursor" from key i on:
 *   after_i OR (same_i AND <from key i+1>)
 * where after_i says the row sorts after the cursor's value on key i alone
 * and same_i that it ties with it, NULLs placed as the ordering says.
 * The last key (id, unique) has no tie. */
static void keyset_from(const filter_query *q, size_t i, strbuf *b, filter_params *ps) {
    const filter_key *k = &q->keys[i];
    const char *col = column_ref(ps->pool, k->col), *v = q->after[i], *cmp = k->desc ? "<" : ">";
    bool last = i + 1 == q->nkeys, none_after = v == NULL && !k->nulls_first;
    char x[64] = "";
    if (v != NULL) key_cast(x, sizeof x, filter_params_add(ps, v), k->col->type);
    if (!last) strbuf_puts(b, "(");
    if (v == NULL && k->nulls_first) /* after a NULL: every value */
        strbuf_printf(b, "%s IS NOT NULL", col);
    else if (v != NULL && !k->nulls_first && k->col->nullable) /* the NULLs come last */
        strbuf_printf(b, "(%s %s %s OR %s IS NULL)", col, cmp, x, col);
    else if (v != NULL)
        strbuf_printf(b, "%s %s %s", col, cmp, x);
    if (last) {
        if (none_after) strbuf_puts(b, "FALSE");
        return;
    }
    if (!none_after) strbuf_puts(b, " OR ");
    if (v == NULL)
        strbuf_printf(b, "(%s IS NULL AND ", col);
    else
        strbuf_printf(b, "(%s = %s AND ", col, x);
    keyset_from(q, i + 1, b, ps);
    strbuf_puts(b, "))");
}

void filter_sql_keyset(const filter_query *q, strbuf *b, filter_params *ps) {
    if (!q->has_after) {
        strbuf_puts(b, "TRUE");
        return;
    }
    keyset_from(q, 0, b, ps);
}

/* ---- ORDER BY, the projection, the keys ---- */

void filter_sql_order(const filter_query *q, pool *p, strbuf *b) {
    for (size_t i = 0; i < q->nkeys; i++) {
        const filter_key *k = &q->keys[i];
        strbuf_printf(b, "%s%s %s NULLS %s", i ? ", " : "", column_ref(p, k->col), k->desc ? "DESC" : "ASC",
                      k->nulls_first ? "FIRST" : "LAST");
    }
}

void filter_sql_projection(const filter_query *q, pool *p, strbuf *b) {
    strbuf_puts(b, column_ref(p, &filter_id_column));
    for (size_t i = 0; i < q->ncols; i++) {
        const table_column *c = q->cols[i];
        const char *col = column_ref(p, c), *name = ident_quote(p, c->name);
        if (c->type == COL_NUMERIC) /* no digit lost to a JSON number */
            strbuf_printf(b, ", %s::text AS %s", col, name);
        else if (c->type == COL_TIMESTAMPTZ)
            strbuf_printf(b, ", " SQL_UTC("%s") " AS %s", col, name);
        else
            strbuf_printf(b, ", %s", col);
    }
}

void filter_sql_keys(const filter_query *q, pool *p, strbuf *b) {
    for (size_t i = 0; i < q->nkeys; i++) {
        const table_column *c = q->keys[i].col;
        const char *col = column_ref(p, c), *sep = i ? ", " : "";
        /* Dates and timestamps in a form that does not depend on DateStyle
         * or TimeZone, with their era; infinity as itself. */
        if (c->type == COL_DATE)
            strbuf_printf(b, "%sCASE WHEN isfinite(%s) THEN to_char(%s, 'YYYY-MM-DD BC') ELSE %s::text END",
                          sep, col, col, col);
        else if (c->type == COL_TIMESTAMPTZ)
            strbuf_printf(b,
                          "%sCASE WHEN isfinite(%s) THEN to_char(%s AT TIME ZONE 'UTC', "
                          "'YYYY-MM-DD\"T\"HH24:MI:SS.US BC') ELSE %s::text END",
                          sep, col, col, col);
        else if (c->type == COL_TEXT)
            strbuf_printf(b, "%s%s", sep, col);
        else /* exact: numbers as PostgreSQL writes them (doubles in the
                shortest form that reads back the same) */
            strbuf_printf(b, "%s%s::text", sep, col);
    }
}

/* ---- whole statements ---- */

/* Appends " WHERE <filters> AND <keyset>", leaving out what q does not have. */
static void where_clause(const filter_query *q, bool keyset, strbuf *b, filter_params *ps) {
    if (q->guard != NULL)
        strbuf_printf(b, " WHERE %s%s", q->guard, q->nconds || (keyset && q->has_after) ? " AND" : "");
    if (q->nconds == 0 && !(keyset && q->has_after)) return;
    if (q->guard == NULL)
        strbuf_puts(b, " WHERE ");
    else
        strbuf_puts(b, " ");
    if (q->nconds) filter_sql_where(q, b, ps);
    if (q->nconds && keyset && q->has_after) strbuf_puts(b, " AND ");
    if (keyset && q->has_after) filter_sql_keyset(q, b, ps);
}

void filter_sql_list(const filter_query *q, long long fetch, strbuf *b, filter_params *ps) {
    pool *p = ps->pool;
    char limit[24];
    snprintf(limit, sizeof limit, "%lld", fetch);
    /* The page is chosen (filters, keyset, order, limit) on the table's
     * rows; only its rows are then turned into JSON. */
    strbuf_puts(b, "SELECT (SELECT to_json(_r)::text FROM (SELECT ");
    filter_sql_projection(q, p, b);
    strbuf_puts(b, ") _r), ");
    filter_sql_keys(q, p, b);
    strbuf_printf(b, " FROM (SELECT _t.* FROM %s _t", ident_quote_affixed(p, "sql_", q->spec->name, ""));
    where_clause(q, true, b, ps);
    strbuf_puts(b, " ORDER BY ");
    filter_sql_order(q, p, b);
    strbuf_printf(b, " LIMIT $%zu::int) _t ORDER BY ", filter_params_add(ps, pool_strdup(p, limit)));
    filter_sql_order(q, p, b);
}

void filter_sql_count(const filter_query *q, strbuf *b, filter_params *ps) {
    strbuf_printf(b, "SELECT count(*) FROM %s _t", ident_quote_affixed(ps->pool, "sql_", q->spec->name, ""));
    where_clause(q, false, b, ps);
}

/* ---- blame ---- */

/* One statement per column type reading an array of values, and one for
 * the cursor's timestamps (written without a zone). */
static const db_stmt blame_stmts[COL_TYPE_COUNT] = {
#define BLAME_STMT_(e, name, sql, pre, arrow, post, row_check, filter_check) \
    [COL_##e] = {"sql_filter_blame_" name, "SELECT $1::" sql "[]", 1},
    COL_TYPES(BLAME_STMT_)
#undef BLAME_STMT_
};
static const db_stmt blame_key_timestamp = {"sql_filter_blame_key_timestamp", "SELECT $1::timestamp[]", 1};

const db_stmt *const filter_blame_statements[] = {
#define BLAME_PTR_(e, name, sql, pre, arrow, post, row_check, filter_check) &blame_stmts[COL_##e],
    COL_TYPES(BLAME_PTR_)
#undef BLAME_PTR_
        & blame_key_timestamp,
    NULL,
};

/* True when PostgreSQL refuses the array literal arr as st's type. */
static bool refused(pool *p, const db_stmt *st, const char *arr) {
    api_error e;
    const char *params[] = {arr};
    return db_query(p, st, params, &e) == NULL && e.status == 422;
}

/* Returns v as an array literal of one element (a pool string). */
static const char *one_element(pool *p, const char *v) {
    strbuf *b = strbuf_new();
    strbuf_puts(b, "{\"");
    for (; *v; v++) {
        if (*v == '"' || *v == '\\') strbuf_puts(b, "\\");
        strbuf_append(b, v, 1);
    }
    strbuf_puts(b, "\"}");
    const char *out = pool_strdup(p, b->data);
    strbuf_free(b);
    return out;
}

void filter_blame(const filter_query *q, pool *p, api_error *err) {
    if (err->status != 422 || strncmp(err->sqlstate, "22", 2) != 0) return;
    /* PostgreSQL's words never reach the client: this, unless a value is found. */
    api_fail(err, API_E_VALIDATION_FAILED, NULL, "a value of the query is not one its column can hold");
    for (size_t i = 0; i < q->nconds; i++) {
        const filter_cond *c = &q->conds[i];
        if (c->param == NULL || c->op == FILTER_LIKE || c->op == FILTER_ILIKE) continue; /* text */
        if (refused(p, &blame_stmts[c->col->type],
                    c->op == FILTER_IN ? c->param : one_element(p, c->param))) {
            api_fail(err, API_E_VALIDATION_FAILED, c->col->name,
                     "filter %s: a value is not one a %s column can hold", c->col->name,
                     col_type_name(c->col->type));
            return;
        }
    }
    for (size_t i = 0; q->has_after && i < q->nkeys; i++) {
        const table_column *c = q->keys[i].col;
        const db_stmt *st = c->type == COL_TIMESTAMPTZ ? &blame_key_timestamp : &blame_stmts[c->type];
        if (q->after[i] != NULL && refused(p, st, one_element(p, q->after[i]))) {
            api_fail(err, API_E_VALIDATION_FAILED, "after",
                     "after: the cursor's %s is not one the column can hold", c->name);
            return;
        }
    }
}
