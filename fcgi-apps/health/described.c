/*
 * described: the token-only part of /openapi.json (described.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "described.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

#define SCHEMA_REF "#/components/schemas/"
/* The declared shapes nest a few levels: a bound against a cycle. */
#define NEST_MAX 8

/* The name of the schema node refers to ("SqlRow" for {"$ref":
 * "#/components/schemas/SqlRow"}), or NULL: borrowed from node. */
static const char *ref_name(json_t *node) {
    const char *ref = json_string_value(json_object_get(node, "$ref"));
    if (ref == NULL || strncmp(ref, SCHEMA_REF, strlen(SCHEMA_REF)) != 0) return NULL;
    return ref + strlen(SCHEMA_REF);
}

/* True when node refers to the schema shape, itself or through the named
 * schemas of schemas it refers to. */
static bool refers_to(json_t *node, json_t *schemas, const char *shape, int depth) {
    if (depth > NEST_MAX) return false;
    const char *name = ref_name(node);
    if (name != NULL)
        return strcmp(name, shape) == 0 ||
               refers_to(json_object_get(schemas, name), schemas, shape, depth + 1);
    const char *key;
    json_t *v;
    size_t i;
    bool found = false;
    if (json_is_object(node)) {
        json_object_foreach(node, key, v) { found = found || refers_to(v, schemas, shape, depth); }
    }
    if (json_is_array(node)) {
        json_array_foreach(node, i, v) { found = found || refers_to(v, schemas, shape, depth); }
    }
    return found;
}

/* A copy of node with shape turned into the schema to (a full reference),
 * and the schemas that refer to shape written in place. A new reference. */
static json_t *turned(json_t *node, json_t *schemas, const char *shape, const char *to, int depth) {
    const char *name = ref_name(node);
    if (name != NULL && strcmp(name, shape) == 0) return json_pack("{s:s}", "$ref", to);
    if (name != NULL && depth < NEST_MAX && refers_to(node, schemas, shape, 0))
        return turned(json_object_get(schemas, name), schemas, shape, to, depth + 1);
    const char *key;
    json_t *v, *copy;
    size_t i;
    if (json_is_object(node)) {
        copy = json_object();
        json_object_foreach(node, key, v) {
            json_object_set_new(copy, key, turned(v, schemas, shape, to, depth));
        }
        return copy;
    }
    if (json_is_array(node)) {
        copy = json_array();
        json_array_foreach(node, i, v) { json_array_append_new(copy, turned(v, schemas, shape, to, depth)); }
        return copy;
    }
    return json_incref(node);
}

/* Sets op's member key to "<its text><sep><value>". */
static void suffix(json_t *op, const char *key, const char *sep, const char *value) {
    const char *was = json_string_value(json_object_get(op, key));
    if (was == NULL) return;
    strbuf *b = strbuf_new();
    strbuf_printf(b, "%s%s%s", was, sep, value);
    json_object_set_new(op, key, json_string(b->data));
    strbuf_free(b);
}

json_t *described_operation(json_t *op, json_t *schemas, const mode_describe *d, const char *value) {
    strbuf *to = strbuf_new();
    strbuf_printf(to, SCHEMA_REF "%s%s", d->prefix, value);
    json_t *copy = turned(op, schemas, d->shape, to->data, 0);
    strbuf_free(to);
    /* The capture is now part of the path: no longer a parameter. */
    json_t *params = json_object_get(copy, "parameters"), *kept = json_array(), *p;
    size_t i;
    json_array_foreach(params, i, p) {
        const char *in = json_string_value(json_object_get(p, "in"));
        const char *name = json_string_value(json_object_get(p, "name"));
        if (in && name && strcmp(in, "path") == 0 && strcmp(name, d->capture) == 0) continue;
        json_array_append(kept, p);
    }
    json_object_set_new(copy, "parameters", kept);
    suffix(copy, "summary", ": ", value);
    suffix(copy, "operationId", "__", value);
    return copy;
}

/* True when some operation of the path item is the mode's (its first tag). */
static bool mode_path(json_t *item, const char *mode) {
    const char *method;
    json_t *op;
    json_object_foreach(item, method, op) {
        const char *tag = json_string_value(json_array_get(json_object_get(op, "tags"), 0));
        if (tag && strcmp(tag, mode) == 0) return true;
    }
    return false;
}

/* template with "{capture}" replaced by value: a new string, the caller
 * frees it; NULL when template has no such capture. */
static char *instance(const char *template, const char *capture, const char *value) {
    char braced[80];
    snprintf(braced, sizeof braced, "{%s}", capture);
    const char *at = strstr(template, braced);
    if (at == NULL) return NULL;
    strbuf *b = strbuf_new();
    strbuf_printf(b, "%.*s%s%s", (int)(at - template), template, value, at + strlen(braced));
    char *s = strdup(b->data);
    strbuf_free(b);
    return s;
}

/* Adds to out, for value, the copy of each of the mode's paths in paths
 * that has the capture, unless paths has that path already. */
static void add_instances(json_t *out, json_t *paths, json_t *schemas, const char *mode,
                          const mode_describe *d, const char *value) {
    const char *template, *method;
    json_t *item, *op;
    json_object_foreach(paths, template, item) {
        char *path = mode_path(item, mode) ? instance(template, d->capture, value) : NULL;
        if (path != NULL && json_object_get(paths, path) == NULL && json_object_get(out, path) == NULL) {
            json_t *copy = json_object();
            json_object_foreach(item, method, op) {
                json_object_set_new(copy, method, described_operation(op, schemas, d, value));
            }
            json_object_set_new(out, path, copy);
        }
        free(path);
    }
}

void described_add(json_t *doc, const char *mode, const mode_describe *d, json_t *described) {
    json_t *paths = json_object_get(doc, "paths");
    json_t *schemas = json_object_get(json_object_get(doc, "components"), "schemas");
    if (!json_is_object(paths) || !json_is_object(schemas) || !json_is_object(described)) return;
    /* The paths again, the copies after the mode's last one. */
    const char *last = NULL, *template, *value;
    json_t *item, *schema, *out = json_object();
    json_object_foreach(paths, template, item) {
        if (mode_path(item, mode)) last = template;
    }
    json_object_foreach(paths, template, item) {
        json_object_set(out, template, item);
        if (last == NULL || strcmp(template, last) != 0) continue;
        json_object_foreach(described, value, schema) { add_instances(out, paths, schemas, mode, d, value); }
    }
    json_object_set(doc, "paths", out);
    json_decref(out);
    strbuf *name = strbuf_new();
    json_object_foreach(described, value, schema) {
        strbuf_reset(name);
        strbuf_printf(name, "%s%s", d->prefix, value);
        json_object_set(schemas, name->data, schema);
    }
    strbuf_free(name);
}
