/*
 * session: the MCP sessions of this process (streamable HTTP's
 * Mcp-Session-Id), in memory.
 *
 * A session is made by initialize and ends with DELETE /mcp, or after
 * MCP_SESSION_IDLE_SECONDS with no request and no open GET stream. At most
 * SESSIONS_MAX live at once: making one more ends the least recently used
 * session that has no open stream (docs/mcp.md). Thread-safe: every
 * function takes the table's lock.
 */
#ifndef BACKEND_MCP_SESSION_H
#define BACKEND_MCP_SESSION_H

#include <stdbool.h>

enum { SESSION_ID_LEN = 32, SESSIONS_MAX = 4096 };

/* Sets the idle time after which a session ends. */
void sessions_init(long idle_seconds);

/* Makes a session; stores its id (32 hex digits of a random 128-bit
 * value). Returns false when the table is full of sessions with open
 * streams. */
bool session_create(char id[SESSION_ID_LEN + 1]);

/* True when id names a live session (and marks it used now). */
bool session_touch(const char *id);

/* Ends the session; its open streams close. Returns false if it was not
 * live. */
bool session_end(const char *id);

/* Counts an open GET stream on the session (it does not expire while one
 * is open). Returns false if the session is not live. */
bool session_stream_open(const char *id);
void session_stream_close(const char *id);

/* Waits up to timeout_ms, or until the session ends or the process stops.
 * Returns true while the session is live and the process is not stopping. */
bool session_stream_wait(const char *id, long timeout_ms);

/* Wakes every waiting stream for the process to stop. */
void sessions_shutdown(void);

/* Ends every session (frees the table). */
void sessions_free(void);

#endif
