/*
 * rpc_stateless: the stateless era's admission (2026-07-28; docs/mcp.md,
 * "The stateless era"): no initialize and no session; each request carries
 * its protocol version and the client's capabilities in params._meta and
 * mirrors its version, method and tool name in the MCP-Protocol-Version,
 * Mcp-Method and Mcp-Name headers, each checked against the body; and the
 * answer to server/discover, the era's own method.
 */
#define _POSIX_C_SOURCE 200809L
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc_internal.h"

/* Every version served, newest first (the -32022 error's "supported",
 * server/discover's supportedVersions). */
#define SUPPORTED_JSON "[\"" MCP_VERSION_STATELESS "\",\"2025-11-25\",\"2025-06-18\",\"2025-03-26\"]"

#define META_VERSION      "io.modelcontextprotocol/protocolVersion"
#define META_CAPABILITIES "io.modelcontextprotocol/clientCapabilities"

bool rpc_stateless_version(const char *v) {
    /* A version is YYYY-MM-DD, which compares in order as text. */
    if (v == NULL || strlen(v) != 10) return false;
    for (int i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? v[i] != '-' : (v[i] < '0' || v[i] > '9')) return false;
    return strcmp(v, MCP_VERSION_STATELESS) >= 0;
}

bool rpc_is_stateless(const rpc_in *in, json_t *root) {
    json_t *meta = json_object_get(json_object_get(root, "params"), "_meta");
    if (json_object_get(meta, META_VERSION) != NULL) return true;
    return rpc_stateless_version(in->protocol_version) &&
           !(json_is_object(root) && rpc_is_method(root, "initialize"));
}

void rpc_refuse_stateless_stream(const rpc_in *in, rpc_out *out) {
    api_error err;
    api_fail(&err, API_E_METHOD_NOT_ALLOWED, NULL,
             "protocol version %.40s has no GET stream and no session: /mcp takes POST",
             in->protocol_version);
    rpc_http_error(out, &err);
    out->allow = "POST";
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

/* One stateless POST being admitted: what its checks read, all borrowed
 * from the request and its parsed body. */
typedef struct admission {
    const rpc_in *in;
    rpc_out *out;       /* a refusal goes here */
    json_t *params;     /* params (NULL: none) */
    json_t *meta;       /* params._meta (NULL: none) */
    const char *method; /* the body's */
    const char *id;     /* the request's id as written; "null" for a notification */
    size_t id_len;
} admission;

/* Fills a->out with the refusal: the HTTP status with a JSON-RPC error
 * carrying the request's id (data: JSON text, or NULL). */
static void refuse(const admission *a, int status, int code, const char *message, const char *data) {
    rpc_transport_error_id(a->out, status, a->id, a->id_len, code, message, data);
}

/* params._meta's protocol version: a string (else -32602), the one
 * MCP-Protocol-Version names (else -32020), and the one served (else
 * -32022, with every version served). True when all hold; else a->out
 * holds the refusal. */
static bool version_ok(const admission *a) {
    json_t *asked = json_object_get(a->meta, META_VERSION);
    if (!json_is_string(asked)) {
        refuse(a, 400, RPC_INVALID_PARAMS, "Invalid params: params._meta needs " META_VERSION " (a string)",
               NULL);
        return false;
    }
    const char *version = json_string_value(asked), *header = a->in->protocol_version;
    if (header == NULL || strcmp(header, version) != 0) {
        char message[300];
        snprintf(message, sizeof message,
                 "Header mismatch: MCP-Protocol-Version %.40s does not match the body's " META_VERSION
                 " %.40s",
                 header ? header : "(missing)", version);
        refuse(a, 400, RPC_HEADER_MISMATCH, message, NULL);
        return false;
    }
    if (strcmp(version, MCP_VERSION_STATELESS) == 0) return true;
    strbuf *data = strbuf_new();
    strbuf_puts(data, "{\"supported\":" SUPPORTED_JSON ",\"requested\":");
    strbuf_json_string(data, version, strlen(version));
    strbuf_puts(data, "}");
    refuse(a, 400, RPC_UNSUPPORTED_VERSION, "Unsupported protocol version", data->data);
    strbuf_free(data);
    return false;
}

/* params._meta's client capabilities: an object (else -32602). */
static bool capabilities_ok(const admission *a) {
    if (json_is_object(json_object_get(a->meta, META_CAPABILITIES))) return true;
    refuse(a, 400, RPC_INVALID_PARAMS, "Invalid params: params._meta needs " META_CAPABILITIES " (an object)",
           NULL);
    return false;
}

/* Mcp-Method is the body's method, and on tools/call Mcp-Name (decoded)
 * is params.name: true when they are; else a->out holds the -32020. */
static bool headers_ok(const admission *a) {
    const char *mcp_method = a->in->mcp_method, *mcp_name = a->in->mcp_name;
    char message[300];
    if (mcp_method == NULL || strcmp(mcp_method, a->method) != 0) {
        snprintf(message, sizeof message,
                 "Header mismatch: Mcp-Method %.60s does not match the body's method %.60s",
                 mcp_method ? mcp_method : "(missing)", a->method);
        refuse(a, 400, RPC_HEADER_MISMATCH, message, NULL);
        return false;
    }
    /* Mcp-Name mirrors tools/call's params.name and resources/read's
     * params.uri. */
    bool call = strcmp(a->method, "tools/call") == 0;
    if (!call && strcmp(a->method, "resources/read") != 0) return true;
    json_t *name = json_object_get(a->params, call ? "name" : "uri");
    size_t n = 0;
    char *header = mcp_name ? header_name_decode(mcp_name, &n) : NULL;
    bool same = header && json_is_string(name) && json_string_length(name) == n &&
                memcmp(json_string_value(name), header, n) == 0;
    free(header);
    if (same) return true;
    snprintf(message, sizeof message, "Header mismatch: Mcp-Name %.60s does not match the body's params.%s",
             mcp_name ? mcp_name : "(missing)", call ? "name" : "uri");
    refuse(a, 400, RPC_HEADER_MISMATCH, message, NULL);
    return false;
}

/* The method is one this era serves (else 404, -32601: ping and
 * initialize included). */
static bool method_served(const admission *a) {
    const char *m = a->method;
    static const char *const served[] = {"server/discover",
                                         "tools/list",
                                         "tools/call",
                                         "resources/list",
                                         "resources/templates/list",
                                         "resources/read",
                                         "completion/complete",
                                         "subscriptions/listen",
                                         NULL};
    for (const char *const *x = served; *x; x++)
        if (strcmp(m, *x) == 0) return true;
    char message[160];
    snprintf(message, sizeof message, "Method not found: %.100s", m);
    refuse(a, 404, RPC_METHOD_NOT_FOUND, message, NULL);
    return false;
}

/* subscriptions/listen's params: notifications an object, its
 * resourceSubscriptions (when there) an array of strings; else -32602. */
static bool listen_ok(const admission *a) {
    json_t *n = json_object_get(a->params, "notifications");
    json_t *uris = json_object_get(n, "resourceSubscriptions");
    bool ok = json_is_object(n) && (uris == NULL || json_is_array(uris));
    size_t i;
    json_t *u;
    json_array_foreach(uris, i, u) ok = ok && json_is_string(u);
    if (!ok)
        refuse(
            a, 400, RPC_INVALID_PARAMS,
            "Invalid params: subscriptions/listen needs params.notifications, its resourceSubscriptions an "
            "array of URIs",
            NULL);
    return ok;
}

/* Checks the message, its _meta and the headers against the body in the
 * order docs/mcp.md gives, then hands a request on to rpc_answer. */
void rpc_admit_stateless(const rpc_in *in, rpc_out *out, json_t *root) {
    out->stateless = true;
    rpc_kind k = rpc_classify(root);
    if (json_is_array(root) || k == K_INVALID || k == K_RESPONSE) {
        json_decref(root);
        rpc_transport_error(out, 400, RPC_INVALID_REQUEST,
                            "Invalid Request: the body must be one JSON-RPC request or notification");
        return;
    }
    admission a = {.in = in,
                   .out = out,
                   .params = json_object_get(root, "params"),
                   .method = json_string_value(json_object_get(root, "method")),
                   .id = "null",
                   .id_len = 4};
    a.meta = json_object_get(a.params, "_meta");
    jspan id;
    if (k == K_REQUEST && jspan_member(in->body, jspan_root(in->body, in->body_len), "id", &id)) {
        a.id = in->body + id.off;
        a.id_len = id.len;
    }
    if (!version_ok(&a) || !capabilities_ok(&a)) {
        json_decref(root);
        return;
    }
    if (k == K_NOTIFICATION) { /* none is defined over HTTP: accepted and ignored */
        out->status = 202;
        json_decref(root);
        return;
    }
    if (!headers_ok(&a) || !method_served(&a)) {
        json_decref(root);
        return;
    }
    if (strcmp(a.method, "subscriptions/listen") == 0 && !listen_ok(&a)) {
        json_decref(root);
        return;
    }
    rpc_hand_on(in, out, root, MCP_VERSION_STATELESS, true);
    if (strcmp(a.method, "subscriptions/listen") == 0) out->action = RPC_LISTEN;
}

void rpc_answer_discover(const rpc_message *msg, const char *id_text, size_t id_len, strbuf *body) {
    rpc_open_result(body, id_text, id_len);
    strbuf_puts(body, "\"supportedVersions\":" SUPPORTED_JSON ",\"capabilities\":" RPC_CAPABILITIES
                      ",\"instructions\":\"");
    rpc_put_instructions(body);
    strbuf_printf(body, "\",\"ttlMs\":%d,\"cacheScope\":\"public\"", RPC_LIST_TTL_MS);
    rpc_close_result(body, msg, true);
}
