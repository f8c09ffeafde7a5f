#define _POSIX_C_SOURCE 200809L
#include "schema.h"

#include <stdatomic.h>
#include <stdio.h>

#include "db.h"

static atomic_bool g_ready;

bool schema_ready(void) { return atomic_load(&g_ready); }

static const db_stmt upsert_sentinel = {
    "sentinel_upsert",
    "INSERT INTO sentinels (mode, shape, note) VALUES ($1, $2::jsonb, $3) "
    "ON CONFLICT (mode) DO UPDATE SET shape = EXCLUDED.shape, note = EXCLUDED.note",
    3};

bool schema_ensure(const mode *m, api_error *err) {
    char lock[96];
    snprintf(lock, sizeof lock, "SELECT pg_advisory_xact_lock(%lld)", SCHEMA_LOCK_KEY);
    pool *p = pool_new();
    const char *params[] = {m->name, m->sentinel_shape, m->sentinel_note};
    bool ok = db_command("BEGIN", err) && db_command(lock, err) &&
              db_command("CREATE TABLE IF NOT EXISTS sentinels ("
                         " mode text PRIMARY KEY,"
                         " shape jsonb NOT NULL,"
                         " note text NOT NULL,"
                         " created_at timestamptz NOT NULL DEFAULT now())",
                         err) &&
              (m->schema_sql == NULL || db_command(m->schema_sql, err)) &&
              db_query(p, &upsert_sentinel, params, err) != NULL && db_command("COMMIT", err);
    pool_free(p);
    /* On failure the transaction is still open (or aborted): closing the
     * connection rolls it back and releases the lock. */
    if (ok) atomic_store(&g_ready, true);
    else db_disconnect();
    return ok;
}
