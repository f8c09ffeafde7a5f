/*
 * api_error: the one error value every layer returns.
 *
 * A handler (or the parser, the auth check, the database layer) that fails
 * fills an api_error and returns false; the serve loop hands it to
 * reply_error (reply.h), the only place that turns an error into an HTTP
 * response, and the MCP layer turns the same value into an isError result.
 * Codes are the contract's stable strings (contract.md section 1).
 */
#ifndef BACKEND_API_ERROR_H
#define BACKEND_API_ERROR_H

#include <stdbool.h>

typedef struct api_error {
    int status;         /* HTTP status: 400, 401, 404, ... */
    const char *code;   /* static string: "not_found", "validation_failed", ... */
    char detail[320];   /* a human sentence */
    char field[80];     /* the offending input, or "" when there is none */
    char allow[64];     /* 405 only: the Allow header value */
} api_error;

/* Fills err and returns false, so handlers can write
 *   return api_fail(err, 422, "validation_failed", "key", "key is too long");
 * field may be NULL. */
bool api_fail(api_error *err, int status, const char *code, const char *field,
              const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The contract's error constructors, by status. Each returns false. */
/* 400 for a request body that ended before its Content-Length. */
#define API_BAD_REQUEST(err, ...) api_fail(err, 400, "bad_request", NULL, __VA_ARGS__)
#define API_INVALID_JSON(err, ...) api_fail(err, 400, "invalid_json", NULL, __VA_ARGS__)
#define API_UNAUTHORIZED(err, ...) api_fail(err, 401, "unauthorized", NULL, __VA_ARGS__)
#define API_NOT_FOUND(err, field, ...) api_fail(err, 404, "not_found", field, __VA_ARGS__)
#define API_CONFLICT(err, field, ...) api_fail(err, 409, "conflict", field, __VA_ARGS__)
#define API_TOO_LARGE(err, ...) api_fail(err, 413, "payload_too_large", NULL, __VA_ARGS__)
#define API_INVALID(err, field, ...) api_fail(err, 422, "validation_failed", field, __VA_ARGS__)
#define API_DB_UNAVAILABLE(err, ...) api_fail(err, 503, "database_unavailable", NULL, __VA_ARGS__)
#define API_INTERNAL(err, ...) api_fail(err, 500, "internal", NULL, __VA_ARGS__)

#endif
