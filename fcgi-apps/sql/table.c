/*
 * sql/table: the per-thread cache of the sql mode's tables and the
 * statements built for each (table.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "table.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ident.h"
#include "log.h"
#include "schema.h"

const db_stmt sql_table_get = {
    "sql_table_get",
    "SELECT " SQL_TABLE_JSON ", columns::text, version::text FROM sql__tables WHERE name = $1", 1};

/* Every alias the statements use starts with "_", which no column name
 * can (ident.h): a column called r or x is never mistaken for one. How a
 * row value is taken out of the row _e._r, and how a filter's text becomes
 * the column's type, are the type table's (tablespec.h). */

/* ---- the per-thread cache ---- */

typedef struct table_cache {
    sql_table *tables[SQL_CACHE_MAX];
    size_t n;
    unsigned long long clock;
} table_cache;

static pthread_key_t g_cache_key;
static pthread_once_t g_cache_once = PTHREAD_ONCE_INIT;

/* Frees t and everything it owns (its statements must be deallocated on
 * the connection first, or the connection gone: cache_drop). */
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

static void cache_key_make(void) {
    if (pthread_key_create(&g_cache_key, cache_release) != 0) abort(); /* out of keys: never expected */
}

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
        if (s->cols[i].type == COL_NUMERIC)
            strbuf_printf(b, ", _t.%s::text AS %s", q, q);
        else if (s->cols[i].type == COL_TIMESTAMPTZ) {
            char col[64];
            snprintf(col, sizeof col, "_t.%s", q);
            strbuf_printf(b, ", " SQL_UTC("%s") " AS %s", col, q);
        } else
            strbuf_printf(b, ", _t.%s", q);
    }
    strbuf_puts(b, ", " SQL_UTC("_t.created_at") " AS created_at");
}

/* Appends to b how column c is taken out of the row _e._r. */
static void cast_of(pool *p, const table_column *c, strbuf *b) {
    strbuf_printf(b, col_types[c->type].row_cast, ident_literal(p, c->name));
}

/* Returns b's text as a malloc'd copy (the caller frees it) and empties b. */
static char *take(strbuf *b) {
    char *s = strdup(b->data);
    if (s == NULL) abort();
    strbuf_reset(b);
    return s;
}

/* What the statement builders share: all borrowed. */
typedef struct builder {
    pool *p; /* the quoted names' memory */
    const table_spec *s;
    const char *table; /* the table's quoted name */
    const char *proj;  /* the row as the API shows it, from alias _t (projection) */
    strbuf *b;         /* the statement being written; left empty */
    const char *guard; /* the table's version check (table.h), a condition */
} builder;

/* insert: $1 the body (one row or an array of rows). Returns the statement
 * (malloc'd, the caller frees). */
/* Appends the INSERT of the body's rows ($1), in the body's order,
 * without RETURNING. */
static void insert_head(const builder *w) {
    const table_spec *s = w->s;
    strbuf_printf(w->b, "INSERT INTO %s (", w->table);
    for (size_t i = 0; i < s->ncols; i++)
        strbuf_printf(w->b, "%s%s", i ? ", " : "", ident_quote(w->p, s->cols[i].name));
    strbuf_puts(w->b, ") SELECT ");
    for (size_t i = 0; i < s->ncols; i++) {
        if (i) strbuf_puts(w->b, ", ");
        cast_of(w->p, &s->cols[i], w->b);
    }
    strbuf_printf(w->b,
                  " FROM " SQL_ROWS_OF("$1") " WITH ORDINALITY AS _e(_r, _ord) WHERE %s ORDER BY _e._ord",
                  w->guard);
}

static char *build_insert(const builder *w) {
    strbuf_puts(w->b, "WITH _t AS (");
    insert_head(w);
    strbuf_printf(w->b, " RETURNING *) SELECT to_json(_x)::text FROM (SELECT %s FROM _t) _x ORDER BY _x.id",
                  w->proj);
    return take(w->b);
}

/* patch: $1 the id, $2 the partial row; a column absent from it keeps its
 * value. Returns the statement (malloc'd, the caller frees). */
static char *build_patch(const builder *w) {
    const table_spec *s = w->s;
    strbuf_printf(w->b, "WITH _t AS (UPDATE %s _u SET ", w->table);
    for (size_t i = 0; i < s->ncols; i++) {
        const char *q = ident_quote(w->p, s->cols[i].name);
        strbuf_printf(w->b, "%s%s = CASE WHEN _e._r ? %s THEN ", i ? ", " : "", q,
                      ident_literal(w->p, s->cols[i].name));
        cast_of(w->p, &s->cols[i], w->b);
        strbuf_printf(w->b, " ELSE _u.%s END", q);
    }
    strbuf_printf(w->b,
                  " FROM (SELECT $2::jsonb AS _r) _e WHERE _u.id = $1::bigint AND %s RETURNING _u.*)"
                  " SELECT to_json(_x)::text FROM (SELECT %s FROM _t) _x",
                  w->guard, w->proj);
    return take(w->b);
}

/* list: $1 after, $2 how many, $3.. one equality filter per column (NULL:
 * none), in id order (desc: descending). Returns the statement (malloc'd,
 * the caller frees). */
static char *build_list(const builder *w, bool desc) {
    const table_spec *s = w->s;
    strbuf_printf(
        w->b,
        "SELECT to_json(_x)::text, _x.id::text FROM (SELECT %s FROM %s _t WHERE %s AND _t.id %s $1::bigint",
        w->proj, w->table, w->guard, desc ? "<" : ">");
    for (size_t i = 0; i < s->ncols; i++)
        strbuf_printf(w->b, " AND ($%zu::text IS NULL OR _t.%s = $%zu::%s)", i + 3,
                      ident_quote(w->p, s->cols[i].name), i + 3, col_types[s->cols[i].type].sql);
    strbuf_printf(w->b, " ORDER BY _t.id %s LIMIT $2::int) _x ORDER BY _x.id %s", desc ? "DESC" : "ASC",
                  desc ? "DESC" : "ASC");
    return take(w->b);
}

/* Builds t's statements from its spec into t->stmts (each sql malloc'd,
 * freed by table_free); none is prepared yet. */
static void build_statements(sql_table *t) {
    pool *p = pool_new();
    strbuf *proj = strbuf_new(), *b = strbuf_new();
    projection(p, &t->spec, proj);
    builder w = {p,          &t->spec, ident_quote_affixed(p, "sql_", t->spec.name, ""),
                 proj->data, b,        t->guard ? t->guard : "TRUE"};
    int lists = (int)t->spec.ncols + 2; /* after, how many, one filter per column */
    int nparams[ST_COUNT] = {[ST_INSERT] = 1, [ST_GET] = 1,          [ST_PATCH] = 2,
                             [ST_DELETE] = 1, [ST_LIST_ASC] = lists, [ST_LIST_DESC] = lists};
    t->stmts[ST_INSERT].sql = build_insert(&w);
    /* get: $1 the id */
    strbuf_printf(b,
                  "SELECT to_json(_x)::text FROM (SELECT %s FROM %s _t WHERE %s AND _t.id = $1::bigint) _x",
                  w.proj, w.table, w.guard);
    t->stmts[ST_GET].sql = take(b);
    t->stmts[ST_PATCH].sql = build_patch(&w);
    /* delete: $1 the id */
    strbuf_printf(b,
                  "WITH _t AS (DELETE FROM %s WHERE %s AND id = $1::bigint RETURNING *)"
                  " SELECT to_json(_x)::text FROM (SELECT %s FROM _t) _x",
                  w.table, w.guard, w.proj);
    t->stmts[ST_DELETE].sql = take(b);
    t->stmts[ST_LIST_ASC].sql = build_list(&w, false);
    t->stmts[ST_LIST_DESC].sql = build_list(&w, true);
    for (int i = 0; i < ST_COUNT; i++) {
        t->stmts[i].st.nparams = nparams[i];
        db_stmt_name(t->stmts[i].name, sizeof t->stmts[i].name, "sql_t");
        t->stmts[i].st.name = t->stmts[i].name;
        t->stmts[i].st.sql = t->stmts[i].sql;
        t->stmts[i].prepared_on = 0;
    }
    strbuf_free(proj);
    strbuf_free(b);
    pool_free(p);
}

bool sql_print_statement(const char *def_json, int which) {
    json_t *def = json_loads(def_json, 0, NULL);
    sql_table t = {0};
    api_error err;
    if (def == NULL || !table_spec_parse(def, &t.spec, &err)) {
        fprintf(stderr, "backend: not a table definition: %s\n", def ? err.detail : def_json);
        json_decref(def);
        return false;
    }
    build_statements(&t);
    printf("%s\n", t.stmts[which].sql);
    for (int i = 0; i < ST_COUNT; i++) free(t.stmts[i].sql);
    json_decref(def);
    return true;
}

char *sql_build_upsert(const sql_table *t, const table_column *key, json_t *rows) {
    const table_spec *s = &t->spec;
    pool *p = pool_new();
    strbuf *proj = strbuf_new(), *b = strbuf_new();
    projection(p, s, proj);
    builder w = {p, s, ident_quote_affixed(p, "sql_", s->name, ""), proj->data, b, t->guard};
    strbuf_puts(b, "WITH _t AS (");
    insert_head(&w);
    const char *k = ident_quote(p, key->name);
    strbuf_printf(b, " ON CONFLICT (%s) DO UPDATE SET %s = EXCLUDED.%s", k, k, k);
    for (size_t i = 0; i < s->ncols; i++) {
        const table_column *c = &s->cols[i];
        bool named = false;
        for (size_t r = 0; json_is_array(rows) && r < json_array_size(rows); r++)
            named = named || json_object_get(json_array_get(rows, r), c->name) != NULL;
        named = named || (json_is_object(rows) && json_object_get(rows, c->name) != NULL);
        if (!named || c == key) continue;
        const char *q = ident_quote(p, c->name);
        strbuf_printf(b, ", %s = EXCLUDED.%s", q, q);
    }
    strbuf_printf(
        b,
        " RETURNING *, (xmax = 0) AS _inserted)"
        " SELECT to_json(_x)::text FROM (SELECT %s, _t._inserted AS inserted FROM _t) _x ORDER BY _x.id",
        w.proj);
    char *sql = take(b);
    strbuf_free(proj);
    strbuf_free(b);
    pool_free(p);
    return sql;
}

/* ---- looking a table up ---- */

sql_table *sql_table_lookup(request *req, const char *name, api_error *err) {
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
    t->version = atoll(PQgetvalue(res, 0, 2));
    snprintf(t->guard_buf, sizeof t->guard_buf, "sql__fresh(%s, %lld)", ident_literal(req->pool, name),
             t->version);
    t->guard = t->guard_buf;
    build_statements(t);
    if (c->n == SQL_CACHE_MAX) { /* evict the least recently used */
        size_t old = 0;
        for (size_t i = 1; i < c->n; i++)
            if (c->tables[i]->used < c->tables[old]->used) old = i;
        cache_drop(c, c->tables[old]);
    }
    t->used = ++c->clock;
    c->tables[c->n++] = t;
    return t;
}

void sql_table_forget(const char *name) {
    table_cache *c = cache_get();
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->tables[i]->name, name) == 0) {
            cache_drop(c, c->tables[i]);
            return;
        }
}

const table_column *sql_column_find(const table_spec *s, const char *name) {
    for (size_t i = 0; i < s->ncols; i++)
        if (strcmp(s->cols[i].name, name) == 0) return &s->cols[i];
    return NULL;
}

/* A statement failed because the table or a column is not what the cache
 * thinks (dropped or changed out of band, or a statement the connection no
 * longer has): read the registry again. */
static bool stale_error(const api_error *err) {
    const char *st = err->sqlstate;
    return err->status == 500 &&
           (strcmp(st, "42P01") == 0 || strcmp(st, "42703") == 0 || strcmp(st, "42804") == 0 ||
            strcmp(st, "SQLCH") == 0 || strcmp(st, "0A000") == 0 || strcmp(st, "26000") == 0);
}

/* The registry's version of a table ($1 the name). */
static const db_stmt table_version = {"sql_table_version", "SELECT version FROM sql__tables WHERE name = $1",
                                      1};

/* After a 422 from t's cached definition (a column it does not know yet):
 * true when the registry's version is not t's, the refusal then maybe
 * stale. */
static bool changed_since(request *req, const sql_table *t, const api_error *err) {
    if (err->status != 422 || err->sqlstate[0] != '\0') return false;
    const char *params[] = {t->name};
    api_error e;
    PGresult *res = db_query(req->pool, &table_version, params, &e);
    return res != NULL && (PQntuples(res) == 0 || atoll(PQgetvalue(res, 0, 0)) != t->version);
}

bool sql_with_table(request *req, const input_value *in, reply *out, api_error *err, sql_table_fn fn) {
    const char *name = in[0].s;
    sql_table *t = sql_table_lookup(req, name, err);
    if (t == NULL) return false;
    if (fn(req, in, out, t, err)) return true;
    if (!stale_error(err) && !changed_since(req, t, err)) return false;
    log_msg(LOG_INFO, "table %s changed behind the cache (%s); reading the registry again", name,
            err->sqlstate);
    cache_drop(cache_get(), t);
    if ((t = sql_table_lookup(req, name, err)) == NULL) return false;
    if (fn(req, in, out, t, err)) return true;
    if (stale_error(err)) {
        const char *st = err->sqlstate;
        if (strcmp(st, "42P01") == 0) {
            cache_drop(cache_get(), t);
            return API_NOT_FOUND(err, "name", "table %s does not exist", name);
        }
        return API_CONFLICT(err, "name", "table %s no longer matches its definition (%s)", name, st);
    }
    return false;
}

PGresult *sql_run(request *req, sql_table *t, int which, const char *const *params, api_error *err) {
    return db_query_built(req->pool, &t->stmts[which].st, &t->stmts[which].prepared_on, params, err);
}
