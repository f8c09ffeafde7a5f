/*
 * sql/values: the sql mode's rules for values, before and after PostgreSQL
 * sees them (docs/sql.md, "Types": JSON <-> column).
 *
 * C checks each value's JSON type against its column first, so a wrong
 * type is a 422 naming the column before the database is asked. A value
 * PostgreSQL still refuses (a malformed uuid, a date that does not exist)
 * is blamed on its column afterwards, by asking PostgreSQL to cast that
 * column alone.
 */
#ifndef BACKEND_SQL_VALUES_H
#define BACKEND_SQL_VALUES_H

#include <jansson.h>
#include <stdbool.h>

#include "db.h"
#include "request.h"
#include "tablespec.h"

/* Checks one row object of table s: known columns only, each value's JSON
 * type, and (whole: an insert) every non-nullable column present. idx is
 * the row's index for the detail (-1: a patch). Returns false with a 422
 * naming the field. */
bool sql_row_ok(const table_spec *s, json_t *row, long idx, bool whole, api_error *err);

/* The request body as JSON, \u0000 in strings accepted (sql_row_ok refuses
 * it with a 422 naming the column). Owned by req->pool; NULL with a 400. */
json_t *sql_body_json(request *req, api_error *err);

/* After a statement on req's body failed with a refused value (SQLSTATE
 * class 22): names the column whose cast fails alone in err. */
void sql_blame_rows(request *req, const table_spec *s, api_error *err);

/* A 409 for a unique value taken: names its column (the constraint is
 * sql__<name>_u<N>, tablespec.h). */
void sql_blame_unique(const table_spec *s, api_error *err);

/* Maps what a client can cause but db_error_map leaves as 500: a value too
 * large for its unique index (54000) is 422. */
void sql_blame_limits(api_error *err);

/* The blame statements, one per type (tablespec.h), for the mode's
 * statement list. */
extern const db_stmt sql_row_checks[COL_TYPE_COUNT];

#endif
