#define _POSIX_C_SOURCE 200809L
#include "db.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "log.h"
#include "metrics.h"

enum { MAX_PREPARED = 128 };

/* Per thread: each worker of a threaded mode has its own connection. */
static _Thread_local PGconn *g_conn;
static _Thread_local const db_stmt *g_prepared[MAX_PREPARED]; /* prepared on g_conn */
static _Thread_local size_t g_nprepared;
static _Thread_local struct timespec g_deadline;
static _Thread_local bool g_listening; /* g_conn has a LISTEN running */
/* Which connection this is: a serial unique in the process, so a statement
 * built at run time knows whether it is prepared on the current one. */
static _Thread_local unsigned long long g_conn_serial;
static atomic_ullong g_serials; /* connections opened and statement names given */
static char g_app_name[64] = "backend";
static bool (*g_schema_hook)(api_error *err);
static _Thread_local bool t_in_hook; /* the hook's own statements skip it */

void db_set_schema_hook(bool (*fn)(api_error *err)) { g_schema_hook = fn; }

/* Runs the schema hook unless it is running already on this thread. */
static bool schema_first(api_error *err) {
    if (g_schema_hook == NULL || t_in_hook) return true;
    t_in_hook = true;
    bool ok = g_schema_hook(err);
    t_in_hook = false;
    return ok;
}

void db_set_app_name(const char *name) { snprintf(g_app_name, sizeof g_app_name, "backend-%s", name); }

void db_begin(long budget_ms) {
    clock_gettime(CLOCK_MONOTONIC, &g_deadline);
    g_deadline.tv_sec += budget_ms / 1000;
    g_deadline.tv_nsec += (budget_ms % 1000) * 1000000L;
    if (g_deadline.tv_nsec >= 1000000000L) {
        g_deadline.tv_sec++;
        g_deadline.tv_nsec -= 1000000000L;
    }
}

static long ms_left(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long ms = (g_deadline.tv_sec - now.tv_sec) * 1000 + (g_deadline.tv_nsec - now.tv_nsec) / 1000000;
    return ms < 0 ? 0 : ms;
}

void db_disconnect(void) {
    if (g_conn != NULL) PQfinish(g_conn);
    if (g_conn_serial != 0) metrics_db_connections_add(-1);
    g_conn = NULL;
    g_conn_serial = 0;
    g_nprepared = 0;
    g_listening = false;
}

/* Waits until the connection's socket is ready for events, or the deadline.
 * Returns the poll revents, 0 on timeout. */
static int wait_socket(PGconn *c, short events) {
    for (;;) {
        long left = ms_left();
        if (left == 0) return 0;
        struct pollfd pfd = {.fd = PQsocket(c), .events = events};
        if (pfd.fd < 0) return POLLERR;
        int n = poll(&pfd, 1, (int)left);
        if (n > 0) return pfd.revents ? pfd.revents : events;
        if (n == 0) return 0;
        if (errno != EINTR) return POLLERR;
    }
}

static bool fail_unavailable(api_error *err, const char *why) {
    log_msg(LOG_WARN, "database unavailable: %s", why);
    db_disconnect();
    return API_DB_UNAVAILABLE(err, "the database is unavailable: %s", why);
}

/* Server notices ("relation already exists, skipping") go to the log at
 * debug level instead of libpq's default, bare stderr. */
static void notice_to_log(void *arg, const char *message) {
    (void)arg;
    char line[512];
    snprintf(line, sizeof line, "%s", message);
    line[strcspn(line, "\n")] = '\0';
    log_msg(LOG_DEBUG, "database notice: %s", line);
}

static bool connect_db(api_error *err) {
    char options[64];
    /* Below the client's budget, so that a statement the client gave up on
     * has normally been cancelled by the server too. */
    long server_ms = g_config.db_timeout_ms * 4 / 5;
    snprintf(options, sizeof options, "-c statement_timeout=%ld", server_ms > 0 ? server_ms : 1);
    /* PgBouncer refuses the "options" startup parameter: through it the
     * server-side statement_timeout is the role's (docs/operations.md). */
    const char *keys[] = {"dbname", "application_name", "client_encoding", g_config.pooled ? NULL : "options",
                          NULL};
    const char *vals[] = {g_config.database_url, g_app_name, "UTF8", options, NULL};
    g_conn = PQconnectStartParams(keys, vals, 1);
    if (g_conn == NULL) return fail_unavailable(err, "out of memory starting a connection");
    if (PQstatus(g_conn) == CONNECTION_BAD) {
        char why[200];
        snprintf(why, sizeof why, "%s", PQerrorMessage(g_conn));
        why[strcspn(why, "\n")] = '\0';
        return fail_unavailable(err, why);
    }
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    while (st != PGRES_POLLING_OK) {
        if (st == PGRES_POLLING_FAILED) {
            char why[200];
            snprintf(why, sizeof why, "%s", PQerrorMessage(g_conn));
            why[strcspn(why, "\n")] = '\0';
            return fail_unavailable(err, why);
        }
        if (wait_socket(g_conn, st == PGRES_POLLING_READING ? POLLIN : POLLOUT) == 0)
            return fail_unavailable(err, "connecting timed out");
        st = PQconnectPoll(g_conn);
    }
    PQsetNoticeProcessor(g_conn, notice_to_log, NULL);
    if (PQsetnonblocking(g_conn, 1) != 0)
        return fail_unavailable(err, "cannot make the connection non-blocking");
    g_conn_serial = atomic_fetch_add(&g_serials, 1) + 1;
    metrics_db_connections_add(1);
    log_msg(LOG_INFO, "connected to the database");
    return true;
}

/* Frees the notifications libpq has queued; returns true when one of them
 * carried `payload` (NULL: none wanted). */
static bool drop_notifies(const char *payload) {
    bool seen = false;
    PGnotify *n;
    while ((n = PQnotifies(g_conn)) != NULL) {
        if (payload != NULL && n->extra != NULL && strcmp(n->extra, payload) == 0) seen = true;
        PQfreemem(n);
    }
    return seen;
}

/* Returns a usable connection, replacing one the server closed while we
 * were idle (a restart sends a FATAL message and closes the socket, so the
 * socket reads as ready while no query is pending). */
static bool ensure_conn(api_error *err) {
    if (g_conn != NULL) {
        struct pollfd pfd = {.fd = PQsocket(g_conn), .events = POLLIN};
        /* INTRANS is a caller's open transaction (schema.c); INERROR or
         * ACTIVE means an earlier request stopped half-way. */
        PGTransactionStatusType tx = PQtransactionStatus(g_conn);
        bool stale =
            PQstatus(g_conn) != CONNECTION_OK || pfd.fd < 0 || (tx != PQTRANS_IDLE && tx != PQTRANS_INTRANS);
        /* Data on an idle connection that is not listening can only be the
         * server's goodbye (a FATAL "terminating connection" arrives before
         * the EOF, which may not have been read yet): replace it now rather
         * than fail the next statement on it. */
        if (!stale && poll(&pfd, 1, 0) > 0)
            stale = !PQconsumeInput(g_conn) || PQstatus(g_conn) != CONNECTION_OK || !g_listening;
        /* Queued notifications are a waiter's business while it listens
         * (db_wait_notify reads them); otherwise they are stale. */
        if (!stale && !g_listening) drop_notifies(NULL);
        if (stale && tx == PQTRANS_INTRANS) {
            /* Inside a caller's transaction a new connection would run
             * the rest of it outside it (each statement committing on its
             * own): fail instead, and the caller's transaction is gone
             * with the connection. */
            db_disconnect();
            return API_DB_UNAVAILABLE(err, "the database connection was lost inside a transaction");
        }
        if (stale) {
            log_msg(LOG_INFO, "dropping a closed database connection");
            db_disconnect();
        }
    }
    return g_conn != NULL || connect_db(err);
}

static bool result_ok(const PGresult *res) {
    ExecStatusType st = PQresultStatus(res);
    return st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK || st == PGRES_EMPTY_QUERY;
}

/* Flushes what was sent, then collects the results of one command. Returns
 * the first failed result if any, else the last one; NULL when the
 * connection failed or the deadline passed (err set, connection dropped). */
static PGresult *await_result(api_error *err) {
    int r;
    while ((r = PQflush(g_conn)) == 1) {
        int ev = wait_socket(g_conn, POLLOUT | POLLIN);
        if (ev == 0) return fail_unavailable(err, "sending timed out"), NULL;
        if ((ev & POLLIN) && !PQconsumeInput(g_conn)) break;
    }
    if (r < 0) return fail_unavailable(err, "the connection was lost while sending"), NULL;
    PGresult *result = NULL;
    for (;;) {
        while (PQisBusy(g_conn)) {
            if (wait_socket(g_conn, POLLIN) == 0) {
                PQclear(result);
                return fail_unavailable(err, "the database did not answer in time"), NULL;
            }
            if (!PQconsumeInput(g_conn)) {
                PQclear(result);
                return fail_unavailable(err, "the connection was lost"), NULL;
            }
        }
        PGresult *next = PQgetResult(g_conn);
        if (next == NULL) break;
        if (result != NULL && !result_ok(result)) {
            PQclear(next); /* keep the first failure: it says why */
        } else {
            PQclear(result);
            result = next;
        }
    }
    if (result == NULL) return fail_unavailable(err, "the connection was lost"), NULL;
    if (result_ok(result)) return result;
    db_error_map(result, err);
    PQclear(result);
    if (PQstatus(g_conn) != CONNECTION_OK) db_disconnect();
    return NULL;
}

static bool ensure_prepared(const db_stmt *st, api_error *err) {
    for (size_t i = 0; i < g_nprepared; i++)
        if (g_prepared[i] == st) return true;
    if (g_nprepared == MAX_PREPARED) {
        /* Never expected: a mode declares a bounded set of statements. */
        return API_INTERNAL(err, "too many prepared statements");
    }
    if (!PQsendPrepare(g_conn, st->name, st->sql, st->nparams, NULL))
        return fail_unavailable(err, "the connection was lost while preparing");
    PGresult *res = await_result(err);
    if (res == NULL) return false;
    PQclear(res);
    g_prepared[g_nprepared++] = st;
    return true;
}

static void pgresult_release(void *res) { PQclear(res); }

/* Prepares a statement built at run time on the current connection, unless
 * *prepared_on says it is there already. */
static bool ensure_built(const db_stmt *st, unsigned long long *prepared_on, api_error *err) {
    if (*prepared_on == g_conn_serial) return true;
    if (!PQsendPrepare(g_conn, st->name, st->sql, st->nparams, NULL))
        return fail_unavailable(err, "the connection was lost while preparing");
    PGresult *res = await_result(err);
    if (res == NULL) return false;
    PQclear(res);
    *prepared_on = g_conn_serial;
    return true;
}

/* db_query and db_query_built: prepared_on is NULL for a static statement. */
static PGresult *run_stmt(pool *p, const db_stmt *st, unsigned long long *prepared_on,
                          const char *const *params, api_error *err) {
    if (!schema_first(err) || !ensure_conn(err)) return NULL;
    /* Through a transaction-pooling PgBouncer the next statement may run on
     * another server connection, where a named statement does not exist:
     * send the text each time (still with parameters). */
    if (!g_config.pooled && !(prepared_on ? ensure_built(st, prepared_on, err) : ensure_prepared(st, err)))
        return NULL;
    int sent = g_config.pooled ? PQsendQueryParams(g_conn, st->sql, st->nparams, NULL, params, NULL, NULL, 0)
                               : PQsendQueryPrepared(g_conn, st->name, st->nparams, params, NULL, NULL, 0);
    if (!sent) return fail_unavailable(err, "the connection was lost while sending"), NULL;
    PGresult *res = await_result(err);
    if (res != NULL) pool_defer(p, pgresult_release, res);
    return res;
}

PGresult *db_query(pool *p, const db_stmt *st, const char *const *params, api_error *err) {
    return run_stmt(p, st, NULL, params, err);
}

PGresult *db_query_built(pool *p, const db_stmt *st, unsigned long long *prepared_on,
                         const char *const *params, api_error *err) {
    return run_stmt(p, st, prepared_on, params, err);
}

void db_stmt_name(char *buf, size_t size, const char *prefix) {
    snprintf(buf, size, "%s_%llu", prefix, atomic_fetch_add(&g_serials, 1) + 1);
}

void db_forget_built(const db_stmt *st, unsigned long long prepared_on) {
    if (g_conn == NULL || prepared_on != g_conn_serial || g_config.pooled) return;
    if (PQtransactionStatus(g_conn) != PQTRANS_IDLE) return; /* it goes with the connection */
    char sql[96];
    snprintf(sql, sizeof sql, "DEALLOCATE \"%s\"", st->name);
    api_error err;
    if (!PQsendQuery(g_conn, sql)) {
        fail_unavailable(&err, "the connection was lost while sending");
        return;
    }
    PGresult *res = await_result(&err);
    PQclear(res);
}

void db_rollback(void) {
    if (g_conn == NULL) return;
    PGTransactionStatusType tx = PQtransactionStatus(g_conn);
    if (tx != PQTRANS_INTRANS && tx != PQTRANS_INERROR) return;
    api_error err;
    if (!PQsendQuery(g_conn, "ROLLBACK")) {
        fail_unavailable(&err, "the connection was lost while sending");
        return;
    }
    PGresult *res = await_result(&err);
    if (res == NULL) db_disconnect();
    PQclear(res);
}

bool db_command(const char *sql, api_error *err) {
    if (!schema_first(err) || !ensure_conn(err)) return false;
    if (!PQsendQuery(g_conn, sql)) return fail_unavailable(err, "the connection was lost while sending");
    PGresult *res = await_result(err);
    if (res == NULL) return false;
    PQclear(res);
    return true;
}

bool db_can_listen(void) { return !g_config.pooled; }

bool db_listening(void) { return g_listening; }

bool db_listen(const char *channel, api_error *err) {
    char sql[96];
    snprintf(sql, sizeof sql, "LISTEN %s", channel);
    if (!db_command(sql, err)) return false;
    g_listening = true;
    return true;
}

bool db_unlisten(api_error *err) {
    if (!g_listening) return true;
    bool ok = db_command("UNLISTEN *", err);
    g_listening = false;
    if (g_conn != NULL) drop_notifies(NULL);
    return ok;
}

static int g_wake_fd = -1;

void db_set_wake_fd(int fd) { g_wake_fd = fd; }

int db_wait_notify(const char *payload, long timeout_ms, api_error *err) {
    if (g_conn == NULL) return fail_unavailable(err, "not connected"), -1;
    if (drop_notifies(payload)) return 1;
    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    long long end_ms = (long long)end.tv_sec * 1000 + end.tv_nsec / 1000000 + timeout_ms;
    for (;;) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long long left = end_ms - ((long long)now.tv_sec * 1000 + now.tv_nsec / 1000000);
        if (left <= 0) return 0;
        struct pollfd pfd[2] = {{.fd = PQsocket(g_conn), .events = POLLIN},
                                {.fd = g_wake_fd, .events = POLLIN}};
        int n = poll(pfd, g_wake_fd >= 0 ? 2 : 1, (int)left);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail_unavailable(err, "waiting on the connection failed"), -1;
        if (n == 0 || pfd[1].revents != 0) return 0;
        if (!PQconsumeInput(g_conn) || PQstatus(g_conn) != CONNECTION_OK)
            return fail_unavailable(err, "the connection was lost while waiting"), -1;
        if (drop_notifies(payload)) return 1;
    }
}

void db_error_map(const PGresult *res, api_error *err) {
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *column = res ? PQresultErrorField(res, PG_DIAG_COLUMN_NAME) : NULL;
    const char *constraint = res ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;
    const char *message = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (state == NULL || strncmp(state, "08", 2) == 0 || strncmp(state, "53", 2) == 0 ||
        strncmp(state, "57P0", 4) == 0) {
        fail_unavailable(err, message ? message : "the connection was lost");
    } else if (strcmp(state, "57014") == 0 || strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
               strcmp(state, "55P03") == 0) {
        /* Timed out or lost a race the client can simply retry. */
        log_msg(LOG_WARN, "database: %s (%s)", message ? message : "", state);
        API_DB_UNAVAILABLE(err, "the database could not finish the request in time; retry");
    } else if (strcmp(state, "23505") == 0) {
        API_CONFLICT(err, column, "a unique value is taken (%s)", constraint ? constraint : "unique");
    } else if (strcmp(state, "23502") == 0) {
        API_INVALID(err, column, "%s must not be null", column ? column : "a value");
    } else if (strcmp(state, "23514") == 0 || strncmp(state, "22", 2) == 0) {
        API_INVALID(err, column, "invalid value: %s", message ? message : state);
    } else {
        log_msg(LOG_ERROR, "database error %s: %s", state, message ? message : "");
        API_INTERNAL(err, "internal error (database %s)", state);
    }
    snprintf(err->sqlstate, sizeof err->sqlstate, "%s", state ? state : "");
    snprintf(err->constraint, sizeof err->constraint, "%s", constraint ? constraint : "");
}
