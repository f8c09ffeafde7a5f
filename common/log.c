#define _POSIX_C_SOURCE 200809L
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "strbuf.h"

static const char *g_mode = "backend";
static const char *level_names[] = {"debug", "info", "warn", "error"};

void log_set_mode(const char *mode_name) { g_mode = mode_name; }

/* Starts a line with the time (UTC, milliseconds) and the level. */
static void line_start(strbuf *sb, enum log_level level) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[40];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    strbuf_printf(sb, "{\"time\":\"%s.%03ldZ\",\"level\":\"%s\",\"mode\":", when, ts.tv_nsec / 1000000,
                  level_names[level]);
    strbuf_json_string(sb, g_mode, strlen(g_mode));
}

/* One write(2) per line, so lines of concurrent processes never interleave
 * (stderr lines are far below PIPE_BUF). */
static void line_end(strbuf *sb) {
    strbuf_puts(sb, "}\n");
    ssize_t off = 0;
    while (off < (ssize_t)sb->len) {
        ssize_t n = write(STDERR_FILENO, sb->data + off, sb->len - (size_t)off);
        if (n <= 0) break;
        off += n;
    }
}

void log_msg(enum log_level level, const char *fmt, ...) {
    if (level < g_config.log_level) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    strbuf *sb = strbuf_new();
    line_start(sb, level);
    strbuf_puts(sb, ",\"msg\":");
    strbuf_json_string(sb, msg, strlen(msg));
    line_end(sb);
    strbuf_free(sb);
}

void log_access(const char *request_id, const trace_context *trace, const char *method, const char *path,
                int status, double duration_ms, const char *error_detail, const char *token_id) {
    enum log_level level = status >= 500 ? LOG_ERROR : LOG_INFO;
    if (level < g_config.log_level) return;
    strbuf *sb = strbuf_new();
    line_start(sb, level);
    strbuf_puts(sb, ",\"request_id\":");
    strbuf_json_string(sb, request_id, strlen(request_id));
    /* The ids are hex the service wrote (trace.h): no escaping needed. */
    strbuf_printf(sb, ",\"trace_id\":\"%s\",\"span_id\":\"%s\"", trace->trace_id, trace->span_id);
    if (trace->parent_id[0] != '\0') strbuf_printf(sb, ",\"parent_span_id\":\"%s\"", trace->parent_id);
    strbuf_puts(sb, ",\"method\":");
    strbuf_json_string(sb, method, strlen(method));
    strbuf_puts(sb, ",\"path\":");
    /* Paths are client text: cap what one line can carry. */
    size_t plen = strlen(path);
    strbuf_json_string(sb, path, plen > 512 ? 512 : plen);
    strbuf_printf(sb, ",\"status\":%d,\"duration_ms\":%.3f", status, duration_ms);
    /* which token (never the token itself): root:1, root:2 or a scoped
     * token's id, for rotations and audits (docs/security.md) */
    if (token_id != NULL && token_id[0] != '\0') {
        strbuf_puts(sb, ",\"token_id\":");
        strbuf_json_string(sb, token_id, strlen(token_id));
    }
    if (error_detail != NULL && status >= 500) {
        strbuf_puts(sb, ",\"error\":");
        strbuf_json_string(sb, error_detail, strlen(error_detail));
    }
    line_end(sb);
    strbuf_free(sb);
}
