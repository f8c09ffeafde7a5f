#define _POSIX_C_SOURCE 200809L
#include "rpc.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "config.h"
#include "json.h"
#include "jspan.h"
#include "mode.h"
#include "reply.h"
#include "settings.h"
#include "tools.h"

/* JSON-RPC error codes (and the one MCP's SDKs use for transport errors). */
enum {
    RPC_PARSE_ERROR = -32700,
    RPC_INVALID_REQUEST = -32600,
    RPC_METHOD_NOT_FOUND = -32601,
    RPC_INVALID_PARAMS = -32602,
    RPC_SERVER_ERROR = -32000,
};

static const char *const g_versions[] = {"2025-06-18", "2025-03-26", "2025-11-25", NULL};

/* What rpc_answer runs: the parsed body (one message or a batch). */
typedef struct rpc_message {
    char *text;          /* the body, owned */
    size_t len;
    json_t *root;        /* jansson's reading of it, owned */
    jspan span;          /* the root value in text */
    char *authorization; /* the request's header (owned copy): the tools'
                            routes check it as their own */
    char request_id[72];
} rpc_message;

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

static bool version_supported(const char *v) {
    for (const char *const *s = g_versions; *s; s++)
        if (strcmp(*s, v) == 0) return true;
    return false;
}

/* ---- the two error shapes ---- */

/* Before the protocol starts (Host, Origin, token, method, size): the
 * contract's {"error","detail"} body, through reply_error. */
static void http_error(rpc_out *out, const api_error *err) {
    reply r;
    reply_init(&r);
    reply_error(&r, err);
    strbuf_reset(out->body);
    strbuf_append(out->body, r.body->data, r.body->len);
    out->status = r.status;
    out->www_authenticate = strstr(r.headers, "WWW-Authenticate") != NULL;
    out->retry_after = strstr(r.headers, "Retry-After") != NULL;
    snprintf(out->log_detail, sizeof out->log_detail, "%s", err->detail);
    reply_release(&r);
}

/* Appends a JSON-RPC error response; id is the raw id text ("null" when
 * unknown). */
static void put_rpc_error(strbuf *sb, const char *id, size_t id_len, int code, const char *message) {
    strbuf_puts(sb, "{\"jsonrpc\":\"2.0\",\"id\":");
    strbuf_append(sb, id, id_len);
    strbuf_printf(sb, ",\"error\":{\"code\":%d,\"message\":", code);
    strbuf_json_string(sb, message, strlen(message));
    strbuf_puts(sb, "}}");
}

/* A transport-level refusal once the protocol has started: the HTTP status
 * with a JSON-RPC error (id null), as MCP clients expect. */
static void transport_error(rpc_out *out, int status, int code, const char *message) {
    out->action = RPC_REPLY;
    out->status = status;
    strbuf_reset(out->body);
    put_rpc_error(out->body, "null", 4, code, message);
    snprintf(out->log_detail, sizeof out->log_detail, "%.399s", message);
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
    const char *list = g_mcp.allowed_origins ? g_mcp.allowed_origins : "";
    return origin != NULL && config_list_has(list, origin, strlen(origin));
}

static bool accepts(const char *accept, const char *type) {
    return accept != NULL && strstr(accept, type) != NULL;
}

/* ---- step one ---- */

/* Classifies one message object: a request (method and id), a
 * notification (method, no id), a client's response (result or error and
 * an id) or nothing valid. */
typedef enum kind { K_INVALID, K_REQUEST, K_NOTIFICATION, K_RESPONSE } kind;

static kind classify(json_t *m) {
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
    if (method == NULL && id_ok && (json_object_get(m, "result") || json_object_get(m, "error"))) return K_RESPONSE;
    return K_INVALID;
}

static bool is_method(json_t *m, const char *name) {
    json_t *method = json_object_get(m, "method");
    return json_is_string(method) && strcmp(json_string_value(method), name) == 0;
}

/* initialize: negotiates the version, makes the session. */
static void initialize(const rpc_message *msg, rpc_out *out) {
    jspan id;
    jspan_member(msg->text, msg->span, "id", &id);
    json_t *params = json_object_get(msg->root, "params");
    json_t *asked = json_object_get(params, "protocolVersion");
    out->status = 200;
    if (!json_is_object(params) || !json_is_string(asked)) {
        put_rpc_error(out->body, msg->text + id.off, id.len, RPC_INVALID_PARAMS,
                      "initialize needs params.protocolVersion (a string)");
        return;
    }
    const char *version = version_supported(json_string_value(asked)) ? json_string_value(asked)
                                                                       : MCP_VERSION_PREFERRED;
    if (!session_create(out->session_id)) {
        out->session_id[0] = '\0';
        transport_error(out, 503, RPC_SERVER_ERROR, "too many sessions with open streams");
        return;
    }
    strbuf_puts(out->body, "{\"jsonrpc\":\"2.0\",\"id\":");
    strbuf_append(out->body, msg->text + id.off, id.len);
    strbuf_printf(out->body,
                  ",\"result\":{\"protocolVersion\":\"%s\",\"capabilities\":{\"tools\":{}},"
                  "\"serverInfo\":{\"name\":\"backend\",\"version\":\"%s\"},"
                  "\"instructions\":\"Tools over a PostgreSQL data service: ",
                  version, BACKEND_VERSION);
    tools_topics(out->body);
    strbuf_puts(out->body, ". Errors come back as isError results with the HTTP API's error and detail.\"}}");
}

/* MCP-Protocol-Version, checked on every request but initialize (which
 * negotiates the version): a version this server does not speak is 400. */
static bool version_ok(const rpc_in *in, rpc_out *out) {
    if (in->protocol_version == NULL || version_supported(in->protocol_version)) return true;
    char message[160];
    snprintf(message, sizeof message,
             "Bad Request: unsupported MCP-Protocol-Version %.40s (supported: 2025-11-25, 2025-06-18, 2025-03-26)",
             in->protocol_version);
    transport_error(out, 400, RPC_SERVER_ERROR, message);
    return false;
}

/* The session a non-initialize message needs: 400 without the header, 404
 * for one that is unknown or has ended. */
static bool session_ok(const rpc_in *in, rpc_out *out) {
    if (in->session_id == NULL || in->session_id[0] == '\0') {
        transport_error(out, 400, RPC_SERVER_ERROR, "Bad Request: the Mcp-Session-Id header is required");
        return false;
    }
    if (!session_touch(in->session_id)) {
        transport_error(out, 404, -32001, "Session not found: it ended or never existed; initialize again");
        return false;
    }
    return true;
}

/* The message rpc_answer runs: owns a copy of the body and root. */
static rpc_message *message_new(const rpc_in *in, json_t *root) {
    rpc_message *m = calloc(1, sizeof *m);
    char *text = malloc(in->body_len + 1);
    if (m == NULL || text == NULL) abort();
    memcpy(text, in->body, in->body_len);
    text[in->body_len] = '\0';
    *m = (rpc_message){text, in->body_len, root, jspan_root(text, in->body_len), NULL, ""};
    if (in->authorization && (m->authorization = strdup(in->authorization)) == NULL) abort();
    snprintf(m->request_id, sizeof m->request_id, "%s", in->request_id ? in->request_id : "");
    return m;
}

static void admit_post(const rpc_in *in, rpc_out *out) {
    api_error err;
    if (in->body_too_large) {
        api_fail(&err, API_E_PAYLOAD_TOO_LARGE, NULL, "the body is over the limit of %zu bytes (BODY_MAX_BYTES)",
                 g_config.body_max_bytes);
        http_error(out, &err);
        return;
    }
    json_t *root = json_parse_allow_nul(in->body ? in->body : "", in->body_len, &err);
    if (root == NULL) {
        char message[400];
        snprintf(message, sizeof message, "Parse error: %s", err.detail);
        transport_error(out, 400, RPC_PARSE_ERROR, message);
        return;
    }
    const char *version = in->protocol_version ? in->protocol_version : "2025-03-26";
    bool initializing = classify(root) == K_REQUEST && is_method(root, "initialize");
    if (!initializing && !version_ok(in, out)) {
        json_decref(root);
        return;
    }
    /* What needs an answer: a request, or a batch holding one (or an
     * invalid member, answered with its error). Notifications and the
     * client's responses get 202. */
    bool needs_answer;
    if (json_is_array(root)) {
        /* Batches: gone from 2025-06-18 on; before, none may hold an
         * initialize. */
        bool refuse = strcmp(version, "2025-06-18") >= 0;
        size_t i;
        json_t *m;
        bool has_initialize = false;
        needs_answer = false;
        json_array_foreach(root, i, m) {
            needs_answer = needs_answer || classify(m) == K_REQUEST || classify(m) == K_INVALID;
            has_initialize = has_initialize || is_method(m, "initialize");
        }
        if (refuse || json_array_size(root) == 0 || has_initialize) {
            json_decref(root);
            transport_error(out, 400, RPC_INVALID_REQUEST,
                            refuse ? "Invalid Request: JSON-RPC batches are not supported from protocol version "
                                     "2025-06-18 on"
                                   : "Invalid Request: an empty batch, or initialize inside a batch");
            return;
        }
    } else {
        kind k = classify(root);
        if (k == K_INVALID) {
            json_decref(root);
            transport_error(out, 400, RPC_INVALID_REQUEST, "Invalid Request: not a JSON-RPC 2.0 message");
            return;
        }
        if (initializing) {
            rpc_message msg = {(char *)in->body, in->body_len, root, jspan_root(in->body, in->body_len), NULL, ""};
            initialize(&msg, out);
            json_decref(root);
            return;
        }
        needs_answer = k == K_REQUEST;
    }
    bool live = session_ok(in, out);
    if (live && !needs_answer) out->status = 202;
    if (!live || !needs_answer) {
        json_decref(root);
        return;
    }
    out->action = RPC_ANSWER;
    out->message = message_new(in, root);
    out->sse = accepts(in->accept, "text/event-stream") && !accepts(in->accept, "application/json");
}

void rpc_admit(const rpc_in *in, rpc_out *out) {
    api_error err;
    if (!rpc_host_allowed(in->host)) {
        api_fail(&err, API_E_FORBIDDEN_HOST, NULL, "Host %.100s is not allowed (MCP_ALLOWED_HOSTS)",
                 in->host ? in->host : "(none)");
        http_error(out, &err);
        return;
    }
    if (in->origin != NULL && !rpc_origin_allowed(in->origin)) {
        api_fail(&err, API_E_FORBIDDEN_ORIGIN, NULL, "Origin %.100s is not allowed (MCP_ALLOWED_ORIGINS)",
                 in->origin);
        http_error(out, &err);
        return;
    }
    if (!auth_check(in->authorization, &err)) {
        http_error(out, &err);
        return;
    }
    bool post = strcmp(in->method, "POST") == 0, get = strcmp(in->method, "GET") == 0,
         del = strcmp(in->method, "DELETE") == 0;
    if (!post && !get && !del) {
        api_fail(&err, API_E_METHOD_NOT_ALLOWED, NULL, "/mcp takes GET, POST or DELETE, not %.20s", in->method);
        http_error(out, &err);
        out->allow = "GET, POST, DELETE";
        return;
    }
    if (post) {
        admit_post(in, out);
        return;
    }
    if (get && !accepts(in->accept, "text/event-stream")) {
        transport_error(out, 406, RPC_SERVER_ERROR, "Not Acceptable: GET /mcp needs Accept: text/event-stream");
        return;
    }
    if (!version_ok(in, out) || !session_ok(in, out)) return;
    if (get) {
        out->action = RPC_OPEN_STREAM;
        return;
    }
    session_end(in->session_id); /* DELETE */
    out->status = 200;
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
    strbuf *result;
    char detail[200];
} call_job;

static void run_call(void *arg) {
    call_job *j = arg;
    tools_call(&j->ref, j->text, j->args, j->args_value, j->authorization, j->request_id, j->result, j->detail,
               sizeof j->detail);
}

/* Answers one request (m, at span in msg->text) into body. */
static void answer_one(const rpc_message *msg, json_t *m, jspan span, rpc_out *out, strbuf *body,
                       rpc_runner runner, void *ctx) {
    jspan id = {0, 0};
    jspan_member(msg->text, span, "id", &id);
    const char *id_text = msg->text + id.off;
    if (classify(m) == K_INVALID) { /* inside a batch */
        put_rpc_error(body, "null", 4, RPC_INVALID_REQUEST, "Invalid Request: not a JSON-RPC 2.0 message");
        return;
    }
    const char *method = json_string_value(json_object_get(m, "method"));
    json_t *params = json_object_get(m, "params");
    if (params != NULL && !json_is_object(params)) {
        put_rpc_error(body, id_text, id.len, RPC_INVALID_PARAMS, "Invalid params: params must be an object");
        return;
    }
    if (strcmp(method, "ping") == 0 || strcmp(method, "tools/list") == 0) {
        strbuf_puts(body, "{\"jsonrpc\":\"2.0\",\"id\":");
        strbuf_append(body, id_text, id.len);
        strbuf_puts(body, ",\"result\":");
        if (method[0] == 'p') strbuf_puts(body, "{}");
        else tools_list(body);
        strbuf_puts(body, "}");
        return;
    }
    if (strcmp(method, "tools/call") != 0) {
        char message[160];
        snprintf(message, sizeof message, "Method not found: %.100s", method);
        put_rpc_error(body, id_text, id.len, RPC_METHOD_NOT_FOUND, message);
        return;
    }
    json_t *name = json_object_get(params, "name");
    json_t *args = json_object_get(params, "arguments");
    call_job job = {.text = msg->text, .authorization = msg->authorization, .request_id = msg->request_id};
    if (!json_is_string(name)) {
        put_rpc_error(body, id_text, id.len, RPC_INVALID_PARAMS, "Invalid params: tools/call needs params.name");
        return;
    }
    if (!tools_find(json_string_value(name), &job.ref)) {
        char message[160];
        snprintf(message, sizeof message, "Unknown tool: %.100s", json_string_value(name));
        put_rpc_error(body, id_text, id.len, RPC_INVALID_PARAMS, message);
        return;
    }
    if (args != NULL && !json_is_object(args) && !json_is_null(args)) {
        put_rpc_error(body, id_text, id.len, RPC_INVALID_PARAMS, "Invalid params: arguments must be an object");
        return;
    }
    jspan params_span;
    if (json_is_object(args) && jspan_member(msg->text, span, "params", &params_span))
        jspan_member(msg->text, params_span, "arguments", &job.args);
    job.args_value = json_is_object(args) ? args : NULL;
    job.result = strbuf_new();
    runner(run_call, &job, ctx);
    strbuf_puts(body, "{\"jsonrpc\":\"2.0\",\"id\":");
    strbuf_append(body, id_text, id.len);
    strbuf_puts(body, ",\"result\":");
    strbuf_append(body, job.result->data, job.result->len);
    strbuf_puts(body, "}");
    if (job.detail[0]) snprintf(out->log_detail, sizeof out->log_detail, "%s", job.detail);
    strbuf_free(job.result);
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
        kind k = classify(m);
        if (k == K_NOTIFICATION || k == K_RESPONSE) continue;
        if (!first) strbuf_puts(body, ",");
        first = false;
        answer_one(msg, m, element, out, body, runner, ctx);
    }
    strbuf_puts(body, "]");
}

bool rpc_progress_start(const rpc_out *out, strbuf *body) {
    const rpc_message *msg = out->message;
    if (msg == NULL || !json_is_object(msg->root) || !is_method(msg->root, "tools/call")) return false;
    jspan params, meta, token;
    if (!jspan_member(msg->text, msg->span, "params", &params) ||
        !jspan_member(msg->text, params, "_meta", &meta) || !jspan_member(msg->text, meta, "progressToken", &token))
        return false;
    json_t *t = json_object_get(json_object_get(json_object_get(msg->root, "params"), "_meta"), "progressToken");
    if (!json_is_string(t) && !json_is_number(t)) return false;
    strbuf_puts(body, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":");
    strbuf_append(body, msg->text + token.off, token.len);
    strbuf_puts(body, ",\"progress\":0,\"message\":\"started\"}}");
    return true;
}
