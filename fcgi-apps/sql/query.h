/*
 * sql/query: the row routes' query language (sql/filter.h) wired to a
 * route: a route's validated query parameters become a filter_query for
 * its table, and the statements built from it run once, unprepared (their
 * text depends on the query), with every value a parameter.
 */
#ifndef BACKEND_SQL_QUERY_H
#define BACKEND_SQL_QUERY_H

#include "filter.h"
#include "input.h"
#include "mode.h"
#include "table.h"

/* Reads a route's query into q: the open parameters (in[where], the
 * filters) and each declared string query field of decl (n fields) that
 * is one of the reserved names (order, select, after, count, on_conflict)
 * and was given. allow is filter_parse's. Returns false with a 422 naming
 * the parameter (the column, for a filter). */
bool sql_query_parse(request *req, const sql_table *t, const input_field *decl, const input_value *in,
                     size_t n, size_t where, unsigned allow, filter_query *q, api_error *err);

/* Runs b's statement with ps's parameters, once, unprepared. Returns the
 * result (owned by req->pool) or NULL with err set; a value PostgreSQL
 * refused is blamed on its column (filter_blame), never in PostgreSQL's
 * words. */
PGresult *sql_query_run(request *req, const filter_query *q, const strbuf *b, const filter_params *ps,
                        api_error *err);

/* GET .../rows: the page of q (at most limit rows; next the cursor of its
 * last row when there are more), with "count" when q asks for it. */
bool sql_query_list(request *req, const filter_query *q, long long limit, reply *out, api_error *err);

/* The most changed rows a write by filter answers (its count is all). */
enum { SQL_WRITE_ITEMS_MAX = 1000 };

/* PATCH (set: the validated body object, the columns to set) or DELETE
 * (set NULL) of the rows matching q, which must have a filter (else a
 * 422). When max_affected >= 0 and more rows would change, nothing
 * changes and the answer is a 422 naming max_affected. Answers
 * {"items": [the first SQL_WRITE_ITEMS_MAX rows changed, by id],
 * "count": every row changed}. */
bool sql_query_write(request *req, const filter_query *q, json_t *set, long long max_affected, reply *out,
                     api_error *err);

#endif
