/*
 * sql/query: the query language wired to the row routes (query.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "query.h"

#include <stdio.h>
#include <string.h>

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
    return filter_parse(&t->spec, qp, k, allow, req->pool, q, err);
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
