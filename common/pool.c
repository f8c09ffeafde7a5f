#define _POSIX_C_SOURCE 200809L
#include "pool.h"

#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { POOL_PAGE = 4096 };

/* A chunk is one malloc: either a shared page for small allocations or a
 * dedicated block for a large one. */
typedef struct chunk {
    struct chunk *next;
    size_t used, size;
    alignas(max_align_t) unsigned char bytes[];
} chunk;

typedef struct cleanup {
    struct cleanup *next;
    void (*fn)(void *);
    void *arg;
} cleanup;

struct pool {
    chunk *pages;      /* newest first; pages->bytes is where small allocs go */
    cleanup *cleanups; /* newest first, so they run in reverse order */
};

static void *xmalloc(size_t n) {
    void *p = malloc(n);
    if (p == NULL) {
        fputs("backend: out of memory\n", stderr);
        abort();
    }
    return p;
}

pool *pool_new(void) {
    pool *p = xmalloc(sizeof *p);
    p->pages = NULL;
    p->cleanups = NULL;
    return p;
}

void pool_free(pool *p) {
    if (p == NULL) return;
    for (cleanup *c = p->cleanups; c != NULL;) {
        cleanup *next = c->next;
        c->fn(c->arg);
        free(c);
        c = next;
    }
    for (chunk *c = p->pages; c != NULL;) {
        chunk *next = c->next;
        free(c);
        c = next;
    }
    free(p);
}

static chunk *chunk_new(size_t size) {
    chunk *c = xmalloc(sizeof *c + size);
    c->size = size;
    c->used = 0;
    c->next = NULL;
    return c;
}

void *pool_alloc(pool *p, size_t n) {
    const size_t align = alignof(max_align_t);
    n = (n + align - 1) / align * align;
    if (n == 0) n = align;
    if (n > POOL_PAGE / 4) {
        /* Large: its own chunk, linked behind the current page so the page
         * stays the one small allocations use. */
        chunk *c = chunk_new(n);
        c->used = n;
        if (p->pages == NULL) {
            p->pages = c;
        } else {
            c->next = p->pages->next;
            p->pages->next = c;
        }
        memset(c->bytes, 0, n);
        return c->bytes;
    }
    if (p->pages == NULL || p->pages->size - p->pages->used < n) {
        chunk *c = chunk_new(POOL_PAGE);
        c->next = p->pages;
        p->pages = c;
    }
    void *r = p->pages->bytes + p->pages->used;
    p->pages->used += n;
    memset(r, 0, n);
    return r;
}

char *pool_strndup(pool *p, const char *s, size_t n) {
    char *r = pool_alloc(p, n + 1);
    memcpy(r, s, n);
    r[n] = '\0';
    return r;
}

char *pool_strdup(pool *p, const char *s) { return pool_strndup(p, s, strlen(s)); }

void pool_defer(pool *p, void (*fn)(void *), void *arg) {
    cleanup *c = xmalloc(sizeof *c);
    c->fn = fn;
    c->arg = arg;
    c->next = p->cleanups;
    p->cleanups = c;
}
