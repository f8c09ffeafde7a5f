/*
 * tools: the MCP tools, generated from the mode registry (each mode file
 * declares its tools next to its routes, mode.h), and the one way a tool
 * call runs: its arguments become the route's HTTP request, which
 * serve_dispatch answers with the route's own handler. One implementation,
 * two doors: validation, limits and error codes are the route's.
 */
#ifndef BACKEND_MCP_TOOLS_H
#define BACKEND_MCP_TOOLS_H

#include <stdbool.h>

#include "jspan.h"
#include "mode.h"
#include "reply.h"
#include "strbuf.h"

typedef struct tool_ref {
    const mode *mode;   /* borrowed from the registry */
    const route *route; /* the route the tool calls */
    const tool *tool;   /* route->tool */
} tool_ref;

/* What a call passes on from the /mcp request to the route it runs (all
 * borrowed; NULL: absent). */
typedef struct call_headers {
    const char *authorization;
    const char *request_id;
    const char *traceparent;
} call_headers;

/* Finds the tool called name in the registry (a route's tool). */
bool tools_find(const char *name, tool_ref *out);

/* The tool's arguments as declared (n of them): its own (the upload's), or
 * its route's input. Static: borrowed from the mode. */
const input_field *tools_input(const tool_ref *ref, size_t *n);

/* The tool's description: its own, or its route's. */
const char *tools_description(const tool_ref *ref);

/* t's inputSchema and outputSchema as compact JSON text, generated from its
 * route's declarations the first time they are asked for (static). */
void tools_schemas(const tool *t, const char **input, const char **output);

/* Appends what the registered modes offer, from their topics ("documents,
 * temporary files and a work queue"), for the server's instructions. */
void tools_topics(strbuf *out);

/* Appends the members of the tools/list result object ("tools":[...],
 * without the braces) to out, shaped for the protocol version: 2025-03-26
 * knows no top-level title (it goes in annotations.title) and no
 * outputSchema. */
void tools_list(strbuf *out, const char *version);
/* The same, keeping the tools the token may call (auth_may_use: a scope
 * of the tool's area granting its access, read for a read-only tool);
 * authorization NULL: every tool. */
void tools_list_for(strbuf *out, const char *version, const char *authorization);

/* True when results of this protocol version carry structuredContent
 * (2025-06-18 on). */
bool tools_structured(const char *version);

/* Appends the members of the CallToolResult object for one call to out
 * (without the braces: the caller may add its own). msg is the whole
 * JSON-RPC message text, args the span of params.arguments in it (len 0
 * when absent) and args_value jansson's reading of the same (NULL when
 * absent; must be an object otherwise). authorization and request_id are
 * the /mcp request's, passed on to the route. Returns the route's HTTP
 * status; *error_detail (borrowed until out is reset, or NULL) says why a
 * call failed, for the log. */
int tools_call(const tool_ref *ref, const char *msg, jspan args, json_t *args_value,
               const char *authorization, const char *request_id, const char *traceparent, bool structured,
               strbuf *out, char *error_detail, size_t error_detail_size);

/* Appends the members of a CallToolResult refusing arguments that do not
 * fit the tool's inputSchema (from 2025-11-25 on: a validation_failed
 * isError result, so a model can correct itself); detail says why. */
void tools_invalid_arguments(const tool_ref *ref, const char *detail, strbuf *out);

/* Runs GET uri (a path and query, as a client would send it) on the mode
 * that serves it, with the route's own handler, exactly as an HTTP client's
 * GET (resources/read); fills out (status and JSON body; the caller
 * releases it). */
void tools_get(const char *uri, const call_headers *h, reply *out);

#endif
