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
 * prepared once per connection and kept in a small per-thread cache. A
 * table that has gone or changed behind the cache's back (a statement
 * fails with undefined table or column) is read from the registry again and
 * the request retried once.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "ident.h"
#include "json.h"
#include "log.h"
#include "mode.h"
#include "schema.h"
#include "tablespec.h"
#include "validate.h"

enum { ROWS_MAX = 1000, CACHE_MAX = 64 };
#define ID_MAX 999999999999999999LL

/* ---- schema ---- */

static const char sql_schema[] =
    "CREATE TABLE IF NOT EXISTS sql__tables ("
    " name text COLLATE \"C\" PRIMARY KEY,"
    " table_name text NOT NULL,"
    " columns jsonb NOT NULL,"
    " created_at timestamptz NOT NULL DEFAULT now())";

/* ---- static statements ---- */

#define TABLE_JSON                                                                                 \
    "json_build_object('name', name, 'table', table_name, 'columns', columns, 'created_at', "     \
    SQL_UTC("created_at") ")::text"

static const db_stmt sql_register = {
    "sql_register",
    "INSERT INTO sql__tables (name, table_name, columns) VALUES ($1, 'sql_' || $1, $2::jsonb)"
    " RETURNING " TABLE_JSON,
    2};

/* The table's answer, and its columns (what the cache builds from). */
static const db_stmt sql_table_get = {
    "sql_table_get",
    "SELECT " TABLE_JSON ", columns::text FROM sql__tables WHERE name = $1",
    1};

static const db_stmt sql_table_list = {
    "sql_table_list",
    "SELECT " TABLE_JSON ", name FROM sql__tables WHERE name > $1 ORDER BY name LIMIT $2::int",
    2};

/* How a row value is taken out of the jsonb row _e._r, by type: %s is the
 * column's key as a literal ('sha'). Integers go through numeric, as jsonb
 * writes 1.0 for a whole number sent as 1.0 (C has checked it is whole).
 * Every alias the statements use starts with "_", which no column name
 * can (ident.h): a column called r or x is never mistaken for one. */
static const char *const row_cast[COL_TYPE_COUNT] = {
    [COL_TEXT] = "(_e._r ->> %s)",
    [COL_INTEGER] = "(_e._r ->> %s)::numeric::integer",
    [COL_BIGINT] = "(_e._r ->> %s)::numeric::bigint",
    [COL_DOUBLE] = "(_e._r ->> %s)::double precision",
    [COL_NUMERIC] = "(_e._r ->> %s)::numeric",
    [COL_BOOLEAN] = "(_e._r ->> %s)::boolean",
    [COL_TIMESTAMPTZ] = "(_e._r ->> %s)::timestamptz",
    [COL_DATE] = "(_e._r ->> %s)::date",
    [COL_JSONB] = "nullif(_e._r -> %s, 'null'::jsonb)",
    [COL_UUID] = "(_e._r ->> %s)::uuid",
};

/* The body's rows: an array as it is, one object as an array of one. */
#define ROWS_OF(p) \
    "jsonb_array_elements(CASE jsonb_typeof(" p "::jsonb) WHEN 'array' THEN " p "::jsonb" \
    " ELSE jsonb_build_array(" p "::jsonb) END)"

/* Blame statements: after PostgreSQL refused a value (SQLSTATE class 22),
 * each cast of one column alone, the column's key as the parameter $2. */
#define ROW_CHECK(t, cast)                                                                          \
    static const db_stmt row_check_##t = {                                                          \
        "sql_row_check_" #t, "SELECT " cast " FROM " ROWS_OF("$1") " AS _e(_r)", 2};
ROW_CHECK(integer, "(_e._r ->> $2)::numeric::integer")
ROW_CHECK(bigint, "(_e._r ->> $2)::numeric::bigint")
ROW_CHECK(double, "(_e._r ->> $2)::double precision")
ROW_CHECK(numeric, "(_e._r ->> $2)::numeric")
ROW_CHECK(timestamptz, "(_e._r ->> $2)::timestamptz")
ROW_CHECK(date, "(_e._r ->> $2)::date")
ROW_CHECK(uuid, "(_e._r ->> $2)::uuid")

static const db_stmt *const row_checks[COL_TYPE_COUNT] = {
    [COL_INTEGER] = &row_check_integer, [COL_BIGINT] = &row_check_bigint,
    [COL_DOUBLE] = &row_check_double, [COL_NUMERIC] = &row_check_numeric,
    [COL_TIMESTAMPTZ] = &row_check_timestamptz, [COL_DATE] = &row_check_date,
    [COL_UUID] = &row_check_uuid,
};

/* A filter value (query text) as the column's type. */
static const char *const filter_cast[COL_TYPE_COUNT] = {
    [COL_TEXT] = "text", [COL_INTEGER] = "integer", [COL_BIGINT] = "bigint",
    [COL_DOUBLE] = "double precision", [COL_NUMERIC] = "numeric", [COL_BOOLEAN] = "boolean",
    [COL_TIMESTAMPTZ] = "timestamptz", [COL_DATE] = "date", [COL_JSONB] = "jsonb", [COL_UUID] = "uuid",
};

#define FILTER_CHECK(t, type) \
    static const db_stmt filter_check_##t = {"sql_filter_check_" #t, "SELECT $1::" type, 1};
FILTER_CHECK(integer, "integer")
FILTER_CHECK(bigint, "bigint")
FILTER_CHECK(double, "double precision")
FILTER_CHECK(numeric, "numeric")
FILTER_CHECK(boolean, "boolean")
FILTER_CHECK(timestamptz, "timestamptz")
FILTER_CHECK(date, "date")
FILTER_CHECK(jsonb, "jsonb")
FILTER_CHECK(uuid, "uuid")

static const db_stmt *const filter_checks[COL_TYPE_COUNT] = {
    [COL_INTEGER] = &filter_check_integer, [COL_BIGINT] = &filter_check_bigint,
    [COL_DOUBLE] = &filter_check_double, [COL_NUMERIC] = &filter_check_numeric,
    [COL_BOOLEAN] = &filter_check_boolean, [COL_TIMESTAMPTZ] = &filter_check_timestamptz,
    [COL_DATE] = &filter_check_date, [COL_JSONB] = &filter_check_jsonb, [COL_UUID] = &filter_check_uuid,
};

/* ---- the per-thread cache of tables and their statements ---- */

enum { ST_INSERT, ST_GET, ST_PATCH, ST_DELETE, ST_LIST_ASC, ST_LIST_DESC, ST_COUNT };

typedef struct built_stmt {
    db_stmt st;
    char name[32];
    char *sql;                        /* malloc */
    unsigned long long prepared_on;   /* db_query_built's record */
} built_stmt;

typedef struct sql_table {
    char *name;                       /* malloc */
    json_t *def;                      /* owns spec's strings */
    table_spec spec;
    built_stmt stmts[ST_COUNT];
    unsigned long long used;          /* for eviction: larger is more recent */
} sql_table;

typedef struct table_cache {
    sql_table *tables[CACHE_MAX];
    size_t n;
    unsigned long long clock;
} table_cache;

static pthread_key_t g_cache_key;
static pthread_once_t g_cache_once = PTHREAD_ONCE_INIT;

static void table_free(sql_table *t) {
    for (int i = 0; i < ST_COUNT; i++) free(t->stmts[i].sql);
    json_decref(t->def);
    free(t->name);
    free(t);
}

/* The thread's cache goes when the thread ends (its connection has gone
 * before: nothing to deallocate). */
static void cache_release(void *arg) {
    table_cache *c = arg;
    for (size_t i = 0; i < c->n; i++) table_free(c->tables[i]);
    free(c);
}

static void cache_key_make(void) { pthread_key_create(&g_cache_key, cache_release); }

/* Returns the calling thread's cache, made on first use (never NULL). */
static table_cache *cache_get(void) {
    pthread_once(&g_cache_once, cache_key_make);
    table_cache *c = pthread_getspecific(g_cache_key);
    if (c == NULL) {
        c = calloc(1, sizeof *c);
        if (c == NULL) abort();
        pthread_setspecific(g_cache_key, c);
    }
    return c;
}

/* Removes t from the cache, deallocates its statements on this thread's
 * connection and frees it. */
static void cache_drop(table_cache *c, sql_table *t) {
    for (size_t i = 0; i < c->n; i++)
        if (c->tables[i] == t) {
            c->tables[i] = c->tables[--c->n];
            break;
        }
    for (int i = 0; i < ST_COUNT; i++) db_forget_built(&t->stmts[i].st, t->stmts[i].prepared_on);
    table_free(t);
}

/* ---- building a table's statements ---- */

/* The row as the API shows it, from alias t: numeric as text, timestamps in
 * UTC; to_json keeps the column order and handles the rest. */
static void projection(pool *p, const table_spec *s, strbuf *b) {
    strbuf_puts(b, "_t.id");
    for (size_t i = 0; i < s->ncols; i++) {
        const char *q = ident_quote(p, s->cols[i].name);
        if (s->cols[i].type == COL_NUMERIC) strbuf_printf(b, ", _t.%s::text AS %s", q, q);
        else if (s->cols[i].type == COL_TIMESTAMPTZ) {
            char col[64];
            snprintf(col, sizeof col, "_t.%s", q);
            strbuf_printf(b, ", " SQL_UTC("%s") " AS %s", col, q);
        } else strbuf_printf(b, ", _t.%s", q);
    }
    strbuf_puts(b, ", " SQL_UTC("_t.created_at") " AS created_at");
}

static void cast_of(pool *p, const table_column *c, strbuf *b) {
    strbuf_printf(b, row_cast[c->type], ident_literal(p, c->name));
}

static char *take(strbuf *b) {
    char *s = strdup(b->data);
    if (s == NULL) abort();
    strbuf_reset(b);
    return s;
}

static void build_statements(sql_table *t) {
    pool *p = pool_new();
    const table_spec *s = &t->spec;
    const char *table = ident_quote_affixed(p, "sql_", s->name, "");
    strbuf *proj = strbuf_new(), *b = strbuf_new();
    projection(p, s, proj);
    /* insert: $1 the body (one row or an array of rows) */
    strbuf_printf(b, "WITH _t AS (INSERT INTO %s (", table);
    for (size_t i = 0; i < s->ncols; i++) strbuf_printf(b, "%s%s", i ? ", " : "", ident_quote(p, s->cols[i].name));
    strbuf_puts(b, ") SELECT ");
    for (size_t i = 0; i < s->ncols; i++) {
        if (i) strbuf_puts(b, ", ");
        cast_of(p, &s->cols[i], b);
    }
    strbuf_printf(b, " FROM " ROWS_OF("$1") " WITH ORDINALITY AS _e(_r, _ord) ORDER BY _e._ord RETURNING *)"
                     " SELECT to_json(_x)::text FROM (SELECT %s FROM _t) _x ORDER BY _x.id", proj->data);
    t->stmts[ST_INSERT].sql = take(b);
    t->stmts[ST_INSERT].st.nparams = 1;
    /* get: $1 the id */
    strbuf_printf(b, "SELECT to_json(_x)::text FROM (SELECT %s FROM %s _t WHERE _t.id = $1::bigint) _x",
                  proj->data, table);
    t->stmts[ST_GET].sql = take(b);
    t->stmts[ST_GET].st.nparams = 1;
    /* patch: $1 the id, $2 the partial row; a column absent from it keeps its value */
    strbuf_printf(b, "WITH _t AS (UPDATE %s _u SET ", table);
    for (size_t i = 0; i < s->ncols; i++) {
        const char *q = ident_quote(p, s->cols[i].name);
        strbuf_printf(b, "%s%s = CASE WHEN _e._r ? %s THEN ", i ? ", " : "", q, ident_literal(p, s->cols[i].name));
        cast_of(p, &s->cols[i], b);
        strbuf_printf(b, " ELSE _u.%s END", q);
    }
    strbuf_printf(b, " FROM (SELECT $2::jsonb AS _r) _e WHERE _u.id = $1::bigint RETURNING _u.*)"
                     " SELECT to_json(_x)::text FROM (SELECT %s FROM _t) _x", proj->data);
    t->stmts[ST_PATCH].sql = take(b);
    t->stmts[ST_PATCH].st.nparams = 2;
    /* delete: $1 the id */
    strbuf_printf(b, "WITH _t AS (DELETE FROM %s WHERE id = $1::bigint RETURNING *)"
                     " SELECT to_json(_x)::text FROM (SELECT %s FROM _t) _x", table, proj->data);
    t->stmts[ST_DELETE].sql = take(b);
    t->stmts[ST_DELETE].st.nparams = 1;
    /* list: $1 after, $2 how many, $3.. one equality filter per column (NULL: none) */
    for (int desc = 0; desc < 2; desc++) {
        strbuf_printf(b, "SELECT to_json(_x)::text, _x.id::text FROM (SELECT %s FROM %s _t WHERE _t.id %s $1::bigint",
                      proj->data, table, desc ? "<" : ">");
        for (size_t i = 0; i < s->ncols; i++)
            strbuf_printf(b, " AND ($%zu::text IS NULL OR _t.%s = $%zu::%s)", i + 3,
                          ident_quote(p, s->cols[i].name), i + 3, filter_cast[s->cols[i].type]);
        strbuf_printf(b, " ORDER BY _t.id %s LIMIT $2::int) _x ORDER BY _x.id %s", desc ? "DESC" : "ASC",
                      desc ? "DESC" : "ASC");
        t->stmts[desc ? ST_LIST_DESC : ST_LIST_ASC].sql = take(b);
        t->stmts[desc ? ST_LIST_DESC : ST_LIST_ASC].st.nparams = (int)s->ncols + 2;
    }
    for (int i = 0; i < ST_COUNT; i++) {
        db_stmt_name(t->stmts[i].name, sizeof t->stmts[i].name, "sql_t");
        t->stmts[i].st.name = t->stmts[i].name;
        t->stmts[i].st.sql = t->stmts[i].sql;
        t->stmts[i].prepared_on = 0;
    }
    strbuf_free(proj);
    strbuf_free(b);
    pool_free(p);
}

/* ---- looking a table up ---- */

/* The {name} capture: a valid table name (422 otherwise: it cannot exist). */
static const char *path_name(request *req, api_error *err) {
    const char *name = req->params[0];
    return ident_table_ok(name, "name", err) ? name : NULL;
}

/* Returns the cached table called name, reading the registry on a miss;
 * NULL with 404 when it does not exist (or another error). The entry
 * belongs to the thread's cache. */
static sql_table *table_lookup(request *req, const char *name, api_error *err) {
    table_cache *c = cache_get();
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->tables[i]->name, name) == 0) {
            c->tables[i]->used = ++c->clock;
            return c->tables[i];
        }
    const char *params[] = {name};
    PGresult *res = db_query(req->pool, &sql_table_get, params, err);
    if (res == NULL) return NULL;
    if (PQntuples(res) == 0) return API_NOT_FOUND(err, "name", "table %s does not exist", name), NULL;
    json_error_t jerr;
    json_t *cols = json_loads(PQgetvalue(res, 0, 1), 0, &jerr);
    json_t *def = json_pack("{s:s,s:o}", "name", name, "columns", cols);
    table_spec spec;
    if (def == NULL || !table_spec_parse(def, &spec, err)) {
        json_decref(def);
        log_msg(LOG_ERROR, "the registry row of table %s does not parse", name);
        return API_INTERNAL(err, "the registry row of table %s is damaged", name), NULL;
    }
    sql_table *t = calloc(1, sizeof *t);
    if (t == NULL) abort();
    t->name = strdup(name);
    if (t->name == NULL) abort();
    t->def = def;
    t->spec = spec;
    build_statements(t);
    if (c->n == CACHE_MAX) { /* evict the least recently used */
        size_t old = 0;
        for (size_t i = 1; i < c->n; i++)
            if (c->tables[i]->used < c->tables[old]->used) old = i;
        cache_drop(c, c->tables[old]);
    }
    t->used = ++c->clock;
    c->tables[c->n++] = t;
    return t;
}

static const table_column *column_find(const table_spec *s, const char *name) {
    for (size_t i = 0; i < s->ncols; i++)
        if (strcmp(s->cols[i].name, name) == 0) return &s->cols[i];
    return NULL;
}

/* A statement failed because the table or a column is not what the cache
 * thinks (dropped or changed out of band, or a statement the connection no
 * longer has): read the registry again. */
static bool stale_error(const api_error *err) {
    const char *st = db_last_sqlstate();
    return err->status == 500 && (strcmp(st, "42P01") == 0 || strcmp(st, "42703") == 0 ||
                                  strcmp(st, "42804") == 0 || strcmp(st, "0A000") == 0 ||
                                  strcmp(st, "26000") == 0);
}

typedef bool (*table_fn)(request *req, reply *out, sql_table *t, api_error *err);

/* Runs fn on the table named in the path; once more on a fresh registry
 * read when the cached table proved stale. */
static bool with_table(request *req, reply *out, api_error *err, table_fn fn) {
    const char *name = path_name(req, err);
    if (name == NULL) return false;
    sql_table *t = table_lookup(req, name, err);
    if (t == NULL) return false;
    if (fn(req, out, t, err)) return true;
    if (!stale_error(err)) return false;
    log_msg(LOG_INFO, "table %s changed behind the cache (%s); reading the registry again", name,
            db_last_sqlstate());
    cache_drop(cache_get(), t);
    if ((t = table_lookup(req, name, err)) == NULL) return false;
    if (fn(req, out, t, err)) return true;
    if (stale_error(err)) {
        const char *st = db_last_sqlstate();
        if (strcmp(st, "42P01") == 0) {
            cache_drop(cache_get(), t);
            return API_NOT_FOUND(err, "name", "table %s does not exist", name);
        }
        return API_CONFLICT(err, "name", "table %s no longer matches its definition (%s)", name, st);
    }
    return false;
}

/* Runs built statement `which` of t. */
static PGresult *run(request *req, sql_table *t, int which, const char *const *params, api_error *err) {
    return db_query_built(req->pool, &t->stmts[which].st, &t->stmts[which].prepared_on, params, err);
}

/* ---- values: JSON types per column ---- */

/* True when no string in v (keys included) holds a NUL byte: PostgreSQL's
 * text and jsonb cannot hold one. */
static bool nul_free(json_t *v) {
    if (json_is_string(v)) return strlen(json_string_value(v)) == json_string_length(v);
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) if (!nul_free(e)) return false;
    } else if (json_is_object(v)) {
        const char *k;
        json_t *e;
        json_object_foreach(v, k, e) if (!nul_free(e)) return false;
    }
    return true;
}

/* Checks one value against its column. `row` is the row's index for the
 * detail (-1: a patch). Returns false with a 422 naming the column. */
static bool value_ok(const table_column *c, json_t *v, long row, api_error *err) {
    char where[32] = "";
    if (row >= 0) snprintf(where, sizeof where, "row %ld: ", row);
    const char *want = NULL;
    if (json_is_null(v)) {
        if (!c->nullable) return API_INVALID(err, c->name, "%s%s must not be null", where, c->name);
        return true;
    }
    switch (c->type) {
    case COL_TEXT: case COL_UUID: case COL_DATE: case COL_TIMESTAMPTZ:
        if (!json_is_string(v)) want = "a string";
        break;
    case COL_INTEGER: case COL_BIGINT: {
        if (!json_is_number(v)) { want = "an integer"; break; }
        double d = json_number_value(v);
        double lim = c->type == COL_INTEGER ? 2147483648.0 : 9223372036854775808.0;
        if (d != floor(d)) want = "an integer";
        else if (d < -lim || d > lim) /* the exact bound is PostgreSQL's */
            return API_INVALID(err, c->name, "%s%s is out of range for %s", where, c->name,
                               col_type_name(c->type));
        break;
    }
    case COL_DOUBLE:
        if (!json_is_number(v)) want = "a number";
        break;
    case COL_NUMERIC:
        if (!json_is_number(v) && !json_is_string(v)) want = "a number or a string";
        break;
    case COL_BOOLEAN:
        if (!json_is_boolean(v)) want = "true or false";
        break;
    case COL_JSONB:
        break;
    }
    if (want != NULL)
        return API_INVALID(err, c->name, "%s%s must be %s (column type %s)", where, c->name, want,
                           col_type_name(c->type));
    if (!nul_free(v))
        return API_INVALID(err, c->name, "%s%s holds a NUL character (\\u0000), which PostgreSQL cannot store",
                           where, c->name);
    return true;
}

/* Checks one row object: known columns, JSON types, and (when whole, an
 * insert) every non-nullable column present. */
static bool row_ok(const table_spec *s, json_t *row, long idx, bool whole, api_error *err) {
    if (!json_is_object(row))
        return API_INVALID(err, "body", "row %ld must be a JSON object", idx < 0 ? 0 : idx);
    const char *key;
    json_t *v;
    json_object_foreach(row, key, v) {
        const table_column *c = column_find(s, key);
        if (c == NULL) {
            if (strcmp(key, "id") == 0 || strcmp(key, "created_at") == 0)
                return API_INVALID(err, key, "%s is set by the database and cannot be written", key);
            return API_INVALID(err, key, "table %s has no column %.64s", s->name, key);
        }
        if (!value_ok(c, v, idx, err)) return false;
    }
    if (whole)
        for (size_t i = 0; i < s->ncols; i++)
            if (!s->cols[i].nullable && json_object_get(row, s->cols[i].name) == NULL)
                return API_INVALID(err, s->cols[i].name, "row %ld: %s is required", idx, s->cols[i].name);
    return true;
}

/* The body as JSON, accepting \u0000 in strings so that value_ok can refuse
 * it with a 422 naming the column. Owned by the request's pool. */
static void json_release(void *v) { json_decref(v); }

static json_t *body_json(request *req, api_error *err) {
    json_t *v = json_parse_allow_nul(req->body ? req->body : "", req->body_len, err);
    if (v != NULL) pool_defer(req->pool, json_release, v);
    return v;
}

/* After a statement on body failed with a refused value (class 22): finds
 * the column whose cast fails alone, and names it in err. */
static void blame_rows(request *req, const table_spec *s, api_error *err) {
    if (err->status != 422 || strncmp(db_last_sqlstate(), "22", 2) != 0) return;
    for (size_t i = 0; i < s->ncols; i++) {
        const db_stmt *check = row_checks[s->cols[i].type];
        if (check == NULL) continue;
        api_error e;
        const char *params[] = {req->body, s->cols[i].name};
        if (db_query(req->pool, check, params, &e) == NULL && e.status == 422) {
            api_fail(err, 422, "validation_failed", s->cols[i].name, "%s: %s", s->cols[i].name, e.detail);
            return;
        }
    }
}

/* A 409 for a unique value taken names its column: the constraint is
 * sql__<name>_u<N> (tablespec.h). */
static void blame_unique(const table_spec *s, api_error *err) {
    if (err->status != 409) return;
    const char *k = db_last_constraint();
    const char *u = strrchr(k, 'u');
    if (u == NULL || u == k || u[-1] != '_') return;
    long n = strtol(u + 1, NULL, 10);
    if (n < 1 || (size_t)n > s->ncols) return;
    api_fail(err, 409, "conflict", s->cols[n - 1].name, "a row with this %s exists already", s->cols[n - 1].name);
}

/* Maps what db_error_map leaves as 500 but a client can cause: a value too
 * large for its unique index (54000). */
static void blame_limits(api_error *err) {
    if (err->status == 500 && strcmp(db_last_sqlstate(), "54000") == 0)
        API_INVALID(err, NULL, "a value is too large to store (a unique column's index takes at most about 2700 bytes)");
}

/* ---- handlers: tables ---- */

static bool sql_create(request *req, reply *out, api_error *err) {
    json_t *body = body_json(req, err);
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
        const char *st = db_last_sqlstate();
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

static bool sql_list_tables(request *req, reply *out, api_error *err) {
    static const char *const known[] = {"limit", "after", NULL};
    const char *after;
    long long limit;
    if (!request_query_known(req, known, err) || !validate_limit(req, &limit, err) ||
        !request_query(req, "after", &after, err))
        return false;
    if (after != NULL && after[0] != '\0' && !ident_valid(after))
        return API_INVALID(err, "after", "after must be a table name from next");
    char fetch[24];
    snprintf(fetch, sizeof fetch, "%lld", limit + 1);
    const char *params[] = {after ? after : "", fetch};
    PGresult *res = db_query(req->pool, &sql_table_list, params, err);
    if (res == NULL) return false;
    reply_page(out, res, limit);
    return true;
}

static bool sql_get_table(request *req, reply *out, api_error *err) {
    static const char *const known[] = {NULL};
    const char *name = path_name(req, err);
    if (name == NULL || !request_query_known(req, known, err)) return false;
    const char *params[] = {name};
    PGresult *res = db_query(req->pool, &sql_table_get, params, err);
    if (res == NULL) return false;
    if (PQntuples(res) == 0) return API_NOT_FOUND(err, "name", "table %s does not exist", name);
    strbuf_puts(out->body, PQgetvalue(res, 0, 0));
    return true;
}

/* ---- handlers: rows ---- */

static bool insert_rows(request *req, reply *out, sql_table *t, api_error *err) {
    json_t *body = body_json(req, err);
    if (body == NULL) return false;
    if (json_is_array(body)) {
        size_t n = json_array_size(body);
        if (n > ROWS_MAX) return API_INVALID(err, "body", "at most %d rows in one request (got %zu)", ROWS_MAX, n);
        for (size_t i = 0; i < n; i++)
            if (!row_ok(&t->spec, json_array_get(body, i), (long)i, true, err)) return false;
    } else if (!row_ok(&t->spec, body, 0, true, err)) {
        return false;
    }
    const char *params[] = {req->body};
    PGresult *res = run(req, t, ST_INSERT, params, err);
    if (res == NULL) {
        blame_rows(req, &t->spec, err);
        blame_unique(&t->spec, err);
        blame_limits(err);
        return false;
    }
    out->status = 201;
    reply_items(out, res);
    return true;
}

static bool sql_insert(request *req, reply *out, api_error *err) { return with_table(req, out, err, insert_rows); }

/* The {id} capture: a positive integer, else the row cannot exist (404). */
static bool path_id(request *req, const char **id, api_error *err) {
    long long v;
    *id = req->params[1];
    if (!validate_int_text(*id, 1, ID_MAX, "id", &v, err))
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
    PGresult *res = run(req, t, ST_GET, params, err);
    return res != NULL && one_row(out, res, t, id, err);
}

static bool sql_get_row(request *req, reply *out, api_error *err) { return with_table(req, out, err, get_row); }

static bool patch_row(request *req, reply *out, sql_table *t, api_error *err) {
    static const char *const known[] = {NULL};
    const char *id;
    if (!request_query_known(req, known, err) || !path_id(req, &id, err)) return false;
    json_t *body = body_json(req, err);
    if (body == NULL) return false;
    if (!json_is_object(body)) return API_INVALID(err, "body", "the body must be a JSON object");
    if (!row_ok(&t->spec, body, -1, false, err)) return false;
    const char *params[] = {id, req->body};
    PGresult *res = run(req, t, ST_PATCH, params, err);
    if (res == NULL) {
        blame_rows(req, &t->spec, err);
        blame_unique(&t->spec, err);
        blame_limits(err);
        return false;
    }
    return one_row(out, res, t, id, err);
}

static bool sql_patch_row(request *req, reply *out, api_error *err) { return with_table(req, out, err, patch_row); }

static bool delete_row(request *req, reply *out, sql_table *t, api_error *err) {
    static const char *const known[] = {NULL};
    const char *id;
    if (!request_query_known(req, known, err) || !path_id(req, &id, err)) return false;
    const char *params[] = {id};
    PGresult *res = run(req, t, ST_DELETE, params, err);
    return res != NULL && one_row(out, res, t, id, err);
}

static bool sql_delete_row(request *req, reply *out, api_error *err) { return with_table(req, out, err, delete_row); }

static bool list_rows(request *req, reply *out, sql_table *t, api_error *err) {
    const table_spec *s = &t->spec;
    const char *after, *order;
    long long limit, after_v = 0;
    /* Query parameters: limit, after, order, and one filter per column. */
    for (size_t i = 0; i < req->nquery; i++) {
        const char *q = req->query[i].name;
        if (strcmp(q, "limit") != 0 && strcmp(q, "after") != 0 && strcmp(q, "order") != 0 &&
            column_find(s, q) == NULL)
            return API_INVALID(err, q, "unknown query parameter %.64s (not a column of table %s)", q, s->name);
    }
    if (!validate_limit(req, &limit, err) || !request_query(req, "after", &after, err) ||
        !request_query(req, "order", &order, err))
        return false;
    bool desc = false;
    if (order != NULL) {
        if (strcmp(order, "desc") == 0) desc = true;
        else if (strcmp(order, "asc") != 0) return API_INVALID(err, "order", "order must be asc or desc");
    }
    if (after != NULL && !validate_int_text(after, 0, ID_MAX, "after", &after_v, err)) return false;
    char after_text[24], fetch[24];
    snprintf(after_text, sizeof after_text, "%lld", after != NULL ? after_v : desc ? ID_MAX : 0);
    snprintf(fetch, sizeof fetch, "%lld", limit + 1);
    const char **params = pool_alloc(req->pool, sizeof(char *) * (s->ncols + 2));
    params[0] = after_text;
    params[1] = fetch;
    for (size_t i = 0; i < s->ncols; i++)
        if (!request_query(req, s->cols[i].name, &params[i + 2], err)) return false;
    PGresult *res = run(req, t, desc ? ST_LIST_DESC : ST_LIST_ASC, params, err);
    if (res == NULL) {
        if (err->status == 422 && strncmp(db_last_sqlstate(), "22", 2) == 0)
            for (size_t i = 0; i < s->ncols; i++) {
                const db_stmt *check = filter_checks[s->cols[i].type];
                api_error e;
                const char *p1[] = {params[i + 2]};
                if (check == NULL || params[i + 2] == NULL) continue;
                if (db_query(req->pool, check, p1, &e) == NULL && e.status == 422)
                    return api_fail(err, 422, "validation_failed", s->cols[i].name, "filter %s: %s",
                                    s->cols[i].name, e.detail);
            }
        return false;
    }
    reply_page(out, res, limit);
    return true;
}

static bool sql_list_rows(request *req, reply *out, api_error *err) { return with_table(req, out, err, list_rows); }

static const db_stmt *const sql_statements[] = {
    &sql_register, &sql_table_get, &sql_table_list,
    &row_check_integer, &row_check_bigint, &row_check_double, &row_check_numeric,
    &row_check_timestamptz, &row_check_date, &row_check_uuid,
    &filter_check_integer, &filter_check_bigint, &filter_check_double, &filter_check_numeric,
    &filter_check_boolean, &filter_check_timestamptz, &filter_check_date, &filter_check_jsonb,
    &filter_check_uuid, NULL,
};

/* ---- routes ---- */

static const route sql_routes[] = {
    {"POST", "/sql/tables", sql_create, .is_public = false},
    {"GET", "/sql/tables", sql_list_tables, .is_public = false},
    {"GET", "/sql/tables/{name}", sql_get_table, .is_public = false},
    {"POST", "/sql/tables/{name}/rows", sql_insert, .is_public = false},
    {"GET", "/sql/tables/{name}/rows", sql_list_rows, .is_public = false},
    {"GET", "/sql/tables/{name}/rows/{id}", sql_get_row, .is_public = false},
    {"PATCH", "/sql/tables/{name}/rows/{id}", sql_patch_row, .is_public = false},
    {"DELETE", "/sql/tables/{name}/rows/{id}", sql_delete_row, .is_public = false},
};

/* ---- MCP tools ---- */

#define SQL_TABLE_OUT                                                                             \
    {"type": "object", "required": ["name", "table", "columns", "created_at"],                    \
     "properties": {"name": {"type": "string"}, "table": {"type": "string"},                      \
                    "columns": {"type": "array"}, "created_at": {"type": "string"}}}
#define SQL_ROW {"type": "object", "required": ["id", "created_at"]}

static const tool sql_tools[] = {
    {"sql_create_table",
     "Create a typed table: columns [{name, type, nullable, unique}], types text, integer, bigint, double, "
     "numeric, boolean, timestamptz, date, jsonb, uuid. Every table also has id and created_at.",
     "POST", "/sql/tables", TOOL_JSON, NULL,
     SCHEMA({"type": "object", "required": ["name", "columns"],
             "properties": {"name": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,47}$"},
                            "columns": {"type": "array", "minItems": 1, "maxItems": 64, "items": {"type": "object",
                                "required": ["name", "type"],
                                "properties": {"name": {"type": "string"},
                                               "type": {"type": "string", "enum": ["text", "integer", "bigint",
                                                   "double", "numeric", "boolean", "timestamptz", "date",
                                                   "jsonb", "uuid"]},
                                               "nullable": {"type": "boolean"}, "unique": {"type": "boolean"}}}}}}),
     SCHEMA(SQL_TABLE_OUT)},
    {"sql_list_tables", "List the typed tables (paginated by name).", "GET", "/sql/tables", TOOL_QUERY, NULL,
     SCHEMA({"type": "object", "properties": {"after": {"type": "string"},
                                              "limit": {"type": "integer", "minimum": 1, "maximum": 1000}}}),
     SCHEMA({"type": "object", "required": ["items", "next"],
             "properties": {"items": {"type": "array", "items": SQL_TABLE_OUT},
                            "next": {"type": ["string", "null"]}}})},
    {"sql_insert_rows", "Insert one row (an object) or up to 1000 (an array) into a table, all or none.", "POST",
     "/sql/tables/{name}/rows", TOOL_JSON_ARG, "rows",
     SCHEMA({"type": "object", "required": ["name", "rows"],
             "properties": {"name": {"type": "string"},
                            "rows": {"type": ["object", "array"], "description": "column name to value"}}}),
     SCHEMA({"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": SQL_ROW}}})},
    {"sql_select_rows",
     "Read rows ordered by id (paginated): after, limit, order (asc or desc), and equality filters in where "
     "(column name to value).",
     "GET", "/sql/tables/{name}/rows", TOOL_QUERY, NULL,
     SCHEMA({"type": "object", "required": ["name"],
             "properties": {"name": {"type": "string"}, "after": {"type": ["integer", "string"]},
                            "limit": {"type": "integer", "minimum": 1, "maximum": 1000},
                            "order": {"type": "string", "enum": ["asc", "desc"]},
                            "where": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}}}}),
     SCHEMA({"type": "object", "required": ["items", "next"],
             "properties": {"items": {"type": "array", "items": SQL_ROW}, "next": {"type": ["string", "null"]}}})},
};

const mode mode_sql = {
    .name = "sql",
    .url_prefix = "/sql",
    .processes = 2,
    .schema_sql = sql_schema,
    .sentinel_shape = "{\"name\":\"builds\",\"table\":\"sql_builds\",\"columns\":[{\"name\":\"sha\","
                      "\"type\":\"text\",\"nullable\":false,\"unique\":true},{\"name\":\"ok\","
                      "\"type\":\"boolean\",\"nullable\":true,\"unique\":false}],"
                      "\"created_at\":\"2026-11-24T10:00:00.000000Z\"}",
    .sentinel_note = "Typed tables on demand: each a real PostgreSQL table, rows as JSON.",
    .routes = sql_routes,
    .nroutes = sizeof sql_routes / sizeof sql_routes[0],
    .statements = sql_statements,
    .tools = sql_tools,
    .ntools = sizeof sql_tools / sizeof sql_tools[0],
};
