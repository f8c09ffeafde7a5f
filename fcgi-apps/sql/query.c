/*
 * sql/query: the query language wired to the row routes (query.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "query.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ident.h"
#include "values.h"

bool sql_query_parse(request *req, const sql_table *t, const input_field *decl, const input_value *in,
                     size_t n, size_t where, unsigned allow, filter_query *q, api_error *err) {
    const input_value *w = &in[where];
    query_param *qp = pool_alloc(req->pool, sizeof *qp * (w->nopen + n + 1));
    size_t k = 0;
    for (size_t i = 0; i < w->nopen; i++) qp[k++] = w->open[i];
    for (size_t i = 0; i < n; i++)
        if (decl[i].in == INPUT_QUERY && decl[i].type == INPUT_STRING && in[i].present &&
            filter_reserved(decl[i].name))
            qp[k++] = (query_param){decl[i].name, in[i].s};
    if (!filter_parse(&t->spec, qp, k, allow, req->pool, q, err)) return false;
    q->guard = t->guard;
    return true;
}

PGresult *sql_query_run(request *req, const filter_query *q, const strbuf *b, const filter_params *ps,
                        api_error *err) {
    PGresult *res = db_query_once(req->pool, b->data, (int)ps->n, ps->values, err);
    if (res == NULL) filter_blame(q, req->pool, err);
    return res;
}

/* The number of rows matching q's filters, as text (a pool string), or
 * NULL with err set. */
static const char *count_rows(request *req, const filter_query *q, api_error *err) {
    strbuf *b = strbuf_new();
    filter_params ps;
    filter_params_init(&ps, req->pool);
    filter_sql_count(q, b, &ps);
    PGresult *res = sql_query_run(req, q, b, &ps, err);
    strbuf_free(b);
    return res == NULL ? NULL : PQgetvalue(res, 0, 0);
}

bool sql_query_list(request *req, const filter_query *q, long long limit, reply *out, api_error *err) {
    strbuf *b = strbuf_new();
    filter_params ps;
    filter_params_init(&ps, req->pool);
    filter_sql_list(q, limit + 1, b, &ps);
    PGresult *res = sql_query_run(req, q, b, &ps, err);
    strbuf_free(b);
    if (res == NULL) return false;
    const char *count = q->count ? count_rows(req, q, err) : NULL;
    if (q->count && count == NULL) return false;
    int n = PQntuples(res), shown = n > limit ? (int)limit : n;
    const char *next = NULL;
    if (n > limit && !filter_next(q, res, shown - 1, req->pool, &next, err)) return false;
    strbuf_puts(out->body, "{\"items\":[");
    for (int i = 0; i < shown; i++) {
        if (i) strbuf_puts(out->body, ",");
        strbuf_puts(out->body, PQgetvalue(res, i, 0));
    }
    strbuf_puts(out->body, "],\"next\":");
    if (next != NULL)
        strbuf_json_string(out->body, next, strlen(next));
    else
        strbuf_puts(out->body, "null");
    if (count != NULL) strbuf_printf(out->body, ",\"count\":%s", count);
    strbuf_puts(out->body, "}");
    return true;
}

/* ---- writes by filter ---- */

/* Appends the UPDATE (set) or DELETE of q's rows, as the CTE _w returning
 * the changed rows; the table is alias _t, as the filters read it. */
static void write_head(const filter_query *q, json_t *set, const char *body, strbuf *b, filter_params *ps) {
    pool *p = ps->pool;
    const table_spec *s = q->spec;
    const char *table = ident_quote_affixed(p, "sql_", s->name, "");
    if (set == NULL) {
        strbuf_printf(b, "WITH _w AS (DELETE FROM %s _t WHERE ", table);
    } else {
        strbuf_printf(b, "WITH _w AS (UPDATE %s _t SET ", table);
        bool first = true;
        for (size_t i = 0; i < s->ncols; i++) {
            if (json_object_get(set, s->cols[i].name) == NULL) continue;
            strbuf_printf(b, "%s%s = ", first ? "" : ", ", ident_quote(p, s->cols[i].name));
            strbuf_printf(b, col_types[s->cols[i].type].row_cast, ident_literal(p, s->cols[i].name));
            first = false;
        }
        strbuf_printf(b, " FROM (SELECT $%zu::jsonb AS _r) _e WHERE ", filter_params_add(ps, body));
    }
    filter_sql_where(q, b, ps);
    if (q->guard != NULL) strbuf_printf(b, " AND %s", q->guard);
    strbuf_puts(b, " RETURNING _t.*)");
}

/* Appends what a write answers: one row per changed row shown (count,
 * row JSON), by id, or one row (0, NULL) when none changed. */
static void write_tail(const filter_query *q, strbuf *b, filter_params *ps) {
    strbuf_puts(b,
                " SELECT _c.n, _p.j FROM (SELECT count(*) AS n FROM _w) _c LEFT JOIN LATERAL"
                " (SELECT to_json(_r)::text AS j, _r.id FROM (SELECT ");
    filter_sql_projection(q, ps->pool, b);
    strbuf_printf(b, " FROM _w _t ORDER BY _t.id LIMIT %d) _r) _p ON true ORDER BY _p.id",
                  SQL_WRITE_ITEMS_MAX);
}

/* A write's statement failed: the refused value blamed on its column (the
 * body's first, then the filters'), a unique value taken on its column. */
static void write_blame(request *req, const filter_query *q, bool set, api_error *err) {
    if (set) sql_blame_rows(req, q->spec, err);
    if (err->field[0] == '\0') filter_blame(q, req->pool, err);
    sql_blame_unique(q->spec, err);
    sql_blame_limits(err);
}

/* Appends the write's answer from its result. */
static void write_reply(reply *out, const PGresult *res) {
    strbuf_puts(out->body, "{\"items\":[");
    for (int i = 0, k = 0; i < PQntuples(res); i++) {
        if (PQgetisnull(res, i, 1)) continue;
        strbuf_printf(out->body, "%s%s", k++ ? "," : "", PQgetvalue(res, i, 1));
    }
    strbuf_printf(out->body, "],\"count\":%s}", PQgetvalue(res, 0, 0));
}

bool sql_query_write(request *req, const filter_query *q, json_t *set, long long max_affected, reply *out,
                     api_error *err) {
    if (q->nconds == 0)
        return API_INVALID(err, "where",
                           "a write by filter needs at least one filter (?<column>=<op>.<value>); to change "
                           "every row, say so: ?id=gte.0");
    strbuf *b = strbuf_new();
    filter_params ps;
    filter_params_init(&ps, req->pool);
    write_head(q, set, req->body, b, &ps);
    write_tail(q, b, &ps);
    /* With a bound, the write runs in a transaction, undone when it
     * changed more rows than the bound. */
    bool tx = max_affected >= 0;
    PGresult *res = NULL;
    if (!tx || db_command("BEGIN", err)) res = db_query_once(req->pool, b->data, (int)ps.n, ps.values, err);
    strbuf_free(b);
    if (res == NULL) {
        if (tx) db_rollback();
        write_blame(req, q, set != NULL, err);
        return false;
    }
    long long n = atoll(PQgetvalue(res, 0, 0));
    if (tx && n > max_affected) {
        db_rollback();
        return API_INVALID(err, "max_affected",
                           "the write would change %lld rows, more than max_affected (%lld): nothing changed",
                           n, max_affected);
    }
    if (tx && !db_command("COMMIT", err)) {
        db_rollback();
        return false;
    }
    write_reply(out, res);
    return true;
}
