#define _POSIX_C_SOURCE 200809L
#include "input.h"

#include <stdio.h>
#include <string.h>

#include "json.h"
#include "validate.h"

enum { INPUT_FIELDS_MAX = 32 };

/* The names of f's fields in place `in`, NULL-ended, into known. Returns
 * whether an INPUT_OBJECT field among them opens the others. */
static bool names_in(const input_field *f, size_t n, input_place in, const char **known) {
    size_t k = 0;
    bool open = false;
    for (size_t i = 0; i < n && k < INPUT_FIELDS_MAX; i++) {
        if (f[i].in != in) continue;
        if (f[i].type == INPUT_OBJECT) open = true;
        known[k++] = f[i].name;
    }
    known[k] = NULL;
    return open;
}

/* The text value s of f (a path capture or a query parameter) by its rule. */
static bool text_ok(const input_field *f, const char *s, input_value *out, api_error *err) {
    out->present = true;
    out->s = s;
    if (f->type == INPUT_INTEGER) return validate_int_text(s, f->min, f->max, f->name, &out->i, err);
    return f->type != INPUT_STRING || f->check == NULL || f->check(s, f->name, err);
}

/* A string's choices, when it has them: "asc or desc", "a, b or c". */
static bool choice_ok(const input_field *f, const char *s, api_error *err) {
    if (f->choices == NULL) return true;
    char list[160] = "";
    size_t used = 0, k = 0;
    for (; f->choices[k]; k++)
        if (strcmp(f->choices[k], s) == 0) return true;
    for (size_t i = 0; i < k && used < sizeof list; i++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s",
                                 i == 0       ? ""
                                 : i + 1 == k ? " or "
                                              : ", ",
                                 f->choices[i]);
    return API_INVALID(err, f->name, "%s must be %s", f->name, list);
}

/* A string with no rule of its own but a length. */
static bool length_ok(const input_field *f, const char *s, api_error *err) {
    if (f->check != NULL) return true;
    /* Characters, as the contract counts them: UTF-8 code points (the body
     * parser has checked the encoding), not bytes. */
    long long n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) n += (*p & 0xC0) != 0x80;
    if (n < f->min) return API_INVALID(err, f->name, "%s must be at least %lld characters", f->name, f->min);
    if (f->max <= 0 || n <= f->max) return true;
    return API_INVALID(err, f->name, "%s must be at most %lld characters", f->name, f->max);
}

bool input_path(const request *req, const input_field *f, size_t n, input_value *out, api_error *err) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (f[i].in != INPUT_PATH) continue;
        const char *s = k < req->nparams ? req->params[k] : "";
        k++;
        memset(&out[i], 0, sizeof out[i]);
        if (f[i].unchecked) {
            out[i].present = true;
            out[i].s = s;
            continue;
        }
        if (!text_ok(&f[i], s, &out[i], err) || (f[i].type == INPUT_STRING && !choice_ok(&f[i], s, err)))
            return false;
    }
    return true;
}

bool input_query(const request *req, const input_field *f, size_t n, input_value *out, api_error *err) {
    const char *known[INPUT_FIELDS_MAX + 1];
    if (!names_in(f, n, INPUT_QUERY, known) && !request_query_known(req, known, err)) return false;
    for (size_t i = 0; i < n; i++) {
        if (f[i].in != INPUT_QUERY || f[i].type == INPUT_OBJECT) continue;
        const char *s;
        memset(&out[i], 0, sizeof out[i]);
        out[i].i = f[i].dflt;
        if (!request_query(req, f[i].name, &s, err)) return false;
        if (s == NULL) continue;
        if (!text_ok(&f[i], s, &out[i], err)) return false;
        if (f[i].type == INPUT_STRING && (!choice_ok(&f[i], s, err) || !length_ok(&f[i], s, err)))
            return false;
    }
    return true;
}

bool input_body(json_t *body, const input_field *f, size_t n, input_value *out, api_error *err) {
    const char *known[INPUT_FIELDS_MAX + 1];
    names_in(f, n, INPUT_BODY, known);
    if (!json_fields_known(body, known, err)) return false;
    for (size_t i = 0; i < n; i++) {
        if (f[i].in != INPUT_BODY) continue;
        const input_field *fi = &f[i];
        input_value *o = &out[i];
        memset(o, 0, sizeof *o);
        json_t *v = json_object_get(body, fi->name);
        switch (fi->type) {
        case INPUT_INTEGER:
            if (!json_get_int(body, fi->name, fi->min, fi->max, fi->dflt, &o->i, &o->present, err))
                return false;
            break;
        case INPUT_STRING:
            if (!json_get_string(body, fi->name, fi->required, &o->s, err)) return false;
            o->present = o->s != NULL;
            if (o->present && ((fi->check && !fi->check(o->s, fi->name, err)) || !choice_ok(fi, o->s, err) ||
                               !length_ok(fi, o->s, err)))
                return false;
            break;
        case INPUT_ANY:
        case INPUT_ARRAY:
        case INPUT_OBJECT:
            if (v == NULL) {
                if (fi->required) return API_INVALID(err, fi->name, "%s is required", fi->name);
                break;
            }
            if (fi->type == INPUT_ARRAY && (!json_is_array(v) || (long long)json_array_size(v) < fi->min ||
                                            (long long)json_array_size(v) > fi->max))
                return API_INVALID(err, fi->name, "%s must be an array of %lld to %lld items", fi->name,
                                   fi->min, fi->max);
            if (fi->type == INPUT_OBJECT && !json_is_object(v))
                return API_INVALID(err, fi->name, "%s must be a JSON object", fi->name);
            o->present = !json_is_null(v);
            o->json = v;
            break;
        }
    }
    return true;
}

/* ---- the schema ---- */

static json_t *schema_of(const input_field *f, size_t n);

static json_t *field_schema(const input_field *f) {
    json_t *s = json_object();
    bool text = f->in != INPUT_BODY; /* a path or query value may come as its text */
    switch (f->type) {
    case INPUT_INTEGER:
        json_object_set_new(s, "type",
                            text ? json_pack("[ss]", "integer", "string") : json_string("integer"));
        json_object_set_new(s, "minimum", json_integer(f->min));
        json_object_set_new(s, "maximum", json_integer(f->max));
        if (text) json_object_set_new(s, "pattern", json_string("^[0-9]+$"));
        if (f->in != INPUT_PATH && f->dflt >= f->min)
            json_object_set_new(s, "default", json_integer(f->dflt));
        break;
    case INPUT_STRING:
        json_object_set_new(s, "type", json_string("string"));
        if (f->min > 0) json_object_set_new(s, "minLength", json_integer(f->min));
        if (f->max > 0) json_object_set_new(s, "maxLength", json_integer(f->max));
        if (f->pattern) json_object_set_new(s, "pattern", json_string(f->pattern));
        if (f->choices) {
            json_t *e = json_array();
            for (const char *const *c = f->choices; *c; c++) json_array_append_new(e, json_string(*c));
            json_object_set_new(s, "enum", e);
        }
        break;
    case INPUT_ANY: break;
    case INPUT_ARRAY:
        json_object_set_new(s, "type", json_string("array"));
        json_object_set_new(s, "minItems", json_integer(f->min));
        json_object_set_new(s, "maxItems", json_integer(f->max));
        if (f->items) json_object_set_new(s, "items", schema_of(f->items, f->nitems));
        break;
    case INPUT_OBJECT:
        json_object_set_new(s, "type", json_string("object"));
        json_object_set_new(s, "additionalProperties",
                            json_pack("{s[sss]}", "type", "string", "number", "boolean"));
        break;
    }
    if (f->description) json_object_set_new(s, "description", json_string(f->description));
    if (f->example) json_object_set_new(s, "examples", json_pack("[s]", f->example));
    return s;
}

json_t *input_field_schema(const input_field *f) { return field_schema(f); }

json_t *input_place_schema(const input_field *f, size_t n, int place) {
    json_t *required = json_array(), *props = json_object();
    for (size_t i = 0; i < n; i++) {
        if (place >= 0 && f[i].in != (input_place)place) continue;
        if (f[i].in == INPUT_PATH || f[i].required) json_array_append_new(required, json_string(f[i].name));
        json_object_set_new(props, f[i].name, field_schema(&f[i]));
    }
    return json_pack("{s:s, s:o, s:o}", "type", "object", "required", required, "properties", props);
}

static json_t *schema_of(const input_field *f, size_t n) { return input_place_schema(f, n, -1); }

bool input_schema_write(char *buf, size_t size, const input_field *f, size_t n) {
    json_t *s = schema_of(f, n);
    size_t len = json_dumpb(s, buf, size, JSON_COMPACT);
    json_decref(s);
    if (len == 0 || len >= size) return false;
    buf[len] = '\0';
    return true;
}
