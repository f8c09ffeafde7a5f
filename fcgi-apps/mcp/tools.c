#define _POSIX_C_SOURCE 200809L
#include "tools.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "pool.h"
#include "registry.h"
#include "reply.h"
#include "request.h"
#include "serve.h"

bool tools_find(const char *name, tool_ref *out) {
    for (const mode *const *mp = mode_registry; *mp; mp++)
        for (size_t i = 0; i < (*mp)->ntools; i++)
            if (strcmp((*mp)->tools[i].name, name) == 0) {
                *out = (tool_ref){*mp, &(*mp)->tools[i]};
                return true;
            }
    return false;
}

void tools_topics(strbuf *out) {
    size_t n = 0, i = 0;
    for (const mode *const *mp = mode_registry; *mp; mp++) n += (*mp)->topic != NULL;
    for (const mode *const *mp = mode_registry; *mp; mp++) {
        if ((*mp)->topic == NULL) continue;
        i++;
        if (i > 1) strbuf_puts(out, i == n ? " and " : ", ");
        strbuf_puts(out, (*mp)->topic); /* plain words: nothing to escape */
    }
}

bool tools_structured(const char *version) { return strcmp(version, "2025-06-18") >= 0; }

void tools_list(strbuf *out, const char *version) {
    bool titled = tools_structured(version); /* title and outputSchema: 2025-06-18 on */
    strbuf_puts(out, "\"tools\":[");
    bool first = true;
    for (const mode *const *mp = mode_registry; *mp; mp++)
        for (size_t i = 0; i < (*mp)->ntools; i++) {
            const tool *t = &(*mp)->tools[i];
            if (!first) strbuf_puts(out, ",");
            first = false;
            strbuf_puts(out, "{\"name\":");
            strbuf_json_string(out, t->name, strlen(t->name));
            if (titled && t->title) {
                strbuf_puts(out, ",\"title\":");
                strbuf_json_string(out, t->title, strlen(t->title));
            }
            strbuf_puts(out, ",\"description\":");
            strbuf_json_string(out, t->description, strlen(t->description));
            /* The schemas are the mode files' own JSON text (checked by the
             * unit tests to parse), spliced in as written. */
            strbuf_printf(out, ",\"inputSchema\":%s", t->input_schema);
            if (titled) strbuf_printf(out, ",\"outputSchema\":%s", t->output_schema);
            strbuf_puts(out, ",\"annotations\":{");
            if (t->title) {
                strbuf_puts(out, "\"title\":");
                strbuf_json_string(out, t->title, strlen(t->title));
                strbuf_puts(out, ",");
            }
            bool ro = t->hints & TOOL_READ_ONLY;
            strbuf_printf(out,
                          "\"readOnlyHint\":%s,\"destructiveHint\":%s,\"idempotentHint\":%s,"
                          "\"openWorldHint\":false}}",
                          ro ? "true" : "false", !ro && (t->hints & TOOL_DESTRUCTIVE) ? "true" : "false",
                          t->hints & TOOL_IDEMPOTENT ? "true" : "false");
        }
    strbuf_puts(out, "]");
}

void tools_invalid_arguments(const tool_ref *ref, const char *detail, strbuf *out) {
    api_error err;
    reply r;
    reply_init(&r);
    api_fail(&err, API_E_VALIDATION_FAILED, "arguments", "tool %s: %s", ref->tool->name, detail);
    reply_error(&r, &err);
    strbuf_puts(out, "\"content\":[{\"type\":\"text\",\"text\":");
    strbuf_json_string(out, r.body->data, r.body->len);
    strbuf_puts(out, "}],\"isError\":true");
    reply_release(&r);
}

/* ---- from arguments to the route's request ---- */

/* Appends s percent-encoded (every byte but RFC 3986's unreserved ones). */
static void put_encoded(strbuf *sb, const char *s, size_t n) {
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr("-._~", c)) {
            char ch = (char)c;
            strbuf_append(sb, &ch, 1);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            strbuf_append(sb, e, 3);
        }
    }
}

/* Appends a scalar argument as text: a string as its characters, a number
 * or a boolean as the client wrote it (so "1e3" reaches the route's
 * validator as "1e3", as it would over HTTP). Returns false for an object,
 * an array or null. */
static bool put_scalar(strbuf *sb, const char *msg, jspan raw, json_t *value) {
    if (json_is_string(value)) {
        put_encoded(sb, json_string_value(value), json_string_length(value));
        return true;
    }
    if (json_is_number(value) || json_is_boolean(value)) {
        put_encoded(sb, msg + raw.off, raw.len);
        return true;
    }
    return false;
}

/* True when name is one of the pattern's {captures}. */
static bool is_capture(const char *pattern, const char *name) {
    size_t n = strlen(name);
    for (const char *p = strchr(pattern, '{'); p; p = strchr(p + 1, '{'))
        if (strncmp(p + 1, name, n) == 0 && p[1 + n] == '}') return true;
    return false;
}

/* The request a call makes: its URI, body and content type. */
typedef struct call_request {
    strbuf *uri;
    strbuf *body;
    const char *content_type;
} call_request;

/* Fills the path from the pattern, taking each {capture} from the
 * arguments. Returns false with 422 naming a missing or non-scalar one. */
static bool build_path(const tool *t, const char *msg, jspan args, json_t *av, strbuf *uri, api_error *err) {
    for (const char *p = t->pattern; *p;) {
        if (*p != '{') {
            strbuf_append(uri, p++, 1);
            continue;
        }
        const char *close = strchr(p, '}');
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(close - p - 1), p + 1);
        json_t *value = av ? json_object_get(av, name) : NULL;
        jspan raw = {0, 0};
        if (value == NULL || json_is_null(value)) return API_INVALID(err, name, "%s is required", name);
        jspan_member(msg, args, name, &raw);
        if (!put_scalar(uri, msg, raw, value)) return API_INVALID(err, name, "%s must be a string", name);
        p = close + 1;
    }
    return true;
}

/* TOOL_QUERY: every other argument becomes ?name=value (an object's
 * members each become one; null means absent). */
static bool build_query(const tool *t, const char *msg, jspan args, strbuf *uri, api_error *err) {
    size_t pos = 0, inner;
    jspan k, v, ik, iv;
    char sep = '?';
    while (jspan_next(msg, args, &pos, &k, &v)) {
        json_t *key = json_loadb(msg + k.off, k.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        json_t *value =
            json_loadb(msg + v.off, v.len, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, NULL);
        bool ok = true;
        const char *name = json_string_value(key);
        if (!is_capture(t->pattern, name) && !json_is_null(value)) {
            if (json_is_object(value)) {
                inner = 0;
                while (ok && jspan_next(msg, v, &inner, &ik, &iv)) {
                    json_t *ikey = json_loadb(msg + ik.off, ik.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
                    json_t *ivalue = json_object_get(value, json_string_value(ikey));
                    strbuf_append(uri, &sep, 1);
                    sep = '&';
                    put_encoded(uri, json_string_value(ikey), json_string_length(ikey));
                    strbuf_puts(uri, "=");
                    if (!put_scalar(uri, msg, iv, ivalue))
                        ok = API_INVALID(err, name, "the members of %s must be strings, numbers or booleans",
                                         name);
                    json_decref(ikey);
                }
            } else {
                strbuf_append(uri, &sep, 1);
                sep = '&';
                put_encoded(uri, name, json_string_length(key));
                strbuf_puts(uri, "=");
                if (!put_scalar(uri, msg, v, value))
                    ok = API_INVALID(err, name, "%s must be a string, a number or a boolean", name);
            }
        }
        json_decref(key);
        json_decref(value);
        if (!ok) return false;
    }
    return true;
}

/* TOOL_JSON: the other arguments, copied as written, form the body. */
static void build_json_body(const tool *t, const char *msg, jspan args, strbuf *body) {
    size_t pos = 0;
    jspan k, v;
    strbuf_puts(body, "{");
    bool first = true;
    while (jspan_next(msg, args, &pos, &k, &v)) {
        json_t *key = json_loadb(msg + k.off, k.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        bool capture = is_capture(t->pattern, json_string_value(key));
        json_decref(key);
        if (capture) continue;
        if (!first) strbuf_puts(body, ",");
        first = false;
        strbuf_append(body, msg + k.off, k.len);
        strbuf_puts(body, ":");
        strbuf_append(body, msg + v.off, v.len);
    }
    strbuf_puts(body, "}");
}

/* TOOL_CONTENT: "content" (text, or base64 with "encoding": "base64") is
 * the raw body; "content_type" its type. */
static bool build_content(json_t *av, pool *p, call_request *cr, api_error *err) {
    static const char *const known[] = {"content", "encoding", "content_type", NULL};
    const char *name;
    json_t *value;
    if (av == NULL) return API_INVALID(err, "content", "content is required");
    json_object_foreach(av, name, value) {
        bool ok = false;
        for (const char *const *k = known; *k; k++) ok = ok || strcmp(*k, name) == 0;
        if (!ok) return API_INVALID(err, name, "unknown field %s", name);
    }
    json_t *content = json_object_get(av, "content");
    json_t *encoding = json_object_get(av, "encoding");
    json_t *type = json_object_get(av, "content_type");
    if (!json_is_string(content)) return API_INVALID(err, "content", "content must be a string");
    if (encoding != NULL && !json_is_string(encoding))
        return API_INVALID(err, "encoding", "encoding must be \"text\" or \"base64\"");
    if (type != NULL && !json_is_string(type))
        return API_INVALID(err, "content_type", "content_type must be a string");
    if (type != NULL) cr->content_type = pool_strdup(p, json_string_value(type));
    const char *text = json_string_value(content);
    size_t n = json_string_length(content);
    const char *how = encoding ? json_string_value(encoding) : "text";
    if (strcmp(how, "text") == 0) {
        strbuf_append(cr->body, text, n);
        return true;
    }
    if (strcmp(how, "base64") != 0)
        return API_INVALID(err, "encoding", "encoding must be \"text\" or \"base64\"");
    /* Standard base64 with padding; white space is not allowed. */
    if (n % 4 != 0) return API_INVALID(err, "content", "content is not valid base64");
    unsigned char *raw = pool_alloc(p, n / 4 * 3 + 1);
    int got = n ? EVP_DecodeBlock(raw, (const unsigned char *)text, (int)n) : 0;
    if (got < 0) return API_INVALID(err, "content", "content is not valid base64");
    if (n >= 1 && text[n - 1] == '=') got--; /* EVP_DecodeBlock counts padding as zeros */
    if (n >= 2 && text[n - 2] == '=') got--;
    strbuf_append(cr->body, (const char *)raw, (size_t)got);
    return true;
}

/* ---- running the call ---- */

typedef struct env_pair {
    const char *const *pairs; /* name, value, ..., NULL */
} env_pair;

static const char *env_lookup(void *ctx, const char *name) {
    const env_pair *e = ctx;
    for (const char *const *p = e->pairs; p[0]; p += 2)
        if (strcmp(p[0], name) == 0) return p[1];
    return NULL;
}

typedef struct memory_body {
    const char *data;
    size_t len, at;
} memory_body;

/* The body a streaming route (the file upload) reads, from memory. */
static long memory_read(void *ctx, char *buf, size_t n) {
    memory_body *m = ctx;
    size_t left = m->len - m->at;
    if (n > left) n = left;
    memcpy(buf, m->data + m->at, n);
    m->at += n;
    return (long)n;
}

/* Runs the route for the call; fills out (status and JSON body). */
static void dispatch(const tool_ref *ref, const char *msg, jspan args, json_t *av, const char *authorization,
                     const char *request_id, const char *traceparent, pool *p, reply *out) {
    const tool *t = ref->tool;
    api_error err;
    call_request cr = {strbuf_new(), strbuf_new(), NULL};
    bool ok = build_path(t, msg, args, av, cr.uri, &err);
    if (ok && t->body == TOOL_QUERY && av) ok = build_query(t, msg, args, cr.uri, &err);
    if (ok && t->body == TOOL_JSON) build_json_body(t, msg, args.len ? args : (jspan){0, 0}, cr.body);
    if (ok && t->body == TOOL_JSON_ARG) {
        jspan v;
        if (args.len && jspan_member(msg, args, t->body_arg, &v) &&
            !json_is_null(json_object_get(av, t->body_arg)))
            strbuf_append(cr.body, msg + v.off, v.len);
        else
            ok = API_INVALID(&err, t->body_arg, "%s is required", t->body_arg);
    }
    if (ok && t->body == TOOL_CONTENT) ok = build_content(av, p, &cr, &err);
    if (ok && t->body != TOOL_CONTENT && cr.body->len > g_config.body_max_bytes)
        ok = API_TOO_LARGE(&err, "the body is %zu bytes; the limit is %zu (BODY_MAX_BYTES)", cr.body->len,
                           g_config.body_max_bytes);
    request req;
    if (ok) {
        char length[24];
        snprintf(length, sizeof length, "%zu", cr.body->len);
        const char *pairs[] = {
            "REQUEST_METHOD", t->method,           "REQUEST_URI",      cr.uri->data,     "HTTP_AUTHORIZATION",
            authorization,    "HTTP_X_REQUEST_ID", request_id,         "CONTENT_LENGTH", length,
            "CONTENT_TYPE",   cr.content_type,     "HTTP_TRACEPARENT", traceparent,      NULL};
        /* An absent header ends the list early: keep the ones after it. */
        const char *kept[sizeof pairs / sizeof pairs[0]];
        size_t n = 0;
        for (size_t i = 0; pairs[i]; i += 2)
            if (pairs[i + 1] != NULL) {
                kept[n++] = pairs[i];
                kept[n++] = pairs[i + 1];
            }
        kept[n] = NULL;
        env_pair env = {kept};
        ok = request_parse(&req, p, env_lookup, &env, &err);
    }
    if (ok) {
        req.body = pool_strndup(p, cr.body->data, cr.body->len);
        req.body_len = cr.body->len;
        memory_body *mb = pool_alloc(p, sizeof *mb);
        *mb = (memory_body){req.body, req.body_len, 0};
        req.body_read = memory_read;
        req.body_ctx = mb;
        serve_dispatch(ref->mode, &req, out);
    } else {
        reply_error(out, &err);
    }
    strbuf_free(cr.uri);
    strbuf_free(cr.body);
}

int tools_call(const tool_ref *ref, const char *msg, jspan args, json_t *args_value,
               const char *authorization, const char *request_id, const char *traceparent, bool structured,
               strbuf *out, char *error_detail, size_t error_detail_size) {
    pool *p = pool_new();
    reply r;
    reply_init(&r);
    dispatch(ref, msg, args, args_value, authorization, request_id, traceparent, p, &r);
    bool failed = r.status >= 400;
    /* The route's JSON body, as the route wrote it: the text item, and
     * (on success) structuredContent. A failure carries no
     * structuredContent: clients check it against the outputSchema, which
     * describes the success. */
    strbuf_puts(out, "\"content\":[{\"type\":\"text\",\"text\":");
    strbuf_json_string(out, r.body->data, r.body->len);
    strbuf_puts(out, "}]");
    if (!failed && structured) {
        strbuf_puts(out, ",\"structuredContent\":");
        strbuf_append(out, r.body->data, r.body->len);
    }
    strbuf_printf(out, ",\"isError\":%s", failed ? "true" : "false");
    if (error_detail_size) error_detail[0] = '\0';
    if (failed && error_detail_size)
        snprintf(error_detail, error_detail_size, "tool %s: %d %.200s", ref->tool->name, r.status,
                 r.body->data);
    int status = r.status;
    reply_release(&r);
    pool_free(p);
    return status;
}
