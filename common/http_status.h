/*
 * http_status: the one table of HTTP statuses the service sends, each with
 * its standard reason phrase (RFC 7231, 6585 and 4918). A status cannot be sent without its phrase: every status line the
 * FastCGI modes write takes it from here, and tests/unit/test_http_status.c
 * checks every status the code can emit against the IANA registry.
 */
#ifndef BACKEND_HTTP_STATUS_H
#define BACKEND_HTTP_STATUS_H

#include <stddef.h>

typedef struct http_status {
    int code;           /* 404 */
    const char *reason; /* "Not Found" */
} http_status;

/* Every status the modes, backend-mcp or lighttpd's own error pages
 * (deploy/errors/) send; http_statuses_count entries. */
extern const http_status http_statuses[];
extern const size_t http_statuses_count;

/* Returns the reason phrase of status (a static string), or NULL when the
 * service never sends that status. */
const char *http_reason(int status);

#endif
