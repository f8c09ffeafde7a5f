#define _POSIX_C_SOURCE 200809L
#include "jspan.h"

#include <jansson.h>
#include <string.h>

static size_t skip_ws(const char *t, size_t i, size_t end) {
    while (i < end && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r')) i++;
    return i;
}

/* Returns the index just past the string starting at t[i] (a quote). */
static size_t skip_string(const char *t, size_t i, size_t end) {
    for (i++; i < end; i++) {
        if (t[i] == '\\')
            i++;
        else if (t[i] == '"')
            return i + 1;
    }
    return end;
}

/* Returns the index just past the value starting at t[i]. Nesting needs no
 * stack: the text is well formed, so counting brackets outside strings is
 * enough. */
static size_t skip_value(const char *t, size_t i, size_t end) {
    if (i >= end) return end;
    if (t[i] == '"') return skip_string(t, i, end);
    if (t[i] == '{' || t[i] == '[') {
        int depth = 0;
        while (i < end) {
            char c = t[i];
            if (c == '"') {
                i = skip_string(t, i, end);
                continue;
            }
            if (c == '{' || c == '[') depth++;
            if (c == '}' || c == ']') {
                if (--depth == 0) return i + 1;
            }
            i++;
        }
        return end;
    }
    while (i < end && !strchr(",}] \t\n\r", t[i])) i++; /* number, true, false, null */
    return i;
}

jspan jspan_root(const char *text, size_t len) {
    size_t start = skip_ws(text, 0, len);
    size_t stop = skip_value(text, start, len);
    return (jspan){start, stop - start};
}

bool jspan_next(const char *text, jspan obj, size_t *pos, jspan *key, jspan *value) {
    size_t end = obj.off + obj.len;
    if (obj.len < 2 || text[obj.off] != '{') return false;
    size_t i = *pos == 0 ? obj.off + 1 : *pos;
    i = skip_ws(text, i, end);
    if (i < end && text[i] == ',') i = skip_ws(text, i + 1, end);
    if (i >= end || text[i] != '"') return false; /* '}' */
    size_t key_end = skip_string(text, i, end);
    *key = (jspan){i, key_end - i};
    i = skip_ws(text, key_end, end);
    if (i >= end || text[i] != ':') return false;
    i = skip_ws(text, i + 1, end);
    size_t value_end = skip_value(text, i, end);
    *value = (jspan){i, value_end - i};
    *pos = value_end;
    return true;
}

bool jspan_key_is(const char *text, jspan key, const char *name) {
    size_t n = strlen(name);
    const char *k = text + key.off + 1;
    size_t klen = key.len - 2;
    if (memchr(k, '\\', klen) == NULL) return klen == n && memcmp(k, name, n) == 0;
    /* An escaped key ("\u0070arams"): let jansson decode it. */
    json_t *s = json_loadb(text + key.off, key.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    bool same = json_is_string(s) && json_string_length(s) == n && memcmp(json_string_value(s), name, n) == 0;
    json_decref(s);
    return same;
}

bool jspan_member(const char *text, jspan obj, const char *key, jspan *value) {
    size_t pos = 0;
    jspan k, v;
    while (jspan_next(text, obj, &pos, &k, &v))
        if (jspan_key_is(text, k, key)) {
            *value = v;
            return true;
        }
    return false;
}
