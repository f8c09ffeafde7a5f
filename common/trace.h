/*
 * trace: the W3C Trace Context of one request (docs/operations.md, Tracing).
 *
 * An incoming `traceparent` header that is valid (W3C Trace Context level 1:
 * version-traceid-parentid-flags in lowercase hex, neither id all zeros,
 * version ff refused) is honoured: the request joins its trace, with the
 * sender's span as parent. Absent or invalid, a new trace is started. Either
 * way the request gets a span id of its own; both are in its access line.
 */
#ifndef BACKEND_TRACE_H
#define BACKEND_TRACE_H

#include <stdbool.h>

enum { TRACE_ID_CHARS = 32, SPAN_ID_CHARS = 16 };

typedef struct trace_context {
    char trace_id[TRACE_ID_CHARS + 1]; /* 32 lowercase hex */
    char span_id[SPAN_ID_CHARS + 1];   /* this request's span: 16 lowercase hex */
    char parent_id[SPAN_ID_CHARS + 1]; /* the caller's span; "" when the trace started here */
} trace_context;

/* True when header is a traceparent this service honours; then trace_id and
 * parent_id (when not NULL) receive its ids. */
bool trace_parse(const char *header, char trace_id[TRACE_ID_CHARS + 1], char parent_id[SPAN_ID_CHARS + 1]);

/* Fills t from the traceparent header (NULL when absent): its trace when it
 * is valid, a new trace otherwise, and a new span id. */
void trace_start(trace_context *t, const char *traceparent);

#endif
