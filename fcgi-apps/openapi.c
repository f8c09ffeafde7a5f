/*
 * openapi: the OpenAPI 3.1 document of every HTTP route (contract section
 * 9), built from the declarations that drive everything else: the
 * registry's modes and their routes (routing), each route's declared
 * input (validation, the MCP tools' inputSchema), each tool's
 * outputSchema, each route's declared errors with the one error table
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

/* The tool whose route is (method, pattern), or NULL: its title,
 * description and outputSchema describe the route too. */
static const tool *tool_of(const mode *m, const route *r) {
    for (size_t i = 0; i < m->ntools; i++)
        if (strcmp(m->tools[i].method, r->method) == 0 && strcmp(m->tools[i].pattern, r->pattern) == 0)
            return &m->tools[i];
    return NULL;
}

/* The errors r can answer: those its declaration implies (mode.h, route
 * errors) and those it declares. */
static unsigned long long route_errors(const mode *m, const route *r) {
    unsigned long long e = r->errors | API_BIT(NOT_FOUND) | API_BIT(VALIDATION_FAILED) | API_BIT(INTERNAL);
    if (!r->is_public) e |= API_BIT(UNAUTHORIZED) | API_BIT(RATE_LIMITED) | API_BIT(AUTH_NOT_CONFIGURED);
    bool body =
        strcmp(r->method, "POST") == 0 || strcmp(r->method, "PATCH") == 0 || strcmp(r->method, "PUT") == 0;
    if (body && !r->streams_body)
        e |= API_BIT(INVALID_JSON) | API_BIT(BAD_REQUEST) | API_BIT(PAYLOAD_TOO_LARGE);
    if (m->statements != NULL) e |= API_BIT(DATABASE_UNAVAILABLE);
    return e;
}

static json_t *ref(const char *to) { return json_pack("{s:s}", "$ref", to); }

/* The headers of a response with status: X-Request-Id always, and what
 * reply_error adds (common/reply.c). */
static json_t *response_headers(int status) {
    json_t *h = json_pack("{s:o}", "X-Request-Id", ref("#/components/headers/X-Request-Id"));
    if (status == 401)
        json_object_set_new(h, "WWW-Authenticate",
                            json_pack("{s:s, s:{s:s, s:s}}", "description", "Always Bearer", "schema", "type",
                                      "string", "const", "Bearer"));
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
                      "headers", response_headers(code), "content", "application/json", "schema", "allOf",
                      ref("#/components/schemas/Error"), "properties", "error", "enum", list));
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

/* The parameters of r: X-Request-Id, its path captures (as declared, or
 * any segment when undeclared) and its query parameters. */
static json_t *parameters(const route *r) {
    json_t *ps = json_array();
    json_array_append_new(ps, ref("#/components/parameters/X-Request-Id"));
    for (const char *p = strchr(r->pattern, '{'); p; p = strchr(p + 1, '{')) {
        const char *end = strchr(p, '}');
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(end - p - 1), p + 1);
        json_t *schema = NULL;
        for (size_t i = 0; i < r->ninput; i++)
            if (r->input[i].in == INPUT_PATH && strcmp(r->input[i].name, name) == 0)
                schema = param_schema(input_field_schema(&r->input[i]));
        if (schema == NULL) schema = json_pack("{s:s, s:i}", "type", "string", "minLength", 1);
        json_t *desc = json_object_get(schema, "description");
        json_t *param = json_pack("{s:s, s:s, s:b}", "name", name, "in", "path", "required", 1);
        if (desc) json_object_set(param, "description", desc);
        json_object_set_new(param, "schema", schema);
        json_array_append_new(ps, param);
    }
    for (size_t i = 0; i < r->ninput; i++) {
        const input_field *f = &r->input[i];
        if (f->in != INPUT_QUERY) continue;
        json_t *schema = param_schema(input_field_schema(f));
        json_t *param = json_pack("{s:s, s:s, s:b}", "name", f->name, "in", "query", "required", 0);
        if (f->description) json_object_set_new(param, "description", json_string(f->description));
        /* An object parameter is its members, each a ?name=value. */
        if (f->type == INPUT_OBJECT) json_object_set_new(param, "style", json_string("form"));
        if (f->type == INPUT_OBJECT) json_object_set_new(param, "explode", json_true());
        json_object_set_new(param, "schema", schema);
        json_array_append_new(ps, param);
    }
    return ps;
}

/* The request body of r, or NULL for a method without one. */
static json_t *request_body(const route *r, const tool *t) {
    bool body =
        strcmp(r->method, "POST") == 0 || strcmp(r->method, "PATCH") == 0 || strcmp(r->method, "PUT") == 0;
    if (!body) return NULL;
    if (r->streams_body)
        return json_pack("{s:b, s:{s:{s:{s:s, s:s}}}}", "required", 1, "content", "application/octet-stream",
                         "schema", "type", "string", "contentMediaType", "application/octet-stream");
    json_t *schema = NULL;
    /* A route whose body is one declared value (the sql rows): the tool
     * that passes that argument as the body says which. */
    if (t != NULL && t->body == TOOL_JSON_ARG)
        for (size_t i = 0; i < r->ninput; i++)
            if (strcmp(r->input[i].name, t->body_arg) == 0) schema = input_field_schema(&r->input[i]);
    if (schema == NULL) {
        bool any = false;
        for (size_t i = 0; i < r->ninput; i++) any |= r->input[i].in == INPUT_BODY;
        schema =
            any ? input_place_schema(r->input, r->ninput, INPUT_BODY) : json_pack("{s:s}", "type", "object");
    }
    return json_pack("{s:b, s:{s:{s:o}}}", "required", 1, "content", "application/json", "schema", schema);
}

/* The 2xx response: the tool's outputSchema when the route has a tool. */
static json_t *success(const route *r, const tool *t) {
    if (r->content_type != NULL) { /* its media type, without parameters */
        char type[64];
        snprintf(type, sizeof type, "%.*s", (int)strcspn(r->content_type, ";"), r->content_type);
        return json_pack("{s:s, s:o, s:{s:{s:{s:s}}}}", "description", "OK", "headers", response_headers(200),
                         "content", type, "schema", "type", "string");
    }
    json_t *schema = NULL;
    if (t != NULL && t->output_schema != NULL) schema = json_loads(t->output_schema, 0, NULL);
    if (schema == NULL) schema = json_pack("{s:s}", "type", "object");
    json_t *ok = json_pack("{s:s, s:o, s:{s:{s:o}}}", "description", r->created ? "Created" : "OK", "headers",
                           response_headers(200), "content", "application/json", "schema", schema);
    /* The same route streams with Accept: text/event-stream (contract 3b). */
    if (r->streams_response)
        json_object_set_new(json_object_get(ok, "content"), "text/event-stream",
                            json_pack("{s:{s:s}}", "schema", "type", "string"));
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

static void add_route(json_t *paths, const mode *m, const route *r) {
    const tool *t = tool_of(m, r);
    char summary[160];
    snprintf(summary, sizeof summary, "%s %s", r->method, r->pattern);
    json_t *op =
        json_pack("{s:[s], s:s, s:o, s:o}", "tags", m->name, "summary", t && t->title ? t->title : summary,
                  "operationId", t ? json_string(t->name) : operation_id(r), "parameters", parameters(r));
    if (t != NULL) json_object_set_new(op, "description", json_string(t->description));
    if (r->is_public) json_object_set_new(op, "security", json_array());
    json_t *body = request_body(r, t);
    if (body) json_object_set_new(op, "requestBody", body);
    json_t *responses = json_object();
    json_object_set_new(responses, r->created ? "201" : "200", success(r, t));
    if (r->created && (r->also & ROUTE_OR_OK)) {
        json_t *ok = success(r, t);
        json_object_set_new(ok, "description", json_string("OK: it existed already"));
        json_object_set_new(responses, "200", ok);
    }
    if (r->also & ROUTE_NOT_MODIFIED)
        json_object_set_new(
            responses, "304",
            json_pack("{s:s, s:o}", "description", "Not Modified", "headers", response_headers(304)));
    add_errors(responses, route_errors(m, r));
    json_object_set_new(op, "responses", responses);
    char method[16];
    size_t i = 0;
    for (; r->method[i] && i + 1 < sizeof method; i++) method[i] = (char)(r->method[i] | 0x20);
    method[i] = '\0';
    json_object_set_new(path_item(paths, r->pattern), method, op);
}

/* What lighttpd answers beside the modes (generate.c routes them): the
 * reference page and the MCP endpoint. */
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
    json_t *mcp =
        json_pack("{s:[s], s:s, s:s, s:s, s:{s:b, s:{s:{s:{s:s}}}}}", "tags", "mcp", "summary",
                  "MCP endpoint (Streamable HTTP)", "operationId", "mcp_post", "description",
                  "JSON-RPC 2.0 messages of the Model Context Protocol: every mode's tools (docs/mcp.md).",
                  "requestBody", "required", 1, "content", "application/json", "schema", "type", "object");
    json_object_set_new(mcp, "parameters", json_pack("[o]", ref("#/components/parameters/X-Request-Id")));
    json_t *mcp_responses = json_pack(
        "{s:{s:s, s:o, s:{s:{s:{s:s}}, s:{s:{s:s}}}}, s:{s:s, s:o}}", "200", "description", "OK", "headers",
        response_headers(200), "content", "application/json", "schema", "type", "object", "text/event-stream",
        "schema", "type", "string", "202", "description", "Accepted", "headers", response_headers(202));
    /* What the HTTP layer refuses has the contract's shape; what the
     * protocol refuses (a malformed message, a missing or unknown session)
     * is a JSON-RPC error, as MCP clients expect (docs/mcp.md). */
    add_errors(mcp_responses, API_BIT(UNAUTHORIZED) | API_BIT(FORBIDDEN_HOST) | API_BIT(FORBIDDEN_ORIGIN) |
                                  API_BIT(PAYLOAD_TOO_LARGE) | API_BIT(RATE_LIMITED) | API_BIT(INTERNAL) |
                                  API_BIT(AUTH_NOT_CONFIGURED));
    for (int i = 0; i < 2; i++)
        json_object_set_new(
            mcp_responses, i ? "404" : "400",
            json_pack("{s:s, s:o, s:{s:{s:{s:s, s:[ss], s:{s:{s:s}, s:{s:s, s:[ss]}}}}}}", "description",
                      i ? "Not Found: an unknown or ended session (a JSON-RPC error)"
                        : "Bad Request: a malformed message or a missing session (a JSON-RPC error)",
                      "headers", response_headers(i ? 404 : 400), "content", "application/json", "schema",
                      "type", "object", "required", "jsonrpc", "error", "properties", "jsonrpc", "const",
                      "2.0", "error", "type", "object", "required", "code", "message"));
    json_object_set_new(mcp, "responses", mcp_responses);
    json_object_set_new(path_item(paths, MCP_PATH), "post", mcp);
}

static json_t *components(void) {
    json_t *error =
        json_pack("{s:s, s:s, s:[ss], s:{s:{s:s, s:s}, s:{s:s, s:s}, s:{s:s, s:s}}}", "type", "object",
                  "description", "The one error shape of every route (contract section 1)", "required",
                  "error", "detail", "properties", "error", "type", "string", "description",
                  "a stable machine code", "detail", "type", "string", "description", "a human sentence",
                  "field", "type", "string", "description", "the offending input");
    return json_pack(
        "{s:{s:o}, s:{s:{s:s, s:s}}, s:{s:{s:s, s:{s:s, s:s}}}, s:{s:{s:s, s:s, s:s, s:b, s:{s:s, s:s}}}}",
        "schemas", "Error", error, "securitySchemes", "bearer", "type", "http", "scheme", "bearer", "headers",
        "X-Request-Id", "description", "This request's id: the one sent, when valid, else a generated one",
        "schema", "type", "string", "pattern", REQUEST_ID_PATTERN, "parameters", "X-Request-Id", "name",
        "X-Request-Id", "in", "header", "description",
        "Optional: echoed back and logged when 1 to 64 characters of [A-Za-z0-9._-]", "required", 0, "schema",
        "type", "string", "pattern", REQUEST_ID_PATTERN);
}

static json_t *build(void) {
    json_t *paths = json_object(), *tags = json_array();
    for (const mode *const *mp = mode_registry; *mp; mp++) {
        const mode *m = *mp;
        bool any = false;
        for (size_t i = 0; i < m->nroutes; i++) {
            /* A path no method takes (the file tier's ids) is not an
             * operation: it answers 405 only. */
            if (m->routes[i].method == NULL) continue;
            add_route(paths, m, &m->routes[i]);
            any = true;
        }
        if (any)
            json_array_append_new(tags, json_pack("{s:s, s:s}", "name", m->name, "description",
                                                  m->sentinel_note ? m->sentinel_note : m->name));
    }
    add_extra(paths);
    json_array_append_new(tags, json_pack("{s:s, s:s}", "name", "self-description", "description",
                                          "This document and the reference page over it"));
    json_array_append_new(
        tags, json_pack("{s:s, s:s}", "name", "mcp", "description", "The Model Context Protocol endpoint"));
    return json_pack(
        "{s:s, s:{s:s, s:s, s:s, s:{s:s, s:s}}, s:[{s:s}], s:[{s:[]}], s:o, s:o, s:o}", "openapi", "3.1.0",
        "info", "title", "backend", "version", BACKEND_VERSION, "description",
        "PostgreSQL data access over HTTP: documents, a work queue, typed tables, temporary files, and MCP. "
        "Generated from the service's own declarations (contract section 9). Every route but /health, "
        "/openapi.json and /docs takes Authorization: Bearer <token>.",
        "license", "name", "Proprietary", "identifier", "LicenseRef-backend", "servers", "url", "/",
        "security", "bearer", "tags", tags, "paths", paths, "components", components());
}

static char *g_text;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void text_build(void) {
    json_t *doc = build();
    g_text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(doc);
}

const char *openapi_document(void) {
    pthread_once(&g_once, text_build);
    return g_text;
}
