#define _POSIX_C_SOURCE 200809L
#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n);
    if (q == NULL) {
        fputs("backend: out of memory\n", stderr);
        abort();
    }
    return q;
}

strbuf *strbuf_new(void) {
    strbuf *sb = xrealloc(NULL, sizeof *sb);
    sb->cap = 256;
    sb->len = 0;
    sb->data = xrealloc(NULL, sb->cap);
    sb->data[0] = '\0';
    return sb;
}

void strbuf_free(strbuf *sb) {
    if (sb == NULL) return;
    free(sb->data);
    free(sb);
}

void strbuf_reset(strbuf *sb) {
    sb->len = 0;
    sb->data[0] = '\0';
}

/* Makes room for n more bytes plus the NUL. */
static void reserve(strbuf *sb, size_t n) {
    if (sb->len + n + 1 <= sb->cap) return;
    size_t cap = sb->cap;
    while (cap < sb->len + n + 1) cap *= 2;
    sb->data = xrealloc(sb->data, cap);
    sb->cap = cap;
}

void strbuf_append(strbuf *sb, const char *bytes, size_t n) {
    reserve(sb, n);
    memcpy(sb->data + sb->len, bytes, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
}

void strbuf_puts(strbuf *sb, const char *s) { strbuf_append(sb, s, strlen(s)); }

void strbuf_printf(strbuf *sb, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof small) {
        strbuf_append(sb, small, (size_t)n);
        return;
    }
    reserve(sb, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb->len += (size_t)n;
}

void strbuf_json_string(strbuf *sb, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    reserve(sb, n + 2);
    strbuf_append(sb, "\"", 1);
    size_t run = 0; /* start of the current run of bytes needing no escape */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        strbuf_append(sb, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': strbuf_append(sb, "\\\"", 2); break;
        case '\\': strbuf_append(sb, "\\\\", 2); break;
        case '\n': strbuf_append(sb, "\\n", 2); break;
        case '\r': strbuf_append(sb, "\\r", 2); break;
        case '\t': strbuf_append(sb, "\\t", 2); break;
        default: {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            strbuf_append(sb, esc, 6);
        }
        }
    }
    strbuf_append(sb, s + run, n - run);
    strbuf_append(sb, "\"", 1);
}
