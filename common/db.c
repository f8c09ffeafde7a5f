#define _POSIX_C_SOURCE 200809L
#include "db.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "config.h"
#include "log.h"
#include "metrics.h"

enum { MAX_PREPARED = 128 };

/* One connection and what is prepared on it. A thread holds at most one
 * (t_c); a thread that waits without it (db_park) leaves it on the
 * process's spare list, where the next thread without one takes it. */
typedef struct db_conn {
    PGconn *pg;
    const db_stmt *prepared[MAX_PREPARED]; /* prepared on pg */
    size_t nprepared;
    bool listening; /* pg has a LISTEN running */
    /* Which connection this is: a serial unique in the process, so a
     * statement built at run time knows whether it is prepared here. */
    unsigned long long serial;
    struct db_conn *next_spare;
} db_conn;

static _Thread_local db_conn *t_c;
static _Thread_local struct timespec g_deadline;

/* The process's connections: how many are open, the spare ones (open, idle,
 * held by no thread), and the cap (0: none). */
static pthread_mutex_t g_conns_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_conns_freed;
static int g_conns_open;
static int g_conns_cap;
static db_conn *g_spares;
static pthread_once_t g_conns_once = PTHREAD_ONCE_INIT;

/* The freed condition runs on the monotonic clock, as the deadline does. */
static void conns_init(void) { clock_cond_init(&g_conns_freed); }
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

static atomic_bool g_generic_plans;
void db_set_generic_plans(bool on) { atomic_store(&g_generic_plans, on); }

void db_startup_options(char *buf, size_t size, long timeout_ms, bool generic_plans) {
    /* Below the client's budget, so that a statement the client gave up on
     * has normally been cancelled by the server too. */
    long server_ms = timeout_ms * 4 / 5;
    snprintf(buf, size, "-c statement_timeout=%ld%s", server_ms > 0 ? server_ms : 1,
             generic_plans ? " -c plan_cache_mode=force_generic_plan" : "");
}

void db_begin(long budget_ms) { g_deadline = clock_deadline(budget_ms); }

static long ms_left(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long ms = (g_deadline.tv_sec - now.tv_sec) * 1000 + (g_deadline.tv_nsec - now.tv_nsec) / 1000000;
    return ms < 0 ? 0 : ms;
}

/* Closes c and frees it; one connection fewer is open in the process. */
static void conn_close(db_conn *c) {
    if (c->pg != NULL) PQfinish(c->pg);
    if (c->serial != 0) metrics_db_connections_add(-1);
    free(c);
    pthread_once(&g_conns_once, conns_init);
    pthread_mutex_lock(&g_conns_lock);
    g_conns_open--;
    pthread_cond_signal(&g_conns_freed);
    pthread_mutex_unlock(&g_conns_lock);
}

void db_disconnect(void) {
    if (t_c == NULL) return;
    conn_close(t_c);
    t_c = NULL;
}

void db_set_connection_cap(int n) {
    pthread_mutex_lock(&g_conns_lock);
    g_conns_cap = n > 0 ? n : 0;
    pthread_mutex_unlock(&g_conns_lock);
}

void db_park(void) {
    if (t_c == NULL) return;
    PGTransactionStatusType tx = t_c->pg ? PQtransactionStatus(t_c->pg) : PQTRANS_UNKNOWN;
    if (t_c->listening || tx != PQTRANS_IDLE) {
        /* Never expected (a waiter parks between statements, not inside a
         * transaction): such a connection is no use to another thread. */
        db_disconnect();
        return;
    }
    pthread_once(&g_conns_once, conns_init);
    pthread_mutex_lock(&g_conns_lock);
    t_c->next_spare = g_spares;
    g_spares = t_c;
    pthread_cond_signal(&g_conns_freed);
    pthread_mutex_unlock(&g_conns_lock);
    t_c = NULL;
}

void db_close_spares(void) {
    pthread_mutex_lock(&g_conns_lock);
    db_conn *c = g_spares;
    g_spares = NULL;
    pthread_mutex_unlock(&g_conns_lock);
    while (c != NULL) {
        db_conn *next = c->next_spare;
        conn_close(c);
        c = next;
    }
}

/* Gives the calling thread a connection slot: a spare one, or a new one
 * (t_c->pg still NULL: connect_db fills it) while the process is below its
 * cap; at the cap, waits for one to be parked or closed until the
 * deadline. Returns false with err (503) when none came in time. */
static bool conn_take(api_error *err) {
    pthread_once(&g_conns_once, conns_init);
    pthread_mutex_lock(&g_conns_lock);
    for (;;) {
        if (g_spares != NULL) {
            t_c = g_spares;
            g_spares = t_c->next_spare;
            t_c->next_spare = NULL;
            break;
        }
        if (g_conns_cap == 0 || g_conns_open < g_conns_cap) {
            db_conn *c = calloc(1, sizeof *c);
            if (c == NULL) {
                pthread_mutex_unlock(&g_conns_lock);
                return API_DB_UNAVAILABLE(err, "out of memory for a database connection");
            }
            g_conns_open++;
            t_c = c;
            break;
        }
        if (pthread_cond_timedwait(&g_conns_freed, &g_conns_lock, &g_deadline) == ETIMEDOUT) {
            pthread_mutex_unlock(&g_conns_lock);
            log_msg(LOG_WARN, "all %d database connections of the process stayed busy", g_conns_cap);
            return API_DB_UNAVAILABLE(err, "every database connection of this process is busy; retry");
        }
    }
    pthread_mutex_unlock(&g_conns_lock);
    return true;
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

/* Copies the i-th item of a comma-separated list into buf (a list of one
 * item gives it for every i). Returns the list's length (0 when empty). */
static int list_item(const char *list, int i, char *buf, size_t size) {
    buf[0] = '\0';
    if (list == NULL || list[0] == '\0') return 0;
    int n = 1;
    for (const char *c = list; *c; c++) n += *c == ',';
    const char *start = list;
    for (int k = 0; k < (n == 1 ? 0 : i) && k < n - 1; k++) start = strchr(start, ',') + 1;
    size_t len = strcspn(start, ",");
    if (len >= size) len = size - 1;
    memcpy(buf, start, len);
    buf[len] = '\0';
    return n;
}

/* The value of keyword in libpq's parsed options, or NULL. */
static const char *option_of(const PQconninfoOption *opts, const char *keyword) {
    for (const PQconninfoOption *o = opts; o->keyword != NULL; o++)
        if (strcmp(o->keyword, keyword) == 0) return o->val;
    return NULL;
}

int db_hosts(const char *url, db_host *out, int max) {
    PQconninfoOption *opts = PQconninfoParse(url ? url : "", NULL);
    if (opts == NULL) return 0;
    const char *host = option_of(opts, "host"), *port = option_of(opts, "port");
    const char *addr = option_of(opts, "hostaddr");
    char tmp[2];
    int nhost = list_item(host, 0, tmp, sizeof tmp), naddr = list_item(addr, 0, tmp, sizeof tmp);
    int nport = list_item(port, 0, tmp, sizeof tmp);
    int n = nhost > 0 ? nhost : naddr;
    /* libpq pairs them by position: the same length, or one port for all. */
    if ((naddr > 0 && nhost > 0 && naddr != nhost) || (nport > 1 && nport != n)) n = -1;
    for (int i = 0; i < n && i < max; i++) {
        list_item(host, i, out[i].host, sizeof out[i].host);
        list_item(port, i, out[i].port, sizeof out[i].port);
        list_item(addr, i, out[i].hostaddr, sizeof out[i].hostaddr);
    }
    PQconninfoFree(opts);
    return n > max ? max : n;
}

long db_connect_timeout_ms(const char *url) {
    PQconninfoOption *opts = PQconninfoParse(url ? url : "", NULL);
    if (opts == NULL) return DB_CONNECT_TIMEOUT_MS;
    const char *v = option_of(opts, "connect_timeout");
    long s = v != NULL ? strtol(v, NULL, 10) : 0;
    PQconninfoFree(opts);
    /* libpq's own rule: 1 s counts as 2, 0 or less as none (ours). */
    return s <= 0 ? DB_CONNECT_TIMEOUT_MS : s < 2 ? 2000 : s * 1000;
}

void db_current_host(char *buf, size_t size) {
    buf[0] = '\0';
    if (t_c == NULL || t_c->pg == NULL || PQstatus(t_c->pg) != CONNECTION_OK) return;
    const char *host = PQhost(t_c->pg), *port = PQport(t_c->pg);
    snprintf(buf, size, "%s:%s", host ? host : "", port ? port : "");
}

/* The error message of a connection, on one line, into why. */
static void why_of(PGconn *pg, char *why, size_t size) {
    snprintf(why, size, "%s", pg ? PQerrorMessage(pg) : "out of memory starting a connection");
    why[strcspn(why, "\n")] = '\0';
}

/* Opens a connection to host h (NULL: the url as it is), waiting at most
 * ms and never past the request's deadline. Returns it (the caller owns
 * it), or NULL with why filled. */
static PGconn *connect_one(const db_host *h, long ms, char *why, size_t wsize) {
    char options[DB_OPTIONS_MAX];
    db_startup_options(options, sizeof options, g_config.db_timeout_ms, atomic_load(&g_generic_plans));
    const char *keys[8], *vals[8];
    int k = 0;
    keys[k] = "dbname", vals[k++] = g_config.database_url;
    /* Later keys override the url's: this host alone, with its port. */
    if (h != NULL && h->host[0]) keys[k] = "host", vals[k++] = h->host;
    if (h != NULL && h->port[0]) keys[k] = "port", vals[k++] = h->port;
    if (h != NULL && h->hostaddr[0]) keys[k] = "hostaddr", vals[k++] = h->hostaddr;
    keys[k] = "application_name", vals[k++] = g_app_name;
    keys[k] = "client_encoding", vals[k++] = "UTF8";
    /* PgBouncer refuses the "options" startup parameter: through it the
     * server-side statement_timeout is the role's (docs/operations.md). */
    if (!g_config.pooled) keys[k] = "options", vals[k++] = options;
    keys[k] = NULL, vals[k] = NULL;
    struct timespec budget = g_deadline, mine = clock_deadline(ms);
    if (ms > 0 && ms < ms_left()) g_deadline = mine;
    PGconn *pg = PQconnectStartParams(keys, vals, 1);
    PostgresPollingStatusType st =
        PQstatus(pg) == CONNECTION_BAD ? PGRES_POLLING_FAILED : PGRES_POLLING_WRITING;
    while (st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
        if (wait_socket(pg, st == PGRES_POLLING_READING ? POLLIN : POLLOUT) == 0) break;
        st = PQconnectPoll(pg);
    }
    g_deadline = budget;
    if (st == PGRES_POLLING_OK) return pg;
    if (st == PGRES_POLLING_FAILED)
        why_of(pg, why, wsize);
    else
        snprintf(why, wsize, "connecting timed out");
    PQfinish(pg);
    return NULL;
}

/* Connects t_c: to the url's one host, or to each of its hosts in turn
 * (each given db_connect_timeout_ms), until one accepts and, with
 * target_session_attrs, is what it asks for. */
static bool connect_db(api_error *err) {
    db_host hosts[DB_HOSTS_MAX];
    int n = db_hosts(g_config.database_url, hosts, DB_HOSTS_MAX);
    long per_host = db_connect_timeout_ms(g_config.database_url);
    char why[240] = "no host";
    for (int i = 0; i < (n > 1 ? n : 1) && t_c->pg == NULL; i++) {
        const db_host *h = n > 1 ? &hosts[i] : NULL;
        t_c->pg = connect_one(h, n > 1 ? per_host : 0, why, sizeof why);
        if (t_c->pg == NULL && h != NULL)
            log_msg(LOG_WARN, "database host %s:%s refused or timed out: %s",
                    h->host[0] ? h->host : h->hostaddr, h->port, why);
        if (ms_left() == 0) break;
    }
    if (t_c->pg == NULL) return fail_unavailable(err, why);
    PQsetNoticeProcessor(t_c->pg, notice_to_log, NULL);
    if (PQsetnonblocking(t_c->pg, 1) != 0)
        return fail_unavailable(err, "cannot make the connection non-blocking");
    t_c->serial = atomic_fetch_add(&g_serials, 1) + 1;
    metrics_db_connections_add(1);
    char where[DB_HOST_LEN + 16];
    db_current_host(where, sizeof where);
    log_msg(LOG_INFO, "connected to the database at %s", where);
    return true;
}

/* Frees the notifications libpq has queued on a connection that does not
 * listen (stale ones). */
static void drop_notifies(void) {
    PGnotify *n;
    while ((n = PQnotifies(t_c->pg)) != NULL) PQfreemem(n);
}

/* Returns a usable connection, replacing one the server closed while we
 * were idle (a restart sends a FATAL message and closes the socket, so the
 * socket reads as ready while no query is pending). */
static bool ensure_conn(api_error *err) {
    if (t_c == NULL && !conn_take(err)) return false;
    if (t_c->pg != NULL) {
        struct pollfd pfd = {.fd = PQsocket(t_c->pg), .events = POLLIN};
        /* INTRANS is a caller's open transaction (schema.c); INERROR or
         * ACTIVE means an earlier request stopped half-way. */
        PGTransactionStatusType tx = PQtransactionStatus(t_c->pg);
        bool stale =
            PQstatus(t_c->pg) != CONNECTION_OK || pfd.fd < 0 || (tx != PQTRANS_IDLE && tx != PQTRANS_INTRANS);
        /* Data on an idle connection that is not listening can only be the
         * server's goodbye (a FATAL "terminating connection" arrives before
         * the EOF, which may not have been read yet): replace it now rather
         * than fail the next statement on it. */
        if (!stale && poll(&pfd, 1, 0) > 0)
            stale = !PQconsumeInput(t_c->pg) || PQstatus(t_c->pg) != CONNECTION_OK || !t_c->listening;
        /* Queued notifications are a waiter's business while it listens
         * (the listener's db_wait_notifications reads them); otherwise they are stale. */
        if (!stale && !t_c->listening) drop_notifies();
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
    if (t_c == NULL && !conn_take(err)) return false; /* the stale one was dropped */
    return t_c->pg != NULL || connect_db(err);
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
    while ((r = PQflush(t_c->pg)) == 1) {
        int ev = wait_socket(t_c->pg, POLLOUT | POLLIN);
        if (ev == 0) return fail_unavailable(err, "sending timed out"), NULL;
        if ((ev & POLLIN) && !PQconsumeInput(t_c->pg)) break;
    }
    if (r < 0) return fail_unavailable(err, "the connection was lost while sending"), NULL;
    PGresult *result = NULL;
    for (;;) {
        while (PQisBusy(t_c->pg)) {
            if (wait_socket(t_c->pg, POLLIN) == 0) {
                PQclear(result);
                return fail_unavailable(err, "the database did not answer in time"), NULL;
            }
            if (!PQconsumeInput(t_c->pg)) {
                PQclear(result);
                return fail_unavailable(err, "the connection was lost"), NULL;
            }
        }
        PGresult *next = PQgetResult(t_c->pg);
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
    /* db_error_map drops the connection itself for a 503 (t_c NULL). */
    if (t_c != NULL && PQstatus(t_c->pg) != CONNECTION_OK) db_disconnect();
    return NULL;
}

static bool ensure_prepared(const db_stmt *st, api_error *err) {
    for (size_t i = 0; i < t_c->nprepared; i++)
        if (t_c->prepared[i] == st) return true;
    if (t_c->nprepared == MAX_PREPARED) {
        /* Never expected: a mode declares a bounded set of statements. */
        return API_INTERNAL(err, "too many prepared statements");
    }
    if (!PQsendPrepare(t_c->pg, st->name, st->sql, st->nparams, NULL))
        return fail_unavailable(err, "the connection was lost while preparing");
    PGresult *res = await_result(err);
    if (res == NULL) return false;
    PQclear(res);
    t_c->prepared[t_c->nprepared++] = st;
    return true;
}

static void pgresult_release(void *res) { PQclear(res); }

/* Prepares a statement built at run time on the current connection, unless
 * *prepared_on says it is there already. */
static bool ensure_built(const db_stmt *st, unsigned long long *prepared_on, api_error *err) {
    if (*prepared_on == t_c->serial) return true;
    if (!PQsendPrepare(t_c->pg, st->name, st->sql, st->nparams, NULL))
        return fail_unavailable(err, "the connection was lost while preparing");
    PGresult *res = await_result(err);
    /* 42P05: this connection has it already. A thread can come back to a
     * connection it prepared the statement on before, after holding
     * another (db_park); the name is unique to this statement text. */
    if (res == NULL && strcmp(err->sqlstate, "42P05") == 0 && t_c != NULL) {
        *prepared_on = t_c->serial;
        return true;
    }
    if (res == NULL) return false;
    PQclear(res);
    *prepared_on = t_c->serial;
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
    int sent = g_config.pooled ? PQsendQueryParams(t_c->pg, st->sql, st->nparams, NULL, params, NULL, NULL, 0)
                               : PQsendQueryPrepared(t_c->pg, st->name, st->nparams, params, NULL, NULL, 0);
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
    if (t_c == NULL || t_c->pg == NULL || prepared_on != t_c->serial || g_config.pooled) return;
    if (PQtransactionStatus(t_c->pg) != PQTRANS_IDLE) return; /* it goes with the connection */
    char sql[96];
    snprintf(sql, sizeof sql, "DEALLOCATE \"%s\"", st->name);
    api_error err;
    if (!PQsendQuery(t_c->pg, sql)) {
        fail_unavailable(&err, "the connection was lost while sending");
        return;
    }
    PGresult *res = await_result(&err);
    PQclear(res);
}

void db_rollback(void) {
    if (t_c == NULL || t_c->pg == NULL) return;
    PGTransactionStatusType tx = PQtransactionStatus(t_c->pg);
    if (tx != PQTRANS_INTRANS && tx != PQTRANS_INERROR) return;
    api_error err;
    if (!PQsendQuery(t_c->pg, "ROLLBACK")) {
        fail_unavailable(&err, "the connection was lost while sending");
        return;
    }
    PGresult *res = await_result(&err);
    if (res == NULL) db_disconnect();
    PQclear(res);
}

bool db_command(const char *sql, api_error *err) {
    if (!schema_first(err) || !ensure_conn(err)) return false;
    if (!PQsendQuery(t_c->pg, sql)) return fail_unavailable(err, "the connection was lost while sending");
    PGresult *res = await_result(err);
    if (res == NULL) return false;
    PQclear(res);
    return true;
}

PGresult *db_query_once(pool *p, const char *sql, int nparams, const char *const *params, api_error *err) {
    if (!schema_first(err) || !ensure_conn(err)) return NULL;
    if (!PQsendQueryParams(t_c->pg, sql, nparams, NULL, params, NULL, NULL, 0))
        return fail_unavailable(err, "the connection was lost while sending"), NULL;
    PGresult *res = await_result(err);
    if (res != NULL) pool_defer(p, pgresult_release, res);
    return res;
}

bool db_can_listen(void) { return !g_config.pooled; }

bool db_listen(const char *channel, api_error *err) {
    char sql[96];
    snprintf(sql, sizeof sql, "LISTEN %s", channel);
    if (!db_command(sql, err)) return false;
    t_c->listening = true;
    return true;
}

bool db_listening(void) { return t_c != NULL && t_c->pg != NULL && t_c->listening; }

static int g_wake_fd = -1;

void db_set_wake_fd(int fd) { g_wake_fd = fd; }

/* Calls fn for each notification libpq has queued; returns how many. */
static int deliver_notifies(db_notify_fn fn, void *arg) {
    int count = 0;
    PGnotify *note;
    while ((note = PQnotifies(t_c->pg)) != NULL) {
        fn(note->relname, note->extra != NULL ? note->extra : "", arg);
        PQfreemem(note);
        count++;
    }
    return count;
}

int db_wait_notifications(long timeout_ms, db_notify_fn fn, void *arg, api_error *err) {
    if (t_c == NULL || t_c->pg == NULL) return fail_unavailable(err, "not connected"), -1;
    /* What libpq has read already (while a LISTEN ran, say) first: the
     * socket would not show it again. */
    int count = deliver_notifies(fn, arg);
    if (count > 0) return count;
    struct pollfd pfd[2] = {{.fd = PQsocket(t_c->pg), .events = POLLIN}, {.fd = g_wake_fd, .events = POLLIN}};
    int n = poll(pfd, g_wake_fd >= 0 ? 2 : 1, (int)timeout_ms);
    if (n < 0 && errno == EINTR) return 0;
    if (n < 0) return fail_unavailable(err, "waiting on the connection failed"), -1;
    if (n == 0 || pfd[1].revents != 0) return 0;
    if (!PQconsumeInput(t_c->pg) || PQstatus(t_c->pg) != CONNECTION_OK)
        return fail_unavailable(err, "the connection was lost while waiting"), -1;
    return deliver_notifies(fn, arg);
}

void db_error_map(const PGresult *res, api_error *err) {
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *column = res ? PQresultErrorField(res, PG_DIAG_COLUMN_NAME) : NULL;
    const char *constraint = res ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;
    const char *message = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    /* 25006: the server is read-only, a standby (a failover demoted it):
     * the connection is dropped and the next one finds the primary. */
    if (state == NULL || strncmp(state, "08", 2) == 0 || strncmp(state, "53", 2) == 0 ||
        strncmp(state, "57P0", 4) == 0 || strcmp(state, "25006") == 0) {
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
