/* Unit tests: the scope grammar (common/scope.h), each rule at its edge,
 * and matching a request's area, access and namespace against scopes. */
#define _POSIX_C_SOURCE 200809L
#include <string.h>

#include "check.h"
#include "scope.h"

static const scope_area areas[] = {
    {"document", true, true, true, false}, {"queue", true, true, true, false},
    {"sql", true, true, true, true},       {"file", false, true, false, false},
    {"metrics", true, false, false, false},
};

static const scope_area *known(const char *a) {
    for (size_t i = 0; i < sizeof areas / sizeof areas[0]; i++)
        if (strcmp(areas[i].name, a) == 0) return &areas[i];
    return NULL;
}

static bool parses(const char *text) {
    scope s;
    char why[200];
    return scope_parse(text, known, &s, why, sizeof why);
}

/* Text of n copies of c, then tail. */
static const char *repeat(char *buf, char c, size_t n, const char *tail) {
    memset(buf, c, n);
    strcpy(buf + n, tail);
    return buf;
}

static void grammar(void) {
    CHECK(parses("document:read"), "area:access");
    CHECK(parses("document:write:ci-status"), "a namespace");
    CHECK(parses("queue:write:jobs*"), "a prefix");
    CHECK(parses("document:read:*"), "* alone: all");
    CHECK(parses("*:write") && parses("*:read:ci-*"), "every area");
    CHECK(parses("metrics:read") && parses("file:write"), "metrics and file");
    CHECK(!parses("metrics:write") && !parses("metrics:read:x"), "metrics: read only, no pattern");
    CHECK(!parses("file:read") && !parses("file:write:x"), "file: write only, no pattern");
    CHECK(!parses("tokens:read") && !parses("health:read"), "unknown areas");
    CHECK(!parses("document") && !parses("document:") && !parses("document:admin"), "access required");
    CHECK(!parses("document:read:") && !parses(":read") && !parses("Document:read"), "empty parts, case");
    CHECK(!parses("document:read:a:b") && !parses("document:read:-x") && !parses("document:read:a*b"),
          "pattern characters");
    char buf[300];
    CHECK(!parses(repeat(buf, 'a', 128, "")), "no colon at all");
    char t[400];
    snprintf(t, sizeof t, "document:read:%s", repeat(buf, 'a', 128, ""));
    CHECK(parses(t), "namespace of 128");
    snprintf(t, sizeof t, "document:read:%s", repeat(buf, 'a', 129, ""));
    CHECK(!parses(t), "namespace of 129");
    snprintf(t, sizeof t, "document:read:%s", repeat(buf, 'a', 128, "*"));
    CHECK(parses(t), "prefix of 128 and *");
    snprintf(t, sizeof t, "sql:read:%s", repeat(buf, 'a', 48, ""));
    CHECK(parses(t), "table of 48");
    snprintf(t, sizeof t, "sql:read:%s", repeat(buf, 'a', 49, ""));
    CHECK(!parses(t), "table of 49");
    CHECK(!parses("sql:read:Orders") && !parses("sql:read:1t") && parses("sql:read:t_1"), "table rules");
}

static void lists(void) {
    scope s[SCOPES_MAX];
    size_t n;
    api_error err;
    json_t *a = json_loads("[\"document:read\", \"queue:bogus\"]", 0, NULL);
    CHECK(!scope_parse_list(a, known, s, &n, &err) && err.status == 422 && strcmp(err.field, "scopes[1]") == 0,
          "422 names scopes[1]");
    json_decref(a);
    a = json_array();
    CHECK(!scope_parse_list(a, known, s, &n, &err) && strcmp(err.field, "scopes") == 0, "0 scopes: 422");
    for (int i = 0; i < SCOPES_MAX; i++) json_array_append_new(a, json_string("document:read"));
    CHECK(scope_parse_list(a, known, s, &n, &err) && n == SCOPES_MAX, "64 scopes");
    json_array_append_new(a, json_string("document:read"));
    CHECK(!scope_parse_list(a, known, s, &n, &err) && strcmp(err.field, "scopes") == 0, "65 scopes: 422");
    json_decref(a);
    a = json_loads("[1]", 0, NULL);
    CHECK(!scope_parse_list(a, known, s, &n, &err) && strcmp(err.field, "scopes[0]") == 0, "not a string");
    json_decref(a);
}

static void matching(void) {
    scope s[SCOPES_MAX];
    size_t n;
    api_error err;
    json_t *a = json_loads("[\"document:read:ci-*\", \"queue:write:jobs\", \"sql:read:orders\"]", 0, NULL);
    CHECK(scope_parse_list(a, known, s, &n, &err) && n == 3, "three scopes");
    json_decref(a);
    CHECK(scope_allows(s, n, "document", false, "ci-status"), "prefix read");
    CHECK(!scope_allows(s, n, "document", true, "ci-status"), "read does not write");
    CHECK(!scope_allows(s, n, "document", false, "cd-status"), "outside the prefix");
    CHECK(scope_allows(s, n, "queue", false, "jobs") && scope_allows(s, n, "queue", true, "jobs"),
          "write includes read");
    CHECK(!scope_allows(s, n, "queue", true, "jobs2"), "exact namespace only");
    CHECK(scope_allows(s, n, "document", false, NULL), "a list with some read scope");
    CHECK(!scope_allows(s, n, "queue", true, NULL), "a write naming nothing needs all");
    CHECK(!scope_allows(s, n, "file", true, NULL) && !scope_allows(s, n, "metrics", false, NULL),
          "file and metrics not granted");
    CHECK(scope_may_read(s, n, "sql", "orders") && !scope_may_read(s, n, "sql", "order"), "list filter");
    char buf[200];
    scope_needed(buf, sizeof buf, "document", true, "ci-status");
    CHECK_STR(buf, "document:write:ci-status", "the scope needed");
    scope_format(&s[0], buf, sizeof buf);
    CHECK_STR(buf, "document:read:ci-*", "formatted back");
    a = json_loads("[\"*:write\"]", 0, NULL);
    CHECK(scope_parse_list(a, known, s, &n, &err), "*:write");
    json_decref(a);
    CHECK(scope_allows(s, n, "metrics", false, NULL) && scope_allows(s, n, "sql", true, "t"), "*:write: all");
}

int main(void) {
    grammar();
    lists();
    matching();
    return CHECK_DONE();
}
