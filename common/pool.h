/*
 * pool: a per-request memory pool, released in one go (after h2o's
 * lib/common/memory.c).
 *
 * Everything a request needs (decoded path segments, query values, the body,
 * PGresults, jansson values) is allocated from or registered with the
 * request's pool, and pool_free releases all of it. A handler therefore cannot
 * leak, whichever return path it takes.
 */
#ifndef BACKEND_POOL_H
#define BACKEND_POOL_H

#include <stddef.h>

typedef struct pool pool;

/* Returns a new, empty pool; release it with pool_free. */
pool *pool_new(void);
/* Runs the registered cleanups (last registered first), then frees every
 * allocation of the pool and the pool itself. NULL is accepted. */
void pool_free(pool *p);

/* Returns n bytes of zeroed memory owned by the pool (aligned for any type).
 * Aborts on allocation failure. */
void *pool_alloc(pool *p, size_t n);
/* Returns a NUL-terminated copy of the n bytes at s, owned by the pool. */
char *pool_strndup(pool *p, const char *s, size_t n);
char *pool_strdup(pool *p, const char *s);

/* Registers fn(arg) to run when the pool is freed: PQclear for a PGresult,
 * json_decref for a jansson value, and so on. */
void pool_defer(pool *p, void (*fn)(void *), void *arg);

#endif
