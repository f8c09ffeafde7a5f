/*
 * sql/table: the sql mode's tables as one worker thread knows them.
 *
 * A table's definition comes from its registry row (sql__tables); its
 * statements (insert, get, patch, delete, list ascending and descending)
 * are built from that definition the first time the thread meets the
 * table, prepared once per connection (db_query_built), and kept in a
 * per-thread cache of at most SQL_CACHE_MAX tables (the least recently used
 * is evicted). A table that has gone or changed behind the cache's back is
 * read from the registry again (sql_with_table).
 *
 * A name reaches the statements' text only through ident.h, a type only
 * from fixed tables; every value is a parameter.
 */
#ifndef BACKEND_SQL_TABLE_H
#define BACKEND_SQL_TABLE_H

#include <jansson.h>

#include "db.h"
#include "mode.h"
#include "tablespec.h"

enum { SQL_CACHE_MAX = 64 };
#define SQL_ID_MAX 999999999999999999LL

/* A registry row as the API shows it (column 0 of the registry's
 * statements). */
#define SQL_TABLE_JSON                                                                                 \
    "json_build_object('name', name, 'table', table_name, 'columns', columns, 'created_at', " SQL_UTC( \
        "created_at") ")::text"

/* The body's rows: an array as it is, one object as an array of one. */
#define SQL_ROWS_OF(p)                                                          \
    "jsonb_array_elements(CASE jsonb_typeof(" p "::jsonb) WHEN 'array' THEN " p \
    "::jsonb"                                                                   \
    " ELSE jsonb_build_array(" p "::jsonb) END)"

/* A table's statements. */
enum { ST_INSERT, ST_GET, ST_PATCH, ST_DELETE, ST_LIST_ASC, ST_LIST_DESC, ST_COUNT };

typedef struct built_stmt {
    db_stmt st;
    char name[32];
    char *sql;                      /* malloc */
    unsigned long long prepared_on; /* db_query_built's record */
} built_stmt;

typedef struct sql_table {
    char *name;  /* malloc */
    json_t *def; /* owns spec's strings */
    table_spec spec;
    built_stmt stmts[ST_COUNT];
    long long version; /* the registry row's: every statement checks it
                          (sql__fresh), so a definition changed by another
                          worker is noticed by the next statement */
    const char *guard; /* "sql__fresh('<name>', <version>)", or "TRUE" */
    char guard_buf[96];
    unsigned long long used; /* for eviction: larger is more recent */
} sql_table;

/* The registry's row of one table: its answer, its columns and its
 * version ($1 the name). */
extern const db_stmt sql_table_get;

/* Returns the thread's cached table called name, reading the registry on
 * a miss; NULL with 404 when it does not exist (or another error). The
 * table belongs to the thread's cache: valid until the thread's next
 * lookup. */
sql_table *sql_table_lookup(request *req, const char *name, api_error *err);

/* Drops the table called name from the thread's cache, if it is there
 * (its statements deallocated): after the thread dropped the table. */
void sql_table_forget(const char *name);

/* Returns s's column called name, or NULL. Borrowed from s. */
const table_column *sql_column_find(const table_spec *s, const char *name);

/* A row route's work on its table; in is the route's validated input. */
typedef bool (*sql_table_fn)(request *req, const input_value *in, reply *out, sql_table *t, api_error *err);

/* Runs fn on the table in[0] names (the route's first field, its {name}:
 * validated); once more on a fresh registry read when the cached table
 * proved stale. Returns fn's answer. */
bool sql_with_table(request *req, const input_value *in, reply *out, api_error *err, sql_table_fn fn);

/* Prints the text of statement `which` (ST_*) as built for the table
 * definition def_json ({"name","columns"}), on stdout: what
 * `backend-sql --sql sql_rows_insert DEF` shows, so make bench runs the
 * statements the service runs. Returns false when def_json is not a valid
 * definition (the reason on stderr). */
bool sql_print_statement(const char *def_json, int which);

/* The upsert of rows (the body: one object or an array) into table s on
 * the unique column key: the insert's statement ($1 the body) with ON
 * CONFLICT (key) DO UPDATE setting the columns the rows name (every row's,
 * together); each answered row carries "inserted". Returns the statement,
 * malloc'd: the caller frees it. */
char *sql_build_upsert(const sql_table *t, const table_column *key, json_t *rows);

/* Runs t's statement `which` (ST_*). Returns the result, owned by
 * req->pool, or NULL with err set. */
PGresult *sql_run(request *req, sql_table *t, int which, const char *const *params, api_error *err);

#endif
