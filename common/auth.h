/*
 * auth: the bearer-token check every route but GET|HEAD /health passes.
 *
 * Fails closed: with no token configured the answer is 503
 * auth_not_configured, never "let everyone in". The comparison takes the
 * same time whatever the presented token is, so its bytes cannot be
 * guessed one at a time from response times.
 */
#ifndef BACKEND_AUTH_H
#define BACKEND_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "api_error.h"

/* Checks an Authorization header value (NULL when absent) against the
 * configured token (g_config). Returns true when it matches; otherwise fills
 * err with 401 unauthorized or 503 auth_not_configured and returns false. */
bool auth_check(const char *authorization, api_error *err);

/* Constant-time equality of a presented token with the expected one: the
 * time depends only on the expected token's length. */
bool auth_token_equal(const char *presented, size_t presented_len, const char *expected, size_t expected_len);

#endif
