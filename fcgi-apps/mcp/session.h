/*
 * session: the MCP sessions of the session era (streamable HTTP's
 * Mcp-Session-Id, protocol 2025-03-26 to 2025-11-25).
 *
 * A session is made by initialize and ends with DELETE /mcp, or after
 * MCP_SESSION_IDLE_SECONDS with no request and no open GET stream.
 *
 * With a store (session_store: backend-mcp's is PostgreSQL, store.c) a
 * session is valid on every process that shares the store: this file is
 * then a cache in front of it. A session this process validated less than
 * SESSION_CACHE_MS ago is taken as live without asking the store, so a
 * DELETE on another process is seen here at most SESSION_CACHE_MS late;
 * sessions with an open GET stream on this process are checked against
 * the store by sessions_recheck (every second), which closes their streams
 * when the session has ended elsewhere. Without a store (the unit tests,
 * the fuzzer) sessions live in this process's memory only.
 *
 * At most SESSIONS_MAX sessions are held in memory: making one more drops
 * the least recently used one without an open stream (from the cache only,
 * when there is a store). Thread-safe: every function takes the table's
 * lock, and never holds it while the store works.
 */
#ifndef BACKEND_MCP_SESSION_H
#define BACKEND_MCP_SESSION_H

#include <stdbool.h>

enum { SESSION_ID_LEN = 32, SESSIONS_MAX = 4096, SESSION_VERSION_MAX = 16, SESSION_CACHE_MS = 1000 };

/* What a session lookup found. */
typedef enum session_status { SESSION_GONE, SESSION_LIVE, SESSION_STORE_DOWN } session_status;

/* Where sessions are shared between processes. Each function may block
 * (it talks to the database); ctx is passed back. */
typedef struct session_store {
    /* Records a new session; false when the store cannot be reached. */
    bool (*insert)(void *ctx, const char *id, const char *version);
    /* Whether id is live (not ended, not idle longer than the idle time);
     * a live one has its version copied to version and its last use
     * recorded (the store may skip that when it was recorded recently). */
    session_status (*lookup)(void *ctx, const char *id, char version[SESSION_VERSION_MAX]);
    /* Ends id; SESSION_GONE when it was not live. */
    session_status (*remove)(void *ctx, const char *id);
    void *ctx;
} session_store;

/* Sets the idle time after which a session ends, and the store (NULL:
 * memory only). store is borrowed until sessions_free. */
void sessions_init(long idle_seconds, const session_store *store);

/* Makes a session at the negotiated protocol version; stores its id (32 hex
 * digits of a random 128-bit value). Returns SESSION_LIVE, SESSION_GONE
 * when the table is full of sessions with open streams, or
 * SESSION_STORE_DOWN. */
session_status session_create(char id[SESSION_ID_LEN + 1], const char *version);

/* Binds a session id to a token (docs/security.md): the id a client sees
 * is the session's id with each hex digit XORed with the SHA-256 of
 * token_key ("root" for the root tokens, else the scoped token's id), and
 * the same call turns it back. The same id presented with another token
 * so names no session: 404. An id that is not SESSION_ID_LEN lower-case hex
 * digits becomes "-" (it names no session either). */
void session_bind(const char *id, const char *token_key, char out[SESSION_ID_LEN + 1]);

/* Whether id names a live session (and marks it used now); a live one has
 * its protocol version copied to version (may be NULL). */
session_status session_touch(const char *id, char version[SESSION_VERSION_MAX]);

/* Ends the session everywhere; its open streams here close. */
session_status session_end(const char *id);

/* Counts an open GET stream on the session (it does not expire while one
 * is open). Returns false if the session is not live here. */
bool session_stream_open(const char *id);
void session_stream_close(const char *id);

/* Waits up to timeout_ms, or until the session ends or the process stops.
 * Returns true while the session is live and the process is not stopping. */
bool session_stream_wait(const char *id, long timeout_ms);

/* Asks the store about every session with an open stream here, which keeps
 * them alive there, and ends here (closing the streams) those that have
 * ended elsewhere. Returns how many were checked. */
int sessions_recheck(void);

/* The sessions this process holds now (not idle past their expiry), for
 * the metrics' sessions gauge. */
long sessions_live(void);

/* Wakes every waiting stream for the process to stop. */
void sessions_shutdown(void);

/* Forgets every session (frees the table). */
void sessions_free(void);

#endif
