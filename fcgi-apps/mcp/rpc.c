/*
 * rpc: the shared part of the /mcp transport (rpc.h; rpc_internal.h says
 * how the three files divide it): what is decided before any era (Host,
 * Origin, the abuse limits, the token, the HTTP method, the body, which era
 * a POST is in), the classification of messages, the two error shapes,
 * and step two, the answer to each request and the tool calls.
 */
#define _POSIX_C_SOURCE 200809L
#include "rpc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "abuse.h"
#include "auth.h"
#include "config.h"
#include "json.h"
#include "jspan.h"
#include "mode.h"
#include "reply.h"
#include "rpc_internal.h"
#include "settings.h"
#include "tools.h"

void rpc_out_init(rpc_out *out) {
    memset(out, 0, sizeof *out);
    out->action = RPC_REPLY;
    out->status = 200;
    out->body = strbuf_new();
}

void rpc_out_release(rpc_out *out) {
    strbuf_free(out->body);
    if (out->message) {
        json_decref(out->message->root);
        free(out->message->text);
        free(out->message->authorization);
        free(out->message);
    }
    out->body = NULL;
    out->message = NULL;
}

/* ---- the two error shapes ---- */

/* Before the protocol starts (Host, Origin, token, method, size), the
 * HTTP routes' {"error","detail"} body (docs/errors.md), through
 * reply_error, so a refusal reads the same on /mcp as on every route. */
void rpc_http_error(rpc_out *out, const api_error *err) {
    reply r;
    reply_init(&r);
    reply_error(&r, err);
    strbuf_reset(out->body);
    strbuf_append(out->body, r.body->data, r.body->len);
    out->status = r.status;
    out->www_authenticate = strstr(r.headers, "WWW-Authenticate") != NULL;
    const char *ra = strstr(r.headers, "Retry-After: ");
    out->retry_after = ra ? strtol(ra + strlen("Retry-After: "), NULL, 10) : 0;
    snprintf(out->log_detail, sizeof out->log_detail, "%s", err->detail);
    reply_release(&r);
}

void rpc_put_error_data(strbuf *sb, const char *id, size_t id_len, int code, const char *message,
                        const char *data) {
    strbuf_puts(sb, "{\"jsonrpc\":\"2.0\",\"id\":");
    /* an id this server could not span (a message it cannot read whole,
     * such as one with a raw NUL) is null, as JSON-RPC says for an id that
     * cannot be told */
    strbuf_append(sb, id_len ? id : "null", id_len ? id_len : 4);
    strbuf_printf(sb, ",\"error\":{\"code\":%d,\"message\":", code);
    strbuf_json_string(sb, message, strlen(message));
    if (data) {
        strbuf_puts(sb, ",\"data\":");
        strbuf_puts(sb, data);
    }
    strbuf_puts(sb, "}}");
}

void rpc_put_error(strbuf *sb, const char *id, size_t id_len, int code, const char *message) {
    rpc_put_error_data(sb, id, id_len, code, message, NULL);
}

void rpc_transport_error_id(rpc_out *out, int status, const char *id, size_t id_len, int code,
                            const char *message, const char *data) {
    out->action = RPC_REPLY;
    out->status = status;
    strbuf_reset(out->body);
    rpc_put_error_data(out->body, id, id_len, code, message, data);
    snprintf(out->log_detail, sizeof out->log_detail, "%.399s", message);
}

void rpc_transport_error(rpc_out *out, int status, int code, const char *message) {
    rpc_transport_error_id(out, status, "null", 4, code, message, NULL);
}

void rpc_store_down(rpc_out *out) {
    api_error err;
    API_DB_UNAVAILABLE(&err, "the session store (PostgreSQL) cannot be reached");
    rpc_http_error(out, &err);
    out->action = RPC_REPLY;
}

/* ---- Host and Origin ---- */

bool rpc_host_allowed(const char *host) {
    if (host == NULL || host[0] == '\0') return false;
    /* The name without its port: "[::1]:4000" -> "[::1]", "localhost:4000"
     * -> "localhost". */
    size_t name_len = strlen(host);
    const char *colon = host[0] == '[' ? strchr(host, ']') : strchr(host, ':');
    if (host[0] == '[') {
        if (colon == NULL) return false;
        name_len = (size_t)(colon - host) + 1;
        if (host[name_len] != '\0' && host[name_len] != ':') return false;
    } else if (colon != NULL) {
        name_len = (size_t)(colon - host);
    }
    static const char *const loopback[] = {"localhost", "127.0.0.1", "[::1]", NULL};
    for (const char *const *l = loopback; *l; l++)
        if (strlen(*l) == name_len && strncasecmp(host, *l, name_len) == 0) return true;
    const char *list = g_mcp.allowed_hosts ? g_mcp.allowed_hosts : "";
    return config_list_has(list, host, name_len) || config_list_has(list, host, strlen(host));
}

bool rpc_origin_allowed(const char *origin) {
    if (origin == NULL) return false;
    /* http:// or https://, a loopback host, then nothing or a port. */
    const char *rest = strncasecmp(origin, "http://", 7) == 0    ? origin + 7
                       : strncasecmp(origin, "https://", 8) == 0 ? origin + 8
                                                                 : NULL;
    static const char *const loopback[] = {"localhost", "127.0.0.1", "[::1]", NULL};
    for (const char *const *l = loopback; rest && *l; l++) {
        size_t n = strlen(*l);
        if (strncasecmp(rest, *l, n) != 0) continue;
        const char *port = rest + n;
        if (*port == '\0') return true;
        if (*port++ != ':' || *port == '\0' || strlen(port) > 5) continue;
        while (*port >= '0' && *port <= '9') port++;
        if (*port == '\0') return true;
    }
    const char *list = g_mcp.allowed_origins ? g_mcp.allowed_origins : "";
    return config_list_has(list, origin, strlen(origin));
}

bool rpc_accepts(const char *accept, const char *type) {
    return accept != NULL && strstr(accept, type) != NULL;
}

/* ---- step one ---- */

rpc_kind rpc_classify(json_t *m) {
    if (!json_is_object(m)) return K_INVALID;
    json_t *version = json_object_get(m, "jsonrpc");
    if (!json_is_string(version) || strcmp(json_string_value(version), "2.0") != 0) return K_INVALID;
    json_t *method = json_object_get(m, "method");
    json_t *id = json_object_get(m, "id");
    bool id_ok = json_is_string(id) || json_is_number(id);
    if (json_is_string(method)) {
        if (id == NULL) return K_NOTIFICATION;
        return id_ok ? K_REQUEST : K_INVALID;
    }
    if (method == NULL && id_ok && (json_object_get(m, "result") || json_object_get(m, "error")))
        return K_RESPONSE;
    return K_INVALID;
}

bool rpc_is_method(json_t *m, const char *name) {
    json_t *method = json_object_get(m, "method");
    return json_is_string(method) && strcmp(json_string_value(method), name) == 0;
}

/* The instructions (initialize, server/discover) say what the registered
 * modes offer, from their topics, and how errors come back. */
void rpc_put_instructions(strbuf *b) {
    strbuf_puts(b, "Tools over a PostgreSQL data service: ");
    tools_topics(b);
    strbuf_puts(b, ". Errors come back as isError results with the HTTP API's error and detail.");
}

/* True when root (borrowed) is a tools/call whose params._meta carries a
 * progressToken (a string or a number). */
static bool wants_progress(json_t *root) {
    if (!json_is_object(root) || !rpc_is_method(root, "tools/call")) return false;
    json_t *t = json_object_get(json_object_get(json_object_get(root, "params"), "_meta"), "progressToken");
    return json_is_string(t) || json_is_number(t);
}

/* The message rpc_answer runs: a copy of the body and of the headers the
 * tools' routes need, with root (taken). Freed by rpc_out_release. */
static rpc_message *message_new(const rpc_in *in, json_t *root, const char *version, bool stateless) {
    rpc_message *m = calloc(1, sizeof *m);
    char *text = malloc(in->body_len + 1);
    if (m == NULL || text == NULL) abort();
    memcpy(text, in->body, in->body_len);
    text[in->body_len] = '\0';
    m->text = text;
    m->len = in->body_len;
    m->root = root;
    m->span = jspan_root(text, in->body_len);
    if (in->authorization && (m->authorization = strdup(in->authorization)) == NULL) abort();
    snprintf(m->request_id, sizeof m->request_id, "%s", in->request_id ? in->request_id : "");
    /* Sampled: every request's trace ids are in the access log. */
    if (in->trace != NULL)
        snprintf(m->traceparent, sizeof m->traceparent, "00-%s-%s-01", in->trace->trace_id,
                 in->trace->span_id);
    snprintf(m->version, sizeof m->version, "%s", version);
    m->stateless = stateless;
    if (!stateless && in->session_id != NULL)
        snprintf(m->session_id, sizeof m->session_id, "%s", in->session_id);
    return m;
}

void rpc_hand_on(const rpc_in *in, rpc_out *out, json_t *root, const char *version, bool stateless) {
    out->action = RPC_ANSWER;
    out->message = message_new(in, root, version, stateless);
    /* An event stream when the client takes only that, or when it takes
     * one and asked for progress (docs/mcp.md, "Progress"). */
    out->sse = rpc_accepts(in->accept, "text/event-stream") &&
               (!rpc_accepts(in->accept, "application/json") || wants_progress(root));
}

/* params._meta.traceparent, when the message has one, decides the
 * request's trace (it is how an MCP client that cannot set headers, or
 * sends many calls on one connection, passes its context): a valid one is
 * joined, anything else (not a string, malformed, or a string with a NUL)
 * starts a new trace, as an invalid header does. Without it the header's
 * trace stands. A batch has no one _meta: the header's trace. */
static void meta_trace(const rpc_in *in, json_t *root) {
    if (in->trace == NULL) return;
    json_t *tp = json_object_get(json_object_get(json_object_get(root, "params"), "_meta"), "traceparent");
    if (tp == NULL) return;
    const char *text = json_string_value(tp);
    bool clean = text != NULL && strlen(text) == json_string_length(tp);
    trace_start(in->trace, clean ? text : "");
}

/* A POST: the body's size, then its JSON (out gets the 413 or the
 * -32700), then its era's admission. */
static void admit_post(const rpc_in *in, rpc_out *out) {
    api_error err;
    if (in->body_too_large) {
        api_fail(&err, API_E_PAYLOAD_TOO_LARGE, NULL,
                 "the body is over the limit of %zu bytes (BODY_MAX_BYTES)", g_config.body_max_bytes);
        rpc_http_error(out, &err);
        return;
    }
    json_t *root = json_parse_allow_nul(in->body ? in->body : "", in->body_len, &err);
    if (root == NULL) {
        char message[400];
        snprintf(message, sizeof message, "Parse error: %s", err.detail);
        rpc_transport_error(out, 400, RPC_PARSE_ERROR, message);
        return;
    }
    meta_trace(in, root);
    if (rpc_is_stateless(in, root))
        rpc_admit_stateless(in, out, root);
    else
        rpc_admit_session_post(in, out, root);
}

/* What every request passes first: Host, then Origin. True when both
 * pass (an allowed Origin is kept for the CORS headers); else out holds
 * the refusal. */
static bool admit_browser(const rpc_in *in, rpc_out *out) {
    api_error err;
    if (!rpc_host_allowed(in->host)) {
        api_fail(&err, API_E_FORBIDDEN_HOST, NULL, "Host %.100s is not allowed (MCP_ALLOWED_HOSTS)",
                 in->host ? in->host : "(none)");
        rpc_http_error(out, &err);
        return false;
    }
    if (in->origin != NULL && !rpc_origin_allowed(in->origin)) {
        api_fail(&err, API_E_FORBIDDEN_ORIGIN, NULL,
                 "Origin %.100s is not allowed (loopback origins and MCP_ALLOWED_ORIGINS are)", in->origin);
        rpc_http_error(out, &err);
        return false;
    }
    out->cors_origin = in->origin;
    return true;
}

/* What every request passes next: the abuse limits, then the bearer
 * token. True when it passes; else out holds the refusal. */
static bool admit_client(const rpc_in *in, rpc_out *out) {
    api_error err;
    bool ok = true;
    if (!abuse_admit(in->client_addr, &err)) {
        /* The abuse limits as on the FastCGI routes (docs/operations.md,
         * "Abuse limits"), in the same shared table: after Host and Origin
         * (a request refused there never reaches the token), before the
         * token, so an address over them is refused even with the right
         * one. */
        ok = false;
    } else if (!auth_check(in->authorization, &err)) {
        /* a wrong token counts, a missing one does not */
        if (err.status == 401 && in->authorization != NULL && in->authorization[0] != '\0')
            abuse_auth_failed(in->client_addr);
        ok = false;
    }
    if (!ok) rpc_http_error(out, &err);
    return ok;
}

void rpc_admit(const rpc_in *in, rpc_out *out) {
    if (!admit_browser(in, out)) return;
    /* A browser's CORS preflight carries no token (browsers never send
     * one on it): from an allowed origin it is answered before the token
     * (docs/mcp.md, "Browser clients"). */
    if (strcmp(in->method, "OPTIONS") == 0 && in->origin != NULL) {
        out->preflight = true;
        out->status = 204;
        return;
    }
    if (!admit_client(in, out)) return;
    bool post = strcmp(in->method, "POST") == 0, get = strcmp(in->method, "GET") == 0,
         del = strcmp(in->method, "DELETE") == 0;
    if (!post && !get && !del) {
        api_error err;
        api_fail(&err, API_E_METHOD_NOT_ALLOWED, NULL, "/mcp takes GET, POST or DELETE, not %.20s",
                 in->method);
        rpc_http_error(out, &err);
        out->allow = "GET, POST, DELETE";
    } else if (post) {
        admit_post(in, out);
    } else if (rpc_stateless_version(in->protocol_version)) {
        rpc_refuse_stateless_stream(in, out); /* that era has no GET stream and no session to end */
    } else {
        rpc_admit_session_stream(in, out, get);
    }
}

/* ---- step two ---- */

/* One tools/call, run on a worker. */
typedef struct call_job {
    tool_ref ref;
    const char *text;
    jspan args;
    json_t *args_value;
    const char *authorization;
    const char *request_id;
    const char *traceparent;
    bool structured;
    strbuf *result;
    char detail[200];
} call_job;

/* The worker's side of a call: runs the tool into j->result (owned by the
 * caller), a failure's reason into j->detail. */
static void run_call(void *arg) {
    call_job *j = arg;
    tools_call(&j->ref, j->text, j->args, j->args_value, j->authorization, j->request_id, j->traceparent,
               j->structured, j->result, j->detail, sizeof j->detail);
}

void rpc_open_result(strbuf *body, const char *id_text, size_t id_len) {
    strbuf_puts(body, "{\"jsonrpc\":\"2.0\",\"id\":");
    strbuf_append(body, id_len ? id_text : "null", id_len ? id_len : 4); /* as rpc_put_error_data */
    strbuf_puts(body, ",\"result\":{");
}

/* In the stateless era every result says it is complete and names the
 * server. */
void rpc_close_result(strbuf *body, const rpc_message *msg, bool comma) {
    if (msg->stateless)
        strbuf_printf(body,
                      "%s\"resultType\":\"complete\",\"_meta\":{\"io.modelcontextprotocol/serverInfo\":"
                      "{\"name\":\"backend\",\"version\":\"%s\"}}",
                      comma ? "," : "", BACKEND_VERSION);
    strbuf_puts(body, "}}");
}

/* Appends the answer to a tools/call whose arguments are not an object
 * (nor null) for the tool ref: from 2025-11-25 on the tool's own error,
 * which a model can read and correct; before, -32602. */
static void answer_bad_arguments(const answering *a, const tool_ref *ref) {
    if (strcmp(a->msg->version, "2025-11-25") < 0) {
        rpc_put_error(a->body, a->id, a->id_len, RPC_INVALID_PARAMS,
                      "Invalid params: arguments must be an object");
        return;
    }
    rpc_open_result(a->body, a->id, a->id_len);
    tools_invalid_arguments(ref, "arguments must be an object", a->body);
    rpc_close_result(a->body, a->msg, true);
    snprintf(a->out->log_detail, sizeof a->out->log_detail, "tool %s: arguments must be an object",
             ref->tool->name);
}

/* Appends the answer to a tools/call (params borrowed): the tool's result,
 * run through runner, or the error of a call that names no tool. */
static void answer_call(const answering *a, json_t *params, rpc_runner runner, void *ctx) {
    const rpc_message *msg = a->msg;
    json_t *name = json_object_get(params, "name");
    json_t *args = json_object_get(params, "arguments");
    call_job job = {.text = msg->text,
                    .authorization = msg->authorization,
                    .request_id = msg->request_id,
                    .traceparent = msg->traceparent[0] ? msg->traceparent : NULL,
                    .structured = tools_structured(msg->version)};
    if (!json_is_string(name)) {
        rpc_put_error(a->body, a->id, a->id_len, RPC_INVALID_PARAMS,
                      "Invalid params: tools/call needs params.name");
        return;
    }
    if (!tools_find(json_string_value(name), &job.ref)) {
        char message[160];
        snprintf(message, sizeof message, "Unknown tool: %.100s", json_string_value(name));
        rpc_put_error(a->body, a->id, a->id_len, RPC_INVALID_PARAMS, message);
        return;
    }
    if (args != NULL && !json_is_object(args) && !json_is_null(args)) {
        answer_bad_arguments(a, &job.ref);
        return;
    }
    jspan params_span;
    if (json_is_object(args) && jspan_member(msg->text, a->span, "params", &params_span))
        jspan_member(msg->text, params_span, "arguments", &job.args);
    job.args_value = json_is_object(args) ? args : NULL;
    job.result = strbuf_new();
    runner(run_call, &job, ctx);
    rpc_open_result(a->body, a->id, a->id_len);
    strbuf_append(a->body, job.result->data, job.result->len);
    rpc_close_result(a->body, msg, true);
    if (job.detail[0]) snprintf(a->out->log_detail, sizeof a->out->log_detail, "%s", job.detail);
    strbuf_free(job.result);
}

/* Appends the answer to tools/list: every tool, in the shape of the
 * message's version; cacheable in the stateless era. */
static void answer_list(const answering *a) {
    rpc_open_result(a->body, a->id, a->id_len);
    tools_list_for(a->body, a->msg->version, a->msg->authorization);
    if (a->msg->stateless)
        strbuf_printf(a->body, ",\"ttlMs\":%d,\"cacheScope\":\"private\"", RPC_LIST_TTL_MS);
    rpc_close_result(a->body, a->msg, true);
}

/* Answers one request (m, at span in msg->text) into body. */
static void answer_one(const rpc_message *msg, json_t *m, jspan span, rpc_out *out, strbuf *body,
                       rpc_runner runner, void *ctx) {
    jspan id = {0, 0};
    jspan_member(msg->text, span, "id", &id);
    answering a = {
        .msg = msg, .span = span, .id = msg->text + id.off, .id_len = id.len, .body = body, .out = out};
    if (rpc_classify(m) == K_INVALID) { /* inside a batch */
        rpc_put_error(body, "null", 4, RPC_INVALID_REQUEST, "Invalid Request: not a JSON-RPC 2.0 message");
        return;
    }
    const char *method = json_string_value(json_object_get(m, "method"));
    json_t *params = json_object_get(m, "params");
    if (params != NULL && !json_is_object(params)) {
        rpc_put_error(body, a.id, a.id_len, RPC_INVALID_PARAMS, "Invalid params: params must be an object");
    } else if (strcmp(method, "ping") == 0 && !msg->stateless) {
        rpc_open_result(body, a.id, a.id_len);
        rpc_close_result(body, msg, false);
    } else if (strcmp(method, "tools/list") == 0) {
        answer_list(&a);
    } else if (strcmp(method, "server/discover") == 0 && msg->stateless) {
        rpc_answer_discover(msg, a.id, a.id_len, body);
    } else if (strcmp(method, "tools/call") == 0) {
        answer_call(&a, params, runner, ctx);
    } else if (rpc_answer_resources(&a, method, params, runner, ctx)) {
        /* answered there */
    } else {
        char message[160];
        snprintf(message, sizeof message, "Method not found: %.100s", method);
        rpc_put_error(body, a.id, a.id_len, RPC_METHOD_NOT_FOUND, message);
    }
}

void rpc_answer(rpc_out *out, strbuf *body, rpc_runner runner, void *ctx) {
    const rpc_message *msg = out->message;
    if (!json_is_array(msg->root)) {
        answer_one(msg, msg->root, msg->span, out, body, runner, ctx);
        return;
    }
    /* A batch: an array of the answers to its requests, in order. */
    strbuf_puts(body, "[");
    bool first = true;
    size_t pos = msg->span.off + 1, i = 0;
    json_t *m;
    json_array_foreach(msg->root, i, m) {
        /* The element's span: skip to it in the text. */
        jspan element = jspan_root(msg->text + pos, msg->len - pos);
        element.off += pos;
        pos = element.off + element.len;
        while (pos < msg->len && msg->text[pos] != ',' && msg->text[pos] != ']') pos++;
        pos++;
        rpc_kind k = rpc_classify(m);
        if (k == K_NOTIFICATION || k == K_RESPONSE) continue;
        if (!first) strbuf_puts(body, ",");
        first = false;
        answer_one(msg, m, element, out, body, runner, ctx);
    }
    strbuf_puts(body, "]");
}

bool rpc_progress(const rpc_out *out, int progress, const char *message, strbuf *body) {
    const rpc_message *msg = out->message;
    if (msg == NULL || !wants_progress(msg->root)) return false;
    jspan params, meta, token;
    if (!jspan_member(msg->text, msg->span, "params", &params) ||
        !jspan_member(msg->text, params, "_meta", &meta) ||
        !jspan_member(msg->text, meta, "progressToken", &token))
        return false;
    strbuf_puts(body,
                "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":");
    strbuf_append(body, msg->text + token.off, token.len);
    strbuf_printf(body, ",\"progress\":%d,\"message\":\"%s\"}}", progress, message);
    return true;
}

void rpc_listen_params(const rpc_out *out, json_t **uris, const char **id, size_t *id_len) {
    const rpc_message *msg = out->message;
    json_t *list = json_object_get(json_object_get(json_object_get(msg->root, "params"), "notifications"),
                                   "resourceSubscriptions");
    *uris = json_is_array(list) ? list : NULL;
    jspan span = {0, 4};
    if (jspan_member(msg->text, msg->span, "id", &span)) {
        *id = msg->text + span.off;
        *id_len = span.len;
    } else {
        *id = "null";
        *id_len = 4;
    }
}
