/*
 * reply: the response a handler builds, written out by the serve loop.
 *
 * A handler sets status and appends a JSON object to body. reply_error is
 * the single place where an api_error becomes a response: the
 * {"error","detail","field"} body of docs/errors.md plus the headers its
 * status needs (WWW-Authenticate, Allow, Retry-After).
 */
#ifndef BACKEND_REPLY_H
#define BACKEND_REPLY_H

#include <libpq-fe.h>

#include "api_error.h"
#include "strbuf.h"

typedef struct reply {
    int status;               /* 200 unless the handler says otherwise */
    strbuf *body;             /* owned by the reply; the JSON body */
    char headers[256];        /* extra header lines, each ending "\r\n" */
    const char *content_type; /* NULL: application/json (a static string) */
} reply;

/* Initialises r with status 200 and an empty body; release with reply_release. */
void reply_init(reply *r);
void reply_release(reply *r);

/* Replaces whatever r holds with the error's status, headers and body. */
void reply_error(reply *r, const api_error *err);

/* Appends one "Name: value\r\n" header line (ignored if it does not fit). */
void reply_header(reply *r, const char *name, const char *value);

/* Appends {"items":[<column 0 of each row>]} : rows whose first column is
 * a JSON object built by PostgreSQL. */
void reply_items(reply *r, const PGresult *res);

/* Appends {"items":[...],"next":...} for a page: the query fetched limit+1
 * rows; when it got more than limit, next is column 1 of the last row shown
 * (the cursor, as a JSON string), else null. */
void reply_page(reply *r, const PGresult *res, long long limit);

#endif
