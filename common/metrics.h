/*
 * metrics: the replica's request counters, shared by every process of every
 * mode, for GET /metrics (docs/operations.md, "Metrics").
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
#include <stddef.h>

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

/* Gauges of the whole replica that a mode computes itself, in its periodic
 * tick (mode.h), from state common/ knows nothing of: the mode writes them
 * as exposition text (# HELP and # TYPE lines, then samples, with names of
 * its own starting "backend_" and bounded label sets) into its process's
 * slot, and a scrape, whichever mode serves it, appends for each mode the
 * text one of its processes published last, while that is under its
 * ttl_seconds old (a mode whose processes stopped publishing drops out
 * rather than showing stale values). Text over METRICS_BOARD_BYTES is not
 * published (a warning says so). */
enum { METRICS_BOARD_BYTES = 6144 };
void metrics_publish(const char *text, size_t len, long ttl_seconds);

/* True when no process of this one's mode has published within
 * every_seconds: with several processes of a mode ticking, one of them
 * does the work each period (a race may let two). */
bool metrics_publish_due(long every_seconds);

/* Appends v as a label value, quoted and escaped (backslash, quote,
 * newline), for text to publish. */
void metrics_label_value(strbuf *sb, const char *v);

/* Appends the Prometheus text exposition (format 0.0.4) of every slot:
 * requests, durations, processes, connections, sessions, and the modes'
 * published gauges. */
void metrics_render(strbuf *sb);

/* The Content-Type of that text. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
