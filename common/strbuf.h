/*
 * strbuf: a growable byte string, always NUL-terminated.
 *
 * Used to build response bodies and log lines. Allocation failure aborts the
 * process (as redis' zmalloc does): a service that cannot allocate 4 KiB is
 * better restarted by lighttpd than limping on with half-written answers.
 */
#ifndef BACKEND_STRBUF_H
#define BACKEND_STRBUF_H

#include <stddef.h>

typedef struct strbuf {
    char *data; /* owned; NUL-terminated; never NULL after strbuf_new */
    size_t len; /* bytes used, excluding the terminating NUL */
    size_t cap; /* bytes allocated */
} strbuf;

/* Returns an empty buffer; release it with strbuf_free. */
strbuf *strbuf_new(void);
/* Frees the buffer and its data; NULL is accepted. */
void strbuf_free(strbuf *sb);
/* Empties the buffer, keeping its allocation. */
void strbuf_reset(strbuf *sb);

void strbuf_append(strbuf *sb, const char *bytes, size_t n);
void strbuf_puts(strbuf *sb, const char *s);
/* printf into the buffer. */
void strbuf_printf(strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s (n bytes) as a quoted JSON string, escaping as RFC 8259 says;
 * bytes that are not valid UTF-8 become U+FFFD, so the result is always
 * valid JSON whatever s holds (client text, a truncated message). */
void strbuf_json_string(strbuf *sb, const char *s, size_t n);

#endif
