/*
 * input: a route's input declared once, in the spirit of kcgi's struct
 * kvalid: each field's name, place (path capture, query parameter, body
 * member), type, limits and the rule that validates it. The same
 * declaration validates a request (input_path, input_query, input_body)
 * and is the MCP tool's inputSchema (input_schema_write), so the two
 * cannot disagree; tests/unit/test_input.c walks every declared field's
 * edges (at the limit, one over) through both doors, HTTP and MCP.
 *
 * A string's rule is a function (check, e.g. validate.h's
 * validate_namespace) and, for the schema, a pattern and a maximum length
 * saying the same: the edge test checks that a value at the declared
 * length passes the function and one character more is refused.
 */
#ifndef BACKEND_INPUT_H
#define BACKEND_INPUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "api_error.h"
#include "request.h"

typedef enum input_type {
    INPUT_INTEGER, /* a whole number in [min, max]; dflt when absent (or null
                      in a body). In a body a JSON number; in a path or a
                      query, decimal text */
    INPUT_STRING,  /* a string: check validates it (NULL: any string; then
                      max > 0 bounds its length); choices, when set, lists
                      the only values taken */
    INPUT_BOOLEAN, /* true or false: in a body a JSON boolean; in a query,
                      the text true or false */
    INPUT_ANY,     /* any JSON value (body only; null is a value); kinds
                      narrows it */
    INPUT_ARRAY,   /* a JSON array of min to max elements (body only); each
                      element is an object declared by items (checked by
                      the handler with input_body, which can name its place) */
    INPUT_OBJECT,  /* query only: an object whose members are query
                      parameters of their own (the sql mode's column
                      filters), which the handler checks; the route's
                      other query parameters are then not closed */
} input_type;

typedef enum input_place {
    INPUT_BODY,   /* a member of the JSON object body */
    INPUT_PATH,   /* a {capture} of the route's pattern (in order): a required
                     tool argument */
    INPUT_QUERY,  /* a ?name=value parameter */
    INPUT_HEADER, /* a request header the route honours ("If-Match"): a
                     handler sees no header it does not declare; not a
                     tool argument */
    INPUT_WHOLE,  /* the whole body, one JSON value (type INPUT_ANY): the
                     document's PUT and PATCH, the sql rows; as a tool
                     argument, the one that becomes the body */
} input_place;

/* input_field.kinds: the JSON kinds an INPUT_ANY value may be (0: any). */
#define INPUT_KIND_OBJECT 1u
#define INPUT_KIND_ARRAY  2u

/* A string rule: returns false with a 422 naming field when s breaks it. */
typedef bool (*input_check_fn)(const char *s, const char *field, api_error *err);

typedef struct input_field {
    const char *name;
    input_type type;
    input_place in;
    bool required;                   /* body: absent is a 422 "<name> is required"
                                        (path fields always are) */
    long long min, max;              /* INPUT_INTEGER: the range; INPUT_STRING: the
                             length (max 0: none); INPUT_ARRAY: the count */
    long long dflt;                  /* INPUT_INTEGER: the value when absent (below
                                        min: none, and the schema names none) */
    input_check_fn check;            /* INPUT_STRING: the rule */
    const char *pattern;             /* INPUT_STRING: the rule as a JSON Schema pattern */
    const char *const *choices;      /* INPUT_STRING: NULL-ended, or NULL */
    const char *description;         /* for the schema, or NULL */
    const char *example;             /* INPUT_STRING: a value taken, as text
                                          (for the schema and the edge test);
                                          INPUT_ANY: one as JSON text, for a
                                          field whose handler takes only some
                                          values (POST /tokens' scopes) */
    const struct input_field *items; /* INPUT_ARRAY: each element's fields */
    size_t nitems;
    unsigned kinds; /* INPUT_ANY: INPUT_KIND_OBJECT | INPUT_KIND_ARRAY (0: any);
                       an array then holds at most max elements (max > 0) */
    bool alone;     /* a body member that, when present, is the only one
                       (a queue batch's items): the body is one form or the
                       other (oneOf in the schema) */
    bool allow_nul; /* a \u0000 in a string value of the body parses, so that
                       it is refused with a 422 naming its field (a string
                       member: by input_body; a whole body: by its handler)
                       rather than a 400 */
} input_field;

/* What input_path, input_query and input_body read: out[i] for f[i]. The
 * strings and JSON values are borrowed from the request or the body. */
typedef struct input_value {
    bool present;  /* given (for a body field: present and not null) */
    long long i;   /* INPUT_INTEGER: the value, or dflt */
    const char *s; /* INPUT_STRING, a header: the text, or NULL; a path or
                      query INPUT_INTEGER: its text too */
    json_t *json;  /* INPUT_ANY, INPUT_ARRAY: the value, or NULL */
    /* INPUT_OBJECT (query): the parameters no other field names, which
     * its handler reads (the sql mode's column filters). */
    const query_param *open;
    size_t nopen;
} input_value;

/* The most fields one declaration may have. */
enum { INPUT_FIELDS_MAX = 32 };

/* Validates req's {captures} as declared by the INPUT_PATH fields of f (n
 * of them), in pattern order, into out (indexed like f). Returns false
 * with a 422 naming the first field that breaks its rule. */
bool input_path(const request *req, const input_field *f, size_t n, input_value *out, api_error *err);

/* Validates req's query parameters as declared by the INPUT_QUERY fields
 * of f into out: a parameter not declared (unless an INPUT_OBJECT field
 * opens them), one given twice, or one breaking its rule: false with a 422
 * naming it. */
bool input_query(const request *req, const input_field *f, size_t n, input_value *out, api_error *err);

/* Validates the JSON object body as declared by the INPUT_BODY fields of f
 * into out, in the declaration's order: a member not declared, a required
 * one absent, or one breaking its type or rule (an array's elements by its
 * items, each named "items[3].field"): false with a 422 naming it. A
 * member declared alone excludes the others, and the required members of
 * the other form are then not required. */
bool input_body(json_t *body, const input_field *f, size_t n, input_value *out, api_error *err);

/* Validates the headers req carries as declared by the INPUT_HEADER fields
 * of f into out (each one's check, when it has one). */
bool input_headers(const request *req, const input_field *f, size_t n, input_value *out, api_error *err);

/* Clears the headers of req that f does not declare, so that a handler
 * cannot honour a header its route does not say it takes. */
void input_headers_hide(request *req, const input_field *f, size_t n);

/* Validates a whole-body value as declared by the INPUT_WHOLE field f: its
 * kinds and, for an array, its count. A 422 naming field "body". */
bool input_whole(json_t *value, const input_field *f, input_value *out, api_error *err);

/* The INPUT_WHOLE field of f (n fields), or NULL. */
const input_field *input_whole_field(const input_field *f, size_t n);

/* True when a field of f takes a \u0000 in its strings (allow_nul): the
 * body is parsed so, and the field's own check refuses it with a 422. */
bool input_allows_nul(const input_field *f, size_t n);

/* True when f declares a member of a JSON object body. */
bool input_has_body_members(const input_field *f, size_t n);

/* The JSON Schema of a tool's arguments: every field but the headers (the
 * whole body as the argument of its name), the path fields and required
 * ones "required", and a body member declared alone as a oneOf of the two
 * forms. A new reference. */
json_t *input_tool_schema(const input_field *f, size_t n);

/* The JSON Schema of the body's object (the INPUT_BODY fields), with a
 * oneOf when a member is declared alone, for /openapi.json. A new
 * reference. */
json_t *input_body_schema(const input_field *f, size_t n);

/* One field's JSON Schema (a new reference). */
json_t *input_field_schema(const input_field *f);

#endif
