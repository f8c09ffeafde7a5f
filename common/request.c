#define _POSIX_C_SOURCE 200809L
#include "request.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abuse.h"
#include "json.h"
#include "random_id.h"

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

char *request_decode(pool *p, const char *s, size_t n, bool plus_is_space) {
    char *out = pool_alloc(p, n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n) return NULL;
            int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0) return NULL;
            c = (char)(hi * 16 + lo);
            if (c == '\0') return NULL;
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        } else if (c == '\0') {
            return NULL;
        }
        out[o++] = c;
    }
    out[o] = '\0';
    return out;
}

bool request_id_valid(const char *id) {
    size_t n = 0;
    for (; id[n]; n++) {
        char c = id[n];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == '_' || c == '-';
        if (!ok || n >= REQUEST_ID_MAX) return false;
    }
    return n >= 1;
}

/* A fresh id: 16 random bytes as hex, from the per-thread generator
 * (random_id.h): the id is a correlation handle, not a secret. */
static void request_id_generate(char *out) { random_id_fast_hex(out, 16); }

static bool parse_path(request *req, const char *path, size_t len, api_error *err) {
    if (len == 0 || path[0] != '/') return API_NOT_FOUND(err, NULL, "no such route");
    if (len > PATH_MAX_BYTES) return API_NOT_FOUND(err, NULL, "path longer than %d bytes", PATH_MAX_BYTES);
    req->segs = pool_alloc(req->pool, sizeof(char *) * PATH_MAX_SEGMENTS);
    req->nsegs = 0;
    size_t i = 1;
    while (i <= len) {
        size_t j = i;
        while (j < len && path[j] != '/') j++;
        /* A single trailing slash is ignored: "/document/" is "/document". */
        if (j == len && j == i && req->nsegs > 0) break;
        if (j == len && j == i && req->nsegs == 0) break; /* "/" alone */
        if (req->nsegs == PATH_MAX_SEGMENTS) return API_NOT_FOUND(err, NULL, "no such route");
        char *seg = request_decode(req->pool, path + i, j - i, false);
        if (seg == NULL) return API_INVALID(err, "path", "the path holds a malformed or NUL percent-escape");
        req->segs[req->nsegs++] = seg;
        i = j + 1;
    }
    return true;
}

static bool parse_query(request *req, const char *qs, api_error *err) {
    size_t cap = 1;
    for (const char *p = qs; *p; p++)
        if (*p == '&') cap++;
    if (cap > 64) return API_INVALID(err, "query", "more than 64 query parameters");
    req->query = pool_alloc(req->pool, sizeof(query_param) * cap);
    req->nquery = 0;
    const char *p = qs;
    while (*p) {
        const char *end = strchr(p, '&');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > 0) {
            const char *eq = memchr(p, '=', n);
            size_t nlen = eq ? (size_t)(eq - p) : n;
            char *name = request_decode(req->pool, p, nlen, true);
            char *value =
                eq ? request_decode(req->pool, eq + 1, n - nlen - 1, true) : pool_strdup(req->pool, "");
            if (name == NULL || value == NULL)
                return API_INVALID(err, name ? name : "query",
                                   "the query string holds a malformed or NUL percent-escape");
            if (name[0] != '\0') {
                req->query[req->nquery].name = name;
                req->query[req->nquery].value = value;
                req->nquery++;
            }
        }
        if (end == NULL) break;
        p = end + 1;
    }
    return true;
}

bool request_parse(request *req, pool *p, param_lookup get, void *ctx, api_error *err) {
    memset(req, 0, sizeof *req);
    req->pool = p;
    req->content_length = -1;
    const char *m = get(ctx, "REQUEST_METHOD");
    /* Copied: FastCGI's parameters are freed when the request finishes,
     * before the access line is written. */
    req->method = pool_strdup(p, m ? m : "GET");
    const char *id = get(ctx, "HTTP_X_REQUEST_ID");
    if (id != NULL && request_id_valid(id))
        memcpy(req->request_id, id, strlen(id) + 1);
    else
        request_id_generate(req->request_id);
    trace_start(&req->trace, get(ctx, "HTTP_TRACEPARENT"));
    req->authorization = get(ctx, "HTTP_AUTHORIZATION");
    /* The client's address, for the abuse limits: REMOTE_ADDR, or what a
     * trusted proxy in front of lighttpd says (TRUSTED_PROXIES, abuse.h). */
    char client[ABUSE_ADDR_MAX];
    const char *addr = abuse_client_addr(get(ctx, "REMOTE_ADDR"), get(ctx, "HTTP_X_FORWARDED_FOR"), client);
    req->remote_addr = addr ? pool_strdup(p, addr) : NULL;
    const char *ct = get(ctx, "CONTENT_TYPE");
    req->content_type = ct ? pool_strdup(p, ct) : NULL;
    /* Copied to the pool, as the method is (and cut at 1 KiB: no header a
     * handler reads here is longer when well-formed). */
    static const struct {
        const char *param;
        size_t offset;
    } headers[] = {
        {"HTTP_IF_MATCH", offsetof(request, if_match)},
        {"HTTP_IF_NONE_MATCH", offsetof(request, if_none_match)},
        {"HTTP_ACCEPT", offsetof(request, accept)},
        {"HTTP_LAST_EVENT_ID", offsetof(request, last_event_id)},
    };
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        const char *v = get(ctx, headers[i].param);
        /* At most 1 KiB of each: pool_strndup copies exactly n bytes, so
         * n is the value's length up to that cap, never the cap itself. */
        *(const char **)((char *)req + headers[i].offset) = v ? pool_strndup(p, v, strnlen(v, 1024)) : NULL;
    }
    const char *cl = get(ctx, "CONTENT_LENGTH");
    if (cl != NULL && cl[0] != '\0') {
        char *end;
        long long v = strtoll(cl, &end, 10);
        req->content_length = (*end == '\0' && v >= 0) ? v : -1;
    }
    const char *uri = get(ctx, "REQUEST_URI");
    if (uri == NULL) uri = "/";
    const char *q = strchr(uri, '?');
    size_t plen = q ? (size_t)(q - uri) : strlen(uri);
    req->path = pool_strndup(p, uri, plen > 512 ? 512 : plen);
    req->query = NULL;
    if (!parse_path(req, uri, plen, err)) return false;
    return parse_query(req, q ? q + 1 : "", err);
}

int request_etags(const char *value, bool *any, bool *weak, long long *tags, int max) {
    int n = 0;
    *any = false;
    if (weak != NULL) *weak = false;
    const char *p = value;
    for (;;) {
        while (*p == ' ' || *p == '\t') p++;
        if (*p == '*') {
            *any = true;
            p++;
        } else {
            if (p[0] == 'W' && p[1] == '/') {
                if (weak != NULL) *weak = true;
                p += 2;
            }
            if (*p++ != '"') return -1;
            long long v = 0;
            int digits = 0;
            while (*p >= '0' && *p <= '9' && digits < 16) v = v * 10 + (*p++ - '0'), digits++;
            if (digits == 0 || *p++ != '"') return -1;
            if (n < max) tags[n++] = v;
        }
        while (*p == ' ' || *p == '\t') p++;
        if (*p == '\0') return n;
        if (*p++ != ',') return -1;
    }
}

bool request_query(const request *req, const char *name, const char **value, api_error *err) {
    *value = NULL;
    for (size_t i = 0; i < req->nquery; i++) {
        if (strcmp(req->query[i].name, name) != 0) continue;
        if (*value != NULL) return API_INVALID(err, name, "query parameter %s is given more than once", name);
        *value = req->query[i].value;
    }
    return true;
}

bool request_query_known(const request *req, const char *const *known, api_error *err) {
    for (size_t i = 0; i < req->nquery; i++) {
        bool ok = false;
        for (const char *const *k = known; *k && !ok; k++) ok = strcmp(*k, req->query[i].name) == 0;
        if (!ok)
            return API_INVALID(err, req->query[i].name, "unknown query parameter %.64s", req->query[i].name);
    }
    return true;
}

static void json_release(void *v) { json_decref(v); }

json_t *request_json(request *req, api_error *err) { return request_json_value(req, false, err); }

json_t *request_json_value(request *req, bool allow_nul, api_error *err) {
    const char *text = req->body ? req->body : "";
    json_t *v =
        allow_nul ? json_parse_allow_nul(text, req->body_len, err) : json_parse(text, req->body_len, err);
    if (v != NULL) pool_defer(req->pool, json_release, v);
    return v;
}

json_t *request_json_object(request *req, bool allow_empty, bool allow_nul, api_error *err) {
    json_t *v;
    if (allow_empty && req->body_len == 0) {
        v = json_object();
        pool_defer(req->pool, json_release, v);
        return v;
    }
    v = request_json_value(req, allow_nul, err);
    if (v != NULL && !json_is_object(v)) {
        API_INVALID(err, "body", "the body must be a JSON object");
        return NULL;
    }
    return v;
}
