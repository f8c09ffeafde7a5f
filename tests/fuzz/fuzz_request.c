/* libFuzzer target: request parsing (method, path, query, headers) and
 * routing against every registered mode. The input is up to four lines:
 * REQUEST_URI, REQUEST_METHOD, X-Request-Id, Content-Length. Nothing may
 * crash, leak or read out of bounds, and every decoded segment and query
 * value must be NUL-free C strings within the input's length. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/fake_env.h"
#include "config.h"
#include "mode.h"
#include "registry.h"
#include "request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    const char *fields[4] = {"/", "GET", NULL, NULL};
    char *p = text;
    for (int i = 0; i < 4 && p; i++) {
        fields[i] = p;
        p = strchr(p, '\n');
        if (p) *p++ = '\0';
    }
    const char *env[] = {"REQUEST_URI",
                         fields[0],
                         "REQUEST_METHOD",
                         fields[1],
                         "HTTP_X_REQUEST_ID",
                         fields[2] ? fields[2] : "",
                         "CONTENT_LENGTH",
                         fields[3] ? fields[3] : "",
                         NULL};
    pool *pl = pool_new();
    request req;
    api_error err;
    if (request_parse(&req, pl, fake_env_lookup, (void *)env, &err)) {
        for (size_t i = 0; i < req.nsegs; i++)
            if (strlen(req.segs[i]) > size) abort();
        const char *v;
        for (size_t i = 0; i < req.nquery; i++) request_query(&req, req.query[i].name, &v, &err);
        bool pub;
        for (const mode *const *m = mode_registry; *m; m++) mode_route(*m, &req, &pub, &err);
    } else if (err.status != 404 && err.status != 422) {
        abort();
    }
    pool_free(pl);
    free(text);
    return 0;
}
