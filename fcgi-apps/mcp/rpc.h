/*
 * rpc: MCP's streamable-HTTP transport rules and JSON-RPC messages
 * (docs/mcp.md), without the HTTP server: what one request to /mcp gets.
 * Kept apart from the server (http.c) so the unit tests and the fuzzer
 * drive it directly. Its three files (the shared part, each era's
 * admission) are listed in rpc_internal.h.
 *
 * Both eras of the protocol are served: the session era (2025-03-26 to
 * 2025-11-25: initialize, Mcp-Session-Id, the GET stream) and the
 * stateless era (2026-07-28: every request carries its version and the
 * client's capabilities in params._meta, and the MCP-Protocol-Version,
 * Mcp-Method and Mcp-Name headers). A POST whose params._meta names a
 * protocol version, or whose MCP-Protocol-Version header names the
 * stateless era, is in the stateless era; any other is in the session era.
 *
 * A request is answered in two steps. rpc_admit applies everything decided
 * before a method runs, in this order: Host, Origin, the abuse limits
 * (abuse.h, shared with the FastCGI processes), bearer token, HTTP
 * method, era, then the era's rules (stateless: the _meta and the headers
 * against the body, the method; session: Accept (GET),
 * MCP-Protocol-Version, session, batch rules); it answers initialize,
 * notifications and client responses itself. What is left is a request to
 * run (server/discover, ping, tools/list, tools/call, or a batch of them):
 * rpc_answer runs it, maybe for long (a tool call), so the server can
 * stream an event first.
 */
#ifndef BACKEND_MCP_RPC_H
#define BACKEND_MCP_RPC_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "session.h"
#include "strbuf.h"
#include "trace.h"

/* The session-era version an initialize gets when it asks for one this
 * server does not speak, and the stateless era's version. */
#define MCP_VERSION_PREFERRED "2025-11-25"
#define MCP_VERSION_STATELESS "2026-07-28"

/* What the server read of one HTTP request to /mcp; all borrowed. */
typedef struct rpc_in {
    const char *method; /* HTTP method */
    const char *host;   /* headers, NULL when absent */
    const char *origin;
    const char *authorization;
    const char *session_id;       /* Mcp-Session-Id */
    const char *protocol_version; /* MCP-Protocol-Version */
    const char *mcp_method;       /* Mcp-Method (stateless era) */
    const char *mcp_name;         /* Mcp-Name (stateless era) */
    const char *accept;
    const char *request_id;  /* X-Request-Id of the response */
    const char *client_addr; /* for the abuse limits (abuse.h); NULL: none */
    trace_context *trace;    /* the request's trace (from the traceparent
                                header); a POST whose params._meta carries
                                traceparent has it replaced from that: a
                                valid one is joined, any other value starts
                                a new trace (docs/operations.md, Tracing).
                                The tool calls' routes run as its child
                                spans. NULL: none */
    const char *body;        /* POST: the whole body, NUL-terminated */
    size_t body_len;
    bool body_too_large; /* over BODY_MAX_BYTES: body is empty */
} rpc_in;

typedef enum rpc_action {
    RPC_REPLY,       /* send status, headers and body as they are */
    RPC_ANSWER,      /* 200: run rpc_answer for the body (JSON, or one SSE event) */
    RPC_OPEN_STREAM, /* GET: open the session's event stream */
    RPC_LISTEN,      /* 2026-07-28 subscriptions/listen: an event stream of notifications */
} rpc_action;

/* What to send. Release with rpc_out_release. */
typedef struct rpc_out {
    rpc_action action;
    int status;
    strbuf *body;                        /* JSON, or empty (202) */
    char session_id[SESSION_ID_LEN + 1]; /* set: send Mcp-Session-Id (initialize) */
    const char *allow;                   /* set: send Allow */
    bool www_authenticate;               /* send WWW-Authenticate: Bearer */
    long retry_after;                    /* > 0: send Retry-After with it (seconds) */
    bool sse;                            /* RPC_ANSWER: the client accepts only text/event-stream */
    bool stateless;                      /* the request is in the stateless era */
    char log_detail[400];                /* why it failed, for the access log */
    struct rpc_message *message;         /* RPC_ANSWER: what rpc_answer runs (owned) */
    const char *cors_origin;             /* set: an allowed browser Origin (borrowed from
                                            rpc_in): the answer carries CORS headers */
    bool preflight;                      /* a CORS preflight: 204 with the Allow- headers */
} rpc_out;

/* Runs fn(arg) where tool calls may use the database (the workers), and
 * returns when it is done. */
typedef void (*rpc_runner)(void (*fn)(void *), void *arg, void *ctx);

void rpc_out_init(rpc_out *out);
void rpc_out_release(rpc_out *out);

/* Step one (see above). Fills out; never fails. */
void rpc_admit(const rpc_in *in, rpc_out *out);

/* Step two, for RPC_ANSWER: appends the JSON-RPC response (an object, or an
 * array for a batch) to body, running tool calls through runner. Writes a
 * failed tool call's reason to out->log_detail. */
void rpc_answer(rpc_out *out, strbuf *body, rpc_runner runner, void *runner_ctx);

/* For an SSE answer: appends a notifications/progress message (progress
 * and message, a plain-word constant) to body when the tools/call carries
 * params._meta.progressToken, and returns true; false (nothing appended)
 * otherwise. */
bool rpc_progress(const rpc_out *out, int progress, const char *message, strbuf *body);

/* For RPC_LISTEN: the URIs the listen asks to watch (*uris: a JSON array
 * borrowed from out, or NULL) and its id as written (*id, *id_len,
 * borrowed). */
void rpc_listen_params(const rpc_out *out, json_t **uris, const char **id, size_t *id_len);

/* True when host (a Host header) names an allowed host: localhost,
 * 127.0.0.1 or [::1] with any port, or one of MCP_ALLOWED_HOSTS. */
bool rpc_host_allowed(const char *host);

/* True when origin is a loopback origin (http or https, host localhost,
 * 127.0.0.1 or [::1], any port) or one of MCP_ALLOWED_ORIGINS. */
bool rpc_origin_allowed(const char *origin);

#endif
