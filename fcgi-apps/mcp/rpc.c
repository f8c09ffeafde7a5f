#define _POSIX_C_SOURCE 200809L
#include "rpc.h"

#include <jansson.h>
#include <openssl/evp.h>
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
#include "settings.h"
#include "tools.h"

/* JSON-RPC error codes (and the one MCP's SDKs use for transport errors). */
enum {
    RPC_PARSE_ERROR = -32700,
    RPC_INVALID_REQUEST = -32600,
    RPC_METHOD_NOT_FOUND = -32601,
    RPC_INVALID_PARAMS = -32602,
    RPC_SERVER_ERROR = -32000,
    RPC_HEADER_MISMATCH = -32020,     /* 2026-07-28: headers missing or not the body's */
    RPC_UNSUPPORTED_VERSION = -32022, /* 2026-07-28: a version this server does not serve */
};

/* The session-era versions an initialize can negotiate. */
static const char *const g_versions[] = {"2025-06-18", "2025-03-26", "2025-11-25", NULL};
/* Every version served, newest first (the -32022 error's "supported"). */
#define SUPPORTED_JSON "[\"" MCP_VERSION_STATELESS "\",\"2025-11-25\",\"2025-06-18\",\"2025-03-26\"]"
/* How long a client may cache server/discover and tools/list (the tools
 * change only with a new release of the service). */
#define LIST_TTL_MS 300000

#define META_VERSION      "io.modelcontextprotocol/protocolVersion"
#define META_CAPABILITIES "io.modelcontextprotocol/clientCapabilities"

/* What rpc_answer runs: the parsed body (one message or a batch). */
typedef struct rpc_message {
    char *text; /* the body, owned */
    size_t len;
    json_t *root;        /* jansson's reading of it, owned */
    jspan span;          /* the root value in text */
    char *authorization; /* the request's header (owned copy): the tools'
                            routes check it as their own */
    char request_id[72];
    char traceparent[64];              /* the request's span, for the tools' routes */
    char version[SESSION_VERSION_MAX]; /* the protocol version it is in */
    bool stateless;                    /* 2026-07-28 */
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

/* True when v names the stateless era: a version (YYYY-MM-DD, which
 * compares in order as text) from 2026-07-28 on. */
static bool stateless_version(const char *v) {
    if (v == NULL || strlen(v) != 10) return false;
    for (int i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? v[i] != '-' : (v[i] < '0' || v[i] > '9')) return false;
    return strcmp(v, MCP_VERSION_STATELESS) >= 0;
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
    const char *ra = strstr(r.headers, "Retry-After: ");
    out->retry_after = ra ? strtol(ra + strlen("Retry-After: "), NULL, 10) : 0;
    snprintf(out->log_detail, sizeof out->log_detail, "%s", err->detail);
    reply_release(&r);
}

/* Appends a JSON-RPC error response; id is the raw id text ("null" when
 * unknown); data, when not NULL, is JSON text. */
static void put_rpc_error_data(strbuf *sb, const char *id, size_t id_len, int code, const char *message,
                               const char *data) {
    strbuf_puts(sb, "{\"jsonrpc\":\"2.0\",\"id\":");
    strbuf_append(sb, id, id_len);
    strbuf_printf(sb, ",\"error\":{\"code\":%d,\"message\":", code);
    strbuf_json_string(sb, message, strlen(message));
    if (data) {
        strbuf_puts(sb, ",\"data\":");
        strbuf_puts(sb, data);
    }
    strbuf_puts(sb, "}}");
}

static void put_rpc_error(strbuf *sb, const char *id, size_t id_len, int code, const char *message) {
    put_rpc_error_data(sb, id, id_len, code, message, NULL);
}

/* A transport-level refusal once the protocol has started: the HTTP status
 * with a JSON-RPC error (id as given, "null" when unknown), as MCP clients
 * expect. */
static void transport_error_id(rpc_out *out, int status, const char *id, size_t id_len, int code,
                               const char *message, const char *data) {
    out->action = RPC_REPLY;
    out->status = status;
    strbuf_reset(out->body);
    put_rpc_error_data(out->body, id, id_len, code, message, data);
    snprintf(out->log_detail, sizeof out->log_detail, "%.399s", message);
}

static void transport_error(rpc_out *out, int status, int code, const char *message) {
    transport_error_id(out, status, "null", 4, code, message, NULL);
}

/* The answer when the session store cannot be reached: 503
 * database_unavailable with Retry-After, as on the HTTP routes. */
static void store_down(rpc_out *out) {
    api_error err;
    API_DB_UNAVAILABLE(&err, "the session store (PostgreSQL) cannot be reached");
    http_error(out, &err);
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
    if (method == NULL && id_ok && (json_object_get(m, "result") || json_object_get(m, "error")))
        return K_RESPONSE;
    return K_INVALID;
}

static bool is_method(json_t *m, const char *name) {
    json_t *method = json_object_get(m, "method");
    return json_is_string(method) && strcmp(json_string_value(method), name) == 0;
}

/* The server's instructions (initialize, server/discover). */
/* Appends the server's instructions (a JSON string's contents): what the
 * registered modes offer, from their topics, and how errors come back. */
static void put_instructions(strbuf *b) {
    strbuf_puts(b, "Tools over a PostgreSQL data service: ");
    tools_topics(b);
    strbuf_puts(b, ". Errors come back as isError results with the HTTP API's error and detail.");
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
    const char *version =
        version_supported(json_string_value(asked)) ? json_string_value(asked) : MCP_VERSION_PREFERRED;
    session_status made = session_create(out->session_id, version);
    if (made != SESSION_LIVE) {
        out->session_id[0] = '\0';
        if (made == SESSION_STORE_DOWN)
            store_down(out);
        else
            transport_error(out, 503, RPC_SERVER_ERROR, "too many sessions with open streams");
        return;
    }
    strbuf_puts(out->body, "{\"jsonrpc\":\"2.0\",\"id\":");
    strbuf_append(out->body, msg->text + id.off, id.len);
    strbuf_printf(out->body,
                  ",\"result\":{\"protocolVersion\":\"%s\",\"capabilities\":{\"tools\":{}},"
                  "\"serverInfo\":{\"name\":\"backend\",\"version\":\"%s\"},"
                  "\"instructions\":\"",
                  version, BACKEND_VERSION);
    put_instructions(out->body);
    strbuf_puts(out->body, "\"}}");
}

/* MCP-Protocol-Version in the session era, checked on every request but
 * initialize (which negotiates the version): a version this server does
 * not speak is 400. */
static bool version_ok(const rpc_in *in, rpc_out *out) {
    if (in->protocol_version == NULL || version_supported(in->protocol_version)) return true;
    char message[240];
    snprintf(
        message, sizeof message,
        "Bad Request: unsupported MCP-Protocol-Version %.40s (supported: 2025-11-25, 2025-06-18, 2025-03-26, "
        "and " MCP_VERSION_STATELESS " without a session)",
        in->protocol_version);
    transport_error(out, 400, RPC_SERVER_ERROR, message);
    return false;
}

/* The session a non-initialize message needs: 400 without the header, 404
 * for one that is unknown or has ended, 503 when the store is down. A live
 * one's negotiated version goes to version. */
static bool session_ok(const rpc_in *in, rpc_out *out, char version[SESSION_VERSION_MAX]) {
    if (in->session_id == NULL || in->session_id[0] == '\0') {
        transport_error(out, 400, RPC_SERVER_ERROR, "Bad Request: the Mcp-Session-Id header is required");
        return false;
    }
    session_status st = session_touch(in->session_id, version);
    if (st == SESSION_STORE_DOWN) store_down(out);
    if (st == SESSION_GONE)
        transport_error(out, 404, -32001, "Session not found: it ended or never existed; initialize again");
    return st == SESSION_LIVE;
}

/* The message rpc_answer runs: owns a copy of the body and root. */
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
    return m;
}

/* Decodes an Mcp-Name header: a value "=?base64?...?=" is base64 of the
 * name's UTF-8. Returns a malloc'd NUL-terminated string (the caller
 * frees) and its length in *len, or NULL when the encoding is bad. */
static char *header_name_decode(const char *h, size_t *len) {
    size_t n = strlen(h);
    if (n >= 11 && strncmp(h, "=?base64?", 9) == 0 && strcmp(h + n - 2, "?=") == 0) {
        const char *b64 = h + 9;
        size_t bn = n - 11;
        if (bn % 4 != 0) return NULL;
        unsigned char *raw = malloc(bn / 4 * 3 + 1);
        if (raw == NULL) abort();
        int got = bn ? EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)bn) : 0;
        if (got < 0) {
            free(raw);
            return NULL;
        }
        if (bn >= 1 && b64[bn - 1] == '=') got--;
        if (bn >= 2 && b64[bn - 2] == '=') got--;
        raw[got] = '\0';
        *len = (size_t)got;
        return (char *)raw;
    }
    char *copy = strdup(h);
    if (copy == NULL) abort();
    *len = n;
    return copy;
}

static bool is_served_stateless_method(const char *m) {
    return strcmp(m, "server/discover") == 0 || strcmp(m, "tools/list") == 0 || strcmp(m, "tools/call") == 0;
}

/* A POST in the stateless era (2026-07-28): checks the message, its _meta
 * and the headers against the body, then hands a request on to
 * rpc_answer. Takes root. */
static void admit_stateless(const rpc_in *in, rpc_out *out, json_t *root) {
    out->stateless = true;
    kind k = classify(root);
    if (json_is_array(root) || k == K_INVALID || k == K_RESPONSE) {
        json_decref(root);
        transport_error(out, 400, RPC_INVALID_REQUEST,
                        "Invalid Request: the body must be one JSON-RPC request or notification");
        return;
    }
    jspan span = jspan_root(in->body, in->body_len), id = {0, 4};
    const char *id_text = "null";
    if (k == K_REQUEST && jspan_member(in->body, span, "id", &id)) id_text = in->body + id.off;
    const char *method = json_string_value(json_object_get(root, "method"));
    json_t *params = json_object_get(root, "params");
    json_t *meta = json_object_get(params, "_meta");
    json_t *asked = json_object_get(meta, META_VERSION);
    char message[300];
    if (!json_is_string(asked)) {
        transport_error_id(out, 400, id_text, id.len, RPC_INVALID_PARAMS,
                           "Invalid params: params._meta needs " META_VERSION " (a string)", NULL);
        json_decref(root);
        return;
    }
    const char *version = json_string_value(asked);
    if (in->protocol_version == NULL || strcmp(in->protocol_version, version) != 0) {
        snprintf(message, sizeof message,
                 "Header mismatch: MCP-Protocol-Version %.40s does not match the body's " META_VERSION
                 " %.40s",
                 in->protocol_version ? in->protocol_version : "(missing)", version);
        transport_error_id(out, 400, id_text, id.len, RPC_HEADER_MISMATCH, message, NULL);
        json_decref(root);
        return;
    }
    if (strcmp(version, MCP_VERSION_STATELESS) != 0) {
        strbuf *data = strbuf_new();
        strbuf_puts(data, "{\"supported\":" SUPPORTED_JSON ",\"requested\":");
        strbuf_json_string(data, version, strlen(version));
        strbuf_puts(data, "}");
        transport_error_id(out, 400, id_text, id.len, RPC_UNSUPPORTED_VERSION, "Unsupported protocol version",
                           data->data);
        strbuf_free(data);
        json_decref(root);
        return;
    }
    if (!json_is_object(json_object_get(meta, META_CAPABILITIES))) {
        transport_error_id(out, 400, id_text, id.len, RPC_INVALID_PARAMS,
                           "Invalid params: params._meta needs " META_CAPABILITIES " (an object)", NULL);
        json_decref(root);
        return;
    }
    if (k == K_NOTIFICATION) { /* none is defined over HTTP; accepted and ignored */
        out->status = 202;
        json_decref(root);
        return;
    }
    if (in->mcp_method == NULL || strcmp(in->mcp_method, method) != 0) {
        snprintf(message, sizeof message,
                 "Header mismatch: Mcp-Method %.60s does not match the body's method %.60s",
                 in->mcp_method ? in->mcp_method : "(missing)", method);
        transport_error_id(out, 400, id_text, id.len, RPC_HEADER_MISMATCH, message, NULL);
        json_decref(root);
        return;
    }
    if (strcmp(method, "tools/call") == 0) {
        json_t *name = json_object_get(params, "name");
        size_t n = 0;
        char *header = in->mcp_name ? header_name_decode(in->mcp_name, &n) : NULL;
        bool same = header && json_is_string(name) && json_string_length(name) == n &&
                    memcmp(json_string_value(name), header, n) == 0;
        free(header);
        if (!same) {
            snprintf(message, sizeof message,
                     "Header mismatch: Mcp-Name %.60s does not match the body's params.name",
                     in->mcp_name ? in->mcp_name : "(missing)");
            transport_error_id(out, 400, id_text, id.len, RPC_HEADER_MISMATCH, message, NULL);
            json_decref(root);
            return;
        }
    }
    if (!is_served_stateless_method(method)) {
        snprintf(message, sizeof message, "Method not found: %.100s", method);
        transport_error_id(out, 404, id_text, id.len, RPC_METHOD_NOT_FOUND, message, NULL);
        json_decref(root);
        return;
    }
    out->action = RPC_ANSWER;
    out->message = message_new(in, root, version, true);
    out->sse = accepts(in->accept, "text/event-stream") && !accepts(in->accept, "application/json");
}

/* True when the POST is in the stateless era: its params._meta names a
 * protocol version, or (not an initialize) its MCP-Protocol-Version header
 * names the stateless era. */
static bool is_stateless(const rpc_in *in, json_t *root) {
    json_t *meta = json_object_get(json_object_get(root, "params"), "_meta");
    if (json_object_get(meta, META_VERSION) != NULL) return true;
    return stateless_version(in->protocol_version) &&
           !(json_is_object(root) && is_method(root, "initialize"));
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

static void admit_post(const rpc_in *in, rpc_out *out) {
    api_error err;
    if (in->body_too_large) {
        api_fail(&err, API_E_PAYLOAD_TOO_LARGE, NULL,
                 "the body is over the limit of %zu bytes (BODY_MAX_BYTES)", g_config.body_max_bytes);
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
    meta_trace(in, root);
    if (is_stateless(in, root)) {
        admit_stateless(in, out, root);
        return;
    }
    bool initializing = classify(root) == K_REQUEST && is_method(root, "initialize");
    if (!initializing && !version_ok(in, out)) {
        json_decref(root);
        return;
    }
    if (!json_is_array(root)) {
        kind k = classify(root);
        if (k == K_INVALID) {
            json_decref(root);
            transport_error(out, 400, RPC_INVALID_REQUEST, "Invalid Request: not a JSON-RPC 2.0 message");
            return;
        }
        if (initializing) {
            rpc_message msg = {.text = (char *)in->body,
                               .len = in->body_len,
                               .root = root,
                               .span = jspan_root(in->body, in->body_len)};
            initialize(&msg, out);
            json_decref(root);
            return;
        }
    }
    /* The session, and the version it negotiated: the message is in it. */
    char version[SESSION_VERSION_MAX] = "";
    if (!session_ok(in, out, version)) {
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
                            refuse
                                ? "Invalid Request: JSON-RPC batches are not supported from protocol version "
                                  "2025-06-18 on"
                                : "Invalid Request: an empty batch, or initialize inside a batch");
            return;
        }
    } else {
        needs_answer = classify(root) == K_REQUEST;
    }
    if (!needs_answer) {
        out->status = 202;
        json_decref(root);
        return;
    }
    out->action = RPC_ANSWER;
    out->message = message_new(in, root, version, false);
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
        api_fail(&err, API_E_FORBIDDEN_ORIGIN, NULL,
                 "Origin %.100s is not allowed (loopback origins and MCP_ALLOWED_ORIGINS are)", in->origin);
        http_error(out, &err);
        return;
    }
    /* The abuse limits as on the FastCGI routes (contract section 10), in
     * the same shared table: after Host and Origin (a request refused
     * there never reaches the token), before the token, so an address
     * over them is refused even with the right one. */
    if (!abuse_admit(in->client_addr, &err)) {
        http_error(out, &err);
        return;
    }
    if (!auth_check(in->authorization, &err)) {
        /* a wrong token counts, a missing one does not */
        if (err.status == 401 && in->authorization != NULL && in->authorization[0] != '\0')
            abuse_auth_failed(in->client_addr);
        http_error(out, &err);
        return;
    }
    bool post = strcmp(in->method, "POST") == 0, get = strcmp(in->method, "GET") == 0,
         del = strcmp(in->method, "DELETE") == 0;
    if (!post && !get && !del) {
        api_fail(&err, API_E_METHOD_NOT_ALLOWED, NULL, "/mcp takes GET, POST or DELETE, not %.20s",
                 in->method);
        http_error(out, &err);
        out->allow = "GET, POST, DELETE";
        return;
    }
    if (post) {
        admit_post(in, out);
        return;
    }
    /* The stateless era has no GET stream and no session to end. */
    if (stateless_version(in->protocol_version)) {
        api_fail(&err, API_E_METHOD_NOT_ALLOWED, NULL,
                 "protocol version %.40s has no GET stream and no session: /mcp takes POST",
                 in->protocol_version);
        http_error(out, &err);
        out->allow = "POST";
        return;
    }
    if (get && !accepts(in->accept, "text/event-stream")) {
        transport_error(out, 406, RPC_SERVER_ERROR,
                        "Not Acceptable: GET /mcp needs Accept: text/event-stream");
        return;
    }
    char version[SESSION_VERSION_MAX];
    if (!version_ok(in, out) || !session_ok(in, out, version)) return;
    if (get) {
        out->action = RPC_OPEN_STREAM;
        return;
    }
    /* DELETE: ends the session on every process. */
    session_status st = session_end(in->session_id);
    if (st == SESSION_STORE_DOWN)
        store_down(out);
    else if (st == SESSION_GONE)
        transport_error(out, 404, -32001, "Session not found: it ended or never existed; initialize again");
    else
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
    const char *traceparent;
    bool structured;
    strbuf *result;
    char detail[200];
} call_job;

static void run_call(void *arg) {
    call_job *j = arg;
    tools_call(&j->ref, j->text, j->args, j->args_value, j->authorization, j->request_id, j->traceparent,
               j->structured, j->result, j->detail, sizeof j->detail);
}

/* Appends the response's head, up to the result object's first member. */
static void open_result(strbuf *body, const char *id_text, size_t id_len) {
    strbuf_puts(body, "{\"jsonrpc\":\"2.0\",\"id\":");
    strbuf_append(body, id_text, id_len);
    strbuf_puts(body, ",\"result\":{");
}

/* Closes the result and the response; in the stateless era every result
 * says it is complete and names the server. comma: a member came before. */
static void close_result(strbuf *body, const rpc_message *msg, bool comma) {
    if (msg->stateless)
        strbuf_printf(body,
                      "%s\"resultType\":\"complete\",\"_meta\":{\"io.modelcontextprotocol/serverInfo\":"
                      "{\"name\":\"backend\",\"version\":\"%s\"}}",
                      comma ? "," : "", BACKEND_VERSION);
    strbuf_puts(body, "}}");
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
    if (strcmp(method, "ping") == 0 && !msg->stateless) {
        open_result(body, id_text, id.len);
        close_result(body, msg, false);
        return;
    }
    if (strcmp(method, "tools/list") == 0) {
        open_result(body, id_text, id.len);
        tools_list(body, msg->version);
        if (msg->stateless) strbuf_printf(body, ",\"ttlMs\":%d,\"cacheScope\":\"public\"", LIST_TTL_MS);
        close_result(body, msg, true);
        return;
    }
    if (strcmp(method, "server/discover") == 0 && msg->stateless) {
        open_result(body, id_text, id.len);
        strbuf_puts(body, "\"supportedVersions\":" SUPPORTED_JSON
                          ",\"capabilities\":{\"tools\":{}},\"instructions\":\"");
        put_instructions(body);
        strbuf_printf(body, "\",\"ttlMs\":%d,\"cacheScope\":\"public\"", LIST_TTL_MS);
        close_result(body, msg, true);
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
    call_job job = {.text = msg->text,
                    .authorization = msg->authorization,
                    .request_id = msg->request_id,
                    .traceparent = msg->traceparent[0] ? msg->traceparent : NULL,
                    .structured = tools_structured(msg->version)};
    if (!json_is_string(name)) {
        put_rpc_error(body, id_text, id.len, RPC_INVALID_PARAMS,
                      "Invalid params: tools/call needs params.name");
        return;
    }
    if (!tools_find(json_string_value(name), &job.ref)) {
        char message[160];
        snprintf(message, sizeof message, "Unknown tool: %.100s", json_string_value(name));
        put_rpc_error(body, id_text, id.len, RPC_INVALID_PARAMS, message);
        return;
    }
    if (args != NULL && !json_is_object(args) && !json_is_null(args)) {
        /* From 2025-11-25 on, arguments that do not fit the inputSchema
         * are the tool's error, which a model can read and correct. */
        if (strcmp(msg->version, "2025-11-25") < 0) {
            put_rpc_error(body, id_text, id.len, RPC_INVALID_PARAMS,
                          "Invalid params: arguments must be an object");
            return;
        }
        open_result(body, id_text, id.len);
        tools_invalid_arguments(&job.ref, "arguments must be an object", body);
        close_result(body, msg, true);
        snprintf(out->log_detail, sizeof out->log_detail, "tool %s: arguments must be an object",
                 job.ref.tool->name);
        return;
    }
    jspan params_span;
    if (json_is_object(args) && jspan_member(msg->text, span, "params", &params_span))
        jspan_member(msg->text, params_span, "arguments", &job.args);
    job.args_value = json_is_object(args) ? args : NULL;
    job.result = strbuf_new();
    runner(run_call, &job, ctx);
    open_result(body, id_text, id.len);
    strbuf_append(body, job.result->data, job.result->len);
    close_result(body, msg, true);
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
        !jspan_member(msg->text, params, "_meta", &meta) ||
        !jspan_member(msg->text, meta, "progressToken", &token))
        return false;
    json_t *t =
        json_object_get(json_object_get(json_object_get(msg->root, "params"), "_meta"), "progressToken");
    if (!json_is_string(t) && !json_is_number(t)) return false;
    strbuf_puts(body,
                "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progressToken\":");
    strbuf_append(body, msg->text + token.off, token.len);
    strbuf_puts(body, ",\"progress\":0,\"message\":\"started\"}}");
    return true;
}
