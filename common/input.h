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
    INPUT_ANY,     /* any JSON value (body only; null is a value) */
    INPUT_ARRAY,   /* a JSON array of min to max elements (body only); each
                      element is an object declared by items (checked by
                      the handler with input_body, which can name its place) */
    INPUT_OBJECT,  /* query only: an object whose members are query
                      parameters of their own (the sql mode's column
                      filters), which the handler checks; the route's
                      other query parameters are then not closed */
} input_type;

typedef enum input_place {
    INPUT_BODY,  /* a member of the JSON body */
    INPUT_PATH,  /* a {capture} of the route's pattern (in order): a required
                    tool argument */
    INPUT_QUERY, /* a ?name=value parameter */
} input_place;

/* A string rule: returns false with a 422 naming field when s breaks it. */
typedef bool (*input_check_fn)(const char *s, const char *field, api_error *err);

typedef struct input_field {
    const char *name;
    input_type type;
    input_place in;
    bool required;                   /* body: absent is a 422 "<name> is required"
                             (path fields always are) */
    bool unchecked;                  /* a path field its handler checks itself (the
                             sql mode's, which answer 404): declared for the
                             schema, skipped by input_path */
    bool late;                       /* checked by its handler only after it reads the
                                        database (the sql row routes: their table first,
                                        then the fields against its columns): declared for
                                        the schema, not read by input_*, and skipped by the
                                        edge test, which has no database */
    long long min, max;              /* INPUT_INTEGER: the range; INPUT_STRING: the
                             length (max 0: none); INPUT_ARRAY: the count */
    long long dflt;                  /* INPUT_INTEGER: the value when absent (below
                                        min: none, and the schema names none) */
    input_check_fn check;            /* INPUT_STRING: the rule */
    const char *pattern;             /* INPUT_STRING: the rule as a JSON Schema pattern */
    const char *const *choices;      /* INPUT_STRING: NULL-ended, or NULL */
    const char *description;         /* for the schema, or NULL */
    const char *example;             /* INPUT_STRING: a value taken, as text
                                          (for the schema and the edge test) */
    const struct input_field *items; /* INPUT_ARRAY: each element's fields */
    size_t nitems;
} input_field;

/* What input_path, input_query and input_body read: out[i] for f[i]. The
 * strings and JSON values are borrowed from the request or the body. */
typedef struct input_value {
    bool present;  /* given (for a body field: present and not null) */
    long long i;   /* INPUT_INTEGER: the value, or dflt */
    const char *s; /* INPUT_STRING: the text, or NULL */
    json_t *json;  /* INPUT_ANY, INPUT_ARRAY: the value, or NULL */
} input_value;

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
 * one absent, or one breaking its type or rule: false with a 422 naming
 * it. */
bool input_body(json_t *body, const input_field *f, size_t n, input_value *out, api_error *err);

/* Writes f (n fields) as a JSON Schema object, compact JSON, into buf (size
 * bytes): the path fields and required body fields are "required".
 * Returns false when it does not fit. */
bool input_schema_write(char *buf, size_t size, const input_field *f, size_t n);

/* The same schema as a JSON value, of the fields in place only (place < 0:
 * every field), for /openapi.json's parameters and request bodies. A new
 * reference. */
json_t *input_place_schema(const input_field *f, size_t n, int place);

/* One field's JSON Schema (a new reference). */
json_t *input_field_schema(const input_field *f);

#endif
