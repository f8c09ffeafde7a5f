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
#include "sql/ident.h"
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

/* The schema's steps (mode.h): step 1 is release 0.1.0's whole schema. */
static const char *const sql_migrations[] = {sql_schema, NULL};

/* /openapi.json with the token (mode.h, mode_describe): each table's row
 * as a JSON Schema, from the registry rows, keyed by the table's name: id,
 * the columns in order, created_at, all present in every row (null for a
 * null value). A column's JSON type is what a row answers (docs/sql.md):
 * numeric as a string (its digits kept), jsonb any value; a nullable
 * column also null. */
static const char sql_describe[] =
    "SELECT coalesce(json_object_agg(t.name, json_build_object('title', 'A row of table ' || t.name,"
    " 'type', 'object', 'required', r.names, 'properties', r.props, 'additionalProperties', false)"
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
    "SELECT " SQL_TABLE_JSON ", name FROM sql__tables WHERE name > $1"
    /* a scoped token sees the tables its scopes name (auth_read_filter) */
    " AND ($3::text[] IS NULL OR name = ANY($3::text[])"
    " OR EXISTS (SELECT 1 FROM unnest($4::text[]) AS p(x) WHERE starts_with(name, p.x)))"
    " ORDER BY name LIMIT $2::int",
    4};

/* A filter value checked against its column's type, one per type
 * (used for the types whose filter_check is set, tablespec.h). */
static const db_stmt filter_checks[COL_TYPE_COUNT] = {
#define FILTER_CHECK_(e, name, sql, pre, arrow, post, row_check, filter_check) \
    [COL_##e] = {"sql_filter_check_" name, "SELECT $1::" sql, 1},
    COL_TYPES(FILTER_CHECK_)
#undef FILTER_CHECK_
};

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

/* POST /sql/tables/{name}/rows: the body is the rows themselves, one
 * object or an array of up to ROWS_MAX (the tool's rows argument). */
enum { INSERT_NAME, INSERT_ROWS, INSERT_N };
static const input_field insert_rows_input[INSERT_N] = {
    [INSERT_NAME] = IN_TABLE_NAME(INPUT_PATH),
    [INSERT_ROWS] = {.name = "rows",
                     .type = INPUT_ANY,
                     .in = INPUT_WHOLE,
                     .kinds = INPUT_KIND_OBJECT | INPUT_KIND_ARRAY,
                     .max = ROWS_MAX,
                     .allow_nul = true,
                     .description = "one row (an object: column name to value) or an array of up to 1000, "
                                    "all inserted or none"},
};

/* GET /sql/tables/{name}/rows: the equality filters are query parameters
 * named by the table's columns (the tool's where object). */
enum { ROWS_NAME, ROWS_LIMIT, ROWS_AFTER, ROWS_ORDER, ROWS_WHERE, ROWS_N };
static const char *const order_choices[] = {"asc", "desc", NULL};
static const input_field list_rows_input[ROWS_N] = {
    [ROWS_NAME] = IN_TABLE_NAME(INPUT_PATH),
    [ROWS_LIMIT] = INPUT_LIMIT,
    [ROWS_AFTER] = {.name = "after",
                    .type = INPUT_INTEGER,
                    .in = INPUT_QUERY,
                    .min = 0,
                    .max = SQL_ID_MAX,
                    .dflt = -1,
                    .description = "next, from the previous page"},
    [ROWS_ORDER] = {.name = "order",
                    .type = INPUT_STRING,
                    .in = INPUT_QUERY,
                    .choices = order_choices,
                    .description = "by id, asc (default) or desc"},
    [ROWS_WHERE] = {.name = "where",
                    .type = INPUT_OBJECT,
                    .in = INPUT_QUERY,
                    .description = "equality filters: column name to value"},
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

/* A row: its columns besides these (each table's row is sql_row_<name> in
 * /openapi.json with a token). */
static const output_field row_fields[] = {{.name = "id", .type = OUT_INTEGER, .example = "1"},
                                          OUT_TIME("created_at", 0)};
static const output_shape row_out = {.name = "SqlRow",
                                     .description = "A row: id, created_at and the table's columns",
                                     .fields = row_fields,
                                     .nfields = COUNT_OF(row_fields),
                                     .open = true};
static const output_field rows_fields[] = {{.name = "items", .type = OUT_ARRAY, .shape = &row_out}};
static const output_shape rows_out = OUTPUT_SHAPE("SqlRows", "The rows written, in order", rows_fields);
static const output_field row_page_fields[] = {OUTPUT_PAGE_FIELDS(row_out)};
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

/* ---- handlers: rows ---- */

/* A write of rows failed: the database's refusal blamed on the column it
 * concerns (a value, a unique one taken, a limit). */
static bool blame(request *req, const sql_table *t, api_error *err) {
    sql_blame_rows(req, &t->spec, err);
    sql_blame_unique(&t->spec, err);
    sql_blame_limits(err);
    return false;
}

static bool insert_rows(request *req, const input_value *in, reply *out, sql_table *t, api_error *err) {
    json_t *rows = in[INSERT_ROWS].json;
    if (json_is_array(rows)) {
        for (size_t i = 0; i < json_array_size(rows); i++)
            if (!sql_row_ok(&t->spec, json_array_get(rows, i), (long)i, true, err)) return false;
    } else if (!sql_row_ok(&t->spec, rows, 0, true, err)) {
        return false;
    }
    const char *params[] = {req->body};
    PGresult *res = sql_run(req, t, ST_INSERT, params, err);
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

/* The equality filters (the query parameters no other field names), one
 * per column, into params[2 + column]: an unknown column is a 422. */
static bool equality_filters(const input_value *where, const table_spec *s, const char **params,
                             api_error *err) {
    for (size_t i = 0; i < where->nopen; i++) {
        const char *q = where->open[i].name;
        const table_column *c = sql_column_find(s, q);
        if (c == NULL)
            return API_INVALID(err, q, "unknown query parameter %.64s (not a column of table %s)", q,
                               s->name);
        size_t k = (size_t)(c - s->cols);
        if (params[k + 2] != NULL) return API_INVALID(err, q, "%.64s is given more than once", q);
        params[k + 2] = where->open[i].value;
    }
    return true;
}

/* A list's filter refused by PostgreSQL (a value not of its column's
 * type): the column, asked alone, is blamed. */
static bool blame_filter(request *req, const table_spec *s, const char **params, api_error *err) {
    if (err->status != 422 || strncmp(err->sqlstate, "22", 2) != 0) return false;
    for (size_t i = 0; i < s->ncols; i++) {
        const db_stmt *check = &filter_checks[s->cols[i].type];
        api_error e;
        const char *p1[] = {params[i + 2]};
        if (!col_types[s->cols[i].type].filter_check || params[i + 2] == NULL) continue;
        if (db_query(req->pool, check, p1, &e) == NULL && e.status == 422)
            return api_fail(err, API_E_VALIDATION_FAILED, s->cols[i].name, "filter %s: %s", s->cols[i].name,
                            e.detail);
    }
    return false;
}

static bool list_rows(request *req, const input_value *in, reply *out, sql_table *t, api_error *err) {
    const table_spec *s = &t->spec;
    bool desc = in[ROWS_ORDER].s != NULL && strcmp(in[ROWS_ORDER].s, "desc") == 0;
    long long limit = in[ROWS_LIMIT].i;
    char after_text[24], fetch[24];
    snprintf(after_text, sizeof after_text, "%lld",
             in[ROWS_AFTER].present ? in[ROWS_AFTER].i
             : desc                 ? SQL_ID_MAX
                                    : 0);
    snprintf(fetch, sizeof fetch, "%lld", limit + 1);
    const char **params = pool_alloc(req->pool, sizeof(char *) * (s->ncols + 2));
    memset(params, 0, sizeof(char *) * (s->ncols + 2));
    params[0] = after_text;
    params[1] = fetch;
    if (!equality_filters(&in[ROWS_WHERE], s, params, err)) return false;
    PGresult *res = sql_run(req, t, desc ? ST_LIST_DESC : ST_LIST_ASC, params, err);
    if (res == NULL) return blame_filter(req, s, params, err);
    reply_page(out, res, limit);
    return true;
}

static bool sql_list_rows(request *req, const input_value *in, reply *out, api_error *err) {
    return sql_with_table(req, in, out, err, list_rows);
}

static const db_stmt *const sql_statements[] = {
    &sql_register,
    &sql_table_get,
    &sql_table_list,
#define CHECKS_(e, name, sql, pre, arrow, post, row_check, filter_check) \
    &sql_row_checks[COL_##e], &filter_checks[COL_##e],
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
    {"POST", "/sql/tables/{name}/rows", sql_insert, .summary = "Insert rows",
     .description = "Inserts one row (an object) or up to 1000 (an array), all or none; each answered with "
                    "its id and created_at. A value of the wrong type, an unknown column or a missing "
                    "non-nullable one is 422 naming it; a unique value taken is 409.",
     .input = insert_rows_input, .ninput = INSERT_N, .output = &rows_out, .errors = API_BIT(CONFLICT),
     .created = true, .tool = TOOL("sql_insert_rows", 0)},
    {"GET", "/sql/tables/{name}/rows", sql_list_rows, .summary = "Select rows",
     .description = "Rows ordered by id (paginated: after, limit), descending with order=desc, and "
                    "equality filters: any other query parameter names a column and the value it must "
                    "have.",
     .input = list_rows_input, .ninput = ROWS_N, .output = &row_page_out,
     .tool = TOOL("sql_select_rows", TOOL_READ_ONLY | TOOL_IDEMPOTENT)},
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
