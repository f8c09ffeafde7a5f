#define _POSIX_C_SOURCE 200809L
#include "validate.h"

#include <string.h>

static bool is_alnum(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Checks s against [A-Za-z0-9][A-Za-z0-9<extra>]* of at most max bytes;
 * an empty s passes only when allow_empty. */
static bool charset_ok(const char *s, size_t max, const char *extra, bool allow_empty) {
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (n >= max) return false;
        if (is_alnum(c)) continue;
        if (n == 0 || strchr(extra, c) == NULL) return false;
    }
    return n > 0 || allow_empty;
}

bool validate_namespace(const char *s, const char *field, api_error *err) {
    if (charset_ok(s, NAMESPACE_MAX, "._-", false)) return true;
    return API_INVALID(err, field,
                       "%s must be 1-%d characters of [A-Za-z0-9._-], starting with a letter or digit", field,
                       NAMESPACE_MAX);
}

bool validate_key(const char *s, const char *field, api_error *err) {
    if (charset_ok(s, KEY_MAX, "._:@~-", false)) return true;
    return API_INVALID(err, field,
                       "%s must be 1-%d characters of [A-Za-z0-9._:@~-], starting with a letter or digit",
                       field, KEY_MAX);
}

bool validate_key_prefix(const char *s, const char *field, api_error *err) {
    if (charset_ok(s, KEY_MAX, "._:@~-", true)) return true;
    return API_INVALID(err, field, "%s must be the start of a valid key", field);
}

bool validate_int_text(const char *text, long long min, long long max, const char *field, long long *out,
                       api_error *err) {
    long long v = 0;
    size_t n = 0;
    for (; text[n]; n++) {
        char c = text[n];
        if (c < '0' || c > '9' || n >= 18) goto bad;
        v = v * 10 + (c - '0');
    }
    if (n == 0 || v < min || v > max) goto bad;
    *out = v;
    return true;
bad:
    return API_INVALID(err, field, "%s must be an integer from %lld to %lld", field, min, max);
}

bool validate_uuid(const char *s, const char *field, api_error *err) {
    size_t n = 0;
    for (; n < 36 && s[n]; n++) {
        bool dash = n == 8 || n == 13 || n == 18 || n == 23;
        char c = s[n];
        bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (dash ? c != '-' : !hex) break;
    }
    if (n == 36 && s[36] == '\0') return true;
    return API_INVALID(err, field, "%s must be a UUID", field);
}

bool validate_limit(const request *req, long long *out, api_error *err) {
    const char *v;
    if (!request_query(req, "limit", &v, err)) return false;
    if (v == NULL) {
        *out = LIST_LIMIT_DEFAULT;
        return true;
    }
    return validate_int_text(v, 1, LIST_LIMIT_MAX, "limit", out, err);
}
