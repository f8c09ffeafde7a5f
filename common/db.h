/*
 * db: the PostgreSQL connection of the calling thread (one per process for
 * single-threaded modes, one per worker for threaded ones). A thread that
 * waits (a long-poll) parks its connection for another thread to use, and
 * takes one again when it wakes: the process's connections are capped by
 * the number of its workers, not of its waiters (db_park, db_set_connection_cap).
 *
 * Opened lazily on first use, checked before each use (a connection the
 * server closed while idle, e.g. across a PostgreSQL restart, is noticed and
 * replaced before a statement is sent on it), and re-opened by itself on
 * the next request after any failure: no restart of the service is needed.
 *
 * Every wait on the server (connect, send, result) is bounded by the current
 * request's deadline (db_begin), so a hung server costs a request at most its
 * budget and then 503 database_unavailable, never a hang. The server side
 * also gets statement_timeout = 4/5 of DB_TIMEOUT_MS.
 *
 * Statements are prepared once per connection (db_stmt), and prepared again
 * after a reconnect; through a transaction-pooling PgBouncer
 * (DATABASE_POOLER=transaction) they are sent as text each time instead.
 * Values always travel as parameters.
 */
#ifndef BACKEND_DB_H
#define BACKEND_DB_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "api_error.h"
#include "pool.h"

/* A statement a mode prepares: define them as static consts. */
typedef struct db_stmt {
    const char *name; /* unique per process, e.g. "document_put" */
    const char *sql;  /* $1..$n placeholders, never request text */
    int nparams;
} db_stmt;

/* Names the connection (application_name) after the mode. */
void db_set_app_name(const char *name);

/* true: connections made from now on plan each prepared statement once
 * (mode.generic_plans). Not through PgBouncer, where every statement is
 * sent as text and planned each time anyway. */
void db_set_generic_plans(bool on);

/* The "options" startup parameter of a connection, into buf (at least
 * DB_OPTIONS_MAX bytes): the server-side statement_timeout, four fifths of
 * the client's budget timeout_ms (at least 1), and with generic_plans the
 * plan cache mode. Sent unless through PgBouncer, which refuses it. */
enum { DB_OPTIONS_MAX = 128 };
void db_startup_options(char *buf, size_t size, long timeout_ms, bool generic_plans);

/* One host of a DATABASE_URL: libpq's multi-host form names several
 * ("postgresql://a:5432,b:5432,c:5432/db?target_session_attrs=read-write").
 * Empty strings: not given (libpq's default applies). */
enum { DB_HOSTS_MAX = 16, DB_HOST_LEN = 256 };
typedef struct db_host {
    char host[DB_HOST_LEN];
    char port[16];
    char hostaddr[64];
} db_host;

/* Splits url's hosts (and their ports and addresses, which libpq pairs by
 * position; a single port applies to every host) into out, at most max.
 * Returns how many: 0 when the url names none (a Unix socket by default)
 * or cannot be parsed (then libpq says why when it connects), -1 when its
 * lists do not pair up. */
int db_hosts(const char *url, db_host *out, int max);

/* How long one host may take to accept a connection, in ms: the url's
 * connect_timeout (seconds) when it has one, else DB_CONNECT_TIMEOUT_MS.
 * A host that hangs (a frozen machine) is left after it for the next. */
#define DB_CONNECT_TIMEOUT_MS 1000
long db_connect_timeout_ms(const char *url);

/* Writes "host:port" of the calling thread's connection into buf, or ""
 * when it has none: for the log and backend_database_info. */
void db_current_host(char *buf, size_t size);

/* Registers fn to run before any statement while it has not yet succeeded
 * in this process: serve.c makes the mode's schema and sentinel with it, so
 * they are created before the first statement that needs them, whatever
 * request runs first (and a request that fails validation never waits on the
 * database). fn's own statements do not re-enter it. */
void db_set_schema_hook(bool (*fn)(api_error *err));

/* Starts a deadline of budget_ms for the database work that follows. */
void db_begin(long budget_ms);

/* Runs a prepared statement with text parameters (a NULL value is SQL NULL).
 * Returns the result (tuples or command ok), owned by pool p, or NULL with
 * err set by db_error_map. */
PGresult *db_query(pool *p, const db_stmt *st, const char *const *params, api_error *err);

/* Runs a statement built at run time (the sql mode's per-table statements):
 * like db_query, but st is the caller's (not a static const) and it is
 * prepared on this thread's connection once, as recorded in *prepared_on,
 * which the caller keeps with st and sets to 0 when it builds it; a new
 * connection prepares it again. st->name must be unique on the thread
 * (db_stmt_name gives one). Returns the result, owned by pool p, or NULL
 * with err set. */
PGresult *db_query_built(pool *p, const db_stmt *st, unsigned long long *prepared_on,
                         const char *const *params, api_error *err);

/* Runs a statement built for one request (the sql mode's filtered lists
 * and writes, whose text depends on the query) unprepared, with text
 * parameters ($1 is params[0]): sql is built from validated, quoted names
 * only, never request text. Returns the result, owned by pool p, or NULL
 * with err set by db_error_map. */
PGresult *db_query_once(pool *p, const char *sql, int nparams, const char *const *params, api_error *err);

/* Writes a statement name not used before in this process into buf (at least
 * 32 bytes): "<prefix>_<n>". prefix is the caller's constant. */
void db_stmt_name(char *buf, size_t size, const char *prefix);

/* Deallocates a statement built at run time from this thread's connection,
 * if it is prepared there (best effort: a failure only drops the
 * connection). The caller frees st afterwards. */
void db_forget_built(const db_stmt *st, unsigned long long prepared_on);

/* Ends this thread's open transaction, if there is one, with ROLLBACK (the
 * connection is dropped if that fails): for a handler whose transaction
 * (db_command("BEGIN") ... "COMMIT") failed half-way, so the next request
 * finds a clean connection. */
void db_rollback(void);

/* Runs parameterless SQL text (DDL, BEGIN, COMMIT) over the simple query
 * protocol. Returns false with err set. */
bool db_command(const char *sql, api_error *err);

/* The one place PostgreSQL errors become the API's (docs/errors.md):
 * SQLSTATE class 08, 53, 57P0x and a lost connection are 503
 * database_unavailable, and so are 57014, 40001, 40P01 and 55P03 (timed
 * out, or lost a race: retry); 23505 is 409; 23502, 23514 and class 22 are
 * 422; anything else is 500 (and the server's message goes to the log,
 * never to the client). The SQLSTATE and the constraint travel on err
 * (err->sqlstate, err->constraint). res may be NULL. */
void db_error_map(const PGresult *res, api_error *err);

/* False when notifications cannot be relied on (DATABASE_POOLER=transaction:
 * a LISTEN would hold on one server connection of the pool, not ours). */
bool db_can_listen(void);

/* Makes this thread's connection LISTEN on channel, a constant identifier
 * of the caller's (never request text: LISTEN takes no parameters). */
bool db_listen(const char *channel, api_error *err);

/* Whether this thread's connection is the one db_listen ran on (false
 * once it was dropped or replaced). */
bool db_listening(void);

/* Called for each notification db_wait_notifications reads: its channel
 * and payload ("" when none), valid during the call only. */
typedef void (*db_notify_fn)(const char *channel, const char *payload, void *arg);

/* Waits up to timeout_ms for notifications on the channels this thread's
 * connection listens on, and calls fn for each one queued. Returns how many
 * came (0 when the time ran out or the wake descriptor is readable), -1
 * with err when the connection failed (it is dropped). Not bounded by
 * db_begin's deadline. For common/notify.c's listener thread. */
int db_wait_notifications(long timeout_ms, db_notify_fn fn, void *arg, api_error *err);

/* Sets a descriptor (the process's stop pipe) whose readability ends every
 * db_wait_notifications at once, as if its time ran out: a stopping process
 * does not keep its listener waiting. -1 (the default): none. */
void db_set_wake_fd(int fd);

/* Closes the calling thread's connection (its next statement takes a spare
 * one or opens a new one). */
void db_disconnect(void);

/* Leaves the calling thread's connection on the process's spare list,
 * open, for the next thread that has none (this one included): a request
 * that waits parks its connection, so waiting requests hold none. Its
 * next statement takes one again. */
void db_park(void);

/* Caps the connections the process's threads hold and keep spare (0, the
 * default: no cap). A thread that needs one at the cap waits for one to be
 * parked or closed until its deadline (db_begin), then 503. The listener
 * (notify.h) counts too. */
void db_set_connection_cap(int n);

/* Closes the spare connections (a stopping process). */
void db_close_spares(void);

#endif
