/*
 * resources: the service's data as MCP resources (docs/mcp.md,
 * "Resources"): six URI templates over the HTTP GET routes, the concrete
 * resources a client starts from (every document namespace, queue
 * namespace and sql table), a read that is the matching GET run by the
 * route's own handler (tools_get), and the completion of the templates'
 * arguments. What needs the database (the list, a read, a completion) runs
 * on a tool worker, like a tool call.
 */
#ifndef BACKEND_MCP_RESOURCES_H
#define BACKEND_MCP_RESOURCES_H

#include <jansson.h>
#include <stdbool.h>

#include "api_error.h"
#include "reply.h"
#include "strbuf.h"
#include "tools.h"

/* How many resources one resources/list page holds, and how many values a
 * completion gives at most (the protocol's own cap). */
enum { RESOURCES_PAGE = 100, RESOURCES_COMPLETE_MAX = 100 };

/* Appends the members of resources/templates/list's result
 * ("resourceTemplates":[...]) to out; titles from 2025-06-18 on (version:
 * the message's protocol version). */
void resources_templates(strbuf *out, const char *version);

/* On a worker: appends the members of resources/list's result for the page
 * after cursor (NULL: the first) to out: "resources":[...] and, when more
 * follow, "nextCursor"; only what the token of authorization may read
 * (docs/security.md), so a page may hold fewer than RESOURCES_PAGE. False
 * with err set (a cursor this server did not give: 422 naming cursor; the
 * database: 503). */
bool resources_list(const char *authorization, const char *cursor, strbuf *out, api_error *err);

/* Writes the HTTP GET path (and query) that reads uri into path. False
 * when uri matches none of the templates (path then holds nothing). */
bool resources_path(const char *uri, strbuf *path);

/* On a worker: reads uri as the HTTP GET of its path would (h: the /mcp
 * request's headers); fills r (the caller initialised it and releases it):
 * 404 not_found for a URI that matches no template. */
void resources_read(const char *uri, const call_headers *h, reply *r);

/* On a worker: completes argument name (its value so far: value) of the
 * template template_uri, the other arguments' values in context (an object
 * of strings, or NULL): appends the members of completion/complete's result
 * ("completion":{"values":[...],"hasMore"}) to out: namespaces, keys (live
 * ones, of the namespace in context) or tables starting with value, by
 * name, at most RESOURCES_COMPLETE_MAX, of those the token of
 * authorization may read; nothing for a version or an id.
 * False with err set: a template that is not this server's, or an argument
 * it does not have (404); the database (503). */
bool resources_complete(const char *authorization, const char *template_uri, const char *name,
                        const char *value, json_t *context, strbuf *out, api_error *err);

#endif
