/*
 * ident: the one path by which a name from a request becomes SQL text (the
 * sql mode's tables and columns). Values never take this path: they travel
 * as parameters.
 *
 * An identifier is valid when it matches ^[a-z][a-z0-9_]{0,47}$ (docs/api.md,
 * "Limits"): no quote, no capital, no space, no byte outside ASCII
 * can reach the SQL, and quoting it is then only wrapping it in double
 * quotes (which also keeps a keyword such as "select" a plain name).
 */
#ifndef BACKEND_IDENT_H
#define BACKEND_IDENT_H

#include <stdbool.h>

#include "api_error.h"
#include "pool.h"

enum { IDENT_MAX = 48 };

/* True when s matches ^[a-z][a-z0-9_]{0,47}$. s may be NULL (false). */
bool ident_valid(const char *s);

/* Returns "<prefix><s><suffix>" in double quotes, a pool string, or NULL
 * when s is not valid by ident_valid or an affix holds anything but
 * [a-z0-9_] (the affixes are the caller's constants: "sql_", "_u3").
 * No SQL is ever built from a name but through this function. */
const char *ident_quote_affixed(pool *p, const char *prefix, const char *s, const char *suffix);

/* ident_quote_affixed(p, "", s, ""). */
const char *ident_quote(pool *p, const char *s);

/* Returns s as a SQL string literal ('s'), a pool string, or NULL when s is
 * not valid by ident_valid: a column name used as a jsonb key (r ->> 'sha'). */
const char *ident_literal(pool *p, const char *s);

/* A table name of a request (field names it in the error): valid, and not
 * reserved. Reserved: names starting "pg_" (system-looking: sql_pg_class
 * would be harmless to PostgreSQL, but looks like the catalog to a reader)
 * and "information_schema". Returns false with a 422. */
bool ident_table_ok(const char *s, const char *field, api_error *err);

/* A column name: valid, and not one of the columns every table has (id,
 * created_at) nor a PostgreSQL system column (tableoid, xmin, xmax, cmin,
 * cmax, ctid). Returns false with a 422 naming field. */
bool ident_column_ok(const char *s, const char *field, api_error *err);

#endif
