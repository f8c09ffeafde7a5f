/*
 * sql: typed tables on demand (contract.md section 5, docs/sql.md).
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

/* /openapi.json with the token (mode.h, describe_sql): each table's row
 * as a JSON Schema, "sql_row_<name>", from the registry rows. A column's
 * JSON type follows its API type (tablespec.h's COL_TYPES; jsonb takes any
 * value); a nullable column also takes null. */
static const char sql_describe[] =
    "SELECT coalesce(jsonb_object_agg('sql_row_' || t.name, jsonb_build_object("
    " 'title', 'A row of table ' || t.name, 'type', 'object', 'required', jsonb_build_array('id', "
    "'created_at'),"
    " 'properties', jsonb_build_object('id', jsonb_build_object('type', 'integer'),"
    " 'created_at', jsonb_build_object('type', 'string', 'format', 'date-time'))"
    " || coalesce((SELECT jsonb_object_agg(c->>'name', CASE WHEN m.js IS NULL THEN '{}'::jsonb"
    " ELSE jsonb_build_object('type', CASE WHEN (c->>'nullable')::boolean THEN jsonb_build_array(m.js, "
    "'null')"
    " ELSE to_jsonb(m.js) END) || m.extra END)"
    " FROM jsonb_array_elements(t.columns) c LEFT JOIN (VALUES ('text', 'string', '{}'::jsonb),"
    " ('integer', 'integer', '{}'), ('bigint', 'integer', '{}'), ('double', 'number', '{}'),"
    " ('numeric', 'number', '{}'), ('boolean', 'boolean', '{}'),"
    " ('timestamptz', 'string', '{\"format\": \"date-time\"}'), ('date', 'string', '{\"format\": \"date\"}'),"
    " ('uuid', 'string', '{\"format\": \"uuid\"}')) m(name, js, extra) ON m.name = c->>'type'), '{}'))),"
    " '{}')::text FROM sql__tables t";

/* ---- static statements ---- */

static const db_stmt sql_register = {
    "sql_register",
    "INSERT INTO sql__tables (name, table_name, columns) VALUES ($1, 'sql_' || $1, $2::jsonb)"
    " RETURNING " SQL_TABLE_JSON,
    2};

static const db_stmt sql_table_list = {
    "sql_table_list",
    "SELECT " SQL_TABLE_JSON ", name FROM sql__tables WHERE name > $1 ORDER BY name LIMIT $2::int", 2};

/* A filter value checked against its column's type, one per type
 * (used for the types whose filter_check is set, tablespec.h). */
static const db_stmt filter_checks[COL_TYPE_COUNT] = {
#define FILTER_CHECK_(e, name, sql, pre, arrow, post, row_check, filter_check) \
    [COL_##e] = {"sql_filter_check_" name, "SELECT $1::" sql, 1},
    COL_TYPES(FILTER_CHECK_)
#undef FILTER_CHECK_
};

/* ---- handlers: tables ---- */

static bool sql_create(request *req, reply *out, api_error *err) {
    json_t *body = sql_body_json(req, err);
    table_spec spec;
    if (body == NULL || !table_spec_parse(body, &spec, err)) return false;
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

/* ?after= of the table list: "" or a table name, as next gives it. */
static bool table_after_ok(const char *s, const char *field, api_error *err) {
    if (s[0] == '\0' || ident_valid(s)) return true;
    return API_INVALID(err, field, "%s must be a table name from next", field);
}

/* The inputs of the sql routes, declared once (input.h). A declaration
 * says only what is checked before the route reads the database: the row
 * routes read their table first (an unknown table is 404 before any field
 * is 422), then check their query, id and row values against its columns,
 * so those fields are declared late (for the schema; their handlers check
 * them as before). */
#define IN_TABLE_NAME(PLACE)                                                                             \
    {                                                                                                    \
        .name = "name", .type = INPUT_STRING, .in = PLACE, .required = true, .min = 1, .max = IDENT_MAX, \
        .check = ident_table_ok, .pattern = "^[a-z][a-z0-9_]{0,47}$"                                     \
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

/* POST /sql/tables: the envelope. Each column's own members (and the
 * column names' uniqueness) are table_spec_parse's, which reads the whole
 * body with today's messages; the declaration says the same rules. */
static const char *const col_type_names[] = {
#define COL_TYPE_NAME_(e, name, sql, pre, arrow, post, row_check, filter_check) name,
    COL_TYPES(COL_TYPE_NAME_)
#undef COL_TYPE_NAME_
        NULL,
};
enum { COLUMN_NAME, COLUMN_TYPE, COLUMN_N };
static const input_field column_input[COLUMN_N] = {
    [COLUMN_NAME] = {.name = "name",
                     .type = INPUT_STRING,
                     .required = true,
                     .min = 1,
                     .max = IDENT_MAX,
                     .check = ident_column_ok,
                     .pattern = "^[a-z][a-z0-9_]{0,47}$",
                     .description = "not id or created_at, which every table has"},
    [COLUMN_TYPE] = {.name = "type",
                     .type = INPUT_STRING,
                     .required = true,
                     .choices = col_type_names,
                     .description = "also nullable (true or false, default true) and unique (default false)"},
};
enum { CREATE_NAME, CREATE_COLUMNS, CREATE_N };
static const input_field create_table_input[CREATE_N] = {
    [CREATE_NAME] = IN_TABLE_NAME(INPUT_BODY),
    [CREATE_COLUMNS] = {.name = "columns",
                        .type = INPUT_ARRAY,
                        .in = INPUT_BODY,
                        .required = true,
                        .min = 1,
                        .max = TABLE_COLUMNS_MAX,
                        .items = column_input,
                        .nitems = COLUMN_N,
                        .description = "the columns, names distinct"},
};

/* POST /sql/tables/{name}/rows: the body is the rows themselves, one
 * object or an array of up to ROWS_MAX, checked against the table's
 * columns (the tool passes its rows argument as the body). */
enum { INSERT_NAME, INSERT_ROWS, INSERT_N };
static const input_field insert_rows_input[INSERT_N] = {
    [INSERT_NAME] = IN_TABLE_NAME(INPUT_PATH),
    [INSERT_ROWS] = {.name = "rows",
                     .type = INPUT_ANY,
                     .in = INPUT_BODY,
                     .required = true,
                     .late = true,
                     .description = "one row (an object: column name to value) or an array of up to 1000"},
};

/* GET /sql/tables/{name}/rows: the equality filters are query parameters
 * named by the table's columns (the tool's where object). */
enum { ROWS_NAME, ROWS_LIMIT, ROWS_AFTER, ROWS_ORDER, ROWS_WHERE, ROWS_N };
static const char *const order_choices[] = {"asc", "desc", NULL};
static const input_field list_rows_input[ROWS_N] = {
    [ROWS_NAME] = IN_TABLE_NAME(INPUT_PATH),
    [ROWS_LIMIT] = {.name = "limit",
                    .type = INPUT_INTEGER,
                    .in = INPUT_QUERY,
                    .late = true,
                    .min = 1,
                    .max = LIST_LIMIT_MAX,
                    .dflt = LIST_LIMIT_DEFAULT},
    [ROWS_AFTER] = {.name = "after",
                    .type = INPUT_INTEGER,
                    .in = INPUT_QUERY,
                    .late = true,
                    .min = 0,
                    .max = SQL_ID_MAX,
                    .dflt = -1,
                    .description = "next, from the previous page"},
    [ROWS_ORDER] =
        {.name = "order", .type = INPUT_STRING, .in = INPUT_QUERY, .late = true, .choices = order_choices},
    [ROWS_WHERE] = {.name = "where",
                    .type = INPUT_OBJECT,
                    .in = INPUT_QUERY,
                    .late = true,
                    .description = "equality filters: column name to value"},
};

/* GET, PATCH and DELETE /sql/tables/{name}/rows/{id}: an id that is not a
 * positive integer names no row (404, after the table). PATCH's body is
 * the row's columns, checked against the table. */
enum { ROW_NAME, ROW_ID, ROW_N };
static const input_field row_input[ROW_N] = {
    [ROW_NAME] = IN_TABLE_NAME(INPUT_PATH),
    [ROW_ID] =
        {.name = "id", .type = INPUT_INTEGER, .in = INPUT_PATH, .late = true, .min = 1, .max = SQL_ID_MAX},
};

/* The declarations as the tools' JSON Schemas, written before main runs. */
static char list_tables_schema[1024], create_table_schema[2048], insert_rows_schema[1024],
    list_rows_schema[2048];
__attribute__((constructor)) static void sql_declare_inputs(void) {
    if (!input_schema_write(list_tables_schema, sizeof list_tables_schema, list_tables_input, TABLES_N) ||
        !input_schema_write(create_table_schema, sizeof create_table_schema, create_table_input, CREATE_N) ||
        !input_schema_write(insert_rows_schema, sizeof insert_rows_schema, insert_rows_input, INSERT_N) ||
        !input_schema_write(list_rows_schema, sizeof list_rows_schema, list_rows_input, ROWS_N))
        abort();
}

static bool sql_list_tables(request *req, reply *out, api_error *err) {
    input_value in[TABLES_N];
    if (!input_query(req, list_tables_input, TABLES_N, in, err)) return false;
    const char *after = in[TABLES_AFTER].s;
    long long limit = in[TABLES_LIMIT].i;
    char fetch[24];
    snprintf(fetch, sizeof fetch, "%lld", limit + 1);
    const char *params[] = {after ? after : "", fetch};
    PGresult *res = db_query(req->pool, &sql_table_list, params, err);
    if (res == NULL) return false;
    reply_page(out, res, limit);
    return true;
}

static bool sql_get_table(request *req, reply *out, api_error *err) {
    input_value in[TABLE_N];
    if (!input_path(req, get_table_input, TABLE_N, in, err) ||
        !input_query(req, get_table_input, TABLE_N, in, err))
        return false;
    const char *name = in[TABLE_NAME].s;
    const char *params[] = {name};
    PGresult *res = db_query(req->pool, &sql_table_get, params, err);
    if (res == NULL) return false;
    if (PQntuples(res) == 0) return API_NOT_FOUND(err, "name", "table %s does not exist", name);
    strbuf_puts(out->body, PQgetvalue(res, 0, 0));
    return true;
}

/* ---- handlers: rows ---- */

static bool insert_rows(request *req, reply *out, sql_table *t, api_error *err) {
    json_t *body = sql_body_json(req, err);
    if (body == NULL) return false;
    if (json_is_array(body)) {
        size_t n = json_array_size(body);
        if (n > ROWS_MAX)
            return API_INVALID(err, "body", "at most %d rows in one request (got %zu)", ROWS_MAX, n);
        for (size_t i = 0; i < n; i++)
            if (!sql_row_ok(&t->spec, json_array_get(body, i), (long)i, true, err)) return false;
    } else if (!sql_row_ok(&t->spec, body, 0, true, err)) {
        return false;
    }
    const char *params[] = {req->body};
    PGresult *res = sql_run(req, t, ST_INSERT, params, err);
    if (res == NULL) {
        sql_blame_rows(req, &t->spec, err);
        sql_blame_unique(&t->spec, err);
        sql_blame_limits(err);
        return false;
    }
    out->status = 201;
    reply_items(out, res);
    return true;
}

static bool sql_insert(request *req, reply *out, api_error *err) {
    return sql_with_table(req, out, err, insert_rows);
}

/* The {id} capture: a positive integer, else the row cannot exist (404). */
static bool path_id(request *req, const char **id, api_error *err) {
    long long v;
    *id = req->params[1];
    if (!validate_int_text(*id, 1, SQL_ID_MAX, "id", &v, err))
        return API_NOT_FOUND(err, "id", "row %.40s does not exist (ids are positive integers)", *id);
    return true;
}

static bool one_row(reply *out, PGresult *res, const sql_table *t, const char *id, api_error *err) {
    if (PQntuples(res) == 0) return API_NOT_FOUND(err, "id", "table %s has no row %s", t->spec.name, id);
    strbuf_puts(out->body, PQgetvalue(res, 0, 0));
    return true;
}

static bool get_row(request *req, reply *out, sql_table *t, api_error *err) {
    static const char *const known[] = {NULL};
    const char *id;
    if (!request_query_known(req, known, err) || !path_id(req, &id, err)) return false;
    const char *params[] = {id};
    PGresult *res = sql_run(req, t, ST_GET, params, err);
    return res != NULL && one_row(out, res, t, id, err);
}

static bool sql_get_row(request *req, reply *out, api_error *err) {
    return sql_with_table(req, out, err, get_row);
}

static bool patch_row(request *req, reply *out, sql_table *t, api_error *err) {
    static const char *const known[] = {NULL};
    const char *id;
    if (!request_query_known(req, known, err) || !path_id(req, &id, err)) return false;
    json_t *body = sql_body_json(req, err);
    if (body == NULL) return false;
    if (!json_is_object(body)) return API_INVALID(err, "body", "the body must be a JSON object");
    if (!sql_row_ok(&t->spec, body, -1, false, err)) return false;
    const char *params[] = {id, req->body};
    PGresult *res = sql_run(req, t, ST_PATCH, params, err);
    if (res == NULL) {
        sql_blame_rows(req, &t->spec, err);
        sql_blame_unique(&t->spec, err);
        sql_blame_limits(err);
        return false;
    }
    return one_row(out, res, t, id, err);
}

static bool sql_patch_row(request *req, reply *out, api_error *err) {
    return sql_with_table(req, out, err, patch_row);
}

static bool delete_row(request *req, reply *out, sql_table *t, api_error *err) {
    static const char *const known[] = {NULL};
    const char *id;
    if (!request_query_known(req, known, err) || !path_id(req, &id, err)) return false;
    const char *params[] = {id};
    PGresult *res = sql_run(req, t, ST_DELETE, params, err);
    return res != NULL && one_row(out, res, t, id, err);
}

static bool sql_delete_row(request *req, reply *out, api_error *err) {
    return sql_with_table(req, out, err, delete_row);
}

static bool list_rows(request *req, reply *out, sql_table *t, api_error *err) {
    const table_spec *s = &t->spec;
    const char *after, *order;
    long long limit, after_v = 0;
    /* Query parameters: limit, after, order, and one filter per column. */
    for (size_t i = 0; i < req->nquery; i++) {
        const char *q = req->query[i].name;
        if (strcmp(q, "limit") != 0 && strcmp(q, "after") != 0 && strcmp(q, "order") != 0 &&
            sql_column_find(s, q) == NULL)
            return API_INVALID(err, q, "unknown query parameter %.64s (not a column of table %s)", q,
                               s->name);
    }
    if (!validate_limit(req, &limit, err) || !request_query(req, "after", &after, err) ||
        !request_query(req, "order", &order, err))
        return false;
    bool desc = false;
    if (order != NULL) {
        if (strcmp(order, "desc") == 0)
            desc = true;
        else if (strcmp(order, "asc") != 0)
            return API_INVALID(err, "order", "order must be asc or desc");
    }
    if (after != NULL && !validate_int_text(after, 0, SQL_ID_MAX, "after", &after_v, err)) return false;
    char after_text[24], fetch[24];
    snprintf(after_text, sizeof after_text, "%lld", after != NULL ? after_v : desc ? SQL_ID_MAX : 0);
    snprintf(fetch, sizeof fetch, "%lld", limit + 1);
    const char **params = pool_alloc(req->pool, sizeof(char *) * (s->ncols + 2));
    params[0] = after_text;
    params[1] = fetch;
    for (size_t i = 0; i < s->ncols; i++)
        if (!request_query(req, s->cols[i].name, &params[i + 2], err)) return false;
    PGresult *res = sql_run(req, t, desc ? ST_LIST_DESC : ST_LIST_ASC, params, err);
    if (res == NULL) {
        if (err->status == 422 && strncmp(err->sqlstate, "22", 2) == 0)
            for (size_t i = 0; i < s->ncols; i++) {
                const db_stmt *check = &filter_checks[s->cols[i].type];
                api_error e;
                const char *p1[] = {params[i + 2]};
                if (!col_types[s->cols[i].type].filter_check || params[i + 2] == NULL) continue;
                if (db_query(req->pool, check, p1, &e) == NULL && e.status == 422)
                    return api_fail(err, API_E_VALIDATION_FAILED, s->cols[i].name, "filter %s: %s",
                                    s->cols[i].name, e.detail);
            }
        return false;
    }
    reply_page(out, res, limit);
    return true;
}

static bool sql_list_rows(request *req, reply *out, api_error *err) {
    return sql_with_table(req, out, err, list_rows);
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
    {"POST", "/sql/tables", sql_create, .is_public = false, .input = create_table_input, .ninput = CREATE_N,
     .errors = API_BIT(CONFLICT), .created = true},
    {"GET", "/sql/tables", sql_list_tables, .is_public = false, .input = list_tables_input,
     .ninput = TABLES_N},
    {"GET", "/sql/tables/{name}", sql_get_table, .is_public = false, .input = get_table_input,
     .ninput = TABLE_N},
    {"POST", "/sql/tables/{name}/rows", sql_insert, .is_public = false, .input = insert_rows_input,
     .ninput = INSERT_N, .errors = API_BIT(CONFLICT), .created = true},
    {"GET", "/sql/tables/{name}/rows", sql_list_rows, .is_public = false, .input = list_rows_input,
     .ninput = ROWS_N},
    {"GET", "/sql/tables/{name}/rows/{id}", sql_get_row, .is_public = false, .input = row_input,
     .ninput = ROW_N},
    {"PATCH", "/sql/tables/{name}/rows/{id}", sql_patch_row, .is_public = false, .input = row_input,
     .ninput = ROW_N, .errors = API_BIT(CONFLICT)},
    {"DELETE", "/sql/tables/{name}/rows/{id}", sql_delete_row, .is_public = false, .input = row_input,
     .ninput = ROW_N},
};

/* ---- MCP tools ---- */

#define SQL_TABLE_OUT                                                                                  \
    {                                                                                                  \
        "type" : "object", "required" : [ "name", "table", "columns", "created_at" ], "properties" : { \
            "name" : {"type" : "string"},                                                              \
                     "table" : {"type" : "string"},                                                    \
                               "columns" : {"type" : "array"},                                         \
                                           "created_at" : {                                            \
                "type" : "string"                                                                      \
            }                                                                                          \
        }                                                                                              \
    }
#define SQL_ROW \
    { "type" : "object", "required" : [ "id", "created_at" ] }

static const tool sql_tools[] = {
    {"sql_create_table",
     "Create a typed table: columns [{name, type, nullable, unique}], types text, integer, bigint, double, "
     "numeric, boolean, timestamptz, date, jsonb, uuid. Every table also has id and created_at.",
     "POST", "/sql/tables", TOOL_JSON, NULL, create_table_schema /* the route's declared input */,
     SCHEMA(SQL_TABLE_OUT), .title = "Create a table", .hints = TOOL_IDEMPOTENT},
    {"sql_list_tables", "List the typed tables (paginated by name).", "GET", "/sql/tables", TOOL_QUERY, NULL,
     list_tables_schema /* the route's declared input */, SCHEMA({
         "type" : "object",
         "required" : [ "items", "next" ],
         "properties" :
             {"items" : {"type" : "array", "items" : SQL_TABLE_OUT},
              "next" : {"type" : [ "string", "null" ]}}
     }),
     .title = "List tables", .hints = TOOL_READ_ONLY | TOOL_IDEMPOTENT},
    {"sql_insert_rows", "Insert one row (an object) or up to 1000 (an array) into a table, all or none.",
     "POST", "/sql/tables/{name}/rows", TOOL_JSON_ARG, "rows",
     insert_rows_schema /* the route's declared input */, SCHEMA({
         "type" : "object",
         "required" : ["items"],
         "properties" : {"items" : {"type" : "array", "items" : SQL_ROW}}
     }),
     .title = "Insert rows", .hints = 0},
    {"sql_select_rows",
     "Read rows ordered by id (paginated): after, limit, order (asc or desc), and equality filters in where "
     "(column name to value).",
     "GET", "/sql/tables/{name}/rows", TOOL_QUERY, NULL, list_rows_schema /* the route's declared input */,
     SCHEMA({
         "type" : "object",
         "required" : [ "items", "next" ],
         "properties" :
             {"items" : {"type" : "array", "items" : SQL_ROW}, "next" : {"type" : [ "string", "null" ]}}
     }),
     .title = "Select rows", .hints = TOOL_READ_ONLY | TOOL_IDEMPOTENT},
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
    .describe_sql = sql_describe,
    .sentinel_shape =
        "{\"name\":\"builds\",\"table\":\"sql_builds\",\"columns\":[{\"name\":\"sha\","
        "\"type\":\"text\",\"nullable\":false,\"unique\":true},{\"name\":\"ok\","
        "\"type\":\"boolean\",\"nullable\":true,\"unique\":false}],"
        "\"created_at\":\"2026-11-24T10:00:00.000000Z\"}",
    .sentinel_note = "Typed tables on demand: each a real PostgreSQL table, rows as JSON.",
    .routes = sql_routes,
    .nroutes = sizeof sql_routes / sizeof sql_routes[0],
    .statements = sql_statements,
    .print_built_sql = sql_print_built,
    .tools = sql_tools,
    .ntools = sizeof sql_tools / sizeof sql_tools[0],
    .topic = "typed tables",
};
