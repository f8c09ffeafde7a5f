/*
 * notify: waiting for a PostgreSQL notification without holding a
 * connection.
 *
 * One listener thread per process holds one connection, LISTENs on every
 * channel a waiter has asked for, and counts, per (channel, payload), the
 * notifications it has read. A waiter takes a ticket (the count now) before
 * it reads what it waits for, and if there is nothing, sleeps on a condition
 * variable until the count moves past its ticket: a commit after its read
 * notifies after the ticket was taken, so it is never missed. While it
 * sleeps its connection is parked (db_park), so a thousand waiters cost a
 * thousand sleeping threads and one connection, not a thousand.
 *
 * Counts live in NOTIFY_BUCKETS buckets by a hash of (channel, payload): two
 * keys sharing a bucket only wake each other for nothing (the waiter reads
 * again, finds nothing and sleeps again). When the listener's connection is
 * lost, every bucket moves (every waiter reads again), and until it is back
 * notify_watch says false: waiters then read again every NOTIFY_POLL_MS, as
 * they do through a transaction pooler, where a LISTEN cannot be relied on.
 */
#ifndef BACKEND_NOTIFY_H
#define BACKEND_NOTIFY_H

#include <stdbool.h>

/* How often a waiter without a ticket reads again, in ms. */
#define NOTIFY_POLL_MS 250

typedef struct notify_ticket {
    unsigned bucket;
    unsigned long long count;
} notify_ticket;

/* Takes a ticket for notifications on channel (a constant identifier of the
 * caller's: LISTEN takes no parameters) whose payload is key. Starts the
 * listener and its LISTEN on channel the first time (waiting up to a second
 * for it). Call it before reading what the caller waits for. Returns false
 * when notifications cannot be relied on now (a transaction pooler, the
 * listener not connected): the caller then passes NULL to notify_wait. */
bool notify_watch(const char *channel, const char *key, notify_ticket *t);

/* Parks the calling thread's database connection (db_park), then sleeps
 * until a notification counted after t came, until until_ms (clock_ms) or
 * until notify_stop, whichever is first; with t NULL, at most
 * NOTIFY_POLL_MS. Returns true when a notification woke it. The thread's
 * next statement takes a connection again. */
bool notify_wait(const notify_ticket *t, long long until_ms);

/* Whether the listener is connected and listening on every channel asked
 * for: false while its connection is lost (a failover) until it is back on
 * the new primary. */
bool notify_listening(void);

/* Wakes every waiter for good and stops the listener (a stopping process);
 * returns once the listener thread has ended. */
void notify_stop(void);

#endif
