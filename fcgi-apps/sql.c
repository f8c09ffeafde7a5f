/*
 * sql: typed tables on demand (docs/sql.md).
 *
 * Each table is a real PostgreSQL table sql_<name>, with id (identity,
 * primary key) and created_at besides its declared columns, and one row in
 * the registry sql__tables (a name no table can take: names start with a
 * letter). A table is created with its registry row in one transaction; the
 * registry's primary key makes a concurrent create of the same name wait,
 * then fail with 409.
 *
 * Safe by construction: a name reaches SQL text only through ident.h (which
 * validates and quotes), a type only from tablespec.h's fixed table, and
 * every value travels as a parameter. Rows travel as the request body
 * itself, one jsonb parameter, and PostgreSQL takes each column out of it
 * (r ->> 'col')::type, so a 30-digit numeric never passes through a C
 * double. C checks each value's JSON type first, so a wrong type is a 422
 * naming the column before the database is asked; a value PostgreSQL still
 * refuses (a malformed uuid, a date that does not exist) is blamed on its
 * column by asking PostgreSQL to cast that column alone.
 *
 * The statements of a table (insert, get, patch, delete, list) are built
 * from its registry row the first time a process's worker meets the table,
 * prepared once per connection and kept in a small per-thread cache
 * (sql/table.h). A table that has gone or changed behind the cache's back
 * (a statement fails with undefined table or column) is read from the
 * registry again and the request retried once. The rules for values are
 * in sql/values.h.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "sql/columns.h"
#include "sql/ident.h"
#include "sql/query.h"
#include "json.h"
#include "log.h"
#include "mode.h"
#include "schema.h"
#include "sql/tablespec.h"
#include "sql/table.h"
#include "sql/values.h"
#include "validate.h"

enum { ROWS_MAX = 1000 };
/* ---- schema ---- */

static const char sql_schema[] =
    "CREATE TABLE IF NOT EXISTS sql__tables ("
    " name text COLLATE \"C\" PRIMARY KEY,"
    " table_name text NOT NULL,"
    " columns jsonb NOT NULL,"
    " created_at timestamptz NOT NULL DEFAULT now());"
    /* An integer column's value, checked whole on the exact numeric the
     * body holds: C sees only a double, in which 1.00000000000000000001 is
     * 1 (sql/table.c's casts call it). */
    "CREATE OR REPLACE FUNCTION sql__whole(v numeric) RETURNS numeric LANGUAGE plpgsql IMMUTABLE AS $$"
    " BEGIN IF v <> trunc(v) THEN"
    " RAISE EXCEPTION 'invalid input syntax for type integer: \"%\"', v USING ERRCODE = '22P02';"
    " END IF; RETURN v; END $$";

/* Step 2: each table's definition has a version, raised by every change
 * of its columns; each statement a worker built from a definition checks
 * it (sql/table.h), and fails with SQLSTATE SQLCH when the definition has
 * changed since: the worker reads the registry again and retries. */
static const char sql_versions[] =
    "ALTER TABLE sql__tables ADD COLUMN IF NOT EXISTS version bigint NOT NULL DEFAULT 1;"
    "CREATE OR REPLACE FUNCTION sql__fresh(n text, v bigint) RETURNS boolean LANGUAGE plpgsql STABLE AS $$"
    " BEGIN IF NOT EXISTS (SELECT 1 FROM sql__tables WHERE name = n AND version = v) THEN"
    " RAISE EXCEPTION 'table % changed', n USING ERRCODE = 'SQLCH';"
    " END IF; RETURN true; END $$";

/* The schema's steps (mode.h): step 1 is release 0.1.0's whole schema. */
static const char *const sql_migrations[] = {sql_schema, sql_versions, NULL};

/* /openapi.json with the token (mode.h, mode_describe): each table's row
 * as a JSON Schema, from the registry rows, keyed by the table's name: id,
 * the columns in order, created_at, all present in every row (null for a
 * null value). A column's JSON type is what a row answers (docs/sql.md):
 * numeric as a string (its digits kept), jsonb any value; a nullable
 * column also null. */
static const char sql_describe[] =
    "SELECT coalesce(json_object_agg(t.name, json_build_object('title', 'A row of table ' || t.name,"
    " 'type', 'object', 'required', r.names, 'properties',"
    " '{\"inserted\": {\"type\": \"boolean\", \"description\": \"in the answer of an upsert\"}}'::jsonb || "
    "r.props::jsonb,"
    " 'additionalProperties', false)"
    " ORDER BY t.name), '{}')::text FROM sql__tables t CROSS JOIN LATERAL ("
    " SELECT json_agg(p.k ORDER BY p.o) AS names, json_object_agg(p.k, p.s ORDER BY p.o) AS props FROM ("
    " SELECT 'id' AS k, 0::bigint AS o, '{\"type\": \"integer\"}'::jsonb AS s"
    " UNION ALL SELECT e.c->>'name', e.n, CASE WHEN m.js IS NULL THEN '{}'::jsonb"
    " ELSE jsonb_build_object('type', CASE WHEN (e.c->>'nullable')::boolean"
    " THEN jsonb_build_array(m.js, 'null') ELSE to_jsonb(m.js) END) || m.extra END"
    " FROM jsonb_array_elements(t.columns) WITH ORDINALITY e(c, n) LEFT JOIN (VALUES"
    " ('text', 'string', '{}'::jsonb), ('integer', 'integer', '{}'), ('bigint', 'integer', '{}'),"
    " ('double', 'number', '{}'), ('boolean', 'boolean', '{}'),"
    " ('numeric', 'string', '{\"pattern\": \"^(-?[0-9]+(\\\\.[0-9]+)?|NaN|-?Infinity)$\"}'),"
    " ('timestamptz', 'string', '{\"format\": \"date-time\"}'), ('date', 'string', '{\"format\": \"date\"}'),"
    " ('uuid', 'string', '{\"format\": \"uuid\"}')) m(name, js, extra) ON m.name = e.c->>'type'"
    " UNION ALL SELECT 'created_at', 1 << 30, '{\"type\": \"string\", \"format\": \"date-time\"}') p) r";
static const mode_describe sql_described = {sql_describe, "name", "SqlRow", "sql_row_"};

/* ---- static statements ---- */

static const db_stmt sql_register = {
    "sql_register",
    "INSERT INTO sql__tables (name, table_name, columns) VALUES ($1, 'sql_' || $1, $2::jsonb)"
    " RETURNING " SQL_TABLE_JSON,
    2};

static const db_stmt sql_table_list = {
    "sql_table_list",
    "SELECT " SQL_TABLE_JSON
    ", name FROM sql__tables WHERE name > $1"
    /* a scoped token sees the tables its scopes name (auth_read_filter) */
    " AND ($3::text[] IS NULL OR name = ANY($3::text[])"
    " OR EXISTS (SELECT 1 FROM unnest($4::text[]) AS p(x) WHERE starts_with(name, p.x)))"
    " ORDER BY name LIMIT $2::int",
    4};

/* ---- inputs: each route's, declared once (input.h) ---- */

/* The inputs of the sql routes. What depends on a table's columns (its
 * rows' values, the filters named by its columns) is checked by the
 * handler against the table it reads first; everything else here. The
 * table's name is the first field of every route that names one
 * (sql_with_table reads it there). */
#define IN_TABLE_NAME(PLACE)                                                                             \
    {                                                                                                    \
        .name = "name", .type = INPUT_STRING, .in = PLACE, .required = true, .min = 1, .max = IDENT_MAX, \
        .check = ident_table_ok, .pattern = "^[a-z][a-z0-9_]{0,47}$", .description = "the table's name"  \
    }

/* ?on_conflict=: a column's name (which column, sql_insert's). */
static bool column_name_ok(const char *s, const char *field, api_error *err) {
    if (ident_valid(s)) return true;
    return API_INVALID(err, field, "%s must match ^[a-z][a-z0-9_]{0,47}$", field);
}

/* ?after= of the table list: "" or a table name, as next gives it. */
static bool table_after_ok(const char *s, const char *field, api_error *err) {
    if (s[0] == '\0' || ident_valid(s)) return true;
    return API_INVALID(err, field, "%s must be a table name from next", field);
}

enum { TABLES_LIMIT, TABLES_AFTER, TABLES_N };
static const input_field list_tables_input[TABLES_N] = {
    [TABLES_LIMIT] = INPUT_LIMIT,
    [TABLES_AFTER] = {.name = "after",
                      .type = INPUT_STRING,
                      .in = INPUT_QUERY,
                      .max = IDENT_MAX,
                      .check = table_after_ok,
                      .pattern = "^([a-z][a-z0-9_]*)?$",
                      .description = "next, from the previous page"},
};

enum { TABLE_NAME, TABLE_N };
static const input_field get_table_input[TABLE_N] = {[TABLE_NAME] = IN_TABLE_NAME(INPUT_PATH)};

/* DELETE /sql/tables/{name}?confirm=<name>: confirm must repeat the name
 * (the handler compares them: a 422 naming confirm). */
enum { DROP_NAME, DROP_CONFIRM, DROP_N };
static const input_field drop_table_input[DROP_N] = {
    [DROP_NAME] = IN_TABLE_NAME(INPUT_PATH),
    [DROP_CONFIRM] = {.name = "confirm",
                      .type = INPUT_STRING,
                      .in = INPUT_QUERY,
                      .max = IDENT_MAX,
                      .description = "the table's name again: nothing is dropped without it"},
};

/* POST /sql/tables: the name and the columns. The column names'
 * uniqueness is table_spec_parse's, which turns the body into the table's
 * definition. */
static const char *const col_type_names[] = {
#define COL_TYPE_NAME_(e, name, sql, pre, arrow, post, row_check, filter_check) name,
    COL_TYPES(COL_TYPE_NAME_)
#undef COL_TYPE_NAME_
        NULL,
};
static const input_field column_input[] = {
    {.name = "name",
     .type = INPUT_STRING,
     .required = true,
     .min = 1,
     .max = IDENT_MAX,
     .check = ident_column_ok,
     .pattern = "^[a-z][a-z0-9_]{0,47}$",
     .allow_nul = true,
     .description = "not id or created_at, which every table has"},
    {.name = "type", .type = INPUT_STRING, .required = true, .choices = col_type_names},
    {.name = "nullable", .type = INPUT_BOOLEAN, .description = "default true"},
    {.name = "unique", .type = INPUT_BOOLEAN, .description = "default false"},
};
enum { CREATE_NAME, CREATE_COLUMNS, CREATE_N };
static const input_field create_table_input[CREATE_N] = {
    [CREATE_NAME] = {.name = "name",
                     .type = INPUT_STRING,
                     .required = true,
                     .min = 1,
                     .max = IDENT_MAX,
                     .check = ident_table_ok,
                     .pattern = "^[a-z][a-z0-9_]{0,47}$",
                     .allow_nul = true,
                     .description = "the table's name"},
    [CREATE_COLUMNS] = {.name = "columns",
                        .type = INPUT_ARRAY,
                        .required = true,
                        .min = 1,
                        .max = TABLE_COLUMNS_MAX,
                        .items = column_input,
                        .nitems = COUNT_OF(column_input),
                        .description = "the columns, names distinct"},
};

/* POST /sql/tables/{name}/columns: a column as at create, with its
 * default; or drop alone (the tool's other half). DELETE
 * .../columns/{column} drops one. */
enum { ADD_NAME, ADD_COL, ADD_TYPE, ADD_NULLABLE, ADD_UNIQUE, ADD_DEFAULT, ADD_DROP, ADD_N };
static bool column_reserved_ok(const char *s, const char *field, api_error *err) {
    return ident_column_ok(s, field, err);
}
static const input_field add_column_input[ADD_N] = {
    [ADD_NAME] = IN_TABLE_NAME(INPUT_PATH),
    [ADD_COL] = {.name = "column",
                 .type = INPUT_STRING,
                 .required = true,
                 .min = 1,
                 .max = IDENT_MAX,
                 .check = column_reserved_ok,
                 .pattern = "^[a-z][a-z0-9_]{0,47}$",
                 .description = "the new column's name (not id, created_at or a reserved query parameter)"},
    [ADD_TYPE] = {.name = "type", .type = INPUT_STRING, .required = true, .choices = col_type_names},
    [ADD_NULLABLE] = {.name = "nullable", .type = INPUT_BOOLEAN, .description = "default true"},
    [ADD_UNIQUE] = {.name = "unique", .type = INPUT_BOOLEAN, .description = "default false"},
    [ADD_DEFAULT] = {.name = "default",
                     .type = INPUT_ANY,
                     .description = "a value of the column's type: the rows there are get it, and so do "
                                    "rows inserted without the column"},
    [ADD_DROP] = {.name = "drop",
                  .type = INPUT_STRING,
                  .alone = true,
                  .min = 1,
                  .max = IDENT_MAX,
                  .check = column_name_ok,
                  .pattern = "^[a-z][a-z0-9_]{0,47}$",
                  .description = "instead: the column to drop, alone in the body (answered 200)"},
};
enum { DROPCOL_NAME, DROPCOL_COLUMN, DROPCOL_N };
static const input_field drop_column_input[DROPCOL_N] = {
    [DROPCOL_NAME] = IN_TABLE_NAME(INPUT_PATH),
    [DROPCOL_COLUMN] = {.name = "column",
                        .type = INPUT_STRING,
                        .in = INPUT_PATH,
                        .required = true,
                        .min = 1,
                        .max = IDENT_MAX,
                        .check = column_name_ok,
                        .pattern = "^[a-z][a-z0-9_]{0,47}$",
                        .description = "the column to drop"},
};

/* POST /sql/tables/{name}/rows: the body is the rows themselves, one
 * object or an array of up to ROWS_MAX (the tool's rows argument). */
enum { INSERT_NAME, INSERT_ON_CONFLICT, INSERT_ROWS, INSERT_N };
static const input_field insert_rows_input[INSERT_N] = {
    [INSERT_NAME] = IN_TABLE_NAME(INPUT_PATH),
    [INSERT_ON_CONFLICT] = {.name = "on_conflict",
                            .type = INPUT_STRING,
                            .in = INPUT_QUERY,
                            .min = 1,
                            .max = IDENT_MAX,
                            .pattern = "^[a-z][a-z0-9_]{0,47}$",
                            .check = column_name_ok,
                            .description = "a unique column: a row whose value it holds already is updated "
                                           "(upsert); each row answered with inserted"},
    [INSERT_ROWS] = {.name = "rows",
                     .type = INPUT_ANY,
                     .in = INPUT_WHOLE,
                     .kinds = INPUT_KIND_OBJECT | INPUT_KIND_ARRAY,
                     .max = ROWS_MAX,
                     .allow_nul = true,
                     .description = "one row (an object: column name to value) or an array of up to 1000, "
                                    "all inserted or none"},
};

/* GET /sql/tables/{name}/rows: the query language of docs/sql.md. The
 * reserved parameters are declared (the tool's arguments); the filters
 * are the query parameters no field names (the tool's where object),
 * read with them by sql/filter.h against the table's columns. */
enum { ROWS_NAME, ROWS_LIMIT, ROWS_AFTER, ROWS_ORDER, ROWS_SELECT, ROWS_COUNT, ROWS_WHERE, ROWS_N };
static const char *const count_choices[] = {"exact", NULL};
#define IN_FILTERS                                                                         \
    {                                                                                      \
        .name = "where", .type = INPUT_OBJECT, .in = INPUT_QUERY,                          \
        .description =                                                                     \
            "filters: column name to [not.]<op>.<value> (eq neq gt gte lt lte like ilike " \
            "in is), or a bare value for equality"                                         \
    }
static const input_field list_rows_input[ROWS_N] = {
    [ROWS_NAME] = IN_TABLE_NAME(INPUT_PATH),
    [ROWS_LIMIT] = INPUT_LIMIT,
    [ROWS_AFTER] = {.name = "after",
                    .type = INPUT_STRING,
                    .in = INPUT_QUERY,
                    .max = FILTER_CURSOR_MAX,
                    .description = "next, from the previous page (a row id for an ordering by id)"},
    [ROWS_ORDER] = {.name = "order",
                    .type = INPUT_STRING,
                    .in = INPUT_QUERY,
                    .max = FILTER_TEXT_MAX,
                    .description =
                        "asc or desc (by id), or <column>[.asc|.desc][.nullsfirst|.nullslast],..."},
    [ROWS_SELECT] = {.name = "select",
                     .type = INPUT_STRING,
                     .in = INPUT_QUERY,
                     .max = FILTER_TEXT_MAX,
                     .description = "the columns to answer, comma-separated (id always first), or *"},
    [ROWS_COUNT] = {.name = "count",
                    .type = INPUT_STRING,
                    .in = INPUT_QUERY,
                    .choices = count_choices,
                    .description = "exact: the answer holds count, the rows matching the filters"},
    [ROWS_WHERE] = IN_FILTERS,
};

/* PATCH and DELETE /sql/tables/{name}/rows?<filters>: the filters as the
 * list's, max_affected, and PATCH's body (the columns to set). */
enum { WRITE_NAME, WRITE_MAX, WRITE_WHERE, WRITE_BODY, WRITE_N };
#define IN_MAX_AFFECTED                                                                                \
    {                                                                                                  \
        .name = "max_affected", .type = INPUT_INTEGER, .in = INPUT_QUERY, .min = 0, .max = SQL_ID_MAX, \
        .dflt = -1, .description = "when more rows would change, none does (422)"                      \
    }
static const input_field update_rows_input[WRITE_N] = {
    [WRITE_NAME] = IN_TABLE_NAME(INPUT_PATH),
    [WRITE_MAX] = IN_MAX_AFFECTED,
    [WRITE_WHERE] = IN_FILTERS,
    [WRITE_BODY] = {.name = "set",
                    .type = INPUT_ANY,
                    .in = INPUT_WHOLE,
                    .kinds = INPUT_KIND_OBJECT,
                    .allow_nul = true,
                    .description = "the columns to set, name to value"},
};
static const input_field delete_rows_input[WRITE_N - 1] = {
    [WRITE_NAME] = IN_TABLE_NAME(INPUT_PATH),
    [WRITE_MAX] = IN_MAX_AFFECTED,
    [WRITE_WHERE] = IN_FILTERS,
};

/* GET and DELETE /sql/tables/{name}/rows/{id}; PATCH's body is the row's
 * columns to change. */
#define IN_ROW_ID                                                                           \
    {                                                                                       \
        .name = "id", .type = INPUT_INTEGER, .in = INPUT_PATH, .min = 1, .max = SQL_ID_MAX, \
        .description = "the row's id"                                                       \
    }
enum { ROW_NAME, ROW_ID, ROW_BODY, ROW_N };
static const input_field row_input[ROW_N - 1] = {
    [ROW_NAME] = IN_TABLE_NAME(INPUT_PATH), [ROW_ID] = IN_ROW_ID};
static const input_field patch_row_input[ROW_N] = {
    [ROW_NAME] = IN_TABLE_NAME(INPUT_PATH),
    [ROW_ID] = IN_ROW_ID,
    [ROW_BODY] = {.name = "row",
                  .type = INPUT_ANY,
                  .in = INPUT_WHOLE,
                  .kinds = INPUT_KIND_OBJECT,
                  .allow_nul = true,
                  .description = "the columns to change, name to value"},
};

/* ---- outputs (output.h) ---- */

static const output_field column_fields[] = {
    {.name = "name", .type = OUT_STRING, .example = "\"sha\""},
    {.name = "type", .type = OUT_STRING, .choices = col_type_names, .example = "\"text\""},
    {.name = "nullable", .type = OUT_BOOLEAN, .example = "false"},
    {.name = "unique", .type = OUT_BOOLEAN, .example = "true"}};
static const output_shape column_out = OUTPUT_SHAPE("SqlColumn", "A column of a table", column_fields);
static const output_field table_fields[] = {
    {.name = "name", .type = OUT_STRING, .example = "\"builds\""},
    {.name = "table", .type = OUT_STRING, .example = "\"sql_builds\"", .description = "its PostgreSQL name"},
    {.name = "columns", .type = OUT_ARRAY, .shape = &column_out},
    OUT_TIME("created_at", 0)};
static const output_shape table_out = OUTPUT_SHAPE("SqlTable", "A table's definition", table_fields);
static const output_field tables_fields[] = {OUTPUT_PAGE_FIELDS(table_out)};
static const output_shape tables_out = OUTPUT_SHAPE("SqlTablePage", NULL, tables_fields);

static const output_field dropped_fields[] = {{.name = "name", .type = OUT_STRING, .example = "\"builds\""},
                                              {.name = "dropped", .type = OUT_BOOLEAN, .example = "true"}};
static const output_shape dropped_out = OUTPUT_SHAPE("SqlTableDropped", "A table dropped", dropped_fields);

/* A row: its columns besides these (each table's row is sql_row_<name> in
 * /openapi.json with a token). */
static const output_field row_fields[] = {
    {.name = "id", .type = OUT_INTEGER, .example = "1"},
    OUT_TIME("created_at", 0),
    {.name = "inserted",
     .type = OUT_BOOLEAN,
     .flags = OUT_OPTIONAL,
     .example = "true",
     .description = "an upsert's row (on_conflict): true when inserted, false when updated"}};
static const output_shape row_out = {.name = "SqlRow",
                                     .description = "A row: id, created_at and the table's columns",
                                     .fields = row_fields,
                                     .nfields = COUNT_OF(row_fields),
                                     .open = true};
static const output_field rows_fields[] = {{.name = "items", .type = OUT_ARRAY, .shape = &row_out}};
static const output_shape rows_out = OUTPUT_SHAPE("SqlRows", "The rows written, in order", rows_fields);
static const output_field rows_changed_fields[] = {
    {.name = "items",
     .type = OUT_ARRAY,
     .shape = &row_out,
     .description = "the rows changed, by id, at most 1000"},
    {.name = "count", .type = OUT_INTEGER, .example = "3", .description = "every row changed"}};
static const output_shape rows_changed_out =
    OUTPUT_SHAPE("SqlRowsChanged", "The rows a write by filter changed", rows_changed_fields);
/* A row of a list: with ?select= only some columns, id always. */
static const output_field row_part_fields[] = {{.name = "id", .type = OUT_INTEGER, .example = "1"},
                                               OUT_TIME("created_at", OUT_OPTIONAL)};
static const output_shape row_part_out = {.name = "SqlRowSelected",
                                          .description =
                                              "A row: id, and the columns ?select= names (every "
                                              "column and created_at without it)",
                                          .fields = row_part_fields,
                                          .nfields = COUNT_OF(row_part_fields),
                                          .open = true};
static const output_field row_page_fields[] = {
    OUTPUT_PAGE_FIELDS(row_part_out),
    {.name = "count",
     .type = OUT_INTEGER,
     .flags = OUT_OPTIONAL,
     .example = "7",
     .description = "with ?count=exact: the rows matching the filters"}};
static const output_shape row_page_out = OUTPUT_SHAPE("SqlRowPage", NULL, row_page_fields);

/* ---- handlers: tables ---- */

static bool sql_create(request *req, const input_value *in, reply *out, api_error *err) {
    (void)in;
    /* The validated body becomes the table's definition; the column
     * names' uniqueness is the one rule the declaration cannot say. */
    table_spec spec;
    if (!table_spec_parse(req->json, &spec, err)) return false;
    char *ddl = table_spec_ddl(req->pool, &spec);
    if (ddl == NULL) return API_INTERNAL(err, "cannot build the table's DDL");
    strbuf *cols = strbuf_new();
    table_spec_columns_json(&spec, cols);
    const char *params[] = {spec.name, pool_strdup(req->pool, cols->data)};
    strbuf_free(cols);
    PGresult *res = NULL;
    bool ok = db_command("BEGIN", err) && (res = db_query(req->pool, &sql_register, params, err)) != NULL &&
              db_command(ddl, err) && db_command("COMMIT", err);
    if (!ok) {
        const char *st = err->sqlstate;
        /* The registry's key (a concurrent create waited for the other to
         * commit), or a table of that name made out of band. */
        bool taken = strcmp(st, "23505") == 0 || strcmp(st, "42P07") == 0;
        db_rollback();
        if (taken) return API_CONFLICT(err, "name", "table %s exists already", spec.name);
        return false;
    }
    out->status = 201;
    strbuf_puts(out->body, PQgetvalue(res, 0, 0));
    return true;
}

static bool sql_list_tables(request *req, const input_value *in, reply *out, api_error *err) {
    const char *after = in[TABLES_AFTER].s;
    long long limit = in[TABLES_LIMIT].i;
    char fetch[24];
    snprintf(fetch, sizeof fetch, "%lld", limit + 1);
    const char *exact = NULL, *prefixes = NULL;
    auth_read_filter(&req->who, req->mode->name, req->pool, &exact, &prefixes);
    const char *params[] = {after ? after : "", fetch, exact, prefixes};
    PGresult *res = db_query(req->pool, &sql_table_list, params, err);
    if (res == NULL) return false;
    reply_page(out, res, limit);
    return true;
}

static bool sql_get_table(request *req, const input_value *in, reply *out, api_error *err) {
    const char *name = in[TABLE_NAME].s;
    const char *params[] = {name};
    PGresult *res = db_query(req->pool, &sql_table_get, params, err);
    if (res == NULL) return false;
    if (PQntuples(res) == 0) return API_NOT_FOUND(err, "name", "table %s does not exist", name);
    strbuf_puts(out->body, PQgetvalue(res, 0, 0));
    return true;
}

/* The registry's row first (a concurrent drop of the name waits for it,
 * then finds none: 404), then the table, in one transaction. */
static const db_stmt sql_unregister = {"sql_unregister",
                                       "DELETE FROM sql__tables WHERE name = $1 RETURNING name", 1};

static bool sql_drop_table(request *req, const input_value *in, reply *out, api_error *err) {
    const char *name = in[DROP_NAME].s, *confirm = in[DROP_CONFIRM].s;
    /* confirm is compared once the transaction has begun: a rule between
     * two fields that the declaration cannot state, checked before
     * anything is looked up (and after the database answers, as the
     * declared inputs' edge test expects of a handler's own rules). */
    if (!db_command("BEGIN", err)) return false;
    if (confirm == NULL || strcmp(confirm, name) != 0) {
        db_rollback();
        return API_INVALID(err, "confirm", "confirm=%s is required to drop table %s (nothing was dropped)",
                           name, name);
    }
    char ddl[128];
    snprintf(ddl, sizeof ddl, "DROP TABLE IF EXISTS %s", ident_quote_affixed(req->pool, "sql_", name, ""));
    const char *params[] = {name};
    PGresult *res = NULL;
    bool ok = (res = db_query(req->pool, &sql_unregister, params, err)) != NULL;
    if (ok && PQntuples(res) == 0) {
        db_rollback();
        return API_NOT_FOUND(err, "name", "table %s does not exist", name);
    }
    if (!ok || !db_command(ddl, err) || !db_command("COMMIT", err)) {
        db_rollback();
        return false;
    }
    sql_table_forget(name);
    strbuf_puts(out->body, "{\"name\":");
    strbuf_json_string(out->body, name, strlen(name));
    strbuf_puts(out->body, ",\"dropped\":true}");
    return true;
}

static bool sql_add_column(request *req, const input_value *in, reply *out, api_error *err) {
    if (in[ADD_DROP].present) return sql_column_drop(req, in[ADD_NAME].s, in[ADD_DROP].s, out, err);
    table_column c = {.name = in[ADD_COL].s,
                      .nullable = !in[ADD_NULLABLE].present || in[ADD_NULLABLE].i,
                      .unique = in[ADD_UNIQUE].present && in[ADD_UNIQUE].i};
    if (!col_type_parse(in[ADD_TYPE].s, &c.type)) return API_INVALID(err, "type", "unknown type");
    return sql_column_add(req, in[ADD_NAME].s, &c, in[ADD_DEFAULT].json, out, err);
}

static bool sql_drop_column(request *req, const input_value *in, reply *out, api_error *err) {
    return sql_column_drop(req, in[DROPCOL_NAME].s, in[DROPCOL_COLUMN].s, out, err);
}

/* ---- handlers: rows ---- */

/* A write of rows failed: the database's refusal blamed on the column it
 * concerns (a value, a unique one taken, a limit). */
static bool blame(request *req, const sql_table *t, api_error *err) {
    sql_blame_rows(req, &t->spec, err);
    sql_blame_unique(&t->spec, err);
    sql_blame_limits(err);
    return false;
}

/* ?on_conflict's column of t: a unique one, and the table has no column
 * called inserted (which the upsert's answer would shadow). Returns it, or
 * NULL with a 422 naming on_conflict. */
static const table_column *upsert_key(const sql_table *t, const char *name, api_error *err) {
    const table_column *c = sql_column_find(&t->spec, name);
    if (c == NULL || !c->unique)
        return API_INVALID(err, "on_conflict", "on_conflict: %s is not a unique column of table %s", name,
                           t->spec.name),
               NULL;
    if (sql_column_find(&t->spec, "inserted") != NULL)
        return API_INVALID(
                   err, "on_conflict",
                   "on_conflict: table %s has a column called inserted, which an upsert's answer uses",
                   t->spec.name),
               NULL;
    return c;
}

/* The upsert's statement on key, run once. Returns its result or NULL
 * with err set (a row updated twice by one body is a 422). */
static PGresult *upsert(request *req, const sql_table *t, const table_column *key, json_t *rows,
                        api_error *err) {
    char *sql = sql_build_upsert(t, key, rows);
    const char *params[] = {req->body};
    PGresult *res = db_query_once(req->pool, sql, 1, params, err);
    free(sql);
    if (res == NULL && strcmp(err->sqlstate, "21000") == 0)
        API_INVALID(err, "on_conflict", "on_conflict: two rows of the body hold the same %s", key->name);
    return res;
}

static bool insert_rows(request *req, const input_value *in, reply *out, sql_table *t, api_error *err) {
    json_t *rows = in[INSERT_ROWS].json;
    if (json_is_array(rows)) {
        for (size_t i = 0; i < json_array_size(rows); i++)
            if (!sql_row_ok(&t->spec, json_array_get(rows, i), (long)i, true, err)) return false;
    } else if (!sql_row_ok(&t->spec, rows, 0, true, err)) {
        return false;
    }
    const table_column *key = NULL;
    if (in[INSERT_ON_CONFLICT].present && (key = upsert_key(t, in[INSERT_ON_CONFLICT].s, err)) == NULL)
        return false;
    const char *params[] = {req->body};
    PGresult *res = key ? upsert(req, t, key, rows, err) : sql_run(req, t, ST_INSERT, params, err);
    if (res == NULL) return blame(req, t, err);
    out->status = 201;
    reply_items(out, res);
    return true;
}

static bool sql_insert(request *req, const input_value *in, reply *out, api_error *err) {
    return sql_with_table(req, in, out, err, insert_rows);
}

static bool one_row(reply *out, PGresult *res, const sql_table *t, const char *id, api_error *err) {
    if (PQntuples(res) == 0) return API_NOT_FOUND(err, "id", "table %s has no row %s", t->spec.name, id);
    strbuf_puts(out->body, PQgetvalue(res, 0, 0));
    return true;
}

static bool get_row(request *req, const input_value *in, reply *out, sql_table *t, api_error *err) {
    const char *params[] = {in[ROW_ID].s};
    PGresult *res = sql_run(req, t, ST_GET, params, err);
    return res != NULL && one_row(out, res, t, in[ROW_ID].s, err);
}

static bool sql_get_row(request *req, const input_value *in, reply *out, api_error *err) {
    return sql_with_table(req, in, out, err, get_row);
}

static bool patch_row(request *req, const input_value *in, reply *out, sql_table *t, api_error *err) {
    if (!sql_row_ok(&t->spec, in[ROW_BODY].json, -1, false, err)) return false;
    const char *params[] = {in[ROW_ID].s, req->body};
    PGresult *res = sql_run(req, t, ST_PATCH, params, err);
    if (res == NULL) return blame(req, t, err);
    return one_row(out, res, t, in[ROW_ID].s, err);
}

static bool sql_patch_row(request *req, const input_value *in, reply *out, api_error *err) {
    return sql_with_table(req, in, out, err, patch_row);
}

static bool delete_row(request *req, const input_value *in, reply *out, sql_table *t, api_error *err) {
    const char *params[] = {in[ROW_ID].s};
    PGresult *res = sql_run(req, t, ST_DELETE, params, err);
    return res != NULL && one_row(out, res, t, in[ROW_ID].s, err);
}

static bool sql_delete_row(request *req, const input_value *in, reply *out, api_error *err) {
    return sql_with_table(req, in, out, err, delete_row);
}

/* The plain page (no filter, ordered by id, every column, no count):
 * the table's prepared list statement. */
static bool plain_page(request *req, const filter_query *q, long long limit, reply *out, sql_table *t,
                       api_error *err) {
    bool desc = q->keys[0].desc;
    char after_text[24], fetch[24];
    snprintf(after_text, sizeof after_text, "%lld", desc ? SQL_ID_MAX : 0);
    snprintf(fetch, sizeof fetch, "%lld", limit + 1);
    const char **params = pool_alloc(req->pool, sizeof(char *) * (t->spec.ncols + 2));
    memset(params, 0, sizeof(char *) * (t->spec.ncols + 2));
    params[0] = q->has_after ? q->after[0] : after_text;
    params[1] = fetch;
    PGresult *res = sql_run(req, t, desc ? ST_LIST_DESC : ST_LIST_ASC, params, err);
    if (res == NULL) return false;
    reply_page(out, res, limit);
    return true;
}

/* True when q selects every column in the table's own order. */
static bool select_all(const filter_query *q) {
    if (q->ncols != q->spec->ncols + 1) return false;
    for (size_t i = 0; i < q->spec->ncols; i++)
        if (q->cols[i] != &q->spec->cols[i]) return false;
    return true;
}

static bool list_rows(request *req, const input_value *in, reply *out, sql_table *t, api_error *err) {
    filter_query q;
    if (!sql_query_parse(req, t, list_rows_input, in, ROWS_N, ROWS_WHERE, FILTER_ALLOW_LIST, &q, err))
        return false;
    long long limit = in[ROWS_LIMIT].i;
    if (q.nconds == 0 && q.id_order && !q.count && select_all(&q))
        return plain_page(req, &q, limit, out, t, err);
    return sql_query_list(req, &q, limit, out, err);
}

static bool sql_list_rows(request *req, const input_value *in, reply *out, api_error *err) {
    return sql_with_table(req, in, out, err, list_rows);
}

static bool update_rows(request *req, const input_value *in, reply *out, sql_table *t, api_error *err) {
    filter_query q;
    json_t *set = in[WRITE_BODY].json;
    if (!sql_query_parse(req, t, update_rows_input, in, WRITE_N, WRITE_WHERE,
                         FILTER_ALLOW_FILTERS | FILTER_ALLOW_MAX_AFFECTED, &q, err))
        return false;
    if (!json_is_object(set))
        return API_INVALID(err, "set", "the body must be an object: the columns to set");
    if (!sql_row_ok(&t->spec, set, -1, false, err)) return false;
    if (json_object_size(set) == 0) return API_INVALID(err, "set", "the body names no column to set");
    return sql_query_write(req, &q, set, in[WRITE_MAX].i, out, err);
}

static bool sql_update_rows(request *req, const input_value *in, reply *out, api_error *err) {
    return sql_with_table(req, in, out, err, update_rows);
}

static bool delete_rows(request *req, const input_value *in, reply *out, sql_table *t, api_error *err) {
    filter_query q;
    if (!sql_query_parse(req, t, delete_rows_input, in, WRITE_N - 1, WRITE_WHERE,
                         FILTER_ALLOW_FILTERS | FILTER_ALLOW_MAX_AFFECTED, &q, err))
        return false;
    return sql_query_write(req, &q, NULL, in[WRITE_MAX].i, out, err);
}

static bool sql_delete_rows(request *req, const input_value *in, reply *out, api_error *err) {
    return sql_with_table(req, in, out, err, delete_rows);
}

static const db_stmt *const sql_statements[] = {
    &sql_register,
    &sql_unregister,
    &sql_table_get,
    &sql_table_list,
#define CHECKS_(e, name, sql, pre, arrow, post, row_check, filter_check) &sql_row_checks[COL_##e],
    COL_TYPES(CHECKS_)
#undef CHECKS_
        NULL,
};

/* `--sql sql_rows_<kind> DEF`: a table's built statements, for make bench. */
static bool sql_print_built(const char *name, const char *def_json) {
    static const struct {
        const char *name;
        int which;
    } kinds[] = {
        {"sql_rows_insert", ST_INSERT}, {"sql_rows_get", ST_GET},       {"sql_rows_patch", ST_PATCH},
        {"sql_rows_delete", ST_DELETE}, {"sql_rows_list", ST_LIST_ASC}, {"sql_rows_list_desc", ST_LIST_DESC},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].name, name) == 0) return sql_print_statement(def_json, kinds[i].which);
    return false;
}

/* ---- routes ---- */

static const route sql_routes[] = {
    {"POST", "/sql/tables", sql_create, .summary = "Create a table",
     .description = "Creates a typed table sql_<name>: columns [{name, type, nullable, unique}], types "
                    "text, integer, bigint, double, numeric, boolean, timestamptz, date, jsonb, uuid. Every "
                    "table also has id (identity) and created_at. 409 when the name is taken.",
     .input = create_table_input, .ninput = CREATE_N, .output = &table_out, .errors = API_BIT(CONFLICT),
     .created = true, .tool = TOOL("sql_create_table", TOOL_IDEMPOTENT)},
    {"GET", "/sql/tables", sql_list_tables, .summary = "List tables",
     .description = "The typed tables' definitions, ordered by name, paginated.", .input = list_tables_input,
     .ninput = TABLES_N, .output = &tables_out,
     .tool = TOOL("sql_list_tables", TOOL_READ_ONLY | TOOL_IDEMPOTENT)},
    {"GET", "/sql/tables/{name}", sql_get_table, .summary = "Read a table's definition",
     .description = "One table's definition: its columns and when it was created.", .input = get_table_input,
     .ninput = TABLE_N, .output = &table_out},
    {"DELETE", "/sql/tables/{name}", sql_drop_table, .summary = "Drop a table",
     .description = "Drops the table and its rows, and its definition from the registry, in one "
                    "transaction; confirm must repeat the table's name (else 422, nothing dropped).",
     .input = drop_table_input, .ninput = DROP_N, .output = &dropped_out,
     .tool = TOOL("sql_drop_table", TOOL_DESTRUCTIVE | TOOL_IDEMPOTENT)},
    {"POST", "/sql/tables/{name}/columns", sql_add_column, .summary = "Add or drop a column",
     .description = "Adds a column (column, type, nullable, unique as at create, and an optional default "
                    "of its type, which the rows there are get) and answers the table (201); or, with "
                    "drop alone in the body, drops that column (200). One transaction, recorded in the "
                    "registry: every worker and /openapi.json see it at once.",
     .input = add_column_input, .ninput = ADD_N, .output = &table_out, .errors = API_BIT(CONFLICT),
     .created = true, .also = ROUTE_OR_OK, .tool = TOOL("sql_alter_table", TOOL_DESTRUCTIVE)},
    {"DELETE", "/sql/tables/{name}/columns/{column}", sql_drop_column, .summary = "Drop a column",
     .description = "Drops the column and its values, and answers the table. The last column cannot be "
                    "dropped (422: drop the table).",
     .input = drop_column_input, .ninput = DROPCOL_N, .output = &table_out},
    {"POST", "/sql/tables/{name}/rows", sql_insert, .summary = "Insert rows",
     .description = "Inserts one row (an object) or up to 1000 (an array), all or none; each answered with "
                    "its id and created_at. A value of the wrong type, an unknown column or a missing "
                    "non-nullable one is 422 naming it; a unique value taken is 409. With "
                    "on_conflict=<unique column>, a row whose value is taken updates that row instead "
                    "(upsert), and each row answered says inserted: true or false.",
     .input = insert_rows_input, .ninput = INSERT_N, .output = &rows_out, .errors = API_BIT(CONFLICT),
     .created = true, .tool = TOOL("sql_insert_rows", 0)},
    {"GET", "/sql/tables/{name}/rows", sql_list_rows, .summary = "Select rows",
     .description = "Rows matching the filters (any query parameter naming a column: ?col=[not.]<op>.<value> "
                    "with eq, neq, gt, gte, lt, lte, like, ilike (* the wildcard), in.(a,b), is.null, "
                    "is.true, is.false; a bare value is equality), ordered by id or by ?order=<column>"
                    "[.asc|.desc][.nullsfirst|.nullslast],... (order=desc: id descending), a page at a "
                    "time (limit; after=next continues the same ordering and filters exactly), with "
                    "select=col,... and count=exact.",
     .input = list_rows_input, .ninput = ROWS_N, .output = &row_page_out,
     .tool = TOOL("sql_select_rows", TOOL_READ_ONLY | TOOL_IDEMPOTENT)},
    {"PATCH", "/sql/tables/{name}/rows", sql_update_rows, .summary = "Update rows by filter",
     .description = "Sets the columns the body names on every row matching the filters (the list's: "
                    "?col=[not.]<op>.<value>, at least one) and answers the rows changed (at most 1000, by "
                    "id) and their count. With max_affected=N, a write that would change more than N rows "
                    "changes none (422).",
     .input = update_rows_input, .ninput = WRITE_N, .output = &rows_changed_out, .errors = API_BIT(CONFLICT),
     .tool = TOOL("sql_update_rows", TOOL_DESTRUCTIVE | TOOL_IDEMPOTENT)},
    {"DELETE", "/sql/tables/{name}/rows", sql_delete_rows, .summary = "Delete rows by filter",
     .description = "Deletes every row matching the filters (at least one) and answers the rows deleted "
                    "(at most 1000, by id) and their count. With max_affected=N, a delete that would remove "
                    "more than N rows removes none (422).",
     .input = delete_rows_input, .ninput = WRITE_N - 1, .output = &rows_changed_out,
     .tool = TOOL("sql_delete_rows", TOOL_DESTRUCTIVE | TOOL_IDEMPOTENT)},
    {"GET", "/sql/tables/{name}/rows/{id}", sql_get_row, .summary = "Read a row",
     .description = "One row by id.", .input = row_input, .ninput = ROW_N - 1, .output = &row_out},
    {"PATCH", "/sql/tables/{name}/rows/{id}", sql_patch_row, .summary = "Update a row",
     .description = "Sets the columns the body names (a partial object) and answers the row.",
     .input = patch_row_input, .ninput = ROW_N, .output = &row_out, .errors = API_BIT(CONFLICT)},
    {"DELETE", "/sql/tables/{name}/rows/{id}", sql_delete_row, .summary = "Delete a row",
     .description = "Deletes one row by id and answers it.", .input = row_input, .ninput = ROW_N - 1,
     .output = &row_out},
};

const mode mode_sql = {
    .name = "sql",
    .url_prefix = "/sql",
    .processes = 2,
    /* Four workers a process: an insert waits mostly for its commit's WAL
     * flush, and PostgreSQL flushes the commits that wait together at
     * once, so the mode needs as many inserts in flight as the clients
     * send (one worker a process, before: 3,000 inserts a second at 8
     * clients; four: 3,600 to 3,900). Each worker's table cache is its
     * own (sql/table.c). */
    .threads = 4,
    .migrations = sql_migrations,
    .describe = &sql_described,
    .sentinel = &table_out,
    .sentinel_note = "Typed tables on demand: each a real PostgreSQL table, rows as JSON.",
    .routes = sql_routes,
    .nroutes = sizeof sql_routes / sizeof sql_routes[0],
    .statements = sql_statements,
    .print_built_sql = sql_print_built,
    .topic = "typed tables",
};
