#define _POSIX_C_SOURCE 200809L
#include "store.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "db.h"
#include "schema.h"

static char g_idle_text[24];
static char g_touch_text[24]; /* seconds between two writes of last_seen_at */

/* backend-mcp's schema steps, recorded in schema_migrations under the
 * component name "mcp" (no mode has that name). A step, once released, is
 * never changed: a change is a new step at the end. Step 1 is the table
 * the previous release created at start-up outside the migrations, hence
 * IF NOT EXISTS: on a database that has it, the step records it and keeps
 * its rows (tests/integration/13-migrations.bats). */
static const char *const migrations[] = {
    "CREATE TABLE IF NOT EXISTS mcp_sessions ("
    " id text PRIMARY KEY,"
    " protocol_version text NOT NULL,"
    " created_at timestamptz NOT NULL DEFAULT now(),"
    " last_seen_at timestamptz NOT NULL DEFAULT now());"
    "CREATE INDEX IF NOT EXISTS mcp_sessions_last_seen ON mcp_sessions (last_seen_at)",
    /* Step 2: a session's resource subscriptions (watch.h), on every
     * replica like the session, gone with it; since: the changes feed's
     * cursor when it was made, so no write after it is missed. */
    "CREATE TABLE mcp_subscriptions ("
    " session_id text NOT NULL REFERENCES mcp_sessions (id) ON DELETE CASCADE,"
    " uri text NOT NULL,"
    " namespace text NOT NULL,"
    " key text,"
    " since text NOT NULL,"
    " PRIMARY KEY (session_id, uri))",
    NULL};

static const db_stmt insert_stmt = {"mcp_session_insert",
                                    "INSERT INTO mcp_sessions (id, protocol_version) VALUES ($1, $2)", 2};
/* Live, and whether last_seen_at is old enough to be written again. */
static const db_stmt lookup_stmt = {
    "mcp_session_lookup",
    "SELECT protocol_version, last_seen_at < now() - make_interval(secs => $3::int) FROM mcp_sessions"
    " WHERE id = $1 AND last_seen_at > now() - make_interval(secs => $2::int)",
    3};
static const db_stmt touch_stmt = {"mcp_session_touch",
                                   "UPDATE mcp_sessions SET last_seen_at = now() WHERE id = $1", 1};
static const db_stmt remove_stmt = {
    "mcp_session_remove",
    "DELETE FROM mcp_sessions WHERE id = $1 RETURNING last_seen_at > now() - make_interval(secs => $2::int)",
    2};
static const db_stmt sweep_stmt = {
    "mcp_session_sweep",
    "DELETE FROM mcp_sessions WHERE last_seen_at < now() - make_interval(secs => $1::int)", 1};

bool store_ensure_schema(api_error *err) { return schema_migrate(STORE_COMPONENT, migrations, err); }

/* One store operation, run on a worker. */
typedef struct op {
    enum { OP_INSERT, OP_LOOKUP, OP_REMOVE } kind;
    const char *id;
    const char *version_in;
    char version[SESSION_VERSION_MAX];
    session_status status;
} op;

static double g_last_sweep; /* monotonic seconds; touched by workers only under g_sweep_lock */
static pthread_mutex_t g_sweep_lock = PTHREAD_MUTEX_INITIALIZER;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void run_op(void *arg) {
    op *o = arg;
    api_error err;
    pool *p = pool_new();
    db_begin(g_config.db_timeout_ms);
    o->status = SESSION_STORE_DOWN;
    if (o->kind == OP_INSERT) {
        const char *params[] = {o->id, o->version_in};
        if (db_query(p, &insert_stmt, params, &err)) o->status = SESSION_LIVE;
        pthread_mutex_lock(&g_sweep_lock);
        bool sweep = now_s() - g_last_sweep > 60;
        if (sweep) g_last_sweep = now_s();
        pthread_mutex_unlock(&g_sweep_lock);
        const char *sweep_params[] = {g_idle_text};
        if (sweep && o->status == SESSION_LIVE) db_query(p, &sweep_stmt, sweep_params, &err);
    } else if (o->kind == OP_LOOKUP) {
        const char *params[] = {o->id, g_idle_text, g_touch_text};
        PGresult *res = db_query(p, &lookup_stmt, params, &err);
        if (res && PQntuples(res) == 0) o->status = SESSION_GONE;
        if (res && PQntuples(res) == 1) {
            snprintf(o->version, sizeof o->version, "%s", PQgetvalue(res, 0, 0));
            o->status = SESSION_LIVE;
            const char *touch[] = {o->id};
            if (strcmp(PQgetvalue(res, 0, 1), "t") == 0 && db_query(p, &touch_stmt, touch, &err) == NULL)
                o->status = SESSION_STORE_DOWN;
        }
    } else {
        const char *params[] = {o->id, g_idle_text};
        PGresult *res = db_query(p, &remove_stmt, params, &err);
        if (res)
            o->status =
                PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0 ? SESSION_LIVE : SESSION_GONE;
    }
    pool_free(p);
}

static bool store_insert(void *ctx, const char *id, const char *version) {
    op o = {.kind = OP_INSERT, .id = id, .version_in = version};
    workers_run(ctx, run_op, &o);
    return o.status == SESSION_LIVE;
}

static session_status store_lookup(void *ctx, const char *id, char version[SESSION_VERSION_MAX]) {
    op o = {.kind = OP_LOOKUP, .id = id};
    workers_run(ctx, run_op, &o);
    if (o.status == SESSION_LIVE) memcpy(version, o.version, SESSION_VERSION_MAX);
    return o.status;
}

static session_status store_remove(void *ctx, const char *id) {
    op o = {.kind = OP_REMOVE, .id = id};
    workers_run(ctx, run_op, &o);
    return o.status;
}

void store_init(session_store *store, workers *w, long idle_seconds) {
    snprintf(g_idle_text, sizeof g_idle_text, "%ld", idle_seconds);
    /* A quarter of the idle time at most, so a session in use never
     * expires between two writes. */
    long touch = idle_seconds / 4 < STORE_TOUCH_SECONDS ? idle_seconds / 4 : STORE_TOUCH_SECONDS;
    snprintf(g_touch_text, sizeof g_touch_text, "%ld", touch);
    *store = (session_store){store_insert, store_lookup, store_remove, w};
}
