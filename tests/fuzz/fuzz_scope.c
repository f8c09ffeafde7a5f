/* libFuzzer target: the scope grammar (common/scope.h). Invariants, each
 * checked against what the grammar says:
 *   - a scope that parses formats back to text that parses to the same
 *     scope, no longer than SCOPE_TEXT_MAX;
 *   - a parsed scope's area is `*`, `metrics` or a known one; file is
 *     write-only with no pattern, metrics read-only with no pattern;
 *   - a pattern holds only a namespace's characters (no ':', no '*');
 *   - a scope allows its own namespace (or, for a prefix, the prefix
 *     itself) at its own access, and a refusal's reason is set;
 *   - the input as JSON: scope_parse_list accepts or answers a 422 whose
 *     field is scopes or scopes[i]. */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scope.h"

static const scope_area areas[] = {
    {"document", true, true, true, false},  {"queue", true, true, true, false},
    {"sql", true, true, true, true},        {"file", false, true, false, false},
    {"metrics", true, false, false, false},
};

static const scope_area *known(const char *a) {
    for (size_t i = 0; i < sizeof areas / sizeof areas[0]; i++)
        if (strcmp(areas[i].name, a) == 0) return &areas[i];
    return NULL;
}

static void check_one(const char *text) {
    scope s, again;
    char why[200] = "", buf[SCOPE_TEXT_MAX + 8];
    if (!scope_parse(text, known, &s, why, sizeof why)) {
        if (why[0] == '\0') abort();
        return;
    }
    if (strcmp(s.area, "*") != 0 && !known(s.area)) abort();
    if (strcmp(s.area, "file") == 0 && (!s.write || s.pattern[0] || s.prefix)) abort();
    if (strcmp(s.area, "metrics") == 0 && (s.write || s.pattern[0] || s.prefix)) abort();
    if (strpbrk(s.pattern, ":*") != NULL) abort();
    scope_format(&s, buf, sizeof buf);
    if (strlen(buf) > SCOPE_TEXT_MAX) abort();
    if (!scope_parse(buf, known, &again, why, sizeof why) || memcmp(&s, &again, sizeof s) != 0) abort();
    const char *area = strcmp(s.area, "*") == 0 ? "document" : s.area;
    if (!scope_allows(&s, 1, area, s.write, s.pattern[0] ? s.pattern : NULL)) abort();
}

static void check_list(const uint8_t *data, size_t size) {
    json_t *root = json_loadb((const char *)data, size, 0, NULL);
    if (root == NULL) return;
    scope s[SCOPES_MAX];
    size_t n;
    api_error err;
    if (!scope_parse_list(root, known, s, &n, &err)) {
        if (err.status != 422 || strncmp(err.field, "scopes", 6) != 0) abort();
    } else if (n < 1 || n > SCOPES_MAX) {
        abort();
    }
    json_decref(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    check_one(s);
    check_list(data, size);
    free(s);
    return 0;
}
