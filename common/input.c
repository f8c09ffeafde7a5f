#define _POSIX_C_SOURCE 200809L
#include "input.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "validate.h"

/* The names of f's fields in place `in`, NULL-ended, into known (room for
 * INPUT_FIELDS_MAX + 1). Returns whether an INPUT_OBJECT field among them
 * opens the others. */
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

/* The text value s of f (a path capture, a query parameter, a header) by
 * its rule. */
static bool text_ok(const input_field *f, const char *s, input_value *out, api_error *err) {
    out->present = true;
    out->s = s;
    if (f->type == INPUT_INTEGER) return validate_int_text(s, f->min, f->max, f->name, &out->i, err);
    if (f->type == INPUT_BOOLEAN) {
        out->i = strcmp(s, "true") == 0;
        if (out->i || strcmp(s, "false") == 0) return true;
        return API_INVALID(err, f->name, "%s must be true or false", f->name);
    }
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

/* A string field's text s: its rule, its choices, its length. */
static bool string_ok(const input_field *f, const char *s, input_value *out, api_error *err) {
    return text_ok(f, s, out, err) && choice_ok(f, s, err) && length_ok(f, s, err);
}

bool input_path(const request *req, const input_field *f, size_t n, input_value *out, api_error *err) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (f[i].in != INPUT_PATH) continue;
        const char *s = k < req->nparams ? req->params[k] : "";
        k++;
        memset(&out[i], 0, sizeof out[i]);
        if (f[i].type == INPUT_STRING ? !string_ok(&f[i], s, &out[i], err) : !text_ok(&f[i], s, &out[i], err))
            return false;
    }
    return true;
}

/* The query parameters that no field of f names, for an INPUT_OBJECT
 * field, into out (pool memory of req). */
static void open_params(const request *req, const char *const *known, input_value *out) {
    query_param *open = pool_alloc(req->pool, sizeof *open * (req->nquery ? req->nquery : 1));
    size_t k = 0;
    for (size_t i = 0; i < req->nquery; i++) {
        bool named = false;
        for (const char *const *p = known; *p && !named; p++) named = strcmp(*p, req->query[i].name) == 0;
        if (!named) open[k++] = req->query[i];
    }
    out->open = open;
    out->nopen = k;
    out->present = k > 0;
}

bool input_query(const request *req, const input_field *f, size_t n, input_value *out, api_error *err) {
    const char *known[INPUT_FIELDS_MAX + 1];
    bool open = names_in(f, n, INPUT_QUERY, known);
    if (!open && !request_query_known(req, known, err)) return false;
    for (size_t i = 0; i < n; i++) {
        if (f[i].in != INPUT_QUERY) continue;
        memset(&out[i], 0, sizeof out[i]);
        if (f[i].type == INPUT_OBJECT) {
            open_params(req, known, &out[i]);
            continue;
        }
        const char *s;
        out[i].i = f[i].dflt;
        if (!request_query(req, f[i].name, &s, err)) return false;
        if (s == NULL) continue;
        if (f[i].type == INPUT_STRING ? !string_ok(&f[i], s, &out[i], err) : !text_ok(&f[i], s, &out[i], err))
            return false;
    }
    return true;
}

/* ---- headers ---- */

/* The headers a route may declare, and where the parser keeps each. */
static const struct {
    const char *name;
    size_t offset;
} known_headers[] = {
    {"If-Match", offsetof(request, if_match)},
    {"If-None-Match", offsetof(request, if_none_match)},
    {"Accept", offsetof(request, accept)},
    {"Last-Event-ID", offsetof(request, last_event_id)},
    {"Content-Type", offsetof(request, content_type)},
};

/* The value req carries for the header called name, or NULL. */
static const char *header_of(const request *req, const char *name) {
    for (size_t i = 0; i < sizeof known_headers / sizeof known_headers[0]; i++)
        if (strcmp(known_headers[i].name, name) == 0)
            return *(const char *const *)((const char *)req + known_headers[i].offset);
    return NULL;
}

bool input_headers(const request *req, const input_field *f, size_t n, input_value *out, api_error *err) {
    for (size_t i = 0; i < n; i++) {
        if (f[i].in != INPUT_HEADER) continue;
        memset(&out[i], 0, sizeof out[i]);
        const char *s = header_of(req, f[i].name);
        if (s != NULL && !text_ok(&f[i], s, &out[i], err)) return false;
    }
    return true;
}

void input_headers_hide(request *req, const input_field *f, size_t n) {
    for (size_t h = 0; h < sizeof known_headers / sizeof known_headers[0]; h++) {
        bool declared = false;
        for (size_t i = 0; i < n && !declared; i++)
            declared = f[i].in == INPUT_HEADER && strcmp(f[i].name, known_headers[h].name) == 0;
        if (!declared) *(const char **)((char *)req + known_headers[h].offset) = NULL;
    }
}

/* ---- the body ---- */

/* Renames err's field as the member of the element at prefix
 * ("items[3]" + "delay_seconds" = "items[3].delay_seconds"). */
static bool prefixed(api_error *err, const char *prefix) {
    char field[sizeof err->field + 48];
    snprintf(field, sizeof field, "%s.%s", prefix, err->field);
    snprintf(err->field, sizeof err->field, "%.79s", field);
    return false;
}

/* An array's elements, each an object of f's items. */
static bool elements_ok(const input_field *f, json_t *array, api_error *err) {
    size_t i;
    json_t *item;
    json_array_foreach(array, i, item) {
        char prefix[48];
        snprintf(prefix, sizeof prefix, "%s[%zu]", f->name, i);
        if (!json_is_object(item)) return API_INVALID(err, prefix, "%s must be a JSON object", prefix);
        input_value v[INPUT_FIELDS_MAX];
        if (!input_body(item, f->items, f->nitems, v, err)) return prefixed(err, prefix);
    }
    return true;
}

/* A JSON value's kind against f's kinds (INPUT_ANY) and, for an array, its
 * count; field names it in the error. */
static bool kinds_ok(const input_field *f, json_t *v, const char *field, api_error *err) {
    if (f->kinds == INPUT_KIND_OBJECT && !json_is_object(v))
        return API_INVALID(err, field, "%s must be a JSON object", field);
    if (f->kinds == (INPUT_KIND_OBJECT | INPUT_KIND_ARRAY) && !json_is_object(v) && !json_is_array(v))
        return API_INVALID(err, field, "%s must be a JSON object or an array of objects", field);
    if (f->kinds & INPUT_KIND_ARRAY && json_is_array(v) && f->max > 0 &&
        (long long)json_array_size(v) > f->max)
        return API_INVALID(err, field, "at most %lld items in one request (got %zu)", f->max,
                           json_array_size(v));
    return true;
}

/* An INPUT_ANY, INPUT_ARRAY or INPUT_OBJECT member v (NULL: absent). */
static bool json_member_ok(const input_field *fi, json_t *v, bool required, input_value *o, api_error *err) {
    if (v == NULL) return required ? API_INVALID(err, fi->name, "%s is required", fi->name) : true;
    if (fi->type == INPUT_ARRAY) {
        if (!json_is_array(v) || (long long)json_array_size(v) < fi->min ||
            (long long)json_array_size(v) > fi->max)
            return API_INVALID(err, fi->name, "%s must be an array of %lld to %lld items", fi->name, fi->min,
                               fi->max);
        if (fi->items != NULL && !elements_ok(fi, v, err)) return false;
    }
    if (fi->type == INPUT_OBJECT && !json_is_object(v))
        return API_INVALID(err, fi->name, "%s must be a JSON object", fi->name);
    if (fi->type == INPUT_ANY && fi->kinds != 0 && !kinds_ok(fi, v, fi->name, err)) return false;
    o->present = !json_is_null(v);
    o->json = v;
    return true;
}

/* One member of the body by its declaration; required says whether its
 * absence is an error in the form the body has. */
static bool member_ok(json_t *body, const input_field *fi, bool required, input_value *o, api_error *err) {
    json_t *v = json_object_get(body, fi->name);
    switch (fi->type) {
    case INPUT_INTEGER:
        if (required && (v == NULL || json_is_null(v)))
            return API_INVALID(err, fi->name, "%s is required", fi->name);
        return json_get_int(body, fi->name, fi->min, fi->max, fi->dflt, &o->i, &o->present, err);
    case INPUT_BOOLEAN:
        if (v == NULL || json_is_null(v))
            return required ? API_INVALID(err, fi->name, "%s is required", fi->name) : true;
        if (!json_is_boolean(v)) return API_INVALID(err, fi->name, "%s must be true or false", fi->name);
        o->present = true;
        o->i = json_is_true(v);
        return true;
    case INPUT_STRING:
        if (!json_get_string(body, fi->name, required, &o->s, err)) return false;
        o->present = o->s != NULL;
        /* A NUL inside the string (a body parsed with allow_nul) would
         * hide what follows it from C. */
        if (o->present && strlen(o->s) != json_string_length(v))
            return API_INVALID(err, fi->name, "%s must not hold a NUL character", fi->name);
        return !o->present || string_ok(fi, o->s, &(input_value){0}, err);
    default: return json_member_ok(fi, v, required, o, err);
    }
}

/* The member declared alone that body holds, or NULL. */
static const input_field *alone_in(json_t *body, const input_field *f, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (f[i].in == INPUT_BODY && f[i].alone && json_object_get(body, f[i].name) != NULL) return &f[i];
    return NULL;
}

bool input_body(json_t *body, const input_field *f, size_t n, input_value *out, api_error *err) {
    const char *known[INPUT_FIELDS_MAX + 1];
    names_in(f, n, INPUT_BODY, known);
    if (!json_fields_known(body, known, err)) return false;
    const input_field *alone = alone_in(body, f, n);
    if (alone != NULL && json_object_size(body) != 1)
        return API_INVALID(err, alone->name, "a body with \"%s\" holds nothing else", alone->name);
    for (size_t i = 0; i < n; i++) {
        if (f[i].in != INPUT_BODY) continue;
        memset(&out[i], 0, sizeof out[i]);
        /* Each form requires its own members: the alone member's form
         * only it, the other form all but it. */
        bool required = f[i].required && (alone != NULL ? alone == &f[i] : !f[i].alone);
        if (!member_ok(body, &f[i], required, &out[i], err)) return false;
    }
    return true;
}

const input_field *input_whole_field(const input_field *f, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (f[i].in == INPUT_WHOLE) return &f[i];
    return NULL;
}

bool input_allows_nul(const input_field *f, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (f[i].allow_nul) return true;
    return false;
}

bool input_has_body_members(const input_field *f, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (f[i].in == INPUT_BODY) return true;
    return false;
}

bool input_whole(json_t *value, const input_field *f, input_value *out, api_error *err) {
    memset(out, 0, sizeof *out);
    if (!kinds_ok(f, value, "body", err)) return false;
    out->present = true;
    out->json = value;
    return true;
}

/* ---- the schema ---- */

static json_t *object_schema(const input_field *f, size_t n, bool tool);

/* An integer field's schema; text: it may come as its decimal text (a path
 * or query value, or a tool argument for one). */
static void integer_schema(const input_field *f, json_t *s, bool text) {
    json_object_set_new(s, "type", text ? json_pack("[ss]", "integer", "string") : json_string("integer"));
    json_object_set_new(s, "minimum", json_integer(f->min));
    json_object_set_new(s, "maximum", json_integer(f->max));
    if (text) json_object_set_new(s, "pattern", json_string("^[0-9]+$"));
    if (f->in != INPUT_PATH && f->dflt >= f->min) json_object_set_new(s, "default", json_integer(f->dflt));
}

static void string_schema(const input_field *f, json_t *s) {
    json_object_set_new(s, "type", json_string("string"));
    if (f->min > 0) json_object_set_new(s, "minLength", json_integer(f->min));
    if (f->max > 0) json_object_set_new(s, "maxLength", json_integer(f->max));
    if (f->pattern) json_object_set_new(s, "pattern", json_string(f->pattern));
    if (f->choices) {
        json_t *e = json_array();
        for (const char *const *c = f->choices; *c; c++) json_array_append_new(e, json_string(*c));
        json_object_set_new(s, "enum", e);
    }
}

/* An INPUT_ANY field's schema: any value, or the kinds it takes. An
 * object of any members says so (additionalProperties: true): generators
 * take a bare {"type": "object"} for an object with no member. */
static void any_schema(const input_field *f, json_t *s) {
    if (f->kinds == INPUT_KIND_OBJECT) {
        json_object_set_new(s, "type", json_string("object"));
        json_object_set_new(s, "additionalProperties", json_true());
    }
    if (f->kinds == (INPUT_KIND_OBJECT | INPUT_KIND_ARRAY)) {
        json_t *arr = json_pack("{s:s, s:{s:s, s:b}}", "type", "array", "items", "type", "object",
                                "additionalProperties", 1);
        if (f->max > 0) json_object_set_new(arr, "maxItems", json_integer(f->max));
        json_object_set_new(s, "oneOf",
                            json_pack("[{s:s, s:b}, o]", "type", "object", "additionalProperties", 1, arr));
    }
}

static json_t *field_schema(const input_field *f) {
    json_t *s = json_object();
    bool text = f->in == INPUT_PATH || f->in == INPUT_QUERY || f->in == INPUT_HEADER;
    switch (f->type) {
    case INPUT_INTEGER: integer_schema(f, s, text); break;
    case INPUT_BOOLEAN: json_object_set_new(s, "type", json_string("boolean")); break;
    case INPUT_STRING: string_schema(f, s); break;
    case INPUT_ANY: any_schema(f, s); break;
    case INPUT_ARRAY:
        json_object_set_new(s, "type", json_string("array"));
        json_object_set_new(s, "minItems", json_integer(f->min));
        json_object_set_new(s, "maxItems", json_integer(f->max));
        if (f->items) json_object_set_new(s, "items", object_schema(f->items, f->nitems, false));
        break;
    case INPUT_OBJECT:
        json_object_set_new(s, "type", json_string("object"));
        json_object_set_new(s, "additionalProperties",
                            json_pack("{s[sss]}", "type", "string", "number", "boolean"));
        break;
    }
    if (f->description) json_object_set_new(s, "description", json_string(f->description));
    /* an INPUT_ANY field's example is JSON text (a value, not a string) */
    json_t *ex = f->example == NULL     ? NULL
                 : f->type == INPUT_ANY ? json_loads(f->example, 0, NULL)
                                        : json_string(f->example);
    if (ex != NULL) json_object_set_new(s, "examples", json_pack("[o]", ex));
    return s;
}

json_t *input_field_schema(const input_field *f) { return field_schema(f); }

/* Whether f is a member of the object: a body member, and for a tool's
 * arguments every field but a header. */
static bool in_object(const input_field *f, bool tool) {
    return tool ? f->in != INPUT_HEADER : f->in == INPUT_BODY;
}

/* The object of f's members, those of the form with (alone) or without
 * (NULL) the alone member. */
static json_t *form_schema(const input_field *f, size_t n, bool tool, const input_field *alone) {
    json_t *required = json_array(), *props = json_object();
    for (size_t i = 0; i < n; i++) {
        if (!in_object(&f[i], tool)) continue;
        bool body = f[i].in == INPUT_BODY || f[i].in == INPUT_WHOLE;
        if (body && alone != NULL && &f[i] != alone) continue;
        if (body && alone == NULL && f[i].alone) continue;
        if (f[i].in == INPUT_PATH || f[i].required || f[i].in == INPUT_WHOLE)
            json_array_append_new(required, json_string(f[i].name));
        json_object_set_new(props, f[i].name, field_schema(&f[i]));
    }
    return json_pack("{s:s, s:o, s:o, s:b}", "type", "object", "required", required, "properties", props,
                     "additionalProperties", 0);
}

static json_t *object_schema(const input_field *f, size_t n, bool tool) {
    const input_field *alone = NULL;
    for (size_t i = 0; i < n; i++)
        if (in_object(&f[i], tool) && f[i].alone) alone = &f[i];
    if (alone == NULL) return form_schema(f, n, tool, NULL);
    return json_pack("{s:[o, o]}", "oneOf", form_schema(f, n, tool, NULL), form_schema(f, n, tool, alone));
}

json_t *input_tool_schema(const input_field *f, size_t n) { return object_schema(f, n, true); }

json_t *input_body_schema(const input_field *f, size_t n) { return object_schema(f, n, false); }
