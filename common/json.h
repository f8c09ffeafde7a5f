/*
 * json: parsing request bodies and reading their fields, with the rules of
 * docs/errors.md (invalid_json): UTF-8 only, no duplicate keys, no NUL
 * escapes, nesting at most 64 levels, anything else is 400 invalid_json.
 *
 * Integers are decoded as doubles (JSON_DECODE_INT_AS_REAL) so that an
 * integer beyond 64 bits in a payload is accepted (up to a double's range,
 * about 1.8e308; beyond that jansson reports an overflow: 400): payload text
 * travels to PostgreSQL as sent, jansson only validates it. json_get_int checks that a
 * field the service itself reads is a whole number in range.
 */
#ifndef BACKEND_JSON_H
#define BACKEND_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "api_error.h"

enum { JSON_MAX_DEPTH = 64 };

/* True when the JSON text nests arrays/objects at most max levels deep.
 * Scans bytes only (strings are skipped), so it is safe on any input and
 * runs before the parser ever recurses. */
bool json_depth_ok(const char *text, size_t len, int max);

/* Parses len bytes of text. Returns a new reference (the caller decrefs) or
 * NULL with a 400 invalid_json in err. */
json_t *json_parse(const char *text, size_t len, api_error *err);

/* json_parse, except that a \u0000 escape in a string value is accepted
 * (the string then holds a NUL byte, which json_string_length shows): for a
 * caller that refuses it itself with a 422 naming the value's field (the sql
 * mode). A NUL in an object key is still a 400. */
json_t *json_parse_allow_nul(const char *text, size_t len, api_error *err);

/* Returns false with a 422 naming the first key of obj not in the
 * NULL-terminated list `known`. */
bool json_fields_known(json_t *obj, const char *const *known, api_error *err);

/* Reads obj[name] as a whole number in [min, max] into *out. Absent or null:
 * *out = dflt and *present = false (present may be NULL). Anything else out of
 * place is a 422 naming the field. */
bool json_get_int(json_t *obj, const char *name, long long min, long long max, long long dflt, long long *out,
                  bool *present, api_error *err);

/* Reads obj[name] as a string into *out (borrowed from obj). Absent: *out =
 * NULL, and a 422 when required. Not a string: a 422. */
bool json_get_string(json_t *obj, const char *name, bool required, const char **out, api_error *err);

#endif
