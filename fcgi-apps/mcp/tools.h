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
#include "strbuf.h"

typedef struct tool_ref {
    const mode *mode; /* borrowed from the registry */
    const tool *tool;
} tool_ref;

/* Finds the tool called name in the registry. */
bool tools_find(const char *name, tool_ref *out);

/* Appends what the registered modes offer, from their topics ("documents,
 * temporary files and a work queue"), for the server's instructions. */
void tools_topics(strbuf *out);

/* Appends the tools/list result object ({"tools":[...]}) to out. */
void tools_list(strbuf *out);

/* Appends the CallToolResult object for one call to out. msg is the whole
 * JSON-RPC message text, args the span of params.arguments in it (len 0
 * when absent) and args_value jansson's reading of the same (NULL when
 * absent; must be an object otherwise). authorization and request_id are
 * the /mcp request's, passed on to the route. Returns the route's HTTP
 * status; *error_detail (borrowed until out is reset, or NULL) says why a
 * call failed, for the log. */
int tools_call(const tool_ref *ref, const char *msg, jspan args, json_t *args_value,
               const char *authorization, const char *request_id, strbuf *out, char *error_detail,
               size_t error_detail_size);

#endif
