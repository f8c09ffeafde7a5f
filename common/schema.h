/*
 * schema: a mode's tables and its sentinel row, created at process start.
 *
 * Many processes of many modes start at once against a new database (lighttpd
 * starts them all together), and CREATE TABLE IF NOT EXISTS is not safe
 * against itself under concurrency (two creators race on the catalog's
 * unique indexes). So the whole step runs in one transaction holding one
 * advisory lock: each process waits its turn, none fails, and every mode's
 * sentinel row is there when its process is.
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

/* Creates the sentinels table and m's schema, and upserts m's sentinel row,
 * within the current db deadline. Returns false with err set. */
bool schema_ensure(const mode *m, api_error *err);

/* True once schema_ensure has succeeded in this process. */
bool schema_ready(void);

#endif
