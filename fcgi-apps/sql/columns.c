/*
 * sql/columns: a table's column added or dropped (columns.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "columns.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "ident.h"
#include "schema.h"
#include "table.h"
#include "values.h"

/* Returns the formatted text, a pool string. */
__attribute__((format(printf, 2, 3))) static char *pool_printf(pool *p, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *out = pool_alloc(p, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(out, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return out;
}

/* The registry row, locked for the change: its columns. */
static const db_stmt registry_lock = {"sql_columns_lock",
                                      "SELECT columns::text FROM sql__tables WHERE name = $1 FOR UPDATE", 1};
/* The new definition, and the version that tells workers it changed. */
static const db_stmt registry_set = {"sql_columns_set",
                                     "UPDATE sql__tables SET columns = $2::jsonb, version = version + 1"
                                     " WHERE name = $1 RETURNING " SQL_TABLE_JSON,
                                     2};

/* Begins the change: the transaction, and the table's definition read
 * from its locked registry row into *spec (owned by *def, which the
 * caller decrefs). Returns false with err set (404: no such table); the
 * transaction is then over. */
static bool begin_change(request *req, const char *table, json_t **def, table_spec *spec, api_error *err) {
    const char *params[] = {table};
    PGresult *res = NULL;
    *def = NULL;
    if (!db_command("BEGIN", err) || (res = db_query(req->pool, &registry_lock, params, err)) == NULL) {
        db_rollback();
        return false;
    }
    if (PQntuples(res) == 0) {
        db_rollback();
        return API_NOT_FOUND(err, "name", "table %s does not exist", table);
    }
    *def = json_pack("{s:s,s:o}", "name", table, "columns", json_loads(PQgetvalue(res, 0, 0), 0, NULL));
    if (*def == NULL || !table_spec_parse(*def, spec, err)) {
        db_rollback();
        return API_INTERNAL(err, "the registry row of table %s is damaged", table);
    }
    return true;
}

/* Ends the change: runs ddl (NULL-ended statements), records spec in the
 * registry, commits, and answers the table. Returns false with err set,
 * the transaction rolled back. */
static bool end_change(request *req, const table_spec *spec, const char *const *ddl, reply *out,
                       api_error *err) {
    strbuf *cols = strbuf_new();
    table_spec_columns_json(spec, cols);
    const char *params[] = {spec->name, pool_strdup(req->pool, cols->data)};
    strbuf_free(cols);
    bool ok = true;
    for (const char *const *d = ddl; ok && *d; d++) ok = db_command(*d, err);
    PGresult *res = ok ? db_query(req->pool, &registry_set, params, err) : NULL;
    if (res == NULL || !db_command("COMMIT", err)) {
        db_rollback();
        return false;
    }
    sql_table_forget(spec->name);
    strbuf_puts(out->body, PQgetvalue(res, 0, 0));
    return true;
}

/* The default's SQL literal, made by PostgreSQL (quote_literal) from the
 * value read as the column reads a row's: a pool string, or NULL with a
 * 422 naming default. */
static const char *default_literal(request *req, const table_column *c, json_t *dflt, api_error *err) {
    table_spec one = {.name = "default", .ncols = 1};
    one.cols[0] = *c;
    json_t *row = json_pack("{s:O}", c->name, dflt);
    bool typed = sql_row_ok(&one, row, -1, false, err);
    char *text = json_dumps(row, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(row);
    if (!typed) {
        free(text);
        char why[sizeof err->detail]; /* api_fail writes err->detail: not from itself */
        snprintf(why, sizeof why, "%s", err->detail);
        return API_INVALID(err, "default", "default: %s", why), NULL;
    }
    strbuf *sql = strbuf_new();
    strbuf_puts(sql, "SELECT quote_literal(");
    strbuf_printf(sql, col_types[c->type].row_cast, ident_literal(req->pool, c->name));
    strbuf_puts(sql, ") FROM (SELECT $1::jsonb AS _r) _e");
    const char *params[] = {pool_strdup(req->pool, text)};
    free(text);
    PGresult *res = db_query_once(req->pool, sql->data, 1, params, err);
    strbuf_free(sql);
    if (res == NULL)
        return API_INVALID(err, "default", "default is not a value a %s column can hold",
                           col_type_name(c->type)),
               NULL;
    return PQgetisnull(res, 0, 0) ? "NULL" : pool_strdup(req->pool, PQgetvalue(res, 0, 0));
}

bool sql_column_add(request *req, const char *table, const table_column *c, json_t *dflt, reply *out,
                    api_error *err) {
    json_t *def;
    table_spec spec;
    if (!begin_change(req, table, &def, &spec, err)) return false;
    const char *lit = NULL;
    bool ok = true;
    if (sql_column_find(&spec, c->name) != NULL)
        ok = API_CONFLICT(err, "name", "table %s has a column %s already", table, c->name);
    else if (spec.ncols == TABLE_COLUMNS_MAX)
        ok = API_INVALID(err, "name", "table %s has %d columns already, the most a table has", table,
                         TABLE_COLUMNS_MAX);
    else if (dflt != NULL && !json_is_null(dflt))
        ok = (lit = default_literal(req, c, dflt, err)) != NULL;
    if (!ok) {
        db_rollback();
        json_decref(def);
        return false;
    }
    spec.cols[spec.ncols++] = *c;
    char suffix[24];
    snprintf(suffix, sizeof suffix, "_u%zu", spec.ncols);
    const char *t = ident_quote_affixed(req->pool, "sql_", table, ""), *q = ident_quote(req->pool, c->name);
    const char *ddl[3] = {
        pool_printf(req->pool, "ALTER TABLE %s ADD COLUMN %s %s%s%s%s%s", t, q, col_type_sql(c->type),
                    c->nullable ? "" : " NOT NULL", lit ? " DEFAULT " : "", lit ? lit : "",
                    lit ? pool_printf(req->pool, "::%s", col_type_sql(c->type)) : ""),
        c->unique ? pool_printf(req->pool, "ALTER TABLE %s ADD CONSTRAINT %s UNIQUE (%s)", t,
                                ident_quote_affixed(req->pool, "sql__", table, suffix), q)
                  : NULL,
        NULL};
    ok = end_change(req, &spec, ddl, out, err);
    json_decref(def);
    if (!ok && err->status == 409)
        API_CONFLICT(err, "name", "rows of table %s would hold one value of unique column %s twice", table,
                     c->name);
    if (!ok && strcmp(err->sqlstate, "23502") == 0)
        API_INVALID(err, "default", "table %s has rows: a NOT NULL column needs a default", table);
    if (ok) out->status = 201;
    return ok;
}

bool sql_column_drop(request *req, const char *table, const char *column, reply *out, api_error *err) {
    json_t *def;
    table_spec spec;
    if (!begin_change(req, table, &def, &spec, err)) return false;
    const table_column *c = sql_column_find(&spec, column);
    bool ok = c != NULL && spec.ncols > 1;
    if (c == NULL) API_NOT_FOUND(err, "column", "table %s has no column %s", table, column);
    if (c != NULL && spec.ncols == 1)
        API_INVALID(err, "column", "%s is the last column of table %s: drop the table instead", column,
                    table);
    if (!ok) {
        db_rollback();
        json_decref(def);
        return false;
    }
    size_t k = (size_t)(c - spec.cols), nd = 0;
    const char *t = ident_quote_affixed(req->pool, "sql_", table, "");
    const char **ddl = pool_alloc(req->pool, sizeof *ddl * (spec.ncols + 2));
    ddl[nd++] = pool_printf(req->pool, "ALTER TABLE %s DROP COLUMN %s", t, ident_quote(req->pool, column));
    /* A unique column's constraint is named after its place (tablespec.h):
     * the columns after the dropped one move up a place, and so do their
     * constraints' names. */
    for (size_t j = k + 1; j < spec.ncols; j++) {
        if (!spec.cols[j].unique) continue;
        char from[24], to[24];
        snprintf(from, sizeof from, "_u%zu", j + 1);
        snprintf(to, sizeof to, "_u%zu", j);
        ddl[nd++] = pool_printf(req->pool, "ALTER TABLE %s RENAME CONSTRAINT %s TO %s", t,
                                ident_quote_affixed(req->pool, "sql__", table, from),
                                ident_quote_affixed(req->pool, "sql__", table, to));
    }
    ddl[nd] = NULL;
    memmove(&spec.cols[k], &spec.cols[k + 1], sizeof spec.cols[0] * (spec.ncols - k - 1));
    spec.ncols--;
    ok = end_change(req, &spec, ddl, out, err);
    json_decref(def);
    return ok;
}
