/*
 * output: a route's success body declared once, as input.h declares its
 * input (kcgi's kvalid carried over to what a route answers). One
 * declaration is the route's response schema in /openapi.json, its MCP
 * tool's outputSchema, and (through output_example) the mode's sentinel
 * shape. The generated client's test (tests/openapi/) validates every
 * answer of a run against the document, so an answer built in SQL that
 * drifts from its declaration fails there: each shape is closed (no
 * member it does not declare) unless it says it is open.
 */
#ifndef BACKEND_OUTPUT_H
#define BACKEND_OUTPUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

typedef enum output_type {
    OUT_STRING,
    OUT_INTEGER,
    OUT_NUMBER,
    OUT_BOOLEAN,
    OUT_ANY,    /* any JSON value (a payload) */
    OUT_OBJECT, /* an object of shape's members */
    OUT_ARRAY,  /* an array: of shape's objects, or (shape NULL) of item */
} output_type;

/* output_field.flags */
#define OUT_OPTIONAL 1u /* not in every answer */
#define OUT_NULLABLE 2u /* may be null */

typedef struct output_shape output_shape;

typedef struct output_field {
    const char *name;
    output_type type;
    unsigned flags;
    const char *format;         /* OUT_STRING: "date-time", "uuid", ... */
    const char *description;    /* for people, or NULL */
    const char *example;        /* a scalar's example, JSON text ("1", "\"ci\"") */
    const output_shape *shape;  /* OUT_OBJECT: its members; OUT_ARRAY: its elements */
    output_type item;           /* OUT_ARRAY without shape: its elements' type */
    const char *const *choices; /* OUT_STRING: the only values, NULL-ended */
} output_field;

struct output_shape {
    const char *name;        /* its name among /openapi.json's schemas
                                ("Document"), or NULL: written in place */
    const char *description; /* for people, or NULL */
    const output_field *fields;
    size_t nfields;
    bool open; /* members beyond the declared ones may appear */
    /* Instead of members: the shapes the answer is one of (NULL-ended; a
     * queue enqueue answers an item or a batch). */
    const output_shape *const *one_of;
};

/* A shape of a static array of fields. */
#define OUTPUT_SHAPE(NAME, DESCRIPTION, FIELDS)                           \
    {                                                                     \
        .name = (NAME), .description = (DESCRIPTION), .fields = (FIELDS), \
        .nfields = sizeof(FIELDS) / sizeof((FIELDS)[0])                   \
    }

/* A timestamp member, as every answer writes them (ISO 8601, UTC). */
#define OUT_TIME(NAME, FLAGS)                                                        \
    {                                                                                \
        .name = (NAME), .type = OUT_STRING, .flags = (FLAGS), .format = "date-time", \
        .example = "\"2026-11-24T10:00:00.000000Z\""                                 \
    }

/* The members of a list's page: items, each of ITEM's shape, and next (a
 * cursor, null on the last page). */
#define OUTPUT_PAGE_FIELDS(ITEM)                                                      \
    {.name = "items", .type = OUT_ARRAY, .shape = &(ITEM)}, {                         \
        .name = "next", .type = OUT_STRING, .flags = OUT_NULLABLE, .example = "null", \
        .description = "the cursor of the next page (?after=), null on the last"      \
    }

/* The JSON Schema of s: a new reference. With components (an object, the
 * document's schemas), a named shape is added there once and referenced
 * ($ref); without, every shape is written in place (an MCP outputSchema). */
json_t *output_schema(const output_shape *s, json_t *components);

/* Appends an example of s, compact JSON, from its members' examples (the
 * mode's sentinel shape). */
void output_example(const output_shape *s, strbuf *out);

#endif
