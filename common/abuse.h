/*
 * abuse: the per-client-address limits (docs/operations.md), shared by
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

enum { ABUSE_ADDR_MAX = 48 }; /* an address's text, NUL included */

/* The address a request is counted under: remote (the peer that connected
 * to lighttpd, REMOTE_ADDR) unless it is one of TRUSTED_PROXIES; then the
 * X-Forwarded-For list (forwarded_for, NULL when absent) is read from the
 * right, each entry standing for the peer of the proxy to its right, and
 * the first one that is not a trusted proxy is the client (an entry that
 * is not an address stops the walk at the proxy that wrote it). Entries
 * left of it were written by the client and are never read, so a forged
 * header moves nothing. Writes the address into buf (ABUSE_ADDR_MAX) and
 * returns buf; NULL when remote is NULL. */
const char *abuse_client_addr(const char *remote, const char *forwarded_for, char buf[ABUSE_ADDR_MAX]);

/* Before the token is checked: false with 429 (err->retry_after set) when
 * addr is over a limit; otherwise counts the request towards
 * RATE_LIMIT_RPS. addr NULL or empty: never limited. */
bool abuse_admit(const char *addr, api_error *err);

/* addr presented a wrong token (not a missing one). */
void abuse_auth_failed(const char *addr);

#endif
