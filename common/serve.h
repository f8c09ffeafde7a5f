/*
 * serve: the FastCGI loop every mode executable's main calls (serve.c: one
 * request; serve_main.c: the command line and the process's life).
 *
 *   backend-<mode>                  serve FastCGI on fd 0 (lighttpd spawns it)
 *   backend-<mode> --check-config   validate the shared settings and the
 *                                   mode's own, and exit (0 or 2)
 *   backend-<mode> --init           create the mode's schema and sentinel, exit
 *   backend-<mode> --sql NAME       print the SQL of one of the mode's
 *                                   statements (make bench feeds it to pgbench)
 *   backend-<mode> --sql NAME ARG   print one the mode builds at run time, e.g.
 *                                   sql_rows_insert for a table definition
 *
 * What needs every mode (lighttpd's routing, the route list, the check of
 * every mode's settings) is backend-registry's (fcgi-apps/generate.c).
 *
 * For each request: parse (request.h), route (mode.h), authenticate
 * (auth.h), read the body within BODY_MAX_BYTES, make sure the mode's schema
 * exists, call the handler, render the error if it failed (reply.h), write
 * the response and one access log line.
 */
#ifndef BACKEND_SERVE_H
#define BACKEND_SERVE_H

#include <stdbool.h>

#include "mode.h"

/* True once the process has been asked to stop (SIGTERM/SIGINT): a
 * handler that waits (a long-poll) should give up early. */
bool serve_stopping(void);
/* Sets the stop flag (backend-mcp, which has a loop of its own). */
void serve_request_stop(void);

/* The worker threads of this process, each answering one request at a time
 * (a mode that lets requests wait, the queue's long-poll, lets at most half
 * of them wait). serve_main sets it; backend-mcp sets its own. */
int serve_worker_count(void);
void serve_set_worker_count(int n);

/* A request that waits (a long-poll, an event stream) holds its worker and
 * its database connection for as long as it waits. At most half of the
 * process's workers may wait at once, counted across every mode the process
 * carries (backend-mcp carries them all, so the queue's and the document
 * mode's waiters share its tool workers), so that requests that do not wait
 * always find a worker. serve_wait_begin returns true when the caller may
 * wait; it must then call serve_wait_end once, when it stops waiting.
 * false: answer at once with what there is. */
bool serve_wait_begin(void);
void serve_wait_end(void);

/* Runs the executable of mode m; returns the exit status. */
int serve_main(const mode *m, int argc, char **argv);

/* The database budget of one of m's requests, in ms. */
long serve_budget(const mode *m);

/* One FastCGI worker thread of mode m (the argument): accepts and answers
 * requests on fd 0 until serve_stopping(). Returns NULL. */
void *serve_worker(void *m);

/* Answers one parsed request whose body (if any) is already in req: what
 * the FastCGI loop does per request, without FastCGI (for the MCP layer).
 * Errors are rendered into out by reply_error. */
void serve_dispatch(const mode *m, request *req, reply *out);

#endif
