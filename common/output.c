#define _POSIX_C_SOURCE 200809L
#include "output.h"

#include <stdio.h>
#include <string.h>

static const char *const type_names[] = {
    [OUT_STRING] = "string",   [OUT_INTEGER] = "integer", [OUT_NUMBER] = "number",
    [OUT_BOOLEAN] = "boolean", [OUT_OBJECT] = "object",   [OUT_ARRAY] = "array",
};

static json_t *shape_or_ref(const output_shape *s, json_t *components);

/* The schema of one scalar or container type (no flags). */
static json_t *type_schema(const output_field *f) {
    if (f->type == OUT_ANY) return json_object();
    if (f->type == OUT_OBJECT && f->shape) return NULL; /* the caller's */
    json_t *s = json_pack("{s:s}", "type", type_names[f->type]);
    if (f->format) json_object_set_new(s, "format", json_string(f->format));
    if (f->choices) {
        json_t *e = json_array();
        for (const char *const *c = f->choices; *c; c++) json_array_append_new(e, json_string(*c));
        json_object_set_new(s, "enum", e);
    }
    return s;
}

/* One member's schema: its type (or shape), nullable as a type list or
 * a oneOf with null, and its description. */
static json_t *field_schema(const output_field *f, json_t *components) {
    json_t *s;
    if (f->type == OUT_OBJECT && f->shape)
        s = shape_or_ref(f->shape, components);
    else
        s = type_schema(f);
    if (f->type == OUT_ARRAY) {
        json_t *items =
            f->shape ? shape_or_ref(f->shape, components) : json_pack("{s:s}", "type", type_names[f->item]);
        json_object_set_new(s, "items", items);
    }
    if ((f->flags & OUT_NULLABLE) && f->type != OUT_ANY) {
        json_t *type = json_object_get(s, "type");
        if (json_is_string(type))
            json_object_set_new(s, "type", json_pack("[s, s]", json_string_value(type), "null"));
        else
            s = json_pack("{s:[o, {s:s}]}", "oneOf", s, "type", "null");
    }
    if (f->description) json_object_set_new(s, "description", json_string(f->description));
    return s;
}

/* The object schema of s's members, written in place. */
static json_t *shape_schema(const output_shape *s, json_t *components) {
    if (s->one_of != NULL) {
        json_t *forms = json_array();
        for (const output_shape *const *f = s->one_of; *f; f++)
            json_array_append_new(forms, shape_or_ref(*f, components));
        return json_pack("{s:o}", "oneOf", forms);
    }
    json_t *props = json_object(), *required = json_array();
    for (size_t i = 0; i < s->nfields; i++) {
        const output_field *f = &s->fields[i];
        json_object_set_new(props, f->name, field_schema(f, components));
        if (!(f->flags & OUT_OPTIONAL)) json_array_append_new(required, json_string(f->name));
    }
    json_t *o = json_pack("{s:s, s:o, s:o}", "type", "object", "required", required, "properties", props);
    /* Open: said outright, as generators take what is not said as closed. */
    json_object_set_new(o, "additionalProperties", json_boolean(s->open));
    if (s->description) json_object_set_new(o, "description", json_string(s->description));
    return o;
}

/* A named shape as a reference into components (added there once), or
 * the shape in place. */
static json_t *shape_or_ref(const output_shape *s, json_t *components) {
    if (components == NULL || s->name == NULL) return shape_schema(s, components);
    if (json_object_get(components, s->name) == NULL) {
        /* Placed before its members are written, so a shape that
         * refers to itself ends. */
        json_object_set_new(components, s->name, json_object());
        json_object_set_new(components, s->name, shape_schema(s, components));
    }
    char ref[160];
    snprintf(ref, sizeof ref, "#/components/schemas/%s", s->name);
    return json_pack("{s:s}", "$ref", ref);
}

json_t *output_schema(const output_shape *s, json_t *components) { return shape_or_ref(s, components); }

/* An example of one member's value. */
static void field_example(const output_field *f, strbuf *out) {
    if (f->type == OUT_OBJECT && f->shape) {
        output_example(f->shape, out);
    } else if (f->type == OUT_ARRAY) {
        strbuf_puts(out, "[");
        if (f->shape)
            output_example(f->shape, out);
        else if (f->example)
            strbuf_puts(out, f->example);
        strbuf_puts(out, "]");
    } else {
        strbuf_puts(out, f->example ? f->example : "null");
    }
}

void output_example(const output_shape *s, strbuf *out) {
    if (s->one_of != NULL) {
        output_example(s->one_of[0], out);
        return;
    }
    strbuf_puts(out, "{");
    bool first = true;
    for (size_t i = 0; i < s->nfields; i++) {
        const output_field *f = &s->fields[i];
        /* An optional member appears in the example only with one of
         * its own. */
        if ((f->flags & OUT_OPTIONAL) && f->example == NULL) continue;
        if (!first) strbuf_puts(out, ",");
        first = false;
        strbuf_json_string(out, f->name, strlen(f->name));
        strbuf_puts(out, ":");
        field_example(f, out);
    }
    strbuf_puts(out, "}");
}
