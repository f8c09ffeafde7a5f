/*
 * metrics: the replica's request counters, shared by every process of every
 * mode, for GET /metrics (contract section 10; docs/operations.md).
 *
 * Each process owns one slot of a file mapped shared by all of them
 * (metrics.shm in the run folder, BACKEND_SOCKETS): it adds to its slot's
 * counters with atomic operations, and a scrape, whichever process takes
 * it, reads every slot. A slot outlives its process: a process that starts
 * takes over a slot of its own mode whose owner has gone (killed, crashed,
 * stopped), counters and all, so a counter summed over the slots never goes
 * backwards while the replica runs. Gauges (connections, sessions) count
 * only slots whose owner still runs. Without a run folder (the unit tests)
 * the slot is process-local. Why a file: docs/decisions.md.
 */
#ifndef BACKEND_METRICS_H
#define BACKEND_METRICS_H

#include <stdbool.h>

#include "strbuf.h"

/* Takes this process's slot for mode_name (a static string); a second call
 * does nothing. Safe to skip: metrics_observe then takes the slot itself. */
void metrics_init(const char *mode_name);

/* Gives the slot up (the process stops cleanly); its counters stay. */
void metrics_release(void);

/* Counts one answered request: method, status, time taken in ms. */
void metrics_observe(const char *method, int status, double duration_ms);

/* Process gauges: database connections open, sessions held (delta +1/-1). */
void metrics_db_connections_add(int delta);
void metrics_sessions_set(long n);

/* Appends the Prometheus text exposition (format 0.0.4) of every slot:
 * requests, durations, processes, connections, sessions. */
void metrics_render(strbuf *sb);

/* The Content-Type of that text. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
