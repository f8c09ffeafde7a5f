/*
 * tablespec: the sql mode's table definitions (docs/sql.md), as a
 * request gives them and as the registry keeps them: validated whole before
 * anything reaches the database, and turned into DDL only through ident.h
 * and a fixed type table (a type's SQL text is never taken from a request).
 */
#ifndef BACKEND_TABLESPEC_H
#define BACKEND_TABLESPEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "api_error.h"
#include "pool.h"
#include "strbuf.h"

enum { TABLE_COLUMNS_MAX = 64 };

/* The column types, once: the closed allowlist (docs/sql.md, "Types") and
 * every fact about a type the mode uses. Each row is
 *   X(ENUM, api name, SQL type, PRE, ARROW, POST, ROW_CHECK, FILTER_CHECK)
 * where a row's value is taken out of the jsonb row _e._r as
 *   PRE "(_e._r " ARROW " <key>)" POST
 * (integers go through numeric, as jsonb writes 1.0 for a whole number sent
 * as 1.0, and sql__whole, the mode's schema, refuses a fraction C could not
 * see in its double); ROW_CHECK: a refused value is blamed on its column
 * with a statement that casts that column alone; FILTER_CHECK: a ?col=value
 * filter is checked the same way. A type's SQL text never comes from a
 * request. */
#define COL_TYPES(X)                                                                          \
    X(TEXT, "text", "text", "", "->>", "", false, false)                                      \
    X(INTEGER, "integer", "integer", "sql__whole(", "->>", "::numeric)::integer", true, true) \
    X(BIGINT, "bigint", "bigint", "sql__whole(", "->>", "::numeric)::bigint", true, true)     \
    X(DOUBLE, "double", "double precision", "", "->>", "::double precision", true, true)      \
    X(NUMERIC, "numeric", "numeric", "", "->>", "::numeric", true, true)                      \
    X(BOOLEAN, "boolean", "boolean", "", "->>", "::boolean", false, true)                     \
    X(TIMESTAMPTZ, "timestamptz", "timestamptz", "", "->>", "::timestamptz", true, true)      \
    X(DATE, "date", "date", "", "->>", "::date", true, true)                                  \
    X(JSONB, "jsonb", "jsonb", "nullif(", "->", ", 'null'::jsonb)", false, true)              \
    X(UUID, "uuid", "uuid", "", "->>", "::uuid", true, true)

typedef enum col_type {
#define COL_TYPE_ENUM_(e, name, sql, pre, arrow, post, row_check, filter_check) COL_##e,
    COL_TYPES(COL_TYPE_ENUM_)
#undef COL_TYPE_ENUM_
        COL_TYPE_COUNT
} col_type;

/* What the mode knows of a type, indexed by col_type (tablespec.c). */
typedef struct col_type_info {
    const char *name;     /* in the API: "double" */
    const char *sql;      /* "double precision" */
    const char *row_cast; /* a printf format: %s is the key as a literal */
    bool row_check;       /* see COL_TYPES */
    bool filter_check;
} col_type_info;
extern const col_type_info col_types[COL_TYPE_COUNT];

typedef struct table_column {
    const char *name; /* valid by ident_column_ok */
    col_type type;
    bool nullable; /* default true */
    bool unique;   /* default false */
} table_column;

typedef struct table_spec {
    const char *name; /* valid by ident_table_ok; the table is sql_<name> */
    table_column cols[TABLE_COLUMNS_MAX];
    size_t ncols; /* 1..TABLE_COLUMNS_MAX */
} table_spec;

/* The type's name in the API ("double"), or NULL for a value out of range. */
const char *col_type_name(col_type t);
/* The type's SQL ("double precision"): a fixed string. */
const char *col_type_sql(col_type t);
/* Looks an API type name up. Returns false when it is not in the allowlist. */
bool col_type_parse(const char *s, col_type *out);

/* Validates a whole definition, {"name": ..., "columns": [{"name", "type",
 * "nullable", "unique"}, ...]}: known fields only, a valid unreserved table
 * name, 1-64 columns, valid unreserved and distinct column names, types
 * from the allowlist, booleans. Fills out (its strings are borrowed from
 * body). Returns false with a 422 naming the field ("name", "columns",
 * "columns[2].type", ...). */
bool table_spec_parse(json_t *body, table_spec *out, api_error *err);

/* Appends the normalised column list as JSON (defaults filled in):
 * [{"name":"sha","type":"text","nullable":false,"unique":true}, ...]. */
void table_spec_columns_json(const table_spec *spec, strbuf *b);

/* The CREATE TABLE statement for spec (already validated), a pool string:
 * "sql_<name>" with id (identity, primary key) first, the columns, then
 * created_at. Its objects are named "sql__<name>_pk", "sql__<name>_id" (the
 * sequence) and "sql__<name>_u<N>" (the unique constraint of column N,
 * 1-based), names no table can take, so that no later table collides with
 * them. Returns NULL if an identifier does not quote (never expected). */
char *table_spec_ddl(pool *p, const table_spec *spec);

#endif
