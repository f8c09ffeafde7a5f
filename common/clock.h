/*
 * clock: the one clock for durations, deadlines and waits: monotonic
 * milliseconds (never steps with the wall clock). Wall-clock times shown
 * to clients come from PostgreSQL (now()), log times from log.c.
 */
#ifndef BACKEND_CLOCK_H
#define BACKEND_CLOCK_H

/* Milliseconds on the monotonic clock, with a fraction (µs resolution):
 * only differences between two readings mean anything. */
double clock_ms(void);

#endif
