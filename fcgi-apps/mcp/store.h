/*
 * store: the session store of backend-mcp, a table in PostgreSQL that every
 * backend-mcp process sharing the database reads (session.h), so a session
 * made on one replica is valid on all of them and a DELETE on any one ends
 * it everywhere (docs/decisions.md, "Sessions on every replica").
 *
 *   mcp_sessions(id, protocol_version, created_at, last_seen_at)
 *
 * A row is live while last_seen_at is within MCP_SESSION_IDLE_SECONDS;
 * last_seen_at is written at most once every STORE_TOUCH_SECONDS per
 * session (a quarter of the idle time when that is shorter), and rows idle past the limit are deleted by the next session
 * made after a minute without a sweep.
 */
#ifndef BACKEND_MCP_STORE_H
#define BACKEND_MCP_STORE_H

#include <stdbool.h>

#include "api_error.h"
#include "session.h"
#include "workers.h"

enum { STORE_TOUCH_SECONDS = 5 };

/* The name backend-mcp's schema steps are recorded under in
 * schema_migrations (schema_migrate in common/schema.h). */
#define STORE_COMPONENT "mcp"

/* The table's schema steps not yet run (schema_migrate), at start-up under
 * the schema lock after every mode's schema: returns false with err set. */
bool store_ensure_schema(api_error *err);

/* Fills store with the PostgreSQL store: its statements run on w (threads
 * with database connections of their own), with sessions idle for
 * idle_seconds ended. w is borrowed. */
void store_init(session_store *store, workers *w, long idle_seconds);

#endif
