/*
 * validate: the contract's shared input rules (contract.md section 1,
 * Limits), each returning false with a 422 naming the field.
 */
#ifndef BACKEND_VALIDATE_H
#define BACKEND_VALIDATE_H

#include <stdbool.h>

#include "api_error.h"
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

#endif
