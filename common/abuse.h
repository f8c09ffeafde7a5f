/*
 * abuse: the per-client-address limits of contract section 10, shared by
 * every process of the replica (a table in a file of the run folder,
 * $BACKEND_SOCKETS/abuse.shm, mapped by all of them; without a run folder,
 * this process's own table).
 *
 * AUTH_FAILURES_MAX: an address that has presented more than that many
 * wrong tokens (a missing token does not count) within the last 60 s gets
 * 429 rate_limited on every authenticated route, the right token or not,
 * until the count falls back to the limit; Retry-After says when.
 * RATE_LIMIT_RPS (0: off): at most that many requests per second per
 * address on authenticated routes. /health is never limited: the serve
 * loop asks only for routes that are not public.
 */
#ifndef BACKEND_ABUSE_H
#define BACKEND_ABUSE_H

#include <stdbool.h>

#include "api_error.h"

/* Before the token is checked: false with 429 (err->retry_after set) when
 * addr is over a limit; otherwise counts the request towards
 * RATE_LIMIT_RPS. addr NULL or empty: never limited. */
bool abuse_admit(const char *addr, api_error *err);

/* addr presented a wrong token (not a missing one). */
void abuse_auth_failed(const char *addr);

#endif
