/*
 * tablespec: the sql mode's table definitions (contract.md section 5), as a
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

/* The closed allowlist of column types. */
typedef enum col_type {
    COL_TEXT, COL_INTEGER, COL_BIGINT, COL_DOUBLE, COL_NUMERIC,
    COL_BOOLEAN, COL_TIMESTAMPTZ, COL_DATE, COL_JSONB, COL_UUID,
} col_type;
#define COL_TYPE_COUNT 10

typedef struct table_column {
    const char *name;  /* valid by ident_column_ok */
    col_type type;
    bool nullable;     /* default true */
    bool unique;       /* default false */
} table_column;

typedef struct table_spec {
    const char *name;  /* valid by ident_table_ok; the table is sql_<name> */
    table_column cols[TABLE_COLUMNS_MAX];
    size_t ncols;      /* 1..TABLE_COLUMNS_MAX */
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
