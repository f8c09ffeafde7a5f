/*
 * serve: the FastCGI loop every mode executable's main calls.
 *
 *   backend-<mode>                  serve FastCGI on fd 0 (lighttpd spawns it)
 *   backend-<mode> --check-config   validate the environment and exit (0 or 2)
 *   backend-<mode> --init           create the mode's schema and sentinel, exit
 *   backend-<mode> --lighttpd-conf  print the fastcgi.server routing of every
 *                                   registered mode (lighttpd.conf includes it)
 *   backend-<mode> --routes         print "METHOD PATTERN public|auth" for
 *                                   every route of every registered mode
 *                                   ("-" for a route that takes no method);
 *                                   tests/integration/12-hostile.bats
 *                                   generates its matrix from it
 *   backend-<mode> --sql NAME       print the SQL of a registered statement
 *                                   (make bench feeds it to pgbench)
 *   backend-<mode> --sql NAME ARG   print one a mode builds at run time, e.g.
 *                                   sql_rows_insert for a table definition
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

/* Runs the executable for the mode named mode_name; returns the exit status. */
int serve_main(const char *mode_name, int argc, char **argv);

/* Answers one parsed request whose body (if any) is already in req: what
 * the FastCGI loop does per request, without FastCGI (for the MCP layer).
 * Errors are rendered into out by reply_error. */
void serve_dispatch(const mode *m, request *req, reply *out);

#endif
