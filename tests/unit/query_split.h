/*
 * query_split.h: a query string split into percent-decoded name/value
 * pairs as request.c does it ('&' between pairs, the first '=' between
 * name and value, '+' a space, a pair without a name dropped), for the tests and the fuzzer that drive
 * sql/filter.h with query strings.
 */
#ifndef BACKEND_QUERY_SPLIT_H
#define BACKEND_QUERY_SPLIT_H

#include <string.h>

#include "pool.h"
#include "request.h"

/* Splits qs into *out (a pool array); returns the number of pairs, or -1
 * when an escape is malformed or decodes to NUL (request.c's 422). */
static inline long query_split(pool *p, const char *qs, query_param **out) {
    size_t cap = 1;
    for (const char *s = qs; *s; s++) cap += *s == '&';
    query_param *q = pool_alloc(p, cap * sizeof *q);
    long n = 0;
    for (const char *s = qs; *s;) {
        const char *amp = strchr(s, '&'), *end = amp ? amp : s + strlen(s);
        const char *eq = memchr(s, '=', (size_t)(end - s));
        if (end > s) {
            const char *ne = eq ? eq : end;
            q[n].name = request_decode(p, s, (size_t)(ne - s), true);
            q[n].value = eq ? request_decode(p, eq + 1, (size_t)(end - eq - 1), true) : "";
            if (q[n].name == NULL || q[n].value == NULL) return -1;
            if (q[n].name[0] != '\0') n++; /* request.c drops "=x" */
        }
        s = amp ? amp + 1 : end;
    }
    *out = q;
    return n;
}

#endif
