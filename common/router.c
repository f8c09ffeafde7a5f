#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mode.h"

/* Matches the request's segments against pattern. Returns -1 when they do not
 * match, else the number of literal segments (more literals = more specific:
 * "/queue/{ns}/dead" beats "/queue/{ns}/{id}"). Captures go to caps. */
static int match(const char *pattern, const request *req, const char **caps, size_t *ncaps) {
    size_t seg = 0;
    int literals = 0;
    *ncaps = 0;
    const char *p = pattern;
    while (*p == '/') {
        p++;
        const char *end = strchr(p, '/');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 0) break; /* pattern "/" */
        if (seg >= req->nsegs) return -1;
        const char *s = req->segs[seg];
        if (p[0] == '{') {
            if (s[0] == '\0') return -1;
            caps[(*ncaps)++] = s;
        } else {
            if (strlen(s) != n || memcmp(s, p, n) != 0) return -1;
            literals++;
        }
        seg++;
        p += n;
    }
    return seg == req->nsegs ? literals : -1;
}

static int by_name(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const route *mode_route(const mode *m, request *req, bool *public_path, api_error *err) {
    const char *caps[PATH_MAX_SEGMENTS];
    size_t ncaps;
    int best = -1;
    for (size_t i = 0; i < m->nroutes; i++) {
        int score = match(m->routes[i].pattern, req, caps, &ncaps);
        if (score > best) best = score;
    }
    *public_path = false;
    if (best < 0) {
        /* No /.well-known/ path is served (the tokens are the service's
         * own, not OAuth's): it is 404 before any token is looked at, so
         * an MCP client's OAuth discovery ends at once (docs/mcp.md). */
        *public_path = strncmp(req->path, "/.well-known/", strlen("/.well-known/")) == 0;
        API_NOT_FOUND(err, NULL, "no route %s %.200s", req->method, req->path);
        return NULL;
    }
    bool head = strcmp(req->method, "HEAD") == 0;
    const char *methods[16] = {NULL};
    size_t nmethods = 0;
    for (size_t i = 0; i < m->nroutes; i++) {
        const route *r = &m->routes[i];
        if (match(r->pattern, req, caps, &ncaps) != best) continue;
        if (r->is_public) *public_path = true;
        if (r->method == NULL) continue; /* a path with no method at all */
        if (strcmp(r->method, req->method) == 0 || (head && strcmp(r->method, "GET") == 0)) {
            req->params = pool_alloc(req->pool, sizeof(char *) * (ncaps ? ncaps : 1));
            memcpy(req->params, caps, sizeof(char *) * ncaps);
            req->nparams = ncaps;
            return r;
        }
        if (nmethods < 15) methods[nmethods++] = r->method;
        if (strcmp(r->method, "GET") == 0 && nmethods < 15) methods[nmethods++] = "HEAD";
    }
    /* Allow lists the methods in alphabetical order. */
    qsort(methods, nmethods, sizeof methods[0], by_name);
    char allow[64] = "";
    for (size_t i = 0; i < nmethods; i++) {
        size_t used = strlen(allow);
        snprintf(allow + used, sizeof allow - used, "%s%s", i ? ", " : "", methods[i]);
    }
    if (nmethods == 0)
        api_fail(err, API_E_METHOD_NOT_ALLOWED, NULL, "%.200s takes no method at all", req->path);
    else
        api_fail(err, API_E_METHOD_NOT_ALLOWED, NULL, "%s is not allowed on %.200s; use %s", req->method,
                 req->path, allow);
    snprintf(err->allow, sizeof err->allow, "%s", allow);
    return NULL;
}
