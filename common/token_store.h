/*
 * token_store: the scoped tokens as each process knows them
 * (docs/security.md, "Scoped tokens").
 *
 * A scoped token is `bk_` + 64 hex digits (256 random bits); the database
 * (table auth_tokens) keeps its SHA-256 digest, never the token. Each
 * process keeps the live tokens' digests, ids, expiries and scopes in
 * memory, sorted by digest, and reads them again when a notification on
 * channel auth_tokens says the table changed (a create or a revoke: a
 * trigger) and at least every TOKEN_STORE_REFRESH_MS, both on the request
 * path of the first request that presents a scoped token after it. A
 * presented token is hashed and looked up there: a wrong one costs no
 * database query. last_used_at is written at most once a minute per token
 * and process.
 */
#ifndef BACKEND_TOKEN_STORE_H
#define BACKEND_TOKEN_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "api_error.h"
#include "auth.h"
#include "pool.h"

#define TOKEN_STORE_REFRESH_MS 2000
#define TOKEN_PREFIX           "bk_"
enum { TOKEN_SECRET_HEX = 64, TOKEN_DIGEST_HEX = 64 };

/* The NOTIFY channel a create or revoke signals on (the table's trigger). */
#define TOKEN_STORE_CHANNEL "auth_tokens"

/* Writes the lower-case hex SHA-256 of the n bytes at tok into hex (at
 * least TOKEN_DIGEST_HEX + 1 bytes). */
void token_store_digest(const char *tok, size_t n, char *hex);

/* Looks up a presented scoped token (tok, n bytes): true with who filled
 * (its id, its scopes copied into p when p is not NULL) when it is live;
 * else false with 401 (wrong, revoked or expired). */
bool token_store_lookup(const char *tok, size_t n, pool *p, auth_who *who, api_error *err);

/* True while the scoped token id is live (not revoked, not expired), as
 * this process knows it (read again when stale): for the streams a token
 * holds open, which end within 2 s of its revocation. */
bool token_store_id_live(const char *id);

#endif
