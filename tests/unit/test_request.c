/* Unit tests: request parsing, percent-decoding, query access, request ids. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>

#include "check.h"
#include "fake_env.h"
#include "request.h"
#include "validate.h"

static bool parse(const char *method, const char *uri, request *req, pool *p, api_error *err) {
    const char *env[] = {"REQUEST_METHOD", method, "REQUEST_URI", uri, NULL};
    return request_parse(req, p, fake_env_lookup, (void *)env, err);
}

int main(void) {
    pool *p = pool_new();
    request req;
    api_error err;

    CHECK(parse("GET", "/document/ns/key", &req, p, &err), "plain path parses");
    CHECK(req.nsegs == 3, "three segments");
    CHECK_STR(req.segs[2], "key", "third segment");
    CHECK(parse("GET", "/document/", &req, p, &err) && req.nsegs == 1, "a trailing slash is ignored");
    CHECK(parse("GET", "/", &req, p, &err) && req.nsegs == 0, "/ has no segments");
    CHECK(parse("GET", "/a//b", &req, p, &err) && req.nsegs == 3 && req.segs[1][0] == '\0',
          "an empty inner segment is kept (and matches no route)");
    CHECK(parse("GET", "/document/a%3Ab%2Fc", &req, p, &err) && req.nsegs == 2 &&
              strcmp(req.segs[1], "a:b/c") == 0,
          "percent-escapes decode within a segment; %2F stays in it");
    CHECK(!parse("GET", "/document/a%00b", &req, p, &err) && err.status == 422, "%00 is refused");
    CHECK(!parse("GET", "/document/a%zz", &req, p, &err) && err.status == 422,
          "a malformed escape is refused");
    CHECK(!parse("GET", "/document/a%4", &req, p, &err) && err.status == 422,
          "a truncated escape is refused");
    CHECK(!parse("GET", "relative", &req, p, &err) && err.status == 404, "a path without / is 404");
    CHECK(!parse("GET", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q", &req, p, &err) && err.status == 404,
          "more than 16 segments is 404");

    char *longpath = malloc(PATH_MAX_BYTES + 10);
    memset(longpath, 'a', PATH_MAX_BYTES + 9);
    longpath[0] = '/';
    longpath[PATH_MAX_BYTES + 9] = '\0';
    CHECK(!parse("GET", longpath, &req, p, &err) && err.status == 404, "an overlong path is 404");
    free(longpath);

    CHECK(parse("GET", "/x?limit=5&prefix=a+b&empty=&flag&&=v", &req, p, &err), "query parses");
    const char *v;
    CHECK(request_query(&req, "limit", &v, &err) && v && strcmp(v, "5") == 0, "limit=5");
    CHECK(request_query(&req, "prefix", &v, &err) && v && strcmp(v, "a b") == 0, "+ is a space in the query");
    CHECK(request_query(&req, "empty", &v, &err) && v && v[0] == '\0', "empty value");
    CHECK(request_query(&req, "flag", &v, &err) && v && v[0] == '\0', "a bare name has an empty value");
    CHECK(request_query(&req, "absent", &v, &err) && v == NULL, "absent is NULL");
    CHECK(req.nquery == 4, "a parameter without a name is dropped");
    CHECK(parse("GET", "/x?a=1&a=2", &req, p, &err), "repeated parses");
    CHECK(!request_query(&req, "a", &v, &err) && err.status == 422 && strcmp(err.field, "a") == 0,
          "a repeated parameter is 422 naming it");
    CHECK(!parse("GET", "/x?a=%00", &req, p, &err) && err.status == 422, "%00 in the query is refused");
    static const char *const known[] = {"a", NULL};
    CHECK(parse("GET", "/x?a=1&b=2", &req, p, &err) && !request_query_known(&req, known, &err) &&
              strcmp(err.field, "b") == 0,
          "an unknown parameter is 422 naming it");

    CHECK(request_id_valid("abc-DEF_1.2"), "request id charset");
    CHECK(!request_id_valid(""), "empty request id refused");
    CHECK(!request_id_valid("a b"), "space refused");
    CHECK(request_id_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
          "64 chars accepted");
    CHECK(!request_id_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
          "65 chars refused");
    {
        const char *env[] = {"REQUEST_URI", "/", "HTTP_X_REQUEST_ID", "bad id", NULL};
        request r2;
        CHECK(request_parse(&r2, p, fake_env_lookup, (void *)env, &err) && strlen(r2.request_id) == 32,
              "an invalid incoming id is replaced by a generated one");
        request r3;
        request_parse(&r3, p, fake_env_lookup, (void *)env, &err);
        CHECK(strcmp(r2.request_id, r3.request_id) != 0, "generated ids differ");
    }
    {
        const char *env[] = {"REQUEST_URI", "/", "CONTENT_LENGTH", "12", NULL};
        CHECK(request_parse(&req, p, fake_env_lookup, (void *)env, &err) && req.content_length == 12,
              "content length");
        const char *env2[] = {"REQUEST_URI", "/", "CONTENT_LENGTH", "-3", NULL};
        CHECK(request_parse(&req, p, fake_env_lookup, (void *)env2, &err) && req.content_length == -1,
              "a negative content length reads as absent");
    }

    /* validators at their edges */
    char s[300];
    memset(s, 'a', sizeof s);
    s[128] = '\0';
    CHECK(validate_namespace(s, "namespace", &err), "namespace of 128 accepted");
    s[128] = 'a';
    s[129] = '\0';
    CHECK(!validate_namespace(s, "namespace", &err) && err.status == 422, "namespace of 129 refused");
    memset(s, 'k', sizeof s);
    s[256] = '\0';
    CHECK(validate_key(s, "key", &err), "key of 256 accepted");
    s[256] = 'k';
    s[257] = '\0';
    CHECK(!validate_key(s, "key", &err), "key of 257 refused");
    CHECK(validate_key("Az09._:@~-", "key", &err), "every key character");
    CHECK(!validate_namespace("a:b", "namespace", &err), "':' is not a namespace character");
    CHECK(!validate_key(".x", "key", &err), "a key starts with a letter or digit");
    CHECK(!validate_key("", "key", &err), "empty key refused");
    CHECK(!validate_key("..", "key", &err), ".. refused");
    CHECK(!validate_key("a\xc3\xa9", "key", &err), "non-ASCII refused");
    CHECK(validate_key_prefix("", "prefix", &err), "empty prefix accepted");
    long long n;
    CHECK(validate_int_text("1000", 1, 1000, "limit", &n, &err) && n == 1000, "1000 within 1..1000");
    CHECK(!validate_int_text("1001", 1, 1000, "limit", &n, &err), "1001 refused");
    CHECK(!validate_int_text("0", 1, 1000, "limit", &n, &err), "0 refused");
    CHECK(!validate_int_text("", 1, 1000, "limit", &n, &err), "empty refused");
    CHECK(!validate_int_text("+5", 1, 1000, "limit", &n, &err), "sign refused");
    CHECK(!validate_int_text("99999999999999999999999", 1, 1000, "limit", &n, &err), "overflow refused");

    pool_free(p);

    /* Entity-tag lists: strong and weak tags, *, and what is not a list. */
    bool any, weak;
    long long tags[4];
    CHECK(request_etags("\"3\"", &any, &weak, tags, 4) == 1 && tags[0] == 3 && !any && !weak,
          "\"3\" is strong 3");
    CHECK(request_etags("W/\"3\"", &any, &weak, tags, 4) == 1 && tags[0] == 3 && weak, "W/\"3\" is weak 3");
    CHECK(request_etags("\"1\", W/\"2\"", &any, &weak, tags, 4) == 2 && tags[1] == 2 && weak,
          "a list with one weak tag says weak");
    CHECK(request_etags(" * ", &any, &weak, tags, 4) == 0 && any && !weak, "* is any");
    CHECK(request_etags("W/\"4\"", &any, NULL, tags, 4) == 1 && tags[0] == 4, "weak may be NULL");
    CHECK(request_etags("3", &any, &weak, tags, 4) == -1, "an unquoted tag is no list");
    CHECK(request_etags("w/\"3\"", &any, &weak, tags, 4) == -1, "the weak prefix is W/, case-sensitive");
    CHECK(request_etags("\"\"", &any, &weak, tags, 4) == -1, "an empty tag names no version");
    CHECK(request_etags("\"1\",", &any, &weak, tags, 4) == -1, "a trailing comma is no list");
    return CHECK_DONE();
}
