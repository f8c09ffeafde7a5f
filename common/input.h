/*
 * input: a route's input declared once, in the spirit of kcgi's struct
 * kvalid: each field's name, type and limits. The same declaration
 * validates a request's JSON body (input_read) and is the MCP tool's
 * inputSchema (input_schema_write), so the two cannot disagree;
 * tests/unit/test_input.c walks every declared field's edges through its
 * route.
 */
#ifndef BACKEND_INPUT_H
#define BACKEND_INPUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "api_error.h"

typedef enum input_type {
    INPUT_INTEGER, /* a whole JSON number in [min, max]; dflt when absent or null */
    INPUT_STRING,  /* a {capture} of the route's pattern (in_path): checked by
                      the handler's path rules, declared for the schema */
} input_type;

typedef struct input_field {
    const char *name;
    input_type type;
    bool in_path; /* a {capture} of the route's pattern: a required
                          tool argument, not a body field */
    long long min, max, dflt;
} input_field;

/* Reads body's fields as declared in f (n of them): each INPUT_INTEGER
 * body field into out[i] (its dflt when absent or null); path fields are
 * skipped. A key not declared, a value not a whole number or out of its
 * range: false with a 422 naming the field. */
bool input_read(json_t *body, const input_field *f, size_t n, long long *out, api_error *err);

/* Writes f (n fields) as a JSON Schema object into buf (size bytes).
 * Returns false when it does not fit. */
bool input_schema_write(char *buf, size_t size, const input_field *f, size_t n);

#endif
