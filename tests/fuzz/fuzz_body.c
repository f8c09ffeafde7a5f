/* libFuzzer target: the JSON body rules and the mode handlers' validation.
 * The input is a request body, sent to POST /document, POST /queue/f,
 * POST /queue/f/claim and POST /queue/f/1/extend through serve_dispatch
 * (the handlers' own door, no FastCGI). No database is reachable
 * (DATABASE_URL names a socket folder that does not exist), so a body that
 * passes validation ends in 503: any other 5xx, a crash or a leak is a bug.
 * Every reply body must be valid JSON. */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/fake_env.h"
#include "config.h"
#include "db.h"
#include "registry.h"
#include "serve.h"

static void one(const char *mode_name, const char *uri, const char *body, size_t len) {
    const char *env[] = {"REQUEST_METHOD",     "POST",        "REQUEST_URI", uri,
                         "HTTP_AUTHORIZATION", "Bearer fuzz", NULL};
    pool *pl = pool_new();
    request req;
    api_error err;
    reply out;
    reply_init(&out);
    if (!request_parse(&req, pl, fake_env_lookup, (void *)env, &err)) abort();
    req.body = body;
    req.body_len = len;
    serve_dispatch(mode_find(mode_name), &req, &out);
    if (out.status >= 500 && out.status != 503) abort();
    json_error_t jerr;
    json_t *parsed = json_loadb(out.body->data, out.body->len, 0, &jerr);
    if (parsed == NULL) abort();
    json_decref(parsed);
    reply_release(&out);
    pool_free(pl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int ready;
    if (!ready) {
        g_config.token = "fuzz";
        g_config.token_len = 4;
        g_config.database_url = "host=/nonexistent-fuzz-socket-dir";
        g_config.db_timeout_ms = 50;
        g_config.log_level = LOG_ERROR + 1; /* quiet */
        g_config.body_max_bytes = 1 << 20;
        ready = 1;
    }
    char *body = malloc(size + 1);
    memcpy(body, data, size);
    body[size] = '\0';
    one("document", "/document", body, size);
    one("queue", "/queue/f", body, size);
    one("queue", "/queue/f/claim", body, size);
    one("queue", "/queue/f/1/extend", body, size);
    free(body);
    return 0;
}
