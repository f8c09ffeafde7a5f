#define _POSIX_C_SOURCE 200809L
#include "tools.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
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
        for (size_t i = 0; i < (*mp)->nroutes; i++) {
            const route *r = &(*mp)->routes[i];
            if (r->tool != NULL && strcmp(r->tool->name, name) == 0) {
                *out = (tool_ref){*mp, r, r->tool};
                return true;
            }
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

const input_field *tools_input(const tool_ref *ref, size_t *n) {
    if (ref->tool->input != NULL) {
        *n = ref->tool->ninput;
        return ref->tool->input;
    }
    *n = ref->route->ninput;
    return ref->route->input;
}

const char *tools_description(const tool_ref *ref) {
    return ref->tool->description ? ref->tool->description : ref->route->description;
}

/* ---- the schemas, written once ---- */

/* Each tool's inputSchema and outputSchema as compact JSON text, from its
 * route's declarations, made on first use (static: nobody frees them). */
enum { TOOLS_MAX = 128 };
static struct {
    const tool *tool;
    char *input, *output;
} g_schemas[TOOLS_MAX];
static size_t g_nschemas;
static pthread_once_t g_schemas_once = PTHREAD_ONCE_INIT;

static char *dump(json_t *v) {
    char *text = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(v);
    if (text == NULL) abort();
    return text;
}

/* MCP wants both schemas to say "type": "object" at their top (the SDKs
 * refuse a tools/list whose schema does not); a declaration with two forms
 * (enqueue's item or batch) is a oneOf of objects, so it says it beside
 * the oneOf. Returns s. */
static json_t *object_at_top(json_t *s) {
    if (json_object_get(s, "type") == NULL) json_object_set_new(s, "type", json_string("object"));
    return s;
}

static void schemas_build(void) {
    for (const mode *const *mp = mode_registry; *mp; mp++)
        for (size_t i = 0; i < (*mp)->nroutes && g_nschemas < TOOLS_MAX; i++) {
            const route *r = &(*mp)->routes[i];
            if (r->tool == NULL) continue;
            tool_ref ref = {*mp, r, r->tool};
            size_t n;
            const input_field *f = tools_input(&ref, &n);
            g_schemas[g_nschemas].tool = r->tool;
            g_schemas[g_nschemas].input = dump(object_at_top(input_tool_schema(f, n)));
            g_schemas[g_nschemas].output = dump(object_at_top(output_schema(r->output, NULL)));
            g_nschemas++;
        }
}

void tools_schemas(const tool *t, const char **input, const char **output) {
    pthread_once(&g_schemas_once, schemas_build);
    *input = *output = "{}";
    for (size_t i = 0; i < g_nschemas; i++)
        if (g_schemas[i].tool == t) {
            *input = g_schemas[i].input;
            *output = g_schemas[i].output;
        }
}

/* Appends one tool of tools/list. */
static void list_one(strbuf *out, const tool_ref *ref, bool titled) {
    const char *title = ref->route->summary, *description = tools_description(ref), *input, *output;
    tools_schemas(ref->tool, &input, &output);
    strbuf_puts(out, "{\"name\":");
    strbuf_json_string(out, ref->tool->name, strlen(ref->tool->name));
    if (titled && title) {
        strbuf_puts(out, ",\"title\":");
        strbuf_json_string(out, title, strlen(title));
    }
    strbuf_puts(out, ",\"description\":");
    strbuf_json_string(out, description, strlen(description));
    strbuf_printf(out, ",\"inputSchema\":%s", input);
    if (titled) strbuf_printf(out, ",\"outputSchema\":%s", output);
    strbuf_puts(out, ",\"annotations\":{");
    if (title) {
        strbuf_puts(out, "\"title\":");
        strbuf_json_string(out, title, strlen(title));
        strbuf_puts(out, ",");
    }
    unsigned h = ref->tool->hints;
    bool ro = h & TOOL_READ_ONLY;
    strbuf_printf(out,
                  "\"readOnlyHint\":%s,\"destructiveHint\":%s,\"idempotentHint\":%s,"
                  "\"openWorldHint\":false}}",
                  ro ? "true" : "false", !ro && (h & TOOL_DESTRUCTIVE) ? "true" : "false",
                  h & TOOL_IDEMPOTENT ? "true" : "false");
}

/* True when who (NULL: anyone) may call the tool of route r of mode m. */
static bool tool_allowed(const auth_who *who, const mode *m, const route *r) {
    if (who == NULL || who->root || r->is_public) return true;
    if (m->root_only) return false;
    bool write = !(r->tool->hints & TOOL_READ_ONLY);
    return auth_may_use(who, m->scope_area ? m->scope_area : m->name, write);
}

/* tools/list for who (NULL: every tool). */
static void list_tools(strbuf *out, const char *version, const auth_who *who) {
    bool titled = tools_structured(version); /* title and outputSchema: 2025-06-18 on */
    strbuf_puts(out, "\"tools\":[");
    bool first = true;
    for (const mode *const *mp = mode_registry; *mp; mp++)
        for (size_t i = 0; i < (*mp)->nroutes; i++) {
            const route *r = &(*mp)->routes[i];
            if (r->tool == NULL || !tool_allowed(who, *mp, r)) continue;
            if (!first) strbuf_puts(out, ",");
            first = false;
            list_one(out, &(tool_ref){*mp, r, r->tool}, titled);
        }
    strbuf_puts(out, "]");
}

void tools_list(strbuf *out, const char *version) { list_tools(out, version, NULL); }

void tools_list_for(strbuf *out, const char *version, const char *authorization) {
    pool *p = pool_new();
    auth_who who;
    api_error err;
    /* the request passed the token check already: a token revoked since
     * lists nothing (its calls are refused as well) */
    if (authorization == NULL || auth_identify(authorization, p, &who, &err))
        list_tools(out, version, authorization ? &who : NULL);
    else
        strbuf_puts(out, "\"tools\":[]");
    pool_free(p);
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

/* Where the argument called name goes: the place of the route's field of
 * that name; an undeclared one goes to the body when the route takes an
 * object body, else to the query, where the route's own check refuses it
 * (422 naming it). */
static input_place place_of(const route *r, const char *name) {
    bool members = input_has_body_members(r->input, r->ninput);
    for (size_t i = 0; i < r->ninput; i++)
        if (strcmp(r->input[i].name, name) == 0) return r->input[i].in;
    return members ? INPUT_BODY : INPUT_QUERY;
}

/* The request a call makes: its URI, body and content type. */
typedef struct call_request {
    strbuf *uri;
    strbuf *body;
    const char *content_type;
} call_request;

/* Fills the path from the pattern, taking each {capture} from the
 * arguments. Returns false with 422 naming a missing or non-scalar one. */
static bool build_path(const route *r, const char *msg, jspan args, json_t *av, strbuf *uri, api_error *err) {
    for (const char *p = r->pattern; *p;) {
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

/* Appends ?name=value (or &name=value) for one scalar query argument. */
static bool put_param(strbuf *uri, char *sep, const char *name, size_t len, const char *msg, jspan raw,
                      json_t *value) {
    strbuf_append(uri, sep, 1);
    *sep = '&';
    put_encoded(uri, name, len);
    strbuf_puts(uri, "=");
    return put_scalar(uri, msg, raw, value);
}

/* An object argument (an INPUT_OBJECT field: the sql filters): each of its
 * members becomes one query parameter. */
static bool put_object_params(strbuf *uri, char *sep, const char *name, const char *msg, jspan v,
                              json_t *value, api_error *err) {
    size_t inner = 0;
    jspan ik, iv;
    bool ok = true;
    while (ok && jspan_next(msg, v, &inner, &ik, &iv)) {
        json_t *ikey = json_loadb(msg + ik.off, ik.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        json_t *ivalue = json_object_get(value, json_string_value(ikey));
        if (!put_param(uri, sep, json_string_value(ikey), json_string_length(ikey), msg, iv, ivalue))
            ok = API_INVALID(err, name, "the members of %s must be strings, numbers or booleans", name);
        json_decref(ikey);
    }
    return ok;
}

/* The query arguments (those whose place is the query) become ?name=value
 * (an object's members each become one; null means absent). */
static bool build_query(const route *r, const char *msg, jspan args, strbuf *uri, api_error *err) {
    size_t pos = 0;
    jspan k, v;
    char sep = '?';
    while (jspan_next(msg, args, &pos, &k, &v)) {
        json_t *key = json_loadb(msg + k.off, k.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        json_t *value =
            json_loadb(msg + v.off, v.len, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, NULL);
        const char *name = json_string_value(key);
        bool ok = true;
        if (place_of(r, name) == INPUT_QUERY && !json_is_null(value)) {
            if (json_is_object(value))
                ok = put_object_params(uri, &sep, name, msg, v, value, err);
            else if (!put_param(uri, &sep, name, json_string_length(key), msg, v, value))
                ok = API_INVALID(err, name, "%s must be a string, a number or a boolean", name);
        }
        json_decref(key);
        json_decref(value);
        if (!ok) return false;
    }
    return true;
}

/* The body members among the arguments, copied as written, form the body
 * (an object). */
static void build_json_body(const route *r, const char *msg, jspan args, strbuf *body) {
    size_t pos = 0;
    jspan k, v;
    strbuf_puts(body, "{");
    bool first = true;
    while (jspan_next(msg, args, &pos, &k, &v)) {
        json_t *key = json_loadb(msg + k.off, k.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        bool member = place_of(r, json_string_value(key)) == INPUT_BODY;
        json_decref(key);
        if (!member) continue;
        if (!first) strbuf_puts(body, ",");
        first = false;
        strbuf_append(body, msg + k.off, k.len);
        strbuf_puts(body, ":");
        strbuf_append(body, msg + v.off, v.len);
    }
    strbuf_puts(body, "}");
}

/* A route that streams its raw body (the upload): the tool's own
 * arguments, validated by its declaration (mode.h, tool.input): content
 * (text, or base64 with encoding "base64") is the body, content_type its
 * type. */
static bool build_content(const tool_ref *ref, json_t *av, pool *p, call_request *cr, api_error *err) {
    input_value in[INPUT_FIELDS_MAX];
    size_t n;
    const input_field *f = tools_input(ref, &n);
    json_t *empty = json_object();
    bool ok = input_body(av ? av : empty, f, n, in, err);
    json_decref(empty);
    if (!ok) return false;
    const char *how = "text", *text = NULL, *type = NULL;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(f[i].name, "encoding") == 0 && in[i].present) how = in[i].s;
        if (strcmp(f[i].name, "content") == 0) text = in[i].s;
        if (strcmp(f[i].name, "content_type") == 0) type = in[i].s;
    }
    if (type != NULL) cr->content_type = pool_strdup(p, type);
    size_t len = json_string_length(json_object_get(av, "content"));
    if (strcmp(how, "text") == 0) {
        strbuf_append(cr->body, text, len);
        return true;
    }
    /* Standard base64 with padding; white space is not allowed. */
    if (len % 4 != 0) return API_INVALID(err, "content", "content is not valid base64");
    unsigned char *raw = pool_alloc(p, len / 4 * 3 + 1);
    int got = len ? EVP_DecodeBlock(raw, (const unsigned char *)text, (int)len) : 0;
    if (got < 0) return API_INVALID(err, "content", "content is not valid base64");
    if (len >= 1 && text[len - 1] == '=') got--; /* EVP_DecodeBlock counts padding as zeros */
    if (len >= 2 && text[len - 2] == '=') got--;
    strbuf_append(cr->body, (const char *)raw, (size_t)got);
    return true;
}

/* The whole-body argument (the route's INPUT_WHOLE field) is the body. */
static bool build_whole(const input_field *whole, const char *msg, jspan args, json_t *av, strbuf *body,
                        api_error *err) {
    jspan v;
    if (args.len && jspan_member(msg, args, whole->name, &v) &&
        !json_is_null(json_object_get(av, whole->name))) {
        strbuf_append(body, msg + v.off, v.len);
        return true;
    }
    return API_INVALID(err, whole->name, "%s is required", whole->name);
}

/* Builds the call's URI and body from its arguments, by where each goes
 * (the route's declaration). */
static bool build_call(const tool_ref *ref, const char *msg, jspan args, json_t *av, pool *p,
                       call_request *cr, api_error *err) {
    const route *r = ref->route;
    const input_field *whole = input_whole_field(r->input, r->ninput);
    if (!build_path(r, msg, args, av, cr->uri, err)) return false;
    /* A streaming route's tool declares its own arguments (content, ...):
     * none of them is a query parameter of the route. */
    if (r->streams_body) return build_content(ref, av, p, cr, err);
    if (av && !build_query(r, msg, args, cr->uri, err)) return false;
    if (whole != NULL) return build_whole(whole, msg, args, av, cr->body, err);
    if (input_has_body_members(r->input, r->ninput))
        build_json_body(r, msg, args.len ? args : (jspan){0, 0}, cr->body);
    if (cr->body->len > g_config.body_max_bytes)
        return API_TOO_LARGE(err, "the body is %zu bytes; the limit is %zu (BODY_MAX_BYTES)", cr->body->len,
                             g_config.body_max_bytes);
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

/* Runs one request (method, uri, body and its content type; the /mcp
 * request's authorization, request id and trace) on mode m as the FastCGI
 * loop would (serve_dispatch); fills out. */
static void run_request(const mode *m, const char *method, const char *uri, const strbuf *body,
                        const char *content_type, const call_headers *h, pool *p, reply *out) {
    api_error err;
    char length[24];
    snprintf(length, sizeof length, "%zu", body->len);
    const char *pairs[] = {"REQUEST_METHOD",
                           method,
                           "REQUEST_URI",
                           uri,
                           "HTTP_AUTHORIZATION",
                           h->authorization,
                           "HTTP_X_REQUEST_ID",
                           h->request_id,
                           "CONTENT_LENGTH",
                           length,
                           "CONTENT_TYPE",
                           content_type,
                           "HTTP_TRACEPARENT",
                           h->traceparent,
                           NULL};
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
    request req;
    if (!request_parse(&req, p, env_lookup, &env, &err)) {
        reply_error(out, &err);
        return;
    }
    req.body = pool_strndup(p, body->data, body->len);
    req.body_len = body->len;
    memory_body *mb = pool_alloc(p, sizeof *mb);
    *mb = (memory_body){req.body, req.body_len, 0};
    req.body_read = memory_read;
    req.body_ctx = mb;
    serve_dispatch(m, &req, out);
}

/* Runs the route for the call; fills out (status and JSON body). */
static void dispatch(const tool_ref *ref, const char *msg, jspan args, json_t *av, const call_headers *h,
                     pool *p, reply *out) {
    api_error err;
    call_request cr = {strbuf_new(), strbuf_new(), NULL};
    if (build_call(ref, msg, args, av, p, &cr, &err))
        run_request(ref->mode, ref->route->method, cr.uri->data, cr.body, cr.content_type, h, p, out);
    else
        reply_error(out, &err);
    strbuf_free(cr.uri);
    strbuf_free(cr.body);
}

void tools_get(const char *uri, const call_headers *h, reply *out) {
    /* The mode whose prefix the path starts with; the catch-all "/" last. */
    const mode *found = NULL;
    for (const mode *const *mp = mode_registry; *mp; mp++) {
        size_t n = strlen((*mp)->url_prefix);
        bool catch_all = strcmp((*mp)->url_prefix, "/") == 0;
        if (catch_all ? found == NULL
                      : strncmp(uri, (*mp)->url_prefix, n) == 0 && strchr("/?", uri[n]) != NULL && uri[n])
            found = *mp;
    }
    pool *p = pool_new();
    strbuf *empty = strbuf_new();
    run_request(found, "GET", uri, empty, NULL, h, p, out);
    strbuf_free(empty);
    pool_free(p);
}

int tools_call(const tool_ref *ref, const char *msg, jspan args, json_t *args_value,
               const char *authorization, const char *request_id, const char *traceparent, bool structured,
               strbuf *out, char *error_detail, size_t error_detail_size) {
    pool *p = pool_new();
    reply r;
    reply_init(&r);
    call_headers h = {authorization, request_id, traceparent};
    dispatch(ref, msg, args, args_value, &h, p, &r);
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
