/*
 * openapi: the OpenAPI 3.1 document of every HTTP route (docs/openapi.md),
 * built from the declarations that drive everything else: the
 * registry's modes and their routes (routing), each route's declared
 * input (validation, the MCP tools' inputSchema) and output (the tools'
 * outputSchema), each route's declared errors with the one error table
 * (api_error.h) and the one status table (http_status.h). Nothing in it
 * is written by hand beside them, so it cannot drift from what is served.
 *
 * Linked where the registry is (backend-registry, backend-mcp, the unit
 * tests); backend-registry --openapi-c writes the same text into
 * build/gen/openapi_doc.c for the mode executables (registry.h).
 */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_status.h"
#include "registry.h"

/* The request id a client may send and every response carries. */
#define REQUEST_ID_PATTERN "^[A-Za-z0-9._-]{1,64}$"

/* True when r's method takes a body. */
static bool takes_body(const route *r) {
    return strcmp(r->method, "POST") == 0 || strcmp(r->method, "PATCH") == 0 || strcmp(r->method, "PUT") == 0;
}

/* True when r declares the header called name. */
static bool declares_header(const route *r, const char *name) {
    for (size_t i = 0; i < r->ninput; i++)
        if (r->input[i].in == INPUT_HEADER && strcmp(r->input[i].name, name) == 0) return true;
    return false;
}

/* The errors r can answer: those its declaration implies (mode.h, route
 * errors) and those it declares. */
static unsigned long long route_errors(const mode *m, const route *r) {
    unsigned long long e = r->errors | API_BIT(NOT_FOUND) | API_BIT(VALIDATION_FAILED) | API_BIT(INTERNAL);
    if (!r->is_public) e |= API_BIT(UNAUTHORIZED) | API_BIT(RATE_LIMITED) | API_BIT(AUTH_NOT_CONFIGURED);
    if (takes_body(r) && !r->streams_body)
        e |= API_BIT(INVALID_JSON) | API_BIT(BAD_REQUEST) | API_BIT(PAYLOAD_TOO_LARGE);
    if (r->body_type != NULL) e |= API_BIT(UNSUPPORTED_MEDIA_TYPE);
    if (takes_body(r) && (declares_header(r, "If-Match") || declares_header(r, "If-None-Match")))
        e |= API_BIT(PRECONDITION_FAILED);
    if (m->statements != NULL) e |= API_BIT(DATABASE_UNAVAILABLE);
    return e;
}

static json_t *ref(const char *to) { return json_pack("{s:s}", "$ref", to); }

/* The headers of a response with status: X-Request-Id always, the ETag of
 * a route that returns one version, and what reply_error adds
 * (common/reply.c). */
static json_t *response_headers(int status, bool etag) {
    json_t *h = json_pack("{s:o}", "X-Request-Id", ref("#/components/headers/X-Request-Id"));
    if (etag) json_object_set_new(h, "ETag", ref("#/components/headers/ETag"));
    if (status == 401)
        json_object_set_new(h, "WWW-Authenticate",
                            json_pack("{s:s, s:{s:s, s:s}}", "description", "Always Bearer", "schema", "type",
                                      "string", "const", "Bearer"));
    if (status == 405)
        json_object_set_new(h, "Allow",
                            json_pack("{s:s, s:{s:s}}", "description", "The methods the path takes", "schema",
                                      "type", "string"));
    if (status == 429 || status == 503)
        json_object_set_new(h, "Retry-After",
                            json_pack("{s:s, s:{s:s, s:i}}", "description", "Seconds to wait before retrying",
                                      "schema", "type", "integer", "minimum", 1));
    return h;
}

/* Adds r's error responses to responses: one per status, its schema the
 * error shape with the codes that status carries for r. */
static void add_errors(json_t *responses, unsigned long long errors) {
    json_t *codes = json_object(); /* status -> the codes it carries */
    for (int c = 0; c < API_E_COUNT; c++) {
        if (!(errors & (1ull << c))) continue;
        char status[8];
        snprintf(status, sizeof status, "%d", api_error_kinds[c].status);
        if (json_object_get(codes, status) == NULL) json_object_set_new(codes, status, json_array());
        json_array_append_new(json_object_get(codes, status), json_string(api_error_kinds[c].code));
    }
    const char *status;
    json_t *list;
    json_object_foreach(codes, status, list) {
        int code = atoi(status);
        json_object_set_new(
            responses, status,
            json_pack("{s:s, s:o, s:{s:{s:{s:[o, {s:{s:{s:O}}}]}}}}", "description", http_reason(code),
                      "headers", response_headers(code, false), "content", "application/json", "schema",
                      "allOf", ref("#/components/schemas/Error"), "properties", "error", "enum", list));
    }
    json_decref(codes);
}

/* A parameter's schema from its field's: the field's takes an integer as
 * its text too (an MCP argument may come as either), but a parameter is
 * always text that OpenAPI tools parse by its type: plain "integer". */
static json_t *param_schema(json_t *s) {
    json_t *type = json_object_get(s, "type");
    if (json_is_array(type)) {
        json_object_set_new(s, "type", json_string("integer"));
        json_object_del(s, "pattern");
    }
    return s;
}

static const char *const place_names[] = {
    [INPUT_PATH] = "path", [INPUT_QUERY] = "query", [INPUT_HEADER] = "header"};

/* One declared path, query or header field as a parameter. */
static json_t *parameter(const input_field *f) {
    json_t *schema = param_schema(input_field_schema(f));
    json_t *param = json_pack("{s:s, s:s, s:b}", "name", f->name, "in", place_names[f->in], "required",
                              f->in == INPUT_PATH);
    if (f->description) json_object_set_new(param, "description", json_string(f->description));
    /* An object parameter is its members, each a ?name=value. */
    if (f->type == INPUT_OBJECT) {
        json_object_set_new(param, "style", json_string("form"));
        json_object_set_new(param, "explode", json_true());
    }
    json_object_set_new(param, "schema", schema);
    return param;
}

/* The parameters of r: X-Request-Id, then its declared path captures,
 * query parameters and headers (Content-Type is the request body's). */
static json_t *parameters(const route *r) {
    json_t *ps = json_array();
    json_array_append_new(ps, ref("#/components/parameters/X-Request-Id"));
    for (int place = INPUT_PATH; place <= INPUT_HEADER; place++)
        for (size_t i = 0; i < r->ninput; i++) {
            const input_field *f = &r->input[i];
            if ((int)f->in != place || (place == INPUT_HEADER && strcmp(f->name, "Content-Type") == 0))
                continue;
            json_array_append_new(ps, parameter(f));
        }
    return ps;
}

/* The request body of r, or NULL for a method without one: raw bytes (a
 * streamed upload), one JSON value (the whole body), or an object of the
 * declared members; of the route's one body type when it has one. */
static json_t *request_body(const route *r) {
    if (!takes_body(r)) return NULL;
    if (r->streams_body)
        return json_pack("{s:s, s:b, s:{s:{s:{s:s, s:s}}}}", "description", "The file's raw bytes, any type",
                         "required", 1, "content", "application/octet-stream", "schema", "type", "string",
                         "contentMediaType", "application/octet-stream");
    const input_field *whole = input_whole_field(r->input, r->ninput);
    json_t *schema = NULL;
    if (whole != NULL)
        schema = input_field_schema(whole);
    else if (input_has_body_members(r->input, r->ninput))
        schema = input_body_schema(r->input, r->ninput);
    if (schema == NULL) return NULL; /* a POST that takes no body (a retry) */
    json_t *body = json_pack("{s:b, s:{s:{s:o}}}", "required", !r->body_optional, "content",
                             r->body_type ? r->body_type : "application/json", "schema", schema);
    if (whole != NULL && whole->description)
        json_object_set_new(body, "description", json_string(whole->description));
    return body;
}

/* The 2xx response: the route's declared output (a reference into the
 * document's schemas when it is a named shape). */
static json_t *success(const route *r, json_t *schemas) {
    if (r->content_type != NULL) { /* its media type, without parameters */
        char type[64];
        snprintf(type, sizeof type, "%.*s", (int)strcspn(r->content_type, ";"), r->content_type);
        return json_pack("{s:s, s:o, s:{s:{s:{s:s}}}}", "description", "OK", "headers",
                         response_headers(200, false), "content", type, "schema", "type", "string");
    }
    json_t *ok = json_pack("{s:s, s:o, s:{s:{s:o}}}", "description", r->created ? "Created" : "OK", "headers",
                           response_headers(200, r->also & ROUTE_ETAG), "content", "application/json",
                           "schema", output_schema(r->output, schemas));
    /* The same route streams with Accept: text/event-stream (docs/document.md). */
    if (r->streams_response)
        json_object_set_new(json_object_get(ok, "content"), "text/event-stream",
                            json_pack("{s:{s:s, s:s}}", "schema", "type", "string", "description",
                                      "id: <cursor>, event: change, data: <the item as JSON>, per version"));
    return ok;
}

/* "get_document_namespace_key" for GET /document/{namespace}/{key}: an
 * operationId for a route without a tool. */
static json_t *operation_id(const route *r) {
    char id[160];
    size_t n = 0;
    for (const char *s = r->method; *s && n + 1 < sizeof id; s++) id[n++] = (char)(*s | 0x20);
    for (const char *s = r->pattern; *s && n + 1 < sizeof id; s++)
        if ((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9'))
            id[n++] = *s;
        else if (*s == '/' && n > 0 && id[n - 1] != '_')
            id[n++] = '_';
    id[n] = '\0';
    return json_string(id);
}

static json_t *path_item(json_t *paths, const char *pattern) {
    json_t *item = json_object_get(paths, pattern);
    if (item == NULL) {
        item = json_object();
        json_object_set_new(paths, pattern, item);
    }
    return item;
}

/* r's responses: its success (and 200 beside a 201 that may find what it
 * would create, 304 for a conditional GET), then every error. */
static json_t *responses(const mode *m, const route *r, json_t *schemas) {
    json_t *rs = json_object();
    json_object_set_new(rs, r->created ? "201" : "200", success(r, schemas));
    if (r->created && (r->also & ROUTE_OR_OK)) {
        json_t *ok = success(r, schemas);
        json_object_set_new(ok, "description", json_string("OK: it existed already"));
        json_object_set_new(rs, "200", ok);
    }
    if (r->also & ROUTE_NOT_MODIFIED)
        json_object_set_new(
            rs, "304",
            json_pack("{s:s, s:o}", "description", "Not Modified", "headers", response_headers(304, true)));
    add_errors(rs, route_errors(m, r));
    return rs;
}

static void add_route(json_t *paths, json_t *schemas, const mode *m, const route *r) {
    json_t *op = json_pack(
        "{s:[s], s:s, s:s, s:o, s:o}", "tags", m->name, "summary", r->summary, "description", r->description,
        "operationId", r->tool ? json_string(r->tool->name) : operation_id(r), "parameters", parameters(r));
    if (r->is_public) json_object_set_new(op, "security", json_array());
    json_t *body = request_body(r);
    if (body) json_object_set_new(op, "requestBody", body);
    json_object_set_new(op, "responses", responses(m, r, schemas));
    char method[16];
    size_t i = 0;
    for (; r->method[i] && i + 1 < sizeof method; i++) method[i] = (char)(r->method[i] | 0x20);
    method[i] = '\0';
    json_object_set_new(path_item(paths, r->pattern), method, op);
}

/* What lighttpd answers beside the modes (generate.c routes them): the
 * reference page, the web console and the MCP endpoint. */
static void add_extra(json_t *paths) {
    json_t *docs_responses = json_pack("{s:{s:s, s:{s:{s:{s:s}}}}}", "200", "description", "OK", "content",
                                       "text/html", "schema", "type", "string");
    json_object_set_new(
        path_item(paths, DOCS_PATH), "get",
        json_pack("{s:[s], s:s, s:s, s:s, s:[], s:o}", "tags", "self-description", "summary",
                  "Interactive API reference", "operationId", "docs", "description",
                  "Swagger UI over /openapi.json, served from local files: paste the token under "
                  "Authorize and try each route.",
                  "security", "responses", docs_responses));
    json_object_set_new(
        path_item(paths, CONSOLE_PATH), "get",
        json_pack("{s:[s], s:s, s:s, s:s, s:[], s:O}", "tags", "self-description", "summary", "Web console",
                  "operationId", "console", "description",
                  "A page for people over the API (docs/console.md), served from local files: paste the "
                  "token once and look at health, documents, queues and tables.",
                  "security", "responses", docs_responses));
    json_t *mcp =
        json_pack("{s:[s], s:s, s:s, s:s, s:{s:b, s:{s:{s:{s:s}}}}}", "tags", "mcp", "summary",
                  "MCP endpoint (Streamable HTTP)", "operationId", "mcp_post", "description",
                  "JSON-RPC 2.0 messages of the Model Context Protocol: every mode's tools (docs/mcp.md).",
                  "requestBody", "required", 1, "content", "application/json", "schema", "type", "object");
    json_object_set_new(mcp, "parameters", json_pack("[o]", ref("#/components/parameters/X-Request-Id")));
    json_t *mcp_responses =
        json_pack("{s:{s:s, s:o, s:{s:{s:{s:s}}, s:{s:{s:s}}}}, s:{s:s, s:o}}", "200", "description", "OK",
                  "headers", response_headers(200, false), "content", "application/json", "schema", "type",
                  "object", "text/event-stream", "schema", "type", "string", "202", "description", "Accepted",
                  "headers", response_headers(202, false));
    /* What the HTTP layer refuses has the contract's shape; what the
     * protocol refuses (a malformed message, a missing or unknown session)
     * is a JSON-RPC error, as MCP clients expect (docs/mcp.md). */
    add_errors(mcp_responses, API_BIT(UNAUTHORIZED) | API_BIT(FORBIDDEN_HOST) | API_BIT(FORBIDDEN_ORIGIN) |
                                  API_BIT(PAYLOAD_TOO_LARGE) | API_BIT(RATE_LIMITED) | API_BIT(INTERNAL) |
                                  API_BIT(AUTH_NOT_CONFIGURED));
    for (int i = 0; i < 2; i++)
        json_object_set_new(
            mcp_responses, i ? "404" : "400",
            json_pack(
                "{s:s, s:o, s:{s:{s:{s:s, s:[ss], s:{s:{s:s}, s:{s:s, s:[ss], s:o}}}}}}", "description",
                i ? "Not Found: an unknown or ended session (a JSON-RPC error)"
                  : "Bad Request: a malformed message or a missing session (a JSON-RPC error)",
                "headers", response_headers(i ? 404 : 400, false), "content", "application/json", "schema",
                "type", "object", "required", "jsonrpc", "error", "properties", "jsonrpc", "const", "2.0",
                "error", "type", "object", "required", "code", "message", "properties",
                json_pack("{s:{s:s}, s:{s:s}}", "code", "type", "integer", "message", "type", "string")));
    json_object_set_new(mcp, "responses", mcp_responses);
    json_object_set_new(path_item(paths, MCP_PATH), "post", mcp);
}

static json_t *components(void) {
    json_t *error =
        json_pack("{s:s, s:s, s:[ss], s:{s:{s:s, s:s}, s:{s:s, s:s}, s:{s:s, s:s}, s:{s:s, s:s}}}", "type",
                  "object", "description", "The one error shape of every route (docs/errors.md)", "required",
                  "error", "detail", "properties", "error", "type", "string", "description",
                  "a stable machine code", "detail", "type", "string", "description", "a human sentence",
                  "field", "type", "string", "description", "the offending input", "resume", "type", "string",
                  "description", "410 gone of a changes feed: the cursor to follow from");
    json_t *headers =
        json_pack("{s:{s:s, s:{s:s, s:s}}, s:{s:s, s:{s:s, s:s}}}", "X-Request-Id", "description",
                  "This request's id: the one sent, when valid, else a generated one", "schema", "type",
                  "string", "pattern", REQUEST_ID_PATTERN, "ETag", "description",
                  "The version's strong entity tag, \"<version>\": If-Match and If-None-Match take it",
                  "schema", "type", "string", "pattern", "^\"[0-9]+\"$");
    return json_pack("{s:{s:o}, s:{s:{s:s, s:s, s:s}}, s:o, s:{s:{s:s, s:s, s:s, s:b, s:{s:s, s:s}}}}",
                     "schemas", "Error", error, "securitySchemes", "bearer", "type", "http", "scheme",
                     "bearer", "description", "The service's token, or a scoped token (docs/security.md)",
                     "headers", headers, "parameters", "X-Request-Id", "name", "X-Request-Id", "in", "header",
                     "description",
                     "Optional: echoed back and logged when 1 to 64 characters of [A-Za-z0-9._-]", "required",
                     0, "schema", "type", "string", "pattern", REQUEST_ID_PATTERN);
}

/* Adds m's routes to paths (their schemas to schemas) and its tag to
 * tags, when it has an operation. */
static void add_mode(json_t *paths, json_t *schemas, json_t *tags, const mode *m) {
    bool any = false;
    for (size_t i = 0; i < m->nroutes; i++) {
        /* A path no method takes (the file tier's ids) is not an
         * operation: it answers 405 only. */
        if (m->routes[i].method == NULL) continue;
        add_route(paths, schemas, m, &m->routes[i]);
        any = true;
    }
    if (any)
        json_array_append_new(tags, json_pack("{s:s, s:s}", "name", m->name, "description",
                                              m->sentinel_note ? m->sentinel_note : m->name));
}

static json_t *build(void) {
    json_t *paths = json_object(), *tags = json_array(), *comps = components();
    json_t *schemas = json_object_get(comps, "schemas");
    for (const mode *const *mp = mode_registry; *mp; mp++) add_mode(paths, schemas, tags, *mp);
    add_extra(paths);
    json_array_append_new(tags, json_pack("{s:s, s:s}", "name", "self-description", "description",
                                          "This document and the reference page over it"));
    json_array_append_new(
        tags, json_pack("{s:s, s:s}", "name", "mcp", "description", "The Model Context Protocol endpoint"));
    return json_pack(
        "{s:s, s:{s:s, s:s, s:s, s:{s:s, s:s}}, s:[{s:s}], s:[{s:[]}], s:o, s:o, s:o}", "openapi", "3.1.0",
        "info", "title", "backend", "version", BACKEND_VERSION, "description",
        "PostgreSQL data access over HTTP: documents, a work queue, typed tables, temporary files, and MCP. "
        "Generated from the service's own declarations, the same that route its requests and list its MCP "
        "tools. Every route but /health, /openapi.json, /docs and /console takes a bearer token in the "
        "Authorization header.",
        "license", "name", "Proprietary", "identifier", "LicenseRef-backend", "servers", "url", "/",
        "security", "bearer", "tags", tags, "paths", paths, "components", comps);
}

/* text with each '<' escaped ("\\<"), or NULL when it has none: a new
 * string, the caller frees it. */
static char *markdown_escaped(const char *text) {
    if (strchr(text, '<') == NULL) return NULL;
    size_t n = 0;
    for (const char *c = text; *c; c++) n += *c == '<' ? 2 : 1;
    char *out = malloc(n + 1), *o = out;
    if (out == NULL) return NULL;
    for (const char *c = text; *c; c++) {
        if (*c == '<') *o++ = '\\';
        *o++ = *c;
    }
    *o = '\0';
    return out;
}

/* Escapes, in every description and summary of node, what CommonMark
 * (which OpenAPI descriptions are, and /docs renders) would take for
 * HTML and swallow: "<version>" in a description would show as nothing.
 * in_properties: node is a schema's properties, whose keys are member
 * names, not keywords. */
static void escape_descriptions(json_t *node, bool in_properties) {
    const char *key;
    json_t *v;
    size_t i;
    if (json_is_array(node)) {
        json_array_foreach(node, i, v) { escape_descriptions(v, false); }
    }
    if (!json_is_object(node)) return;
    json_object_foreach(node, key, v) {
        bool text = !in_properties && (strcmp(key, "description") == 0 || strcmp(key, "summary") == 0);
        char *escaped = text && json_is_string(v) ? markdown_escaped(json_string_value(v)) : NULL;
        if (escaped != NULL) json_object_set_new(node, key, json_string(escaped));
        free(escaped);
        if (!text) escape_descriptions(v, !in_properties && strcmp(key, "properties") == 0);
    }
}

static char *g_text;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void text_build(void) {
    json_t *doc = build();
    escape_descriptions(doc, false);
    g_text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(doc);
}

const char *openapi_document(void) {
    pthread_once(&g_once, text_build);
    return g_text;
}
