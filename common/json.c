#define _POSIX_C_SOURCE 200809L
#include "json.h"

#include <math.h>
#include <string.h>

bool json_depth_ok(const char *text, size_t len, int max) {
    int depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
            continue;
        }
        if (c == '"')
            in_string = true;
        else if (c == '[' || c == '{') {
            if (++depth > max) return false;
        } else if (c == ']' || c == '}')
            depth--;
    }
    return true;
}

static json_t *parse(const char *text, size_t len, size_t extra_flags, api_error *err) {
    if (len == 0) {
        API_INVALID_JSON(err, "the request body is empty; a JSON value is required");
        return NULL;
    }
    if (!json_depth_ok(text, len, JSON_MAX_DEPTH)) {
        API_INVALID_JSON(err, "the body nests deeper than %d levels", JSON_MAX_DEPTH);
        return NULL;
    }
    json_error_t jerr;
    json_t *v = json_loadb(
        text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL | extra_flags, &jerr);
    if (v == NULL)
        API_INVALID_JSON(err, "the body is not valid JSON: %s at line %d column %d", jerr.text, jerr.line,
                         jerr.column);
    return v;
}

json_t *json_parse(const char *text, size_t len, api_error *err) { return parse(text, len, 0, err); }

json_t *json_parse_allow_nul(const char *text, size_t len, api_error *err) {
    return parse(text, len, JSON_ALLOW_NUL, err);
}

bool json_fields_known(json_t *obj, const char *const *known, api_error *err) {
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value) {
        bool ok = false;
        for (const char *const *k = known; *k && !ok; k++) ok = strcmp(*k, key) == 0;
        if (!ok) return API_INVALID(err, key, "unknown field %.64s", key);
    }
    return true;
}

bool json_get_int(json_t *obj, const char *name, long long min, long long max, long long dflt, long long *out,
                  bool *present, api_error *err) {
    json_t *v = json_object_get(obj, name);
    if (present) *present = false;
    if (v == NULL || json_is_null(v)) {
        *out = dflt;
        return true;
    }
    double d;
    if (json_is_integer(v))
        d = (double)json_integer_value(v);
    else if (json_is_real(v))
        d = json_real_value(v);
    else
        return API_INVALID(err, name, "%s must be an integer", name);
    if (d != floor(d)) return API_INVALID(err, name, "%s must be an integer", name);
    if (d < (double)min || d > (double)max)
        return API_INVALID(err, name, "%s must be between %lld and %lld", name, min, max);
    *out = (long long)d;
    if (present) *present = true;
    return true;
}

bool json_get_string(json_t *obj, const char *name, bool required, const char **out, api_error *err) {
    json_t *v = json_object_get(obj, name);
    *out = NULL;
    if (v == NULL) return required ? API_INVALID(err, name, "%s is required", name) : true;
    if (!json_is_string(v)) return API_INVALID(err, name, "%s must be a string", name);
    *out = json_string_value(v);
    return true;
}
