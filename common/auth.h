/*
 * auth: the bearer-token check every route but the public ones passes
 * (docs/security.md).
 *
 * Fails closed: with no root token configured the answer is 503
 * auth_not_configured, never "let everyone in". The root tokens (one, or
 * two while rotating: DATASTORE_TOKEN_FILE is read again every
 * AUTH_REREAD_MS) are both compared in constant time on every request,
 * whatever was presented, so their bytes cannot be guessed one at a time
 * from response times. A scoped token (`bk_...`) is hashed and looked up in
 * the process's set of live tokens' digests (token_store.h): a wrong one
 * costs no database query.
 */
#ifndef BACKEND_AUTH_H
#define BACKEND_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "api_error.h"
#include "pool.h"
#include "scope.h"

/* How often the token file is read again, at most, in ms (on the request
 * path, by the first request after the interval). */
#define AUTH_REREAD_MS 2000

/* Who a valid token is. */
typedef struct auth_who {
    char id[40];         /* "root:1", "root:2", or the scoped token's id;
                             "" when no token was checked */
    bool root;           /* every scope */
    const scope *scopes; /* a scoped token's, in the request's pool; NULL
                             for the root token */
    size_t nscopes;
} auth_who;

/* Checks an Authorization header value (NULL when absent). Returns true
 * with *who filled (scopes copied into p; p NULL: not copied); otherwise
 * fills err with 401 unauthorized (missing, wrong, expired or revoked) or
 * 503 auth_not_configured and returns false. */
bool auth_identify(const char *authorization, pool *p, auth_who *who, api_error *err);

/* auth_identify without asking who. */
bool auth_check(const char *authorization, api_error *err);

/* True when who may use area (a mode's name, or metrics) with that access
 * on namespace name (NULL: none named); else false with 403 forbidden,
 * field "scope", the detail naming the scope that would allow it. */
bool auth_allows(const auth_who *who, const char *area, bool write, const char *name, api_error *err);

/* True when who has a scope of area granting that access, whatever its
 * pattern (an MCP tool is listed when some call of it may be allowed). */
bool auth_may_use(const auth_who *who, const char *area, bool write);

/* For a list spanning the namespaces of area: false when who may read
 * every one (no filter needed); else true, with *exact and *prefixes set
 * to PostgreSQL array literals (in p) of the namespaces and the prefixes
 * its read scopes of area name, for the list's statement to keep only
 * those (`name = ANY(exact) OR starts_with(name, any prefix)`). */
bool auth_read_filter(const auth_who *who, const char *area, pool *p, const char **exact,
                      const char **prefixes);

/* Constant-time equality of a presented token with the expected one: the
 * time depends only on the expected token's length. */
bool auth_token_equal(const char *presented, size_t presented_len, const char *expected, size_t expected_len);

#endif
