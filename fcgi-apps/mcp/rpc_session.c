/*
 * rpc_session: the session era's admission (2025-03-26 to 2025-11-25;
 * docs/mcp.md, "The session era"): initialize negotiates a version and
 * makes a session; every other message names it in Mcp-Session-Id and may
 * carry MCP-Protocol-Version; the session's version decides the batch
 * rules; GET opens the session's stream and DELETE ends it.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "mode.h"
#include "rpc_internal.h"

/* The session-era versions an initialize can negotiate. */
static const char *const g_versions[] = {"2025-06-18", "2025-03-26", "2025-11-25", NULL};

/* True when v is a session-era version this server speaks. */
static bool version_supported(const char *v) {
    for (const char *const *s = g_versions; *s; s++)
        if (strcmp(*s, v) == 0) return true;
    return false;
}

/* initialize: negotiates the version, makes the session, and answers with
 * the version, the server's capabilities and its instructions (into out;
 * the session id goes to out->session_id). */
static void initialize(const rpc_message *msg, rpc_out *out) {
    jspan id;
    jspan_member(msg->text, msg->span, "id", &id);
    json_t *params = json_object_get(msg->root, "params");
    json_t *asked = json_object_get(params, "protocolVersion");
    out->status = 200;
    if (!json_is_object(params) || !json_is_string(asked)) {
        rpc_put_error(out->body, msg->text + id.off, id.len, RPC_INVALID_PARAMS,
                      "initialize needs params.protocolVersion (a string)");
        return;
    }
    const char *version =
        version_supported(json_string_value(asked)) ? json_string_value(asked) : MCP_VERSION_PREFERRED;
    session_status made = session_create(out->session_id, version);
    if (made != SESSION_LIVE) {
        out->session_id[0] = '\0';
        if (made == SESSION_STORE_DOWN)
            rpc_store_down(out);
        else
            rpc_transport_error(out, 503, RPC_SERVER_ERROR, "too many sessions with open streams");
        return;
    }
    strbuf_puts(out->body, "{\"jsonrpc\":\"2.0\",\"id\":");
    strbuf_append(out->body, id.len ? msg->text + id.off : "null",
                  id.len ? id.len : 4); /* as rpc_put_error_data */
    strbuf_printf(out->body,
                  ",\"result\":{\"protocolVersion\":\"%s\",\"capabilities\":" RPC_CAPABILITIES
                  ","
                  "\"serverInfo\":{\"name\":\"backend\",\"version\":\"%s\"},"
                  "\"instructions\":\"",
                  version, BACKEND_VERSION);
    rpc_put_instructions(out->body);
    strbuf_puts(out->body, "\"}}");
}

/* MCP-Protocol-Version in the session era, checked on every request but
 * initialize (which negotiates the version): true when it is absent or
 * one this server speaks; else out holds the 400. */
static bool version_ok(const rpc_in *in, rpc_out *out) {
    if (in->protocol_version == NULL || version_supported(in->protocol_version)) return true;
    char message[240];
    snprintf(
        message, sizeof message,
        "Bad Request: unsupported MCP-Protocol-Version %.40s (supported: 2025-11-25, 2025-06-18, 2025-03-26, "
        "and " MCP_VERSION_STATELESS " without a session)",
        in->protocol_version);
    rpc_transport_error(out, 400, RPC_SERVER_ERROR, message);
    return false;
}

/* The session a non-initialize message needs: true when it is live (its
 * negotiated version goes to version); else out holds the 400 without the
 * header, the 404 for one that is unknown or has ended, or the 503 when
 * the store is down. */
static bool session_ok(const rpc_in *in, rpc_out *out, char version[SESSION_VERSION_MAX]) {
    if (in->session_id == NULL || in->session_id[0] == '\0') {
        rpc_transport_error(out, 400, RPC_SERVER_ERROR, "Bad Request: the Mcp-Session-Id header is required");
        return false;
    }
    session_status st = session_touch(in->session_id, version);
    if (st == SESSION_STORE_DOWN) rpc_store_down(out);
    if (st == SESSION_GONE)
        rpc_transport_error(out, 404, RPC_SESSION_NOT_FOUND,
                            "Session not found: it ended or never existed; initialize again");
    return st == SESSION_LIVE;
}

/* A batch (the array root, borrowed) in a session of version: gone from
 * 2025-06-18 on; before, one that is empty or holds an initialize is
 * refused. True when it is admitted (*needs_answer: it holds a request or
 * an invalid member, answered with its error); else out holds the 400. */
static bool batch_ok(json_t *root, const char *version, rpc_out *out, bool *needs_answer) {
    bool refuse = strcmp(version, "2025-06-18") >= 0;
    size_t i;
    json_t *m;
    bool has_initialize = false;
    *needs_answer = false;
    json_array_foreach(root, i, m) {
        *needs_answer = *needs_answer || rpc_classify(m) == K_REQUEST || rpc_classify(m) == K_INVALID;
        has_initialize = has_initialize || rpc_is_method(m, "initialize");
    }
    if (refuse || json_array_size(root) == 0 || has_initialize) {
        rpc_transport_error(out, 400, RPC_INVALID_REQUEST,
                            refuse
                                ? "Invalid Request: JSON-RPC batches are not supported from protocol version "
                                  "2025-06-18 on"
                                : "Invalid Request: an empty batch, or initialize inside a batch");
        return false;
    }
    return true;
}

/* Answers a message that is not a batch before any session is needed:
 * returns true when it did (an invalid message's 400, or an initialize,
 * answered here with the session it makes); false for a message that
 * needs its session. */
static bool admit_sessionless(const rpc_in *in, rpc_out *out, json_t *root, bool initializing) {
    if (rpc_classify(root) == K_INVALID) {
        rpc_transport_error(out, 400, RPC_INVALID_REQUEST, "Invalid Request: not a JSON-RPC 2.0 message");
        return true;
    }
    if (!initializing) return false;
    rpc_message msg = {.text = (char *)in->body,
                       .len = in->body_len,
                       .root = root,
                       .span = jspan_root(in->body, in->body_len)};
    initialize(&msg, out);
    return true;
}

void rpc_admit_session_post(const rpc_in *in, rpc_out *out, json_t *root) {
    bool initializing = rpc_classify(root) == K_REQUEST && rpc_is_method(root, "initialize");
    if ((!initializing && !version_ok(in, out)) ||
        (!json_is_array(root) && admit_sessionless(in, out, root, initializing))) {
        json_decref(root);
        return;
    }
    /* The session, and the version it negotiated: the message is in it. */
    char version[SESSION_VERSION_MAX] = "";
    if (!session_ok(in, out, version)) {
        json_decref(root);
        return;
    }
    /* What needs an answer: a request, or a batch holding one. Notifications
     * and the client's responses get 202. */
    bool needs_answer = rpc_classify(root) == K_REQUEST;
    if (json_is_array(root) && !batch_ok(root, version, out, &needs_answer)) {
        json_decref(root);
        return;
    }
    if (!needs_answer) {
        out->status = 202;
        json_decref(root);
        return;
    }
    rpc_hand_on(in, out, root, version, false);
}

void rpc_admit_session_stream(const rpc_in *in, rpc_out *out, bool get) {
    if (get && !rpc_accepts(in->accept, "text/event-stream")) {
        rpc_transport_error(out, 406, RPC_SERVER_ERROR,
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
        rpc_store_down(out);
    else if (st == SESSION_GONE)
        rpc_transport_error(out, 404, RPC_SESSION_NOT_FOUND,
                            "Session not found: it ended or never existed; initialize again");
    else
        out->status = 200;
}
