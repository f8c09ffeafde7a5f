/*
 * clock: the one clock for durations, deadlines and waits: monotonic
 * milliseconds (never steps with the wall clock). Wall-clock times shown
 * to clients come from PostgreSQL (now()), log times from log.c.
 */
#ifndef BACKEND_CLOCK_H
#define BACKEND_CLOCK_H

#include <pthread.h>
#include <time.h>

/* Milliseconds on the monotonic clock, with a fraction (µs resolution):
 * only differences between two readings mean anything. */
double clock_ms(void);

/* The monotonic time ms milliseconds from now (0 or less: now), as an
 * absolute struct timespec: the deadline of a pthread_cond_timedwait on a
 * condition made with CLOCK_MONOTONIC, or of a poll loop. */
struct timespec clock_deadline(long long ms);

/* Initialises cond to time its waits on the monotonic clock, the one
 * clock_deadline gives deadlines on (a condition's default is the wall
 * clock, which steps). The caller destroys it with pthread_cond_destroy,
 * or never, for a condition that lives as long as the process. */
void clock_cond_init(pthread_cond_t *cond);

#endif
