#define _POSIX_C_SOURCE 200809L
#include "reply.h"

#include <stdio.h>
#include <string.h>

void reply_init(reply *r) {
    r->status = 200;
    r->body = strbuf_new();
    r->headers[0] = '\0';
    r->content_type = NULL;
}

void reply_release(reply *r) {
    strbuf_free(r->body);
    r->body = NULL;
}

void reply_header(reply *r, const char *name, const char *value) {
    size_t used = strlen(r->headers);
    int n = snprintf(r->headers + used, sizeof r->headers - used, "%s: %s\r\n", name, value);
    if (n < 0 || (size_t)n >= sizeof r->headers - used) r->headers[used] = '\0';
}

void reply_error(reply *r, const api_error *err) {
    r->status = err->status;
    r->content_type = NULL;
    r->headers[0] = '\0';
    strbuf_reset(r->body);
    strbuf_puts(r->body, "{\"error\":");
    strbuf_json_string(r->body, err->code, strlen(err->code));
    strbuf_puts(r->body, ",\"detail\":");
    strbuf_json_string(r->body, err->detail, strlen(err->detail));
    if (err->field[0] != '\0') {
        strbuf_puts(r->body, ",\"field\":");
        strbuf_json_string(r->body, err->field, strlen(err->field));
    }
    if (err->resume[0] != '\0') {
        strbuf_puts(r->body, ",\"resume\":");
        strbuf_json_string(r->body, err->resume, strlen(err->resume));
    }
    strbuf_puts(r->body, "}");
    if (err->status == 401) reply_header(r, "WWW-Authenticate", "Bearer");
    if (err->status == 405) reply_header(r, "Allow", err->allow); /* may be empty: no method */
    if (err->status == 503) reply_header(r, "Retry-After", "1");
    if (err->status == 429) {
        char secs[24];
        snprintf(secs, sizeof secs, "%ld", err->retry_after > 0 ? err->retry_after : 1);
        reply_header(r, "Retry-After", secs);
    }
}

static void append_rows(strbuf *b, const PGresult *res, int nrows) {
    strbuf_puts(b, "{\"items\":[");
    for (int i = 0; i < nrows; i++) {
        if (i) strbuf_puts(b, ",");
        strbuf_puts(b, PQgetvalue(res, i, 0));
    }
    strbuf_puts(b, "]");
}

void reply_items(reply *r, const PGresult *res) {
    append_rows(r->body, res, PQntuples(res));
    strbuf_puts(r->body, "}");
}

void reply_page(reply *r, const PGresult *res, long long limit) {
    int n = PQntuples(res);
    int shown = n > limit ? (int)limit : n;
    append_rows(r->body, res, shown);
    strbuf_puts(r->body, ",\"next\":");
    if (n > limit) {
        const char *cursor = PQgetvalue(res, shown - 1, 1);
        strbuf_json_string(r->body, cursor, strlen(cursor));
    } else {
        strbuf_puts(r->body, "null");
    }
    strbuf_puts(r->body, "}");
}
