#define _POSIX_C_SOURCE 200809L
#include "schema.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "db.h"
#include "log.h"

static atomic_bool g_ready;

bool schema_ready(void) { return atomic_load(&g_ready); }

static const db_stmt upsert_sentinel = {
    "sentinel_upsert",
    "INSERT INTO sentinels (mode, shape, note) VALUES ($1, $2::jsonb, $3) "
    "ON CONFLICT (mode) DO UPDATE SET shape = EXCLUDED.shape, note = EXCLUDED.note",
    3};

static const db_stmt steps_applied = {
    "schema_steps_applied", "SELECT coalesce(max(step), 0) FROM schema_migrations WHERE mode = $1", 1};

static const db_stmt step_record = {"schema_step_record",
                                    "INSERT INTO schema_migrations (mode, step) VALUES ($1, $2::integer)", 2};

/* Runs the steps of component's schema the database has not recorded, in
 * order, recording each (inside the caller's transaction). Returns false
 * with err set. */
static bool migrate(pool *p, const char *component, const char *const *steps, api_error *err) {
    const char *name[] = {component};
    PGresult *res = db_query(p, &steps_applied, name, err);
    if (res == NULL) return false;
    long applied = atol(PQgetvalue(res, 0, 0));
    long known = 0;
    while (steps != NULL && steps[known] != NULL) known++;
    if (applied > known)
        log_msg(LOG_WARN, "the database has schema step %ld of %s; this build knows %ld", applied, component,
                known);
    for (long step = applied + 1; step <= known; step++) {
        char step_text[24];
        snprintf(step_text, sizeof step_text, "%ld", step);
        const char *params[] = {component, step_text};
        if (!db_command(steps[step - 1], err) || db_query(p, &step_record, params, err) == NULL) return false;
        log_msg(LOG_INFO, "schema step %ld of %s applied", step, component);
    }
    return true;
}

/* BEGIN, the schema lock, and the two tables every component's steps rely
 * on. */
static bool begin_locked(api_error *err) {
    char lock[96];
    snprintf(lock, sizeof lock, "SELECT pg_advisory_xact_lock(%lld)", SCHEMA_LOCK_KEY);
    return db_command("BEGIN", err) && db_command(lock, err) &&
           db_command(
               "CREATE TABLE IF NOT EXISTS sentinels ("
               " mode text PRIMARY KEY,"
               " shape jsonb NOT NULL,"
               " note text NOT NULL,"
               " created_at timestamptz NOT NULL DEFAULT now())",
               err) &&
           db_command(
               "CREATE TABLE IF NOT EXISTS schema_migrations ("
               " mode text NOT NULL,"
               " step integer NOT NULL,"
               " applied_at timestamptz NOT NULL DEFAULT now(),"
               " PRIMARY KEY (mode, step))",
               err);
}

bool schema_ensure(const mode *m, api_error *err) {
    pool *p = pool_new();
    /* The sentinel's shape: the example of the mode's declared record. */
    strbuf *shape = strbuf_new();
    if (m->sentinel != NULL)
        output_example(m->sentinel, shape);
    else
        strbuf_puts(shape, "{}");
    const char *params[] = {m->name, shape->data, m->sentinel_note};
    bool ok = begin_locked(err) && migrate(p, m->name, m->migrations, err) &&
              db_query(p, &upsert_sentinel, params, err) != NULL && db_command("COMMIT", err);
    strbuf_free(shape);
    pool_free(p);
    /* On failure the transaction is still open (or aborted): closing the
     * connection rolls it back and releases the lock. */
    if (ok)
        atomic_store(&g_ready, true);
    else
        db_disconnect();
    return ok;
}

bool schema_migrate(const char *component, const char *const *steps, api_error *err) {
    pool *p = pool_new();
    bool ok = begin_locked(err) && migrate(p, component, steps, err) && db_command("COMMIT", err);
    pool_free(p);
    if (!ok) db_disconnect(); /* rolls back, releases the lock */
    return ok;
}
