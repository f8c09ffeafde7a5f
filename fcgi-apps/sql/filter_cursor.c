/*
 * sql/filter_cursor: next and ?after (filter.h). For the id ordering the
 * cursor is the row's id, as it always was. For any other ordering it is
 * the last row's key values, which the keyset predicate continues from:
 *
 *   base64url( 0x01 | digest (8) | n | n x (0 | 1 len(2) text) | sum (4) )
 *
 * digest binds it to the table and the ordering (a cursor of another
 * order is refused, not misread); sum, over everything before it, makes a
 * damaged or edited cursor a 422 rather than a wrong page. Neither is a
 * secret: a cursor made by hand can only start a page at another place
 * of the same ordering, and its values are checked like any value.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "filter.h"
#include "table.h"
#include "validate.h"

enum {
    CURSOR_VERSION = 1,
    CURSOR_HEAD = 10, /* version, digest, key count */
    CURSOR_SUM = 4,
    CURSOR_BYTES_MAX = FILTER_CURSOR_MAX / 4 * 3, /* what FILTER_CURSOR_MAX characters hold */
};

#define FNV_OFFSET 14695981039346656037ULL
#define FNV_PRIME  1099511628211ULL
/* The sum's own start, so that it differs from the digest of the same bytes. */
#define SUM_OFFSET 0x63757273ULL

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* FNV-1a over n bytes, continuing from h. */
static uint64_t fnv1a(uint64_t h, const void *data, size_t n) {
    const unsigned char *d = data;
    for (size_t i = 0; i < n; i++) h = (h ^ d[i]) * FNV_PRIME;
    return h;
}

/* The digest of q's table and ordering: each key's name, type, direction
 * and NULL placement. */
static uint64_t order_digest(const filter_query *q) {
    uint64_t h = fnv1a(FNV_OFFSET, q->spec->name, strlen(q->spec->name));
    for (size_t i = 0; i < q->nkeys; i++) {
        const filter_key *k = &q->keys[i];
        const char *type = col_type_name(k->col->type);
        char how[3] = {'|', k->desc ? 'd' : 'a', k->nulls_first ? 'f' : 'l'};
        h = fnv1a(h, how, sizeof how);
        h = fnv1a(h, k->col->name, strlen(k->col->name) + 1);
        h = fnv1a(h, type, strlen(type));
    }
    return h;
}

/* Returns the n bytes at d in base64url without padding (a pool string). */
static char *base64url(pool *p, const unsigned char *d, size_t n) {
    char *out = pool_alloc(p, (n + 2) / 3 * 4 + 1), *o = out;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v =
            (uint32_t)d[i] << 16 | (i + 1 < n ? (uint32_t)d[i + 1] << 8 : 0) | (i + 2 < n ? d[i + 2] : 0);
        size_t chars = n - i >= 3 ? 4 : n - i + 1;
        for (size_t j = 0; j < chars; j++) *o++ = b64[(v >> (18 - 6 * j)) & 63];
    }
    *o = '\0';
    return out;
}

/* Decodes base64url text (no padding) into a pool buffer; returns its
 * length, or -1 when s is not base64url. */
static long unbase64url(pool *p, const char *s, unsigned char **out) {
    size_t n = strlen(s);
    if (n % 4 == 1) return -1;
    unsigned char *d = pool_alloc(p, n / 4 * 3 + 3);
    size_t len = 0;
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++) {
        const char *c = s[i] ? strchr(b64, s[i]) : NULL;
        if (c == NULL) return -1;
        v = v << 6 | (uint32_t)(c - b64);
        if (i % 4 == 3) {
            d[len++] = (unsigned char)(v >> 16), d[len++] = (unsigned char)(v >> 8),
            d[len++] = (unsigned char)v;
            v = 0;
        }
    }
    if (n % 4 == 2) d[len++] = (unsigned char)(v >> 4);
    if (n % 4 == 3) d[len++] = (unsigned char)(v >> 10), d[len++] = (unsigned char)(v >> 2);
    *out = d;
    return (long)len;
}

/* Writes the n low bytes of v at d, most significant first. */
static void put_be(unsigned char *d, uint64_t v, int n) {
    for (int i = n - 1; i >= 0; i--, v >>= 8) d[i] = (unsigned char)v;
}

/* Reads n bytes at d, most significant first. */
static uint64_t get_be(const unsigned char *d, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v = v << 8 | d[i];
    return v;
}

bool filter_cursor_make(const filter_query *q, const char *const *keys, pool *p, const char **out,
                        api_error *err) {
    if (q->id_order) return (*out = pool_strdup(p, keys[0])), true;
    size_t size = CURSOR_HEAD + CURSOR_SUM;
    for (size_t i = 0; i < q->nkeys; i++) size += 1 + (keys[i] ? 2 + strlen(keys[i]) : 0);
    if (size > CURSOR_BYTES_MAX)
        return API_INVALID(
            err, "order",
            "order: the values this page ends on are too long for a cursor (%zu bytes, at most "
            "%d); order by shorter columns",
            size, CURSOR_BYTES_MAX);
    unsigned char *d = pool_alloc(p, size), *w = d + CURSOR_HEAD;
    d[0] = CURSOR_VERSION;
    put_be(d + 1, order_digest(q), 8);
    d[9] = (unsigned char)q->nkeys;
    for (size_t i = 0; i < q->nkeys; i++) {
        *w++ = keys[i] != NULL;
        if (keys[i] == NULL) continue;
        size_t n = strlen(keys[i]);
        put_be(w, n, 2);
        memcpy(w + 2, keys[i], n);
        w += 2 + n;
    }
    put_be(w, fnv1a(SUM_OFFSET, d, size - CURSOR_SUM), CURSOR_SUM);
    *out = base64url(p, d, size);
    return true;
}

bool filter_next(const filter_query *q, const PGresult *res, int row, pool *p, const char **out,
                 api_error *err) {
    const char *keys[FILTER_KEYS_MAX];
    for (size_t i = 0; i < q->nkeys; i++)
        keys[i] = PQgetisnull(res, row, (int)i + 1) ? NULL : PQgetvalue(res, row, (int)i + 1);
    return filter_cursor_make(q, keys, p, out, err);
}

/* The keys of a decoded cursor (d, len bytes, checksum and digest already
 * checked) into q->after. Returns false when they do not fit q's columns. */
static bool read_keys(filter_query *q, const unsigned char *d, size_t len, pool *p) {
    size_t at = CURSOR_HEAD, end = len - CURSOR_SUM;
    if (d[9] != q->nkeys) return false;
    for (size_t i = 0; i < q->nkeys; i++) {
        if (at >= end || d[at] > 1) return false;
        q->after[i] = NULL;
        if (d[at++] == 0) {
            if (!q->keys[i].col->nullable) return false;
            continue;
        }
        if (end - at < 2) return false;
        size_t n = (size_t)get_be(d + at, 2);
        at += 2;
        if (end - at < n || memchr(d + at, '\0', n) != NULL) return false;
        q->after[i] = pool_strndup(p, (const char *)d + at, n);
        at += n;
        if (!filter_key_ok(q->keys[i].col->type, q->after[i])) return false;
    }
    return at == end;
}

/* ?after=<digits>: a row id, for the id ordering only. */
static bool read_id(filter_query *q, const char *text, pool *p, api_error *err) {
    long long id;
    if (!q->id_order)
        return API_INVALID(
            err, "after",
            "after: a row id continues the id ordering only; with order=%s%s..., pass next from a "
            "page of that ordering",
            q->keys[0].col->name, q->keys[0].desc ? ".desc" : "");
    if (!validate_int_text(text, 0, SQL_ID_MAX, "after", &id, err)) return false;
    char buf[24];
    snprintf(buf, sizeof buf, "%lld", id);
    q->after[0] = pool_strdup(p, buf);
    q->has_after = true;
    return true;
}

bool filter_cursor_read(filter_query *q, const char *text, pool *p, api_error *err) {
    if (text[0] >= '0' && text[0] <= '9' && strspn(text, "0123456789") == strlen(text))
        return read_id(q, text, p, err);
    if (q->id_order)
        return API_INVALID(err, "after",
                           "after must be next from the previous page (a row id, for this ordering)");
    unsigned char *d = NULL;
    long len = strlen(text) > FILTER_CURSOR_MAX ? -1 : unbase64url(p, text, &d);
    if (len < CURSOR_HEAD + CURSOR_SUM || d[0] != CURSOR_VERSION ||
        get_be(d + len - CURSOR_SUM, CURSOR_SUM) !=
            (fnv1a(SUM_OFFSET, d, (size_t)len - CURSOR_SUM) & 0xFFFFFFFFu))
        return API_INVALID(err, "after",
                           "after is not a cursor of this service, or it was damaged: pass next as given");
    if (get_be(d + 1, 8) != order_digest(q))
        return API_INVALID(
            err, "after",
            "after belongs to another table or ordering: send the same order= as the request whose "
            "next it was");
    if (!read_keys(q, d, (size_t)len, p))
        return API_INVALID(err, "after", "after holds values that do not fit this table's columns");
    q->has_after = true;
    return true;
}
