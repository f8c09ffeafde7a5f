/*
 * sql/filter: the row routes' query language (docs/sql.md, "Filters,
 * ordering, projection and paging"), PostgREST's syntax on the mode's safe
 * path: a request's query parameters, read against a table's definition,
 * become a filter_query, and a filter_query becomes SQL fragments in which
 * every name went through ident.h and every value is a parameter ($n) cast
 * to its column's type.
 *
 *   ?<column>=[not.]<op>.<value>   eq neq gt gte lt lte like ilike in is
 *   ?<column>=<value>              equality, unless <value> starts "<op>."
 *   ?order=<column>[.asc|.desc][.nullsfirst|.nullslast],...   (or asc|desc)
 *   ?select=<column>,...           id always first
 *   ?count=exact
 *   ?after=<next>                  a keyset cursor (or a row id)
 *
 * Everything a value can get wrong is found here, before the database: a
 * value of the wrong type, an operator that does not apply, an unknown
 * column are 422 naming the column. filter_blame is the safety net for a
 * value PostgreSQL refuses all the same.
 *
 * Parsing (filter.c), the type checks (filter_value.c) and the SQL
 * (filter_sql.c, filter_cursor.c) are pure C: the unit tests and the fuzzer
 * drive them without a database.
 */
#ifndef BACKEND_SQL_FILTER_H
#define BACKEND_SQL_FILTER_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "api_error.h"
#include "db.h"
#include "pool.h"
#include "request.h"
#include "strbuf.h"
#include "tablespec.h"

/* The limits (each a 422 past it, naming the parameter). */
enum {
    FILTER_MAX = 32,                           /* filters in one request */
    FILTER_IN_MAX = 1000,                      /* values in one in.(...) */
    FILTER_TEXT_MAX = 4096,                    /* bytes of one parameter's value */
    FILTER_ORDER_MAX = 8,                      /* terms of ?order= (id is added) */
    FILTER_KEYS_MAX = FILTER_ORDER_MAX + 1,    /* the ordering with its id */
    FILTER_SELECT_MAX = TABLE_COLUMNS_MAX + 2, /* every column, id, created_at */
    FILTER_CURSOR_MAX = 4096,                  /* characters of a cursor */
};

/* The query parameters that are never a column's filter (docs/sql.md).
 * NULL-terminated. */
extern const char *const filter_reserved_names[];

/* True when name is one of filter_reserved_names. */
bool filter_reserved(const char *name);

/* Which query parameters a route takes (filter_parse's allow). The first
 * five are parsed here; limit, on_conflict, max_affected and confirm are
 * the route's own: filter_parse passes over them when allowed (and
 * refuses them when not), so one call checks every parameter's name. */
enum {
    FILTER_ALLOW_FILTERS = 1u << 0, /* ?<column>=... */
    FILTER_ALLOW_SELECT = 1u << 1,
    FILTER_ALLOW_ORDER = 1u << 2,
    FILTER_ALLOW_AFTER = 1u << 3,
    FILTER_ALLOW_COUNT = 1u << 4,
    FILTER_ALLOW_LIMIT = 1u << 5,
    FILTER_ALLOW_ON_CONFLICT = 1u << 6,
    FILTER_ALLOW_MAX_AFFECTED = 1u << 7,
    FILTER_ALLOW_CONFIRM = 1u << 8,
    /* GET /sql/tables/{name}/rows */
    FILTER_ALLOW_LIST = FILTER_ALLOW_FILTERS | FILTER_ALLOW_SELECT | FILTER_ALLOW_ORDER | FILTER_ALLOW_AFTER |
                        FILTER_ALLOW_COUNT | FILTER_ALLOW_LIMIT,
};

typedef enum filter_op {
    FILTER_EQ,
    FILTER_NEQ,
    FILTER_GT,
    FILTER_GTE,
    FILTER_LT,
    FILTER_LTE,
    FILTER_LIKE,
    FILTER_ILIKE,
    FILTER_IN,
    FILTER_IS_NULL,
    FILTER_IS_TRUE,
    FILTER_IS_FALSE,
    FILTER_IS_UNKNOWN,
} filter_op;

/* One condition: NOT? <column> <op> $n. */
typedef struct filter_cond {
    const table_column *col; /* borrowed: the spec's, or filter_id_column... */
    filter_op op;
    bool negated;
    /* The parameter's text, ready to send: the value (eq ... lte), the
     * LIKE pattern (like, ilike: '*' became '%', and '%', '_', '\' are
     * escaped), a PostgreSQL array literal (in); NULL for is. */
    const char *param;
    size_t nitems; /* in: how many values the list holds */
} filter_cond;

/* One term of the ordering. */
typedef struct filter_key {
    const table_column *col;
    bool desc;
    bool nulls_first; /* resolved: PostgreSQL's default is NULLS LAST
                         ascending, NULLS FIRST descending */
} filter_key;

typedef struct filter_query {
    const table_spec *spec; /* borrowed */
    filter_cond conds[FILTER_MAX];
    size_t nconds; /* 0: no filter (a write by filter must refuse it) */
    /* The ordering, always ending with id (the tiebreaker that makes the
     * keyset exact): ?order= as given up to id, then id in the direction
     * of the last term given when the order did not name id. */
    filter_key keys[FILTER_KEYS_MAX];
    size_t nkeys;  /* 1..FILTER_KEYS_MAX */
    bool id_order; /* the ordering is id alone: the cursor is the plain id */
    /* The projection: id (always first, not listed here), then these. */
    const table_column *cols[FILTER_SELECT_MAX];
    size_t ncols;
    bool count; /* ?count=exact */
    /* ?after: the cursor's values, one per key (NULL: SQL NULL), as the
     * key columns of filter_sql_list gave them. */
    bool has_after;
    const char *after[FILTER_KEYS_MAX];
    /* A condition of the caller's ANDed to the list's and count's WHERE
     * (the table's version check, sql/table.h), fixed text; NULL: none. */
    const char *guard;
} filter_query;

/* The columns every table has, as filters and ordering see them. */
extern const table_column filter_id_column, filter_created_at_column;

/* Returns the column called name of s (id and created_at included), or
 * NULL. Borrowed. */
const table_column *filter_column(const table_spec *s, const char *name);

/* Reads a request's query parameters (n pairs, percent-decoded) against
 * table s into out: every pair is a filter on a column, or a reserved name
 * that allow lets through. Strings are borrowed from params or allocated
 * in p. Returns false with a 422 naming the offending parameter (the
 * column, for a filter). */
bool filter_parse(const table_spec *s, const query_param *params, size_t n, unsigned allow, pool *p,
                  filter_query *out, api_error *err);

/* Checks a value's text against a column type, as a filter value (where
 * PostgreSQL's own syntax is wider, the accepted forms are a subset it
 * reads the same way: docs/sql.md). Returns false with why set (a phrase:
 * "is not an integer"). */
bool filter_value_ok(col_type t, const char *s, char *why, size_t size);

/* True when s is a key's text as filter_sql_keys writes it for a column of
 * type t (dates and timestamps with their era: "2024-01-02 AD"), a value
 * PostgreSQL reads back. */
bool filter_key_ok(col_type t, const char *s);

/* Returns s as a LIKE pattern (a pool string): '*' is the wildcard '%',
 * and '%', '_' and '\' match themselves (escaped with '\', PostgreSQL's
 * default escape). */
char *filter_like_pattern(pool *p, const char *s);

/* ---- SQL (filter_sql.c); every fragment reads the table as alias _t ---- */

/* The parameters of a statement being built: $1 is values[0]. */
typedef struct filter_params {
    pool *pool;
    const char **values;
    size_t n, cap;
} filter_params;

/* An empty list whose storage is p's. */
void filter_params_init(filter_params *ps, pool *p);

/* Appends v (borrowed: it must outlive the statement) and returns its
 * number n, for "$n". */
size_t filter_params_add(filter_params *ps, const char *v);

/* Appends the conditions, ANDed ("TRUE" when there are none). */
void filter_sql_where(const filter_query *q, strbuf *b, filter_params *ps);

/* Appends the keyset predicate of ?after ("TRUE" without one): the rows
 * that sort after the cursor's row, NULLs where the ordering puts them. */
void filter_sql_keyset(const filter_query *q, strbuf *b, filter_params *ps);

/* Appends the ORDER BY list (without the words ORDER BY), NULLS FIRST or
 * LAST spelled out. p holds the quoted names. */
void filter_sql_order(const filter_query *q, pool *p, strbuf *b);

/* Appends the projection: _t."id" first, then the columns as the API
 * shows them (numeric as text, timestamps in UTC), each named as its
 * column. p holds the quoted names. */
void filter_sql_projection(const filter_query *q, pool *p, strbuf *b);

/* Appends the keys as text, comma-separated: what a cursor holds (exact:
 * filter_sql_keyset reads them back, timestamps to the microsecond, BC
 * dates included). p holds the quoted names. */
void filter_sql_keys(const filter_query *q, pool *p, strbuf *b);

/* Appends the whole list statement: its rows are (row JSON, key 1 text,
 * ..., key nkeys text), at most fetch of them, in order; after ?after's
 * cursor and matching every filter. For an id ordering, column 1 is the
 * id: reply_page's next. fetch is the page size plus one (a page is full
 * when fetch rows come back). */
void filter_sql_list(const filter_query *q, long long fetch, strbuf *b, filter_params *ps);

/* Appends the count statement (?count=exact): one row, the number of rows
 * matching the filters (the cursor aside). */
void filter_sql_count(const filter_query *q, strbuf *b, filter_params *ps);

/* ---- cursors (filter_cursor.c) ---- */

/* Makes next for the row whose keys (nkeys texts, NULL for SQL NULL) are
 * given: the plain id for an id ordering, else an opaque text bound to
 * the table and the ordering and checksummed. Returns it in *out (a pool
 * string), or false with a 422 naming order when the keys are too long
 * for a cursor (FILTER_CURSOR_MAX). */
bool filter_cursor_make(const filter_query *q, const char *const *keys, pool *p, const char **out,
                        api_error *err);

/* filter_cursor_make for row `row` of a filter_sql_list result. */
bool filter_next(const filter_query *q, const PGresult *res, int row, pool *p, const char **out,
                 api_error *err);

/* Reads ?after's text into q->after for q's ordering (filter_parse calls
 * it). Returns false with a 422 naming after when it is not a cursor of
 * this table and ordering, is damaged, or holds a value its column could
 * not hold. */
bool filter_cursor_read(filter_query *q, const char *text, pool *p, api_error *err);

/* ---- after PostgreSQL refused a value ---- */

/* After a statement built from q failed with a refused value (a 422 of
 * SQLSTATE class 22): asks PostgreSQL to read each filter value, then each
 * cursor value, alone, and names the first refused one's column (after,
 * for the cursor) in err, in this service's own words. */
void filter_blame(const filter_query *q, pool *p, api_error *err);

/* The statements filter_blame runs (one per column type, and the
 * cursor's timestamps), for the mode's statement list. NULL-terminated. */
extern const db_stmt *const filter_blame_statements[];

#endif
