#define _POSIX_C_SOURCE 200809L
#include "ident.h"

#include <string.h>

bool ident_valid(const char *s) {
    if (s == NULL || !(s[0] >= 'a' && s[0] <= 'z')) return false;
    size_t n = 1;
    for (; s[n]; n++) {
        char c = s[n];
        if (n >= IDENT_MAX) return false;
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    }
    return true;
}

/* True when s is only [a-z0-9_] (possibly empty). */
static bool affix_ok(const char *s) {
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_')) return false;
    return true;
}

const char *ident_quote_affixed(pool *p, const char *prefix, const char *s, const char *suffix) {
    if (!ident_valid(s) || !affix_ok(prefix) || !affix_ok(suffix)) return NULL;
    size_t a = strlen(prefix), n = strlen(s), b = strlen(suffix);
    char *out = pool_alloc(p, a + n + b + 3);
    out[0] = '"';
    memcpy(out + 1, prefix, a);
    memcpy(out + 1 + a, s, n);
    memcpy(out + 1 + a + n, suffix, b);
    out[1 + a + n + b] = '"';
    out[2 + a + n + b] = '\0';
    return out;
}

const char *ident_quote(pool *p, const char *s) { return ident_quote_affixed(p, "", s, ""); }

const char *ident_literal(pool *p, const char *s) {
    const char *q = ident_quote(p, s);
    if (q == NULL) return NULL;
    char *out = pool_strdup(p, q);
    out[0] = out[strlen(out) - 1] = '\'';
    return out;
}

#define IDENT_RULE "must match ^[a-z][a-z0-9_]{0,47}$"

bool ident_table_ok(const char *s, const char *field, api_error *err) {
    if (!ident_valid(s)) return API_INVALID(err, field, "%s " IDENT_RULE, field);
    if (strncmp(s, "pg_", 3) == 0 || strcmp(s, "information_schema") == 0)
        return API_INVALID(err, field, "%s is reserved (names starting pg_, information_schema)", field);
    return true;
}

bool ident_column_ok(const char *s, const char *field, api_error *err) {
    /* id and created_at every table has; the system columns PostgreSQL
     * has; and the row routes' own query parameters (sql/filter.h's
     * filter_reserved_names), which a filter on such a column would
     * collide with. */
    static const char *const reserved[] = {
        "id",    "created_at", "tableoid", "xmin",  "xmax",        "cmin",         "cmax",    "ctid", "after",
        "limit", "order",      "select",   "count", "on_conflict", "max_affected", "confirm", NULL};
    if (!ident_valid(s)) return API_INVALID(err, field, "%s " IDENT_RULE, field);
    for (const char *const *r = reserved; *r; r++)
        if (strcmp(s, *r) == 0) return API_INVALID(err, field, "%s: column name %s is reserved", field, s);
    return true;
}
