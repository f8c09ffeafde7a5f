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

#include <pthread.h>
#include <stdbool.h>

#include "mode.h"
#include "notify.h"

/* True once the process has been asked to stop (SIGTERM/SIGINT): a
 * handler that waits (a long-poll) should give up early. */
bool serve_stopping(void);
/* Sets the stop flag (backend-mcp, which has a loop of its own). */
void serve_request_stop(void);

/* The worker threads of this process that answer requests (serve_main
 * sets it; backend-mcp sets its own). */
int serve_worker_count(void);
void serve_set_worker_count(int n);

/* Waiting requests (a long-poll, an event stream between events) hold no
 * worker at accept and no database connection while they wait:
 *  - in a FastCGI process, a worker that is about to wait first starts a
 *    worker in its place (a thread of SERVE_WORKER_STACK_BYTES), so the
 *    requests that do not wait always find as many workers as before; it
 *    answers its own request when the wait ends, and then ends;
 *  - while it sleeps, its connection is parked for the others (db_park) and
 *    a notification wakes it (notify.h): the process's connections stay
 *    capped at its workers + SERVE_SPARE_CONNECTIONS (the listener, the
 *    periodic work, and waiters reading again after a wake-up), whatever
 *    the number of waiters;
 *  - at most WAITERS_PER_PROCESS (g_config.waiters_per_process, default
 *    512) requests of a process wait at once; the next one answers at once
 *    with what there is (the client asks again). In a
 *    process without workers of its own at accept (backend-mcp's tool
 *    workers), at most half its workers wait.
 * A handler that waits: serve_waiter_start once; then, in a loop,
 * serve_waiter_watch, read what it waits for, and if there is nothing,
 * serve_waiter_sleep (false: answer now with what there is); at the end
 * serve_waiter_end. */
#define SERVE_SPARE_CONNECTIONS  4
#define SERVE_WORKER_STACK_BYTES (2 * 1024 * 1024)

typedef struct serve_waiter {
    const char *channel; /* the NOTIFY channel, a constant of the mode's */
    const char *key;     /* the payload that concerns this waiter */
    long long until_ms;  /* clock_ms when the wait ends */
    notify_ticket ticket;
    bool watched; /* ticket is valid: a notification wakes the waiter */
    bool counted; /* it holds a place among the process's waiters */
} serve_waiter;

/* Prepares w to wait for a notification on channel with payload key, until
 * until_ms at the latest (now or earlier: never waits). */
void serve_waiter_start(serve_waiter *w, const char *channel, const char *key, long long until_ms);
/* Takes a notification ticket: call it before each read of what the waiter
 * waits for, so a commit after the read wakes it. */
void serve_waiter_watch(serve_waiter *w);
/* After a read that found nothing: false at once when the waiter's end has
 * come, the process is stopping or no place is left among the waiters
 * (answer now with what there is); else sleeps until a notification, until_ms
 * or the waiter's end, whichever is first, and returns true (read again). */
bool serve_waiter_sleep(serve_waiter *w, long long until_ms);
/* Gives the waiter's place back; call it once, whatever happened. */
void serve_waiter_end(serve_waiter *w);

/* Starts the n FastCGI workers of mode m into threads[] (serve_main),
 * capping the process's database connections accordingly. False when a
 * thread could not be made. */
bool serve_workers_start(const mode *m, int n, pthread_t *threads);
/* Joins them once the process stops, waits up to wait_ms for the workers
 * started in place of waiters, and closes the spare connections. */
void serve_workers_join(int n, pthread_t *threads, long wait_ms);

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
