/*
 * sql/columns: adding and dropping a table's column (docs/sql.md,
 * "Changing columns"): the DDL and the registry's new definition in one
 * transaction, the registry row locked first (FOR UPDATE) so that changes
 * of one table happen one after another, and its version raised so that
 * every worker's cached statements notice (sql/table.h).
 */
#ifndef BACKEND_SQL_COLUMNS_H
#define BACKEND_SQL_COLUMNS_H

#include <jansson.h>

#include "mode.h"
#include "tablespec.h"

/* Adds column c to table `table`, with dflt (a JSON value of c's type, or
 * NULL: none) for the rows there are and those inserted without it.
 * Answers 201 with the table's definition; 404 no table, 409 a column of
 * that name, 422 past 64 columns or a default not of c's type (naming
 * default), or rows that would break NOT NULL or UNIQUE. */
bool sql_column_add(request *req, const char *table, const table_column *c, json_t *dflt, reply *out,
                    api_error *err);

/* Drops column `column` of table `table` (and its values). Answers 200
 * with the table's definition; 404 no table or no such column, 422 for
 * the table's last column. */
bool sql_column_drop(request *req, const char *table, const char *column, reply *out, api_error *err);

#endif
