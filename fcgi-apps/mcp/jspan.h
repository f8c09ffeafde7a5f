/*
 * jspan: byte spans of values inside JSON text that jansson has already
 * accepted (so the text is known to be well formed).
 *
 * Why: jansson turns every number into a C double (json.c decodes integers
 * as reals), which would round a 30-digit numeric or a 64-bit id. The MCP
 * layer therefore copies argument values and route replies as the bytes the
 * client or the handler wrote, and uses jansson only to learn the
 * structure. Spans borrow the text they point into.
 */
#ifndef BACKEND_MCP_JSPAN_H
#define BACKEND_MCP_JSPAN_H

#include <stdbool.h>
#include <stddef.h>

typedef struct jspan {
    size_t off; /* first byte of the value (or key, quotes included) */
    size_t len;
} jspan;

/* The span of the whole document (surrounding white space left out). */
jspan jspan_root(const char *text, size_t len);

/* Finds member `key` of the object at obj; returns false when obj is not an
 * object or has no such member. */
bool jspan_member(const char *text, jspan obj, const char *key, jspan *value);

/* Iterates the members of the object at obj: start with *pos = 0; each
 * call stores the next member's key span (with its quotes) and value span
 * and returns true, then false at the end. */
bool jspan_next(const char *text, jspan obj, size_t *pos, jspan *key, jspan *value);

/* True when the key span (quotes included) spells name. */
bool jspan_key_is(const char *text, jspan key, const char *name);

#endif
