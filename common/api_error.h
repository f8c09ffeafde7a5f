/*
 * api_error: the one error value every layer returns.
 *
 * A handler (or the parser, the auth check, the database layer) that fails
 * fills an api_error and returns false; the serve loop hands it to
 * reply_error (reply.h), the only place that turns an error into an HTTP
 * response, and the MCP layer turns the same value into an isError result.
 * Codes are the stable strings clients match on (docs/api.md), each with
 * its one status, in one table (API_ERRORS).
 */
#ifndef BACKEND_API_ERROR_H
#define BACKEND_API_ERROR_H

#include <stdbool.h>

/* The error table: every error the service answers, once. Each code has
 * one status (and so one reason phrase: the status's, from the one
 * status table) and says when it is used, for people: docs/errors.md is
 * generated from it (backend-registry --errors-md), so the sentence is
 * markdown and names the headers that come with the status. A call adds
 * the detail (and the field). Order: by status. */
#define API_ERRORS(X)                                                                                      \
    X(BAD_REQUEST, 400, "bad_request",                                                                     \
      "the request is malformed: its body ended before its `Content-Length` (the client went away)")       \
    X(INVALID_JSON, 400, "invalid_json",                                                                   \
      "the body does not parse, is empty where JSON is required, is not UTF-8, has a duplicate key or "    \
      "`\\u0000`, or nests deeper than 64 levels")                                                         \
    X(UNAUTHORIZED, 401, "unauthorized",                                                                   \
      "a missing or wrong bearer token, or another scheme; with `WWW-Authenticate: Bearer`")               \
    X(FORBIDDEN, 403, "forbidden",                                                                         \
      "a valid token whose scopes do not cover the route, namespace or tool (docs/security.md); decided "  \
      "before anything is looked up, so it never tells whether the thing exists")                          \
    X(FORBIDDEN_HOST, 403, "forbidden_host",                                                               \
      "`/mcp` only: a `Host` header that is not allowed, checked before the token")                        \
    X(FORBIDDEN_ORIGIN, 403, "forbidden_origin",                                                           \
      "`/mcp` only: an `Origin` header that is not allowed, checked before the token")                     \
    X(NOT_FOUND, 404, "not_found",                                                                         \
      "no such route, or the named document, version, item, table or row "                                 \
      "does not exist")                                                                                    \
    X(METHOD_NOT_ALLOWED, 405, "method_not_allowed",                                                       \
      "a known path, a method it does not take; `Allow` lists the ones it does (empty for a path that "    \
      "takes none, such as an uploaded file's)")                                                           \
    X(CONFLICT, 409, "conflict",                                                                           \
      "the thing exists already, a unique value is taken, or a precondition in the body (`if_version`, "   \
      "`claim_token`) no longer holds")                                                                    \
    X(GONE, 410, "gone",                                                                                   \
      "a document version that retention removed (`?version=N`), or a changes-feed cursor older than the " \
      "namespace's compaction point; `resume` holds the cursor to follow from (docs/document.md)")         \
    X(LENGTH_REQUIRED, 411, "length_required", "an upload without `Content-Length`")                       \
    X(PRECONDITION_FAILED, 412, "precondition_failed",                                                     \
      "a document write's `If-Match: \"N\"` names a version that is not the latest (or is weak, "          \
      "`W/\"N\"`: If-Match compares strongly), or its `If-None-Match: *` meets a live version")            \
    X(PAYLOAD_TOO_LARGE, 413, "payload_too_large",                                                         \
      "a body over its limit (`BODY_MAX_BYTES` for JSON, the file tier's own for an upload), refused "     \
      "before it is read")                                                                                 \
    X(UNSUPPORTED_MEDIA_TYPE, 415, "unsupported_media_type",                                               \
      "a document `PATCH` whose `Content-Type` is not `application/merge-patch+json`")                     \
    X(VALIDATION_FAILED, 422, "validation_failed",                                                         \
      "a missing, unknown or wrongly typed field or query parameter, a bad name, a value out of range, "   \
      "`%00` or a malformed escape in the path (`field: \"path\"`)")                                       \
    X(RATE_LIMITED, 429, "rate_limited",                                                                   \
      "too many requests (`RATE_LIMIT_RPS`) or wrong tokens (`AUTH_FAILURES_MAX`) from one client "        \
      "address, checked before the token; `Retry-After` says when to come back")                           \
    X(INTERNAL, 500, "internal", "a bug: never expected; the request's log line has its id and the cause") \
    X(AUTH_NOT_CONFIGURED, 503, "auth_not_configured",                                                     \
      "no token is configured: the service fails closed; with `Retry-After: 1`")                           \
    X(DATABASE_UNAVAILABLE, 503, "database_unavailable",                                                   \
      "PostgreSQL cannot be reached, is restarting, or took longer than the request's budget "             \
      "(`DB_TIMEOUT_MS`); with `Retry-After: 1`")                                                          \
    X(INSUFFICIENT_STORAGE, 507, "insufficient_storage",                                                   \
      "a folder a mode writes (the file tier's) is full or unusable")

typedef enum api_code {
#define API_CODE_ENUM_(name, status, code, when) API_E_##name,
    API_ERRORS(API_CODE_ENUM_)
#undef API_CODE_ENUM_
        API_E_COUNT
} api_code;

typedef struct api_error_kind {
    int status;       /* the HTTP status */
    const char *code; /* the stable string clients match on */
    const char *when; /* when it is answered, for people */
} api_error_kind;

/* One code as a bit of a set (a route's declared errors, mode.h):
 * API_BIT(CONFLICT) | API_BIT(NOT_FOUND). */
#define API_BIT(name) (1ull << API_E_##name)

/* The table, indexed by api_code. */
extern const api_error_kind api_error_kinds[API_E_COUNT];

typedef struct api_error {
    int status;          /* HTTP status: 400, 401, 404, ... (the table's) */
    const char *code;    /* static string: "not_found", "validation_failed", ... */
    char detail[320];    /* a human sentence */
    char field[80];      /* the offending input, or "" when there is none */
    char allow[64];      /* 405 only: the Allow header value */
    char sqlstate[6];    /* from the database (db_error_map): the server's
                           SQLSTATE, "" when the error was not its answer;
                           for a mode that tells apart errors db_error_map
                           treats alike (a table that has gone, 42P01) */
    char constraint[64]; /* from the database: the constraint a 23505 hit */
    long retry_after;    /* 429 only: the Retry-After seconds (>= 1) */
    char resume[24];     /* 410 only: the cursor a reader follows from
                            ("resume" in the body), or "" */
} api_error;

/* Fills err with the table's status and code for `code` and the detail,
 * and returns false, so handlers can write
 *   return api_fail(err, API_E_VALIDATION_FAILED, "key", "key is too long");
 * field may be NULL. */
bool api_fail(api_error *err, api_code code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The common ones, shorter. Each returns false. */
#define API_BAD_REQUEST(err, ...)      api_fail(err, API_E_BAD_REQUEST, NULL, __VA_ARGS__)
#define API_INVALID_JSON(err, ...)     api_fail(err, API_E_INVALID_JSON, NULL, __VA_ARGS__)
#define API_UNAUTHORIZED(err, ...)     api_fail(err, API_E_UNAUTHORIZED, NULL, __VA_ARGS__)
#define API_NOT_FOUND(err, field, ...) api_fail(err, API_E_NOT_FOUND, field, __VA_ARGS__)
#define API_CONFLICT(err, field, ...)  api_fail(err, API_E_CONFLICT, field, __VA_ARGS__)
#define API_TOO_LARGE(err, ...)        api_fail(err, API_E_PAYLOAD_TOO_LARGE, NULL, __VA_ARGS__)
#define API_INVALID(err, field, ...)   api_fail(err, API_E_VALIDATION_FAILED, field, __VA_ARGS__)
#define API_DB_UNAVAILABLE(err, ...)   api_fail(err, API_E_DATABASE_UNAVAILABLE, NULL, __VA_ARGS__)
#define API_INTERNAL(err, ...)         api_fail(err, API_E_INTERNAL, NULL, __VA_ARGS__)

#endif
