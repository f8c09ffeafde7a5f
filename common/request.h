/*
 * request: one HTTP request as the handlers see it, parsed and validated
 * before any handler runs (after kcgi: parsing is kept apart from handling).
 *
 * Everything a request points to is owned by its pool. Parsing is pure: it
 * reads the FastCGI parameters through a lookup function, so the unit tests
 * and the fuzzers drive it without a server.
 */
#ifndef BACKEND_REQUEST_H
#define BACKEND_REQUEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "api_error.h"
#include "auth.h"
#include "pool.h"
#include "trace.h"

enum { REQUEST_ID_MAX = 64, PATH_MAX_BYTES = 4096, PATH_MAX_SEGMENTS = 16 };

typedef struct query_param {
    const char *name;  /* percent-decoded, NUL-free */
    const char *value; /* percent-decoded, NUL-free; "" for "?a" or "?a=" */
} query_param;

struct mode;

typedef struct request {
    pool *pool;         /* owns everything below */
    const char *method; /* "GET", "POST", ... */
    const char *path;   /* as sent, without the query string */
    const char **segs;  /* percent-decoded path segments */
    size_t nsegs;
    query_param *query;
    size_t nquery;
    const char *remote_addr;   /* the client's address (REMOTE_ADDR, or a
                                  trusted proxy's word: abuse.h), or NULL */
    const char *authorization; /* the header, or NULL; borrowed from the
                                     FastCGI request: valid until it finishes */
    char request_id[REQUEST_ID_MAX + 1];
    trace_context trace;      /* from traceparent, or started here (trace.h) */
    long long content_length; /* -1 when absent */
    const char *content_type; /* the header, or NULL */
    /* The conditional and negotiation headers (RFC 9110), as sent, or NULL:
     * a handler that honours them reads them here; the others ignore them. */
    const char *if_match;      /* If-Match */
    const char *if_none_match; /* If-None-Match */
    const char *accept;        /* Accept */
    const char *last_event_id; /* Last-Event-ID (an event stream resuming) */
    const char *body;          /* NUL-terminated; NULL until read */
    size_t body_len;
    json_t *json; /* the body as the serve loop parsed it for the
                                  route's declared input (owned by the pool),
                                  or NULL when the route takes no JSON body */
    /* For a route that streams its body (route.streams_body) the body is not
     * read before the handler: it reads it through this, in chunks. Returns
     * the bytes read, 0 at the end, -1 when the client went away. */
    long (*body_read)(void *ctx, char *buf, size_t n);
    void *body_ctx;
    /* For a route that streams its answer (route.streams_response) over
     * FastCGI: writes n bytes of the body and flushes them to the client;
     * the first call sends the head first (200, content_type). Returns
     * false when the client went away. NULL where an answer cannot be
     * streamed (an MCP tool call, a HEAD). */
    bool (*stream_write)(void *ctx, const char *content_type, const char *data, size_t n);
    void *stream_ctx;
    const char **params; /* route captures, in pattern order */
    size_t nparams;
    const struct mode *mode; /* borrowed: the mode serving it */
    auth_who who;            /* the token's identity and scopes, once
                                 checked (auth.h); id "" before */
} request;

/* Looks a FastCGI parameter up ("REQUEST_URI", "HTTP_AUTHORIZATION", ...);
 * returns NULL when absent. */
typedef const char *(*param_lookup)(void *ctx, const char *name);

/* Fills req from the parameters. Returns false with err set (422 for a
 * malformed path or query, 404 for a path over the limits). */
bool request_parse(request *req, pool *p, param_lookup get, void *ctx, api_error *err);

/* Parses an entity-tag header value (If-Match, If-None-Match) that names
 * versions: "*" sets *any; each strong or weak tag "N" (N a decimal
 * number of 1 to 16 digits) up to max tags goes into tags, and *weak (weak
 * may be NULL) says whether any tag was weak (W/"N"): If-None-Match
 * compares weakly, so
 * W/"N" names version N there, while If-Match compares strongly and a weak
 * tag never matches (RFC 9110, 13.1.1). Returns the number of tags, or -1
 * when the value is not such a list. */
int request_etags(const char *value, bool *any, bool *weak, long long *tags, int max);

/* Percent-decodes n bytes of s into a pool string; '+' becomes a space when
 * plus_is_space. Returns NULL for a malformed escape or a decoded NUL. */
char *request_decode(pool *p, const char *s, size_t n, bool plus_is_space);

/* True when id is 1-64 characters of [A-Za-z0-9._-] (an X-Request-Id we echo). */
bool request_id_valid(const char *id);

/* The query parameter `name`: *value is NULL when absent. Returns false with
 * a 422 when it is given more than once. */
bool request_query(const request *req, const char *name, const char **value, api_error *err);

/* Returns false with a 422 naming the first query parameter not in the
 * NULL-terminated list `known`. */
bool request_query_known(const request *req, const char *const *known, api_error *err);

/* Parses the body as JSON (see json_parse in json.h). The value is owned by
 * the request's pool. Returns NULL with err set. */
json_t *request_json(request *req, api_error *err);

/* request_json, and with allow_nul a \u0000 in a string value parses (see
 * json_parse_allow_nul). */
json_t *request_json_value(request *req, bool allow_nul, api_error *err);

/* The body as a JSON object (owned by the request's pool): 400 when it is
 * not JSON, 422 (field "body") when it is JSON but not an object. With
 * allow_empty, an empty body is an empty object; with allow_nul, a
 * \u0000 in a string parses (request_json_value). */
json_t *request_json_object(request *req, bool allow_empty, bool allow_nul, api_error *err);

#endif
