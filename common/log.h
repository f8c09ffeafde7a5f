/*
 * log: JSON lines on stderr, one object per line.
 *
 * lighttpd hands its stderr to the mode processes it spawns, so every line of
 * every process ends up in one stream (the container log). The access line is
 * written once per request by the serve loop; log_msg is for everything else.
 * Nothing here ever logs a request body or the Authorization header.
 */
#ifndef BACKEND_LOG_H
#define BACKEND_LOG_H

#include "config.h"
#include "trace.h"

/* Sets the name logged as "mode" on every line (a static string). */
void log_set_mode(const char *mode_name);

/* One line: {"time","level","mode","msg"}; dropped below LOG_LEVEL. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The access line: {"time","level":"info","request_id","trace_id",
 * "span_id","method","path","status","duration_ms","mode"} (plus
 * "parent_span_id" when the caller sent a traceparent, and "error" when
 * status >= 500). */
void log_access(const char *request_id, const trace_context *trace, const char *method, const char *path,
                int status, double duration_ms, const char *error_detail, const char *token_id);

#endif
