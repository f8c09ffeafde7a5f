#define _POSIX_C_SOURCE 200809L
#include "input.h"

#include <stdio.h>
#include <string.h>

#include "json.h"

enum { INPUT_FIELDS_MAX = 32 };

bool input_read(json_t *body, const input_field *f, size_t n, long long *out, api_error *err) {
    const char *known[INPUT_FIELDS_MAX + 1];
    size_t k = 0;
    for (size_t i = 0; i < n && k < INPUT_FIELDS_MAX; i++)
        if (!f[i].in_path) known[k++] = f[i].name;
    known[k] = NULL;
    if (!json_fields_known(body, known, err)) return false;
    for (size_t i = 0; i < n; i++) {
        if (f[i].in_path || f[i].type != INPUT_INTEGER) continue;
        if (!json_get_int(body, f[i].name, f[i].min, f[i].max, f[i].dflt, &out[i], NULL, err)) return false;
    }
    return true;
}

bool input_schema_write(char *buf, size_t size, const input_field *f, size_t n) {
    size_t used = 0;
    int w = snprintf(buf, size, "{\"type\":\"object\",\"required\":[");
    for (size_t i = 0, first = 1; w >= 0 && (size_t)w < size - used && i < n; i++) {
        used += (size_t)w;
        w = f[i].in_path ? snprintf(buf + used, size - used, "%s\"%s\"", first ? "" : ",", f[i].name) : 0;
        if (f[i].in_path) first = 0;
    }
    if (w < 0 || (size_t)w >= size - used) return false;
    used += (size_t)w;
    w = snprintf(buf + used, size - used, "],\"properties\":{");
    for (size_t i = 0; w >= 0 && (size_t)w < size - used && i < n; i++) {
        used += (size_t)w;
        if (f[i].type == INPUT_INTEGER)
            w = snprintf(buf + used, size - used,
                         "%s\"%s\":{\"type\":\"integer\",\"minimum\":%lld,\"maximum\":%lld}", i ? "," : "",
                         f[i].name, f[i].min, f[i].max);
        else
            w = snprintf(buf + used, size - used, "%s\"%s\":{\"type\":\"string\"}", i ? "," : "", f[i].name);
    }
    if (w < 0 || (size_t)w >= size - used) return false;
    used += (size_t)w;
    w = snprintf(buf + used, size - used, "}}");
    return w >= 0 && (size_t)w < size - used;
}
