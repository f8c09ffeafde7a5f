/* fake_env.h: FastCGI parameters for unit tests, as a NULL-ended list of
 * name/value pairs passed to request_parse as its context. */
#ifndef BACKEND_FAKE_ENV_H
#define BACKEND_FAKE_ENV_H

#include <string.h>

static const char *fake_env_lookup(void *ctx, const char *name) {
    const char **kv = ctx;
    for (; kv[0]; kv += 2)
        if (strcmp(kv[0], name) == 0) return kv[1];
    return NULL;
}

#endif
