/*
 * schema: a mode's tables and its sentinel row, created at process start.
 *
 * A mode's schema is a numbered list of steps (mode.h, `migrations`). The
 * steps a database has run are recorded in schema_migrations(mode, step,
 * applied_at); at start-up the ones it has not are run in order and
 * recorded, so a database made by an earlier release is brought forward in
 * place, nothing lost (tests/integration/13-migrations.bats starts from
 * release 0.1.0's schema, tests/fixtures/schema-0.1.0.sql).
 *
 * Many processes of many modes start at once against a new database (lighttpd
 * starts them all together), and CREATE TABLE IF NOT EXISTS is not safe
 * against itself under concurrency (two creators race on the catalog's
 * unique indexes). So the whole step runs in one transaction holding one
 * advisory lock: each process waits its turn, none fails, no step runs
 * twice, and every mode's sentinel row is there when its process is.
 */
#ifndef BACKEND_SCHEMA_H
#define BACKEND_SCHEMA_H

#include <stdbool.h>

#include "api_error.h"
#include "mode.h"

/* The advisory lock key all modes share (an arbitrary constant). */
#define SCHEMA_LOCK_KEY 7261534100LL

/* SQL rendering a timestamptz column as ISO 8601 in UTC with microseconds. */
#define SQL_UTC(col) "to_char((" col ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

/* Creates the sentinels and schema_migrations tables, runs the steps of m's
 * schema not yet recorded, and upserts m's sentinel row, in one transaction
 * under the lock, within the current db deadline. Returns false with err
 * set (and nothing of it done). */
bool schema_ensure(const mode *m, api_error *err);

/* The same for a component that is not a mode and has no sentinel (an
 * executable's own tables): runs the steps of steps (step N is
 * steps[N-1], NULL ends the list) not yet recorded under component's name
 * in schema_migrations, in one transaction under the lock. component must
 * be no mode's name. Returns false with err set (and nothing of it done). */
bool schema_migrate(const char *component, const char *const *steps, api_error *err);

/* True once schema_ensure has succeeded in this process. */
bool schema_ready(void);

#endif
