/*
 * scope: parsing and matching scoped tokens' scopes (scope.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "scope.h"

#include <stdio.h>
#include <string.h>

static bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_alnum(char c) { return is_lower(c) || is_digit(c) || (c >= 'A' && c <= 'Z'); }

/* True when the n bytes at p are a namespace's characters (lower: a
 * table name's). A prefix (before the '*') obeys the same rules, and may
 * be empty. */
static bool pattern_chars_ok(const char *p, size_t n, bool lower) {
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        bool ok = lower ? (is_lower(c) || (i > 0 && (is_digit(c) || c == '_')))
                        : (is_alnum(c) || (i > 0 && (c == '.' || c == '_' || c == '-')));
        if (!ok) return false;
    }
    return true;
}

/* Checks the pattern part (the text after the second ':', len bytes)
 * under area's rules into out. Returns false with why. */
static bool parse_pattern(const char *p, size_t len, const scope_area *area, scope *out, char *why,
                          size_t why_size) {
    bool lower = area->lower_patterns;
    size_t max = lower ? 48 : 128;
    out->prefix = len > 0 && p[len - 1] == '*';
    size_t body = out->prefix ? len - 1 : len;
    if (!out->prefix && body == 0) {
        snprintf(why, why_size, "the pattern after the second ':' is empty (omit it for all)");
        return false;
    }
    if (body > max || !pattern_chars_ok(p, body, lower)) {
        snprintf(why, why_size,
                 "the pattern must be %s of 1-%zu characters, or a prefix of one ending in '*'",
                 lower ? "a table name ([a-z][a-z0-9_]*)" : "a namespace ([A-Za-z0-9][A-Za-z0-9._-]*)", max);
        return false;
    }
    memcpy(out->pattern, p, body);
    out->pattern[body] = '\0';
    /* "*" alone is every namespace: the same as no pattern */
    if (out->prefix && body == 0) out->prefix = false;
    return true;
}

/* The rules of `*`: every access, a namespace pattern. */
static const scope_area every_area = {"*", true, true, true, false};

/* Checks the area (n bytes at a) into out. Returns its rules, or NULL with
 * why. */
static const scope_area *parse_area(const char *a, size_t n, scope_area_fn area_of, scope *out, char *why,
                                    size_t why_size) {
    bool name_ok = n >= 1 && n <= SCOPE_AREA_MAX && is_lower(a[0]);
    for (size_t i = 1; name_ok && i < n; i++) name_ok = is_lower(a[i]) || is_digit(a[i]) || a[i] == '_';
    if (n == 1 && a[0] == '*') name_ok = true;
    if (!name_ok) {
        snprintf(why, why_size, "the area must be a mode's name, metrics or *");
        return NULL;
    }
    memcpy(out->area, a, n);
    out->area[n] = '\0';
    const scope_area *rules = strcmp(out->area, "*") == 0 ? &every_area : area_of(out->area);
    if (rules == NULL)
        snprintf(why, why_size, "there is no area %s (a mode's name, metrics or *)", out->area);
    return rules;
}

bool scope_parse(const char *text, scope_area_fn area_of, scope *out, char *why, size_t why_size) {
    memset(out, 0, sizeof *out);
    const char *c1 = strchr(text, ':');
    if (c1 == NULL) {
        snprintf(why, why_size, "a scope is <area>:<access>[:<pattern>]");
        return false;
    }
    const scope_area *area = parse_area(text, (size_t)(c1 - text), area_of, out, why, why_size);
    if (area == NULL) return false;
    const char *acc = c1 + 1, *c2 = strchr(acc, ':');
    size_t alen = c2 ? (size_t)(c2 - acc) : strlen(acc);
    if (alen == 4 && memcmp(acc, "read", 4) == 0)
        out->write = false;
    else if (alen == 5 && memcmp(acc, "write", 5) == 0)
        out->write = true;
    else {
        snprintf(why, why_size, "the access must be read or write");
        return false;
    }
    if ((out->write && !area->writable) || (!out->write && !area->readable)) {
        snprintf(why, why_size, "%s takes %s only", out->area, area->writable ? "write" : "read");
        return false;
    }
    if (c2 == NULL) return true;
    if (!area->patterns) {
        snprintf(why, why_size, "%s takes no pattern", out->area);
        return false;
    }
    return parse_pattern(c2 + 1, strlen(c2 + 1), area, out, why, why_size);
}

bool scope_parse_list(const json_t *arr, scope_area_fn area_of, scope *out, size_t *n, api_error *err) {
    if (!json_is_array(arr) || json_array_size(arr) < 1 || json_array_size(arr) > SCOPES_MAX)
        return API_INVALID(err, "scopes", "scopes must be an array of 1 to %d scopes", SCOPES_MAX);
    *n = 0;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const json_t *v = json_array_get(arr, i);
        char field[32], why[200];
        snprintf(field, sizeof field, "scopes[%zu]", i);
        if (!json_is_string(v) || json_string_length(v) > SCOPE_TEXT_MAX ||
            strlen(json_string_value(v)) != json_string_length(v))
            return API_INVALID(err, field, "%s must be a scope's text, <area>:<access>[:<pattern>]", field);
        if (!scope_parse(json_string_value(v), area_of, &out[*n], why, sizeof why))
            return API_INVALID(err, field, "%s: %s", field, why);
        (*n)++;
    }
    return true;
}

/* True when s's pattern covers name (NULL: the request names none, which
 * only a scope with no pattern covers). */
static bool pattern_covers(const scope *s, const char *name) {
    if (s->pattern[0] == '\0' && !s->prefix) return true;
    if (name == NULL) return false;
    if (s->prefix) return strncmp(name, s->pattern, strlen(s->pattern)) == 0;
    return strcmp(name, s->pattern) == 0;
}

/* True when s is of area (or of every area) and grants the access. */
static bool area_access(const scope *s, const char *area, bool write) {
    return (strcmp(s->area, area) == 0 || strcmp(s->area, "*") == 0) && (s->write || !write);
}

bool scope_allows(const scope *s, size_t n, const char *area, bool write, const char *name) {
    for (size_t i = 0; i < n; i++) {
        if (!area_access(&s[i], area, write)) continue;
        /* a read naming no namespace is a list: any read scope of the
         * area lets it in, and the list shows what scope_may_read allows */
        if (name == NULL && !write) return true;
        if (pattern_covers(&s[i], name)) return true;
    }
    return false;
}

bool scope_may_read(const scope *s, size_t n, const char *area, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (area_access(&s[i], area, false) && pattern_covers(&s[i], name)) return true;
    return false;
}

void scope_needed(char *buf, size_t size, const char *area, bool write, const char *name) {
    if (name != NULL)
        snprintf(buf, size, "%s:%s:%s", area, write ? "write" : "read", name);
    else
        snprintf(buf, size, "%s:%s", area, write ? "write" : "read");
}

void scope_format(const scope *s, char *buf, size_t size) {
    const char *acc = s->write ? "write" : "read";
    if (s->pattern[0] == '\0' && !s->prefix)
        snprintf(buf, size, "%s:%s", s->area, acc);
    else
        snprintf(buf, size, "%s:%s:%s%s", s->area, acc, s->pattern, s->prefix ? "*" : "");
}
