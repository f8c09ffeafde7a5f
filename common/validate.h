/*
 * validate: the input rules every mode shares (docs/errors.md, "The shared
 * input rules"), each returning false with a 422 naming the field.
 */
#ifndef BACKEND_VALIDATE_H
#define BACKEND_VALIDATE_H

#include <stdbool.h>

#include "api_error.h"
#include "input.h"
#include "request.h"

enum { NAMESPACE_MAX = 128, KEY_MAX = 256, LIST_LIMIT_DEFAULT = 100, LIST_LIMIT_MAX = 1000 };

/* 1-128 characters, [A-Za-z0-9][A-Za-z0-9._-]*. */
bool validate_namespace(const char *s, const char *field, api_error *err);
/* 1-256 characters, [A-Za-z0-9][A-Za-z0-9._:@~-]*. */
bool validate_key(const char *s, const char *field, api_error *err);
/* A key prefix: "" or the start of a valid key. */
bool validate_key_prefix(const char *s, const char *field, api_error *err);

/* Parses decimal text (no sign, no spaces) in [min, max]. */
bool validate_int_text(const char *text, long long min, long long max, const char *field, long long *out,
                       api_error *err);

/* A UUID in its canonical text form (8-4-4-4-12 hex digits). */
bool validate_uuid(const char *s, const char *field, api_error *err);

/* ?limit=: absent is 100; 1..1000, else 422. */
bool validate_limit(const request *req, long long *out, api_error *err);

/* The rules above as input declarations (input.h): each a string field
 * checked by its function, with the same rule as a JSON Schema pattern and
 * length for the schema (the edge test checks they agree). PLACE is
 * INPUT_PATH, INPUT_QUERY or INPUT_BODY. */
#define INPUT_NAMESPACE(NAME, PLACE)                                                                       \
    {                                                                                                      \
        .name = NAME, .type = INPUT_STRING, .in = PLACE, .required = true, .min = 1, .max = NAMESPACE_MAX, \
        .check = validate_namespace, .pattern = "^[A-Za-z0-9][A-Za-z0-9._-]*$",                            \
        .description = "1-128 characters, [A-Za-z0-9][A-Za-z0-9._-]*"                                      \
    }
#define INPUT_KEY(NAME, PLACE, REQUIRED)                                                                 \
    {                                                                                                    \
        .name = NAME, .type = INPUT_STRING, .in = PLACE, .required = REQUIRED, .min = 1, .max = KEY_MAX, \
        .check = validate_key, .pattern = "^[A-Za-z0-9][A-Za-z0-9._:@~-]*$",                             \
        .description = "1-256 characters, [A-Za-z0-9][A-Za-z0-9._:@~-]*"                                 \
    }
#define INPUT_KEY_PREFIX(NAME, PLACE)                                                                  \
    {                                                                                                  \
        .name = NAME, .type = INPUT_STRING, .in = PLACE, .max = KEY_MAX, .check = validate_key_prefix, \
        .pattern = "^([A-Za-z0-9][A-Za-z0-9._:@~-]*)?$", .description = "the start of a key"           \
    }
#define INPUT_UUID(NAME, PLACE, REQUIRED)                                                              \
    {                                                                                                  \
        .name = NAME, .type = INPUT_STRING, .in = PLACE, .required = REQUIRED, .check = validate_uuid, \
        .pattern = "^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$",    \
        .example = "0b5e0c4e-8a52-4d0e-9a43-5d1c2f3e4a5b"                                              \
    }
/* ?limit=, as validate_limit reads it. */
#define INPUT_LIMIT                                                                                 \
    {                                                                                               \
        .name = "limit", .type = INPUT_INTEGER, .in = INPUT_QUERY, .min = 1, .max = LIST_LIMIT_MAX, \
        .dflt = LIST_LIMIT_DEFAULT                                                                  \
    }

#endif
