/* Unit tests: a mode's handlers answer a request value with a reply value,
 * without FastCGI (serve_dispatch: the door backend-mcp's tools use). Only
 * paths that stop before the database are exercised here (validation comes
 * first, so they answer even with no database); the integration suite covers
 * the rest through lighttpd. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "fake_env.h"
#include "config.h"
#include "registry.h"
#include "serve.h"

/* Dispatches METHOD URI with the body to the named mode; returns the status
 * and leaves the body in out. */
static int dispatch(const char *mode_name, const char *method, const char *uri, const char *auth,
                    const char *body, pool *p, reply *out) {
    const char *env[] = {"REQUEST_METHOD", method, "REQUEST_URI", uri, "HTTP_AUTHORIZATION", auth, NULL};
    if (auth == NULL) env[4] = NULL;
    request req;
    api_error err;
    reply_init(out);
    if (!request_parse(&req, p, fake_env_lookup, (void *)env, &err)) {
        reply_error(out, &err);
        return out->status;
    }
    req.body = body;
    req.body_len = body ? strlen(body) : 0;
    serve_dispatch(mode_find(mode_name), &req, out);
    return out->status;
}

int main(void) {
    g_config.token = "tok";
    g_config.token_len = 3;
    g_config.db_timeout_ms = 100;
    pool *p = pool_new();
    reply out;

    CHECK(dispatch("queue", "POST", "/queue/jobs", "Bearer tok", "{\"payload\":1,\"max_attempts\":0}", p,
                   &out) == 422 &&
              strstr(out.body->data, "\"field\":\"max_attempts\"") != NULL,
          "queue enqueue validation answers 422 naming the field");
    reply_release(&out);
    CHECK(dispatch("queue", "POST", "/queue/jobs", "Bearer nope", "{\"payload\":1}", p, &out) == 401 &&
              strstr(out.headers, "WWW-Authenticate: Bearer") != NULL,
          "a wrong token is 401 with WWW-Authenticate");
    reply_release(&out);
    CHECK(dispatch("document", "POST", "/document", "Bearer tok", "{\"namespace\":\"a\"", p, &out) == 400 &&
              strstr(out.body->data, "invalid_json") != NULL,
          "document: bad JSON is 400");
    reply_release(&out);
    CHECK(dispatch("document", "PUT", "/document", "Bearer tok", NULL, p, &out) == 405 &&
              strstr(out.headers, "Allow: GET, HEAD, POST") != NULL,
          "document: wrong method is 405 with Allow");
    reply_release(&out);
    CHECK(dispatch("queue", "POST", "/queue/jobs/claim", "Bearer tok", "{\"max\":1001}", p, &out) == 422,
          "queue claim: max 1001 is 422");
    reply_release(&out);
    CHECK(dispatch("sql", "POST", "/sql/tables", "Bearer tok",
                   "{\"name\":\"x; drop table sentinels\",\"columns\":[{\"name\":\"a\",\"type\":\"text\"}]}",
                   p, &out) == 422 &&
              strstr(out.body->data, "\"field\":\"name\"") != NULL,
          "sql create: a hostile name is 422 naming the field, before the database");
    reply_release(&out);
    CHECK(dispatch("sql", "GET", "/sql/tables/Bad-Name/rows", "Bearer tok", NULL, p, &out) == 422 &&
              strstr(out.body->data, "\"field\":\"name\"") != NULL,
          "sql rows: an invalid table name in the path is 422");
    reply_release(&out);
    CHECK(dispatch("sql", "PATCH", "/sql/tables", "Bearer tok", NULL, p, &out) == 405 &&
              strstr(out.headers, "Allow: GET, HEAD, POST") != NULL,
          "sql: wrong method is 405 with Allow");
    reply_release(&out);
    CHECK(dispatch("health", "GET", "/nope", "Bearer tok", NULL, p, &out) == 404, "unknown path is 404");
    reply_release(&out);
    pool_free(p);
    return CHECK_DONE();
}
