/*
 * workers: a fixed set of threads that run the MCP tool calls.
 *
 * Why not the HTTP connection's own thread: libmicrohttpd gives every
 * connection a thread, and lighttpd opens a new connection per proxied
 * request, so a connection thread lives for one request. Database
 * connections are per thread (db.h): on connection threads each call would
 * open a PostgreSQL connection. The workers keep theirs.
 */
#ifndef BACKEND_MCP_WORKERS_H
#define BACKEND_MCP_WORKERS_H

typedef struct workers workers;

/* Starts n threads. Returns NULL when a thread cannot be started. Release
 * with workers_free. */
workers *workers_new(int n);

/* Runs fn(arg) on a worker and returns when it has finished. */
void workers_run(workers *w, void (*fn)(void *), void *arg);

/* Lets the running calls finish, stops the threads (each closes its
 * database connection) and frees w. */
void workers_free(workers *w);

#endif
