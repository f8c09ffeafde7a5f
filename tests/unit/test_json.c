/* Unit tests: JSON body rules, strbuf escaping, pool cleanups. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "json.h"
#include "pool.h"
#include "strbuf.h"

static int cleanups_run;
static void count_cleanup(void *arg) { cleanups_run += *(int *)arg; }

static bool parses(const char *text) {
    api_error err;
    json_t *v = json_parse(text, strlen(text), &err);
    json_decref(v);
    return v != NULL;
}

int main(void) {
    api_error err;
    char deep[200];
    size_t n = 0;
    for (int i = 0; i < 64; i++) deep[n++] = '[';
    for (int i = 0; i < 64; i++) deep[n++] = ']';
    deep[n] = '\0';
    CHECK(json_depth_ok(deep, n, 64) && parses(deep), "64 levels accepted");
    memmove(deep + 1, deep, n + 1);
    deep[0] = '[';
    strcat(deep, "]");
    CHECK(!json_depth_ok(deep, n + 2, 64) && !parses(deep), "65 levels refused");
    CHECK(json_depth_ok("\"[[[[[[\"", 8, 2), "brackets inside strings do not count");
    CHECK(json_depth_ok("[\"\\\"[[[\"]", 10, 1), "escaped quotes do not end strings");

    CHECK(parses("{\"a\":1}"), "an object parses");
    CHECK(parses("12345678901234567890123456789"), "a big integer parses");
    CHECK(!parses("{\"a\":1,\"a\":2}"), "duplicate keys refused");
    CHECK(!parses("\"\\u0000\""), "NUL escape refused");
    CHECK(!parses("\"\xc3\x28\""), "invalid UTF-8 refused");
    CHECK(!parses("\"\\ud800\""), "a lone surrogate refused");
    CHECK(!parses("{} x"), "trailing text refused");
    CHECK(!parses(""), "empty refused");
    json_t *v = json_parse("{", 1, &err);
    CHECK(v == NULL && err.status == 400 && strcmp(err.code, "invalid_json") == 0,
          "bad JSON is 400 invalid_json");

    const char *fields = "{\"i\":5,\"f\":1.5,\"s\":\"x\",\"big\":1e20,\"neg\":-1}";
    json_t *obj = json_parse(fields, strlen(fields), &err);
    CHECK(obj != NULL, "fields object parses");
    long long out;
    bool present;
    CHECK(json_get_int(obj, "i", 0, 10, 0, &out, &present, &err) && out == 5 && present, "int read");
    CHECK(json_get_int(obj, "none", 0, 10, 7, &out, &present, &err) && out == 7 && !present, "default");
    CHECK(!json_get_int(obj, "f", 0, 10, 0, &out, NULL, &err) && strcmp(err.field, "f") == 0, "1.5 refused");
    CHECK(!json_get_int(obj, "s", 0, 10, 0, &out, NULL, &err), "a string is not an int");
    CHECK(!json_get_int(obj, "big", 0, 10, 0, &out, NULL, &err), "out of range refused");
    CHECK(!json_get_int(obj, "neg", 0, 10, 0, &out, NULL, &err), "below range refused");
    const char *s;
    CHECK(json_get_string(obj, "s", true, &s, &err) && strcmp(s, "x") == 0, "string read");
    CHECK(!json_get_string(obj, "missing", true, &s, &err) && err.status == 422, "required string missing");
    CHECK(!json_get_string(obj, "i", true, &s, &err) && strcmp(err.field, "i") == 0,
          "a number is not a string");
    static const char *const known[] = {"i", "f", "s", "big", NULL};
    CHECK(!json_fields_known(obj, known, &err) && strcmp(err.field, "neg") == 0, "unknown field named");
    json_decref(obj);

    strbuf *sb = strbuf_new();
    strbuf_json_string(sb, "a\"b\\c\n\x01\xc3\xa9", 9);
    CHECK_STR(sb->data, "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\"", "JSON string escaping");
    strbuf_reset(sb);
    strbuf_json_string(sb, "a\xff\xc3", 3);
    CHECK_STR(sb->data, "\"a\\ufffd\\ufffd\"", "bytes that are not UTF-8 become U+FFFD");
    strbuf_reset(sb);
    strbuf_json_string(sb, "\xed\xa0\x80\xc0\xaf\xf0\x9f\x98\x80", 9);
    CHECK_STR(sb->data, "\"\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\xf0\x9f\x98\x80\"",
              "surrogates and overlongs are replaced, a 4-byte character kept");
    strbuf_reset(sb);
    for (int i = 0; i < 1000; i++) strbuf_printf(sb, "%d,", i);
    CHECK(sb->len == 3890 && sb->data[sb->len] == '\0', "strbuf grows");
    strbuf_free(sb);

    pool *p = pool_new();
    int one = 1;
    pool_defer(p, count_cleanup, &one);
    pool_defer(p, count_cleanup, &one);
    char *big = pool_alloc(p, 100000);
    big[99999] = 'x';
    char *small = pool_strdup(p, "hello");
    CHECK_STR(small, "hello", "pool strdup");
    pool_free(p);
    CHECK(cleanups_run == 2, "pool cleanups run at free");
    return CHECK_DONE();
}
