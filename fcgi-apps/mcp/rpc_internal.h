/*
 * rpc_internal: what the three parts of the /mcp transport (rpc.h) share,
 * for them alone (the server, http.c, knows rpc.h only):
 *
 *   rpc.c            the shared admission and dispatch: Host, Origin, the
 *                    abuse limits, the token, the HTTP method, the body and
 *                    which era a POST is in; the classification of
 *                    messages, both error shapes, the answer to each request
 *                    (ping, tools/list, tools/call) and the tool calls;
 *   rpc_session.c    the session era's admission (2025-03-26 to
 *                    2025-11-25): initialize, MCP-Protocol-Version,
 *                    Mcp-Session-Id, batches, the GET stream and DELETE;
 *   rpc_stateless.c  the stateless era's admission (2026-07-28):
 *                    params._meta, the headers against the body (-32020),
 *                    the version served (-32022), and server/discover.
 *
 * docs/mcp.md states the rules of both eras in the order they are checked.
 */
#ifndef BACKEND_MCP_RPC_INTERNAL_H
#define BACKEND_MCP_RPC_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "api_error.h"
#include "jspan.h"
#include "rpc.h"
#include "session.h"
#include "strbuf.h"

/* JSON-RPC error codes (and the one MCP's SDKs use for transport errors). */
enum {
    RPC_PARSE_ERROR = -32700,
    RPC_INVALID_REQUEST = -32600,
    RPC_METHOD_NOT_FOUND = -32601,
    RPC_INVALID_PARAMS = -32602,
    RPC_SERVER_ERROR = -32000,
    RPC_SESSION_NOT_FOUND = -32001,   /* the session era: initialize again */
    RPC_HEADER_MISMATCH = -32020,     /* 2026-07-28: headers missing or not the body's */
    RPC_UNSUPPORTED_VERSION = -32022, /* 2026-07-28: a version this server does not serve */
};

/* The server's capabilities, in both eras (initialize, server/discover):
 * a session subscribes with resources/subscribe, a 2026-07-28 client with
 * subscriptions/listen (watch.h). */
#define RPC_CAPABILITIES "{\"tools\":{},\"resources\":{\"subscribe\":true},\"completions\":{}}"

/* How long a client may cache server/discover and tools/list (the tools
 * change only with a new release of the service). */
#define RPC_LIST_TTL_MS 300000

/* What rpc_answer runs: the parsed body (one message or a batch). Made by
 * rpc_hand_on, freed by rpc_out_release. */
typedef struct rpc_message {
    char *text; /* the body, owned */
    size_t len;
    json_t *root;        /* jansson's reading of it, owned */
    jspan span;          /* the root value in text */
    char *authorization; /* the request's header (owned copy): the tools'
                            routes check it as their own */
    char request_id[72];
    char traceparent[64];                /* the request's span, for the tools' routes */
    char version[SESSION_VERSION_MAX];   /* the protocol version it is in */
    char session_id[SESSION_ID_LEN + 1]; /* the session era's session ("": none) */
    bool stateless;                      /* 2026-07-28 */
} rpc_message;

/* What one message object is: a request (method and id), a notification
 * (method, no id), a client's response (result or error and an id) or
 * nothing valid. */
typedef enum rpc_kind { K_INVALID, K_REQUEST, K_NOTIFICATION, K_RESPONSE } rpc_kind;

/* One request being answered: all borrowed. */
typedef struct answering {
    const rpc_message *msg;
    jspan span;     /* the request object in msg->text */
    const char *id; /* its id as written, in msg->text */
    size_t id_len;
    strbuf *body; /* the answer is appended here */
    rpc_out *out; /* a failed call's reason goes to out->log_detail */
} answering;

/* ---- rpc.c ---- */

/* Returns what m (borrowed) is. */
rpc_kind rpc_classify(json_t *m);

/* True when m (borrowed) is a message whose method is name. */
bool rpc_is_method(json_t *m, const char *name);

/* True when the Accept header (NULL: none) lists type. */
bool rpc_accepts(const char *accept, const char *type);

/* Fills out with an error of the HTTP routes' shape ({"error","detail"},
 * docs/errors.md), for a request refused before the protocol starts. */
void rpc_http_error(rpc_out *out, const api_error *err);

/* Appends a JSON-RPC error response to sb; id is the raw id text ("null"
 * when unknown); data, when not NULL, is JSON text. */
void rpc_put_error_data(strbuf *sb, const char *id, size_t id_len, int code, const char *message,
                        const char *data);

/* rpc_put_error_data without data. */
void rpc_put_error(strbuf *sb, const char *id, size_t id_len, int code, const char *message);

/* Fills out with a transport-level refusal once the protocol has started:
 * the HTTP status with a JSON-RPC error (id as given, "null" when
 * unknown; data as in rpc_put_error_data), as MCP clients expect. */
void rpc_transport_error_id(rpc_out *out, int status, const char *id, size_t id_len, int code,
                            const char *message, const char *data);

/* rpc_transport_error_id with the id null and no data. */
void rpc_transport_error(rpc_out *out, int status, int code, const char *message);

/* Fills out with the answer when the session store cannot be reached: 503
 * database_unavailable with Retry-After, as on the HTTP routes. */
void rpc_store_down(rpc_out *out);

/* Appends the server's instructions (a JSON string's contents, without
 * the quotes) to b. */
void rpc_put_instructions(strbuf *b);

/* Appends a response's head to body, up to its result object's first
 * member. */
void rpc_open_result(strbuf *body, const char *id_text, size_t id_len);

/* Closes the result and the response opened by rpc_open_result; comma:
 * a member came before. */
void rpc_close_result(strbuf *body, const rpc_message *msg, bool comma);

/* Hands an admitted request on to rpc_answer: out gets RPC_ANSWER and the
 * message, which takes root (and copies the body and the headers it needs
 * from in). version: the protocol version the message is in. */
void rpc_hand_on(const rpc_in *in, rpc_out *out, json_t *root, const char *version, bool stateless);

/* ---- rpc_session.c ---- */

/* Admits a POST in the session era into out. Takes root. */
void rpc_admit_session_post(const rpc_in *in, rpc_out *out, json_t *root);

/* Admits a GET (get) or a DELETE in the session era into out: opens the
 * session's stream, or ends the session. */
void rpc_admit_session_stream(const rpc_in *in, rpc_out *out, bool get);

/* ---- rpc_stateless.c ---- */

/* True when v (NULL: none) names the stateless era: a version from
 * 2026-07-28 on. */
bool rpc_stateless_version(const char *v);

/* True when the POST whose body is root (borrowed) is in the stateless
 * era (docs/mcp.md, "Which era"). */
bool rpc_is_stateless(const rpc_in *in, json_t *root);

/* Admits a POST in the stateless era into out. Takes root. */
void rpc_admit_stateless(const rpc_in *in, rpc_out *out, json_t *root);

/* Fills out with the refusal of a GET or DELETE in the stateless era,
 * which has no stream and no session: 405 with Allow: POST. */
void rpc_refuse_stateless_stream(const rpc_in *in, rpc_out *out);

/* ---- rpc_resources.c ---- */

/* Answers a resource request (resources/list, resources/read,
 * resources/templates/list, completion/complete, and in the session era
 * resources/subscribe and resources/unsubscribe; method and params
 * borrowed) into a->body,
 * running what needs the database through runner: true when method is
 * one of them (else nothing is appended). */
bool rpc_answer_resources(const answering *a, const char *method, json_t *params, rpc_runner runner,
                          void *ctx);

/* Appends the answer to server/discover (id as written) to body. */
void rpc_answer_discover(const rpc_message *msg, const char *id_text, size_t id_len, strbuf *body);

#endif
