/* Unit tests: the MCP layer without an HTTP server: Host and Origin rules,
 * JSON spans, the transport decisions of rpc_admit, and the tools'
 * declarations (each a valid schema pair on a route that exists). The
 * integration suite (11-mcp.bats) drives the same code through lighttpd
 * with real clients. */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>

#include "check.h"
#include "config.h"
#include "jspan.h"
#include "registry.h"
#include "rpc.h"
#include "settings.h"
#include "tools.h"

static void inline_runner(void (*fn)(void *), void *arg, void *ctx) {
    (void)ctx;
    fn(arg);
}

/* POSTs body with the token on session sid (NULL: none); returns the status
 * and leaves the answer (or the reply) in out_text. */
static int post(const char *body, const char *sid, const char *version, strbuf *out_text) {
    rpc_in in = {.method = "POST", .host = "localhost:4000", .authorization = "Bearer tok", .session_id = sid,
                 .protocol_version = version, .accept = "application/json, text/event-stream", .request_id = "t",
                 .body = body, .body_len = strlen(body)};
    rpc_out out;
    rpc_out_init(&out);
    rpc_admit(&in, &out);
    strbuf_reset(out_text);
    if (out.action == RPC_ANSWER) rpc_answer(&out, out_text, inline_runner, NULL);
    else strbuf_append(out_text, out.body->data, out.body->len);
    if (out.session_id[0]) {
        strbuf_puts(out_text, "\n");
        strbuf_puts(out_text, out.session_id);
    }
    int status = out.status;
    rpc_out_release(&out);
    return status;
}

static bool has(const strbuf *sb, const char *s) { return strstr(sb->data, s) != NULL; }

/* True when m has a route with this method and pattern. */
static bool route_exists(const mode *m, const char *method, const char *pattern) {
    for (size_t i = 0; i < m->nroutes; i++)
        if (m->routes[i].method && strcmp(m->routes[i].method, method) == 0 &&
            strcmp(m->routes[i].pattern, pattern) == 0)
            return true;
    return false;
}

int main(void) {
    g_config.token = "tok";
    g_config.token_len = 3;
    g_config.db_timeout_ms = 100;
    /* Nothing listens there: a tool that reaches the database finds it down. */
    g_config.database_url = "host=127.0.0.1 port=1 connect_timeout=1";
    g_config.body_max_bytes = 1 << 20;
    g_mcp.allowed_hosts = "mcp.example, other.example:8443";
    g_mcp.allowed_origins = "https://app.example";
    sessions_init(3600);

    /* Host and Origin */
    CHECK(rpc_host_allowed("localhost") && rpc_host_allowed("localhost:4000") && rpc_host_allowed("127.0.0.1:1") &&
              rpc_host_allowed("[::1]") && rpc_host_allowed("[::1]:4000") && rpc_host_allowed("LocalHost:9"),
          "loopback hosts with any port are allowed");
    CHECK(rpc_host_allowed("mcp.example") && rpc_host_allowed("mcp.example:443") &&
              rpc_host_allowed("other.example:8443"),
          "MCP_ALLOWED_HOSTS names are allowed");
    CHECK(!rpc_host_allowed(NULL) && !rpc_host_allowed("") && !rpc_host_allowed("evil.example") &&
              !rpc_host_allowed("localhost.evil.example") && !rpc_host_allowed("127.0.0.2") &&
              !rpc_host_allowed("[::1]x") && !rpc_host_allowed("[::1") && !rpc_host_allowed("other.example"),
          "other hosts are refused (a listed host:port does not allow the bare name)");
    CHECK(rpc_origin_allowed("https://app.example") && rpc_origin_allowed("HTTPS://APP.EXAMPLE") &&
              !rpc_origin_allowed("https://app.example.evil") && !rpc_origin_allowed("null") &&
              !rpc_origin_allowed(NULL),
          "only listed origins are allowed");

    /* jspan */
    const char *doc = " {\"a\" : [1, {\"x\": \"]}\"}], \"b\":12345678901234567890123, \"c\\u0064\":\"v\"} ";
    jspan root = jspan_root(doc, strlen(doc)), v;
    CHECK(root.off == 1 && doc[root.off + root.len - 1] == '}', "jspan_root spans the object without blanks");
    CHECK(jspan_member(doc, root, "b", &v) && v.len == 23 && strncmp(doc + v.off, "12345678901234567890123", 23) == 0,
          "a number's span is its text, every digit");
    CHECK(jspan_member(doc, root, "a", &v) && doc[v.off] == '[' && doc[v.off + v.len - 1] == ']',
          "an array holding a string with brackets is spanned whole");
    CHECK(jspan_member(doc, root, "cd", &v) && strncmp(doc + v.off, "\"v\"", 3) == 0,
          "an escaped key is matched by its decoded name");
    CHECK(!jspan_member(doc, root, "z", &v), "an absent member is not found");

    /* the transport */
    strbuf *text = strbuf_new();
    rpc_in in = {.method = "POST", .host = "evil.example", .body = "{}", .body_len = 2};
    rpc_out out;
    rpc_out_init(&out);
    rpc_admit(&in, &out);
    CHECK(out.status == 403 && strstr(out.body->data, "forbidden_host"), "a foreign Host is 403 before the token");
    rpc_out_release(&out);
    rpc_out_init(&out);
    in.host = "localhost";
    rpc_admit(&in, &out);
    CHECK(out.status == 401 && out.www_authenticate, "then no token is 401 with WWW-Authenticate");
    rpc_out_release(&out);
    rpc_out_init(&out);
    in.authorization = "Bearer tok";
    in.method = "PUT";
    rpc_admit(&in, &out);
    CHECK(out.status == 405 && out.allow && strcmp(out.allow, "GET, POST, DELETE") == 0, "PUT is 405 with Allow");
    rpc_out_release(&out);

    int status = post("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
                      "\"2025-11-25\"}}",
                      NULL, NULL, text);
    char sid[SESSION_ID_LEN + 1] = "";
    const char *nl = strchr(text->data, '\n');
    if (nl) snprintf(sid, sizeof sid, "%s", nl + 1);
    CHECK(status == 200 && has(text, "\"protocolVersion\":\"2025-11-25\"") && strlen(sid) == SESSION_ID_LEN,
          "initialize negotiates 2025-11-25 and makes a session");
    CHECK(post("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}", NULL, NULL, text) == 400,
          "a message without a session is 400");
    CHECK(post("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}", "ffffffffffffffffffffffffffffffff", NULL, text) ==
              404,
          "an unknown session is 404");
    CHECK(post("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}", sid, NULL, text) == 200 &&
              has(text, "\"id\":2,\"result\":{}"),
          "ping answers {} on the session");
    CHECK(post("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}", sid, "2099-01-01", text) == 400,
          "an unsupported MCP-Protocol-Version is 400");
    CHECK(post("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}", sid, NULL, text) == 202 &&
              text->len == 0,
          "a notification is 202 with no body");
    CHECK(post("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]", sid, "2025-06-18", text) == 400 &&
              has(text, "-32600"),
          "a batch under 2025-06-18 is refused with -32600");
    CHECK(post("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}, {\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":"
               "\"nope\"}]",
               sid, NULL, text) == 200 &&
              has(text, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}},{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"error\":"
                        "{\"code\":-32601"),
          "a batch under 2025-03-26 is answered in order");
    CHECK(post("{\"jsonrpc\":\"2.0\",\"id\":12345678901234567890123,\"method\":\"ping\"}", sid, NULL, text) == 200 &&
              has(text, "\"id\":12345678901234567890123,"),
          "the request id is echoed as the client wrote it");
    CHECK(post("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"document_get\","
               "\"arguments\":{\"namespace\":\"bad ns\",\"key\":\"k\"}}}",
               sid, NULL, text) == 200 &&
              has(text, "\"isError\":true") && has(text, "validation_failed") && !has(text, "structuredContent"),
          "a tool's validation failure is an isError result with the route's error, no structuredContent");
    CHECK(post("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"document_get\","
               "\"arguments\":{\"namespace\":\"ns\"}}}",
               sid, NULL, text) == 200 &&
              has(text, "\\\"field\\\":\\\"key\\\""),
          "a missing path argument is a 422 naming it");
    CHECK(post("{\"jsonrpc\":\"2.0\",\"id\":4,", sid, NULL, text) == 400 && has(text, "-32700"),
          "malformed JSON is -32700");
    CHECK(post("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":\"document_get\","
               "\"arguments\":{\"namespace\":\"ns\",\"key\":\"k\"}}}",
               sid, NULL, text) == 200 &&
              has(text, "\"isError\":true") && has(text, "database_unavailable"),
          "with the database down a tool call is an isError result with database_unavailable");
    char *token = g_config.token;
    g_config.token = NULL;
    g_config.token_len = 0;
    CHECK(post("{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"ping\"}", sid, NULL, text) == 503 &&
              has(text, "auth_not_configured"),
          "with no token configured /mcp fails closed: 503 auth_not_configured");
    g_config.token = token;
    g_config.token_len = 3;

    /* every tool: valid schemas, on a route of its own mode */
    size_t ntools = 0;
    bool all_ok = true;
    for (const mode *const *mp = mode_registry; *mp; mp++)
        for (size_t i = 0; i < (*mp)->ntools; i++) {
            const tool *t = &(*mp)->tools[i];
            json_t *a = json_loads(t->input_schema, 0, NULL), *b = json_loads(t->output_schema, 0, NULL);
            bool ok = json_is_object(a) && json_is_object(b) && route_exists(*mp, t->method, t->pattern) &&
                      strcmp(json_string_value(json_object_get(a, "type")), "object") == 0;
            if (!ok) printf("# tool %s is not well declared\n", t->name);
            all_ok = all_ok && ok;
            json_decref(a);
            json_decref(b);
            ntools++;
        }
    CHECK(all_ok && ntools == 13, "13 tools, each with JSON schemas, each on an existing route of its mode");
    strbuf_reset(text);
    tools_list(text);
    json_t *list = json_loads(text->data, 0, NULL);
    CHECK(json_array_size(json_object_get(list, "tools")) == 13, "tools/list is valid JSON listing them");
    json_decref(list);

    strbuf_free(text);
    sessions_free();
    return CHECK_DONE();
}
