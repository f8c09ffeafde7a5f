/* Unit tests: the scope grammar (common/scope.h), each rule at its edge,
 * and matching a request's area, access and namespace against scopes; the
 * root token file's lines (config_token_lines) and the two root tokens
 * (auth.h). */
#define _POSIX_C_SOURCE 200809L
#include <string.h>

#include "auth.h"
#include "check.h"
#include "config.h"
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
    CHECK(!scope_parse_list(a, known, s, &n, &err) && err.status == 422 &&
              strcmp(err.field, "scopes[1]") == 0,
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

/* config_token_lines on a copy of text: the number of tokens, or -1. */
static int token_lines(const char *text, char *t1, char *t2) {
    char buf[128], *a, *b;
    const char *why;
    snprintf(buf, sizeof buf, "%s", text);
    if (!config_token_lines(buf, strlen(buf), &a, &b, &why)) return -1;
    snprintf(t1, 32, "%s", a ? a : "");
    snprintf(t2, 32, "%s", b ? b : "");
    return (a != NULL) + (b != NULL);
}

static void root_tokens(void) {
    char a[32], b[32];
    CHECK(token_lines("  one-token \n", a, b) == 1 && strcmp(a, "one-token") == 0, "one token, trimmed");
    CHECK(token_lines("new-1\n\n  old-2  \n\n", a, b) == 2 && strcmp(a, "new-1") == 0 &&
              strcmp(b, "old-2") == 0,
          "two tokens, blank lines skipped");
    CHECK(token_lines("a-1\nb-2\nc-3\n", a, b) == -1, "three tokens: refused");
    CHECK(token_lines("a 1\n", a, b) == -1, "a blank inside a token: refused");
    CHECK(token_lines(" \n\t\n", a, b) == 0, "blank: no token");
    char nul[] = "a-1\0b";
    char *t1, *t2;
    const char *why;
    CHECK(!config_token_lines(nul, sizeof nul - 1, &t1, &t2, &why), "a NUL byte: refused");

    api_error err;
    auth_who who;
    g_config.token = "first-token";
    g_config.token_len = strlen(g_config.token);
    g_config.token2 = NULL;
    CHECK(auth_identify("Bearer first-token", NULL, &who, &err) && who.root && strcmp(who.id, "root:1") == 0,
          "one root token: root:1");
    g_config.token2 = "second-token";
    g_config.token2_len = strlen(g_config.token2);
    CHECK(auth_identify("Bearer second-token", NULL, &who, &err) && strcmp(who.id, "root:2") == 0,
          "the second line: root:2");
    CHECK(auth_identify("Bearer first-token", NULL, &who, &err) && strcmp(who.id, "root:1") == 0,
          "the first still works");
    CHECK(!auth_identify("Bearer third-token", NULL, &who, &err) && err.status == 401, "neither: 401");
    g_config.token = NULL;
    g_config.token2 = NULL;
    CHECK(!auth_identify("Bearer first-token", NULL, &who, &err) && err.status == 503,
          "no root token: 503, scoped or not");

    /* auth_allows: the 403 names the scope that would allow it */
    scope s[1];
    char why2[200];
    CHECK(scope_parse("queue:read:jobs", known, &s[0], why2, sizeof why2), "a scope");
    auth_who scoped = {.id = "t", .root = false, .scopes = s, .nscopes = 1};
    CHECK(auth_allows(&scoped, "queue", false, "jobs", &err), "allowed");
    CHECK(!auth_allows(&scoped, "queue", true, "jobs", &err) && err.status == 403 &&
              strcmp(err.code, "forbidden") == 0 && strcmp(err.field, "scope") == 0 &&
              strstr(err.detail, "queue:write:jobs") != NULL,
          "403 forbidden, field scope, naming queue:write:jobs");
    const char *exact = NULL, *prefixes = NULL;
    pool *p = pool_new();
    CHECK(auth_read_filter(&scoped, "queue", p, &exact, &prefixes) && strcmp(exact, "{\"jobs\"}") == 0 &&
              strcmp(prefixes, "{}") == 0,
          "a list's filter: the namespaces its read scopes name");
    pool_free(p);
}

int main(void) {
    root_tokens();
    grammar();
    lists();
    matching();
    return CHECK_DONE();
}
