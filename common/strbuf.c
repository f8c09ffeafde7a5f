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

/* Length of the valid UTF-8 sequence starting at s (at most n bytes), or
 * 0 when the bytes there are not one (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF). */
static size_t utf8_len(const unsigned char *s, size_t n) {
    size_t len;
    unsigned int min;
    if (s[0] < 0x80) return 1;
    if ((s[0] & 0xe0) == 0xc0)
        len = 2, min = 0x80;
    else if ((s[0] & 0xf0) == 0xe0)
        len = 3, min = 0x800;
    else if ((s[0] & 0xf8) == 0xf0)
        len = 4, min = 0x10000;
    else
        return 0;
    if (len > n) return 0;
    unsigned int cp = s[0] & (0x7f >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return len;
}

void strbuf_json_string(strbuf *sb, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    reserve(sb, n + 2);
    strbuf_append(sb, "\"", 1);
    size_t run = 0; /* start of the current run of bytes needing no escape */
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            size_t len = utf8_len((const unsigned char *)s + i, n - i);
            if (len > 0) {
                i += len;
                continue;
            }
            /* Not UTF-8 (client bytes, or a sequence cut by truncation):
             * the replacement character keeps the JSON valid. */
            strbuf_append(sb, s + run, i - run);
            strbuf_append(sb, "\\ufffd", 6);
            run = ++i;
            continue;
        }
        if (c >= 0x20 && c != '"' && c != '\\') {
            i++;
            continue;
        }
        strbuf_append(sb, s + run, i - run);
        run = ++i;
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
