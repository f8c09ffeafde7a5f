/*
 * scope: what a scoped token may do (docs/security.md, "Scopes").
 *
 * A scope is `<area>:<access>[:<pattern>]`: area a mode's name, `metrics`
 * or `*`; access `read` (GET and HEAD routes, read-only tools) or `write`
 * (everything of the area, read included); pattern a namespace (or, in an
 * area whose names are tables, a table name) or a prefix ending in `*`,
 * omitted for all. What each area takes is its declaration's
 * (scope_area).
 *
 * Parsing is pure (no allocation, no global state) so that it can be
 * fuzzed (tests/fuzz/fuzz_scope.c) and unit-tested (tests/unit/test_scope.c).
 */
#ifndef BACKEND_SCOPE_H
#define BACKEND_SCOPE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "api_error.h"

enum {
    SCOPE_AREA_MAX = 32,     /* an area's name, at most */
    SCOPE_PATTERN_MAX = 129, /* a namespace (128) and the trailing '*' */
    SCOPE_TEXT_MAX = SCOPE_AREA_MAX + 7 + SCOPE_PATTERN_MAX,
    SCOPES_MAX = 64, /* scopes of one token */
};

typedef struct scope {
    char area[SCOPE_AREA_MAX + 1];       /* "document", "metrics", "*" */
    bool write;                          /* write (read included) or read */
    bool prefix;                         /* pattern ends in '*' (removed here) */
    char pattern[SCOPE_PATTERN_MAX + 1]; /* "" with prefix false: all; the
                                            namespace, or the prefix */
} scope;

/* What an area's scopes take: the caller's table (common/ names no mode:
 * the tokens mode declares them). */
typedef struct scope_area {
    const char *name;    /* "document"; "*" for every area */
    bool readable;       /* takes read */
    bool writable;       /* takes write */
    bool patterns;       /* takes a pattern */
    bool lower_patterns; /* its names are ^[a-z][a-z0-9_]{0,47}$ (a table's),
                            else a namespace's [A-Za-z0-9][A-Za-z0-9._-]{0,127} */
} scope_area;

/* The rules of the area name, or NULL when there is no such area. */
typedef const scope_area *(*scope_area_fn)(const char *name);

/* Parses one scope's text (NUL-terminated), the areas' rules from
 * area_of. Returns true with *out filled; false with why (a sentence, at
 * most why_size bytes) set. */
bool scope_parse(const char *text, scope_area_fn area_of, scope *out, char *why, size_t why_size);

/* Parses a JSON array of 1..SCOPES_MAX scope strings into out (room for
 * SCOPES_MAX) and *n. Returns false with a 422 naming `scopes[i]` (or
 * `scopes`) in err. */
bool scope_parse_list(const json_t *arr, scope_area_fn area_of, scope *out, size_t *n, api_error *err);

/* True when one of the n scopes allows access (write or read) to area;
 * name is the namespace (or table) the request names, or NULL when it
 * names none: then a read needs some read scope of the area (the handler
 * shows only what scope_may_read allows) and a write a scope of the area
 * with no pattern. */
bool scope_allows(const scope *s, size_t n, const char *area, bool write, const char *name);

/* True when a read of namespace name of area is allowed (for lists that
 * span namespaces). */
bool scope_may_read(const scope *s, size_t n, const char *area, const char *name);

/* Writes the scope that would allow the access into buf ("document:read:ci",
 * "metrics:read", "file:write"). */
void scope_needed(char *buf, size_t size, const char *area, bool write, const char *name);

/* Writes s back as text into buf (at least SCOPE_TEXT_MAX + 1 bytes). */
void scope_format(const scope *s, char *buf, size_t size);

#endif
