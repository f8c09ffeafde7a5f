/* Unit tests: token comparison, auth answers, configuration parsing, the
 * router's matching and its 404/405 answers. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>

#include "auth.h"
#include "check.h"
#include "fake_env.h"
#include "config.h"
#include "mode.h"
#include "registry.h"

static bool h(request *req, const input_value *in, reply *out, api_error *err) {
    (void)req;
    (void)in;
    (void)out;
    (void)err;
    return true;
}

static const route test_routes[] = {
    {"GET", "/queue/{ns}", h, .is_public = false},
    {"POST", "/queue/{ns}", h, .is_public = false},
    {"GET", "/queue/{ns}/dead", h, .is_public = false},
    {"DELETE", "/queue/{ns}/{id}", h, .is_public = false},
    {"GET", "/open", h, .is_public = true},
};
static const mode test_mode = {.name = "t", .routes = test_routes, .nroutes = 5};

static const route *route_of(const char *method, const char *uri, request *req, pool *p, bool *pub,
                             api_error *err) {
    const char *env[] = {"REQUEST_METHOD", method, "REQUEST_URI", uri, NULL};
    if (!request_parse(req, p, fake_env_lookup, (void *)env, err)) return NULL;
    return mode_route(&test_mode, req, pub, err);
}

int main(void) {
    CHECK(auth_token_equal("secret", 6, "secret", 6), "equal tokens");
    CHECK(!auth_token_equal("secreT", 6, "secret", 6), "one byte differs");
    CHECK(!auth_token_equal("secret1", 7, "secret", 6), "longer");
    CHECK(!auth_token_equal("secre", 5, "secret", 6), "shorter");
    CHECK(!auth_token_equal("", 0, "secret", 6), "empty");
    CHECK(!auth_token_equal("", 0, "", 0), "nothing configured never matches");

    api_error err;
    g_config.token = NULL;
    CHECK(!auth_check("Bearer x", &err) && err.status == 503 && strcmp(err.code, "auth_not_configured") == 0,
          "no token configured: 503");
    g_config.token = "tok";
    g_config.token_len = 3;
    CHECK(auth_check("Bearer tok", &err), "right token");
    CHECK(auth_check("bearer   tok ", &err), "case-insensitive scheme, spaces around the token");
    CHECK(!auth_check(NULL, &err) && err.status == 401, "missing: 401");
    CHECK(!auth_check("tok", &err) && err.status == 401, "no scheme: 401");
    CHECK(!auth_check("Basic tok", &err) && err.status == 401, "other scheme: 401");
    CHECK(!auth_check("Bearer tok2", &err) && err.status == 401, "wrong: 401");
    g_config.token = NULL;

    long long v;
    CHECK(config_parse_positive("1048576", 1LL << 30, &v) && v == 1048576, "positive parses");
    CHECK(!config_parse_positive("0", 100, &v), "0 refused");
    CHECK(!config_parse_positive("-1", 100, &v), "negative refused");
    CHECK(!config_parse_positive("10k", 100, &v), "suffix refused");
    CHECK(!config_parse_positive("101", 100, &v), "above max refused");
    CHECK(config_parse_positive("100", 100, &v), "max accepted");
    CHECK(!config_parse_positive("99999999999999999999999", 1LL << 62, &v), "overflow refused");
    enum log_level lvl;
    CHECK(config_parse_log_level("warn", &lvl) && lvl == LOG_WARN, "log level");
    CHECK(!config_parse_log_level("WARN", &lvl), "log levels are lower case");
    char t[] = " \t tok \n";
    CHECK(config_trim(t) == 3 && strcmp(t, "tok") == 0, "trim");

    pool *p = pool_new();
    request req;
    bool pub;
    const route *r = route_of("GET", "/queue/ns/dead", &req, p, &pub, &err);
    CHECK(r == &test_routes[2], "a literal segment beats a capture");
    r = route_of("DELETE", "/queue/ns/42", &req, p, &pub, &err);
    CHECK(r == &test_routes[3] && req.nparams == 2 && strcmp(req.params[1], "42") == 0, "captures");
    r = route_of("HEAD", "/queue/ns", &req, p, &pub, &err);
    CHECK(r == &test_routes[0], "HEAD uses the GET route");
    r = route_of("PUT", "/queue/ns", &req, p, &pub, &err);
    CHECK(r == NULL && err.status == 405 && strcmp(err.allow, "GET, HEAD, POST") == 0,
          "405 lists Allow, sorted");
    r = route_of("GET", "/queue/ns/1/x", &req, p, &pub, &err);
    CHECK(r == NULL && err.status == 404, "too many segments: 404");
    r = route_of("GET", "/queue", &req, p, &pub, &err);
    CHECK(r == NULL && err.status == 404, "too few segments: 404");
    r = route_of("POST", "/open", &req, p, &pub, &err);
    CHECK(r == NULL && err.status == 405 && pub, "a public path's 405 is public");
    r = route_of("GET", "/queue/ns", &req, p, &pub, &err);
    CHECK(r != NULL && !pub, "an authenticated route is not public");
    CHECK(mode_find("document") != NULL && mode_find("health") != NULL && mode_find("nope") == NULL,
          "the registry finds its modes");
    pool_free(p);
    return CHECK_DONE();
}
