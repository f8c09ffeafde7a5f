/* Unit tests: the MCP layer without an HTTP server: Host and Origin rules,
 * JSON spans, the transport decisions of rpc_admit, and the tools'
 * declarations (each a valid schema pair on a route that exists). The
 * integration suite (11-mcp.bats) drives the same code through lighttpd
 * with real clients. */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <time.h>

#include "check.h"
#include "config.h"
#include "jspan.h"
#include "registry.h"
#include "resources.h"
#include "rpc.h"
#include "rpc_internal.h"
#include "session.h"
#include "store.h"
#include "settings.h"
#include "tools.h"
#include "trace.h"

static void inline_runner(void (*fn)(void *), void *arg, void *ctx) {
    (void)ctx;
    fn(arg);
}

/* POSTs body with the token on session sid (NULL: none); returns the status
 * and leaves the answer (or the reply) in out_text. */
static int post(const char *body, const char *sid, const char *version, strbuf *out_text) {
    rpc_in in = {.method = "POST",
                 .host = "localhost:4000",
                 .authorization = "Bearer tok",
                 .session_id = sid,
                 .protocol_version = version,
                 .accept = "application/json, text/event-stream",
                 .request_id = "t",
                 .body = body,
                 .body_len = strlen(body)};
    rpc_out out;
    rpc_out_init(&out);
    rpc_admit(&in, &out);
    strbuf_reset(out_text);
    if (out.action == RPC_ANSWER)
        rpc_answer(&out, out_text, inline_runner, NULL);
    else
        strbuf_append(out_text, out.body->data, out.body->len);
    if (out.session_id[0]) {
        strbuf_puts(out_text, "\n");
        strbuf_puts(out_text, out.session_id);
    }
    int status = out.status;
    rpc_out_release(&out);
    return status;
}

/* A stateless-era POST (2026-07-28): body with the given headers (NULL:
 * absent), sid as Mcp-Session-Id; like post. */
static int post_stateless(const char *body, const char *version, const char *method, const char *name,
                          const char *sid, strbuf *out_text) {
    rpc_in in = {.method = "POST",
                 .host = "localhost:4000",
                 .authorization = "Bearer tok",
                 .session_id = sid,
                 .protocol_version = version,
                 .mcp_method = method,
                 .mcp_name = name,
                 .accept = "application/json, text/event-stream",
                 .request_id = "t",
                 .body = body,
                 .body_len = strlen(body)};
    rpc_out out;
    rpc_out_init(&out);
    rpc_admit(&in, &out);
    strbuf_reset(out_text);
    if (out.action == RPC_ANSWER)
        rpc_answer(&out, out_text, inline_runner, NULL);
    else
        strbuf_append(out_text, out.body->data, out.body->len);
    if (out.session_id[0]) strbuf_puts(out_text, "\nSESSION");
    int status = out.status;
    rpc_out_release(&out);
    return status;
}

/* A stateless request body: method, params members before _meta (may be
 * ""), the _meta version, and whether _meta has clientCapabilities. */
static const char *stateless_body(char *buf, size_t size, const char *method, const char *params,
                                  const char *version, bool caps) {
    snprintf(buf, size,
             "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"%s\",\"params\":{%s\"_meta\":{"
             "\"io.modelcontextprotocol/protocolVersion\":\"%s\"%s}}}",
             method, params, version, caps ? ",\"io.modelcontextprotocol/clientCapabilities\":{}" : "");
    return buf;
}

/* A session store in memory that counts its calls: what the cache in front
 * of backend-mcp's PostgreSQL store spares. */
static struct {
    int inserts, lookups, removes;
    char id[SESSION_ID_LEN + 1];
    bool live, down;
} g_fake;

static bool fake_insert(void *ctx, const char *id, const char *version) {
    (void)ctx;
    (void)version;
    g_fake.inserts++;
    if (g_fake.down) return false;
    snprintf(g_fake.id, sizeof g_fake.id, "%s", id);
    g_fake.live = true;
    return true;
}

static session_status fake_lookup(void *ctx, const char *id, char version[SESSION_VERSION_MAX]) {
    (void)ctx;
    g_fake.lookups++;
    if (g_fake.down) return SESSION_STORE_DOWN;
    if (!g_fake.live || strcmp(id, g_fake.id) != 0) return SESSION_GONE;
    snprintf(version, SESSION_VERSION_MAX, "2025-11-25");
    return SESSION_LIVE;
}

static session_status fake_remove(void *ctx, const char *id) {
    (void)ctx;
    g_fake.removes++;
    bool was = g_fake.live && strcmp(id, g_fake.id) == 0;
    g_fake.live = false;
    return was ? SESSION_LIVE : SESSION_GONE;
}

static bool has(const strbuf *sb, const char *s) { return strstr(sb->data, s) != NULL; }

int main(void) {
    g_config.token = "tok";
    g_config.token_len = 3;
    g_config.db_timeout_ms = 100;
    /* Nothing listens there: a tool that reaches the database finds it down. */
    g_config.database_url = "host=127.0.0.1 port=1 connect_timeout=1";
    g_config.body_max_bytes = 1 << 20;
    g_mcp.allowed_hosts = "mcp.example, other.example:8443";
    g_mcp.allowed_origins = "https://app.example";
    sessions_init(3600, NULL);

    /* backend-mcp's schema steps are recorded under a name no mode has */
    bool clash = false;
    for (const mode *const *mp = mode_registry; *mp; mp++) clash |= strcmp((*mp)->name, STORE_COMPONENT) == 0;
    CHECK(!clash, "no mode is named " STORE_COMPONENT " (backend-mcp's schema_migrations name)");

    /* Host and Origin */
    CHECK(rpc_host_allowed("localhost") && rpc_host_allowed("localhost:4000") &&
              rpc_host_allowed("127.0.0.1:1") && rpc_host_allowed("[::1]") &&
              rpc_host_allowed("[::1]:4000") && rpc_host_allowed("LocalHost:9"),
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
          "listed origins are allowed");
    CHECK(rpc_origin_allowed("http://localhost:6274") && rpc_origin_allowed("http://localhost") &&
              rpc_origin_allowed("https://127.0.0.1:8443") && rpc_origin_allowed("http://[::1]:3000") &&
              rpc_origin_allowed("HTTP://LOCALHOST:1"),
          "loopback origins with any port are allowed");
    CHECK(!rpc_origin_allowed("http://localhost.evil.example") &&
              !rpc_origin_allowed("http://localhost:6274/x") && !rpc_origin_allowed("http://localhost:") &&
              !rpc_origin_allowed("ftp://localhost") && !rpc_origin_allowed("http://127.0.0.1.evil:80") &&
              !rpc_origin_allowed("http://localhost:123456") && !rpc_origin_allowed("https://evil.example"),
          "lookalikes of loopback origins are refused");

    /* jspan */
    const char *doc = " {\"a\" : [1, {\"x\": \"]}\"}], \"b\":12345678901234567890123, \"c\\u0064\":\"v\"} ";
    jspan root = jspan_root(doc, strlen(doc)), v;
    CHECK(root.off == 1 && doc[root.off + root.len - 1] == '}', "jspan_root spans the object without blanks");
    CHECK(jspan_member(doc, root, "b", &v) && v.len == 23 &&
              strncmp(doc + v.off, "12345678901234567890123", 23) == 0,
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
    CHECK(out.status == 403 && strstr(out.body->data, "forbidden_host"),
          "a foreign Host is 403 before the token");
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
    CHECK(out.status == 405 && out.allow && strcmp(out.allow, "GET, POST, DELETE") == 0,
          "PUT is 405 with Allow");
    rpc_out_release(&out);

    /* params._meta.traceparent: valid, joined; malformed, a new trace; absent,
     * the header's trace stands. */
    {
        static const char *const bodies[] = {
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{\"_meta\":{\"traceparent\":"
            "\"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\"}}}",
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{\"_meta\":{\"traceparent\":"
            "\"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7\"}}}",
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/"
            "list\",\"params\":{\"_meta\":{\"traceparent\":7}}}",
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{\"_meta\":{\"traceparent\":"
            "\"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\\u0000x\"}}}",
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{}}",
        };
        static const char *const names[] = {
            "a valid _meta.traceparent is joined: its trace, its span as parent",
            "a malformed one starts a new trace",
            "one that is not a string starts a new trace",
            "one with a NUL in it starts a new trace",
            "without one, the header's trace stands",
        };
        for (int i = 0; i < 5; i++) {
            trace_context t;
            trace_start(&t, "00-11111111111111111111111111111111-2222222222222222-01");
            rpc_in tin = {.method = "POST",
                          .host = "localhost",
                          .authorization = "Bearer tok",
                          .protocol_version = "2025-06-18",
                          .session_id = "x",
                          .trace = &t,
                          .body = bodies[i],
                          .body_len = strlen(bodies[i])};
            rpc_out_init(&out);
            rpc_admit(&tin, &out);
            rpc_out_release(&out);
            bool ok = i == 0 ? strcmp(t.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736") == 0 &&
                                   strcmp(t.parent_id, "00f067aa0ba902b7") == 0
                      : i == 4 ? strcmp(t.trace_id, "11111111111111111111111111111111") == 0
                               : strcmp(t.trace_id, "11111111111111111111111111111111") != 0 &&
                                     strcmp(t.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736") != 0 &&
                                     t.parent_id[0] == '\0';
            CHECK(ok, names[i]);
        }
    }

    int status = post(
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":"
        "\"2025-11-25\"}}",
        NULL, NULL, text);
    char sid[SESSION_ID_LEN + 1] = "";
    const char *nl = strchr(text->data, '\n');
    if (nl) snprintf(sid, sizeof sid, "%s", nl + 1);
    CHECK(status == 200 && has(text, "\"protocolVersion\":\"2025-11-25\"") && strlen(sid) == SESSION_ID_LEN,
          "initialize negotiates 2025-11-25 and makes a session");
    CHECK(post("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}", NULL, NULL, text) == 400,
          "a message without a session is 400");
    CHECK(post("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}", "ffffffffffffffffffffffffffffffff", NULL,
               text) == 404,
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
    post(
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-03-"
        "26\"}}",
        NULL, NULL, text);
    char old_sid[SESSION_ID_LEN + 1] = "";
    if ((nl = strchr(text->data, '\n')) != NULL) snprintf(old_sid, sizeof old_sid, "%s", nl + 1);
    CHECK(post("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]", sid, NULL, text) == 400,
          "a batch on a 2025-11-25 session is refused, whatever the header says");
    CHECK(post("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}, "
               "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":"
               "\"nope\"}]",
               old_sid, NULL, text) == 200 &&
              has(text,
                  "[{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}},{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"error\":"
                  "{\"code\":-32601"),
          "a batch under 2025-03-26 is answered in order");
    CHECK(post("{\"jsonrpc\":\"2.0\",\"id\":12345678901234567890123,\"method\":\"ping\"}", sid, NULL, text) ==
                  200 &&
              has(text, "\"id\":12345678901234567890123,"),
          "the request id is echoed as the client wrote it");
    CHECK(
        post("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"document_get\","
             "\"arguments\":{\"namespace\":\"bad ns\",\"key\":\"k\"}}}",
             sid, NULL, text) == 200 &&
            has(text, "\"isError\":true") && has(text, "validation_failed") &&
            !has(text, "structuredContent"),
        "a tool's validation failure is an isError result with the route's error, no structuredContent");
    CHECK(
        post("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"document_get\","
             "\"arguments\":{\"namespace\":\"ns\"}}}",
             sid, NULL, text) == 200 &&
            has(text, "\\\"field\\\":\\\"key\\\""),
        "a missing path argument is a 422 naming it");
    CHECK(post("{\"jsonrpc\":\"2.0\",\"id\":4,", sid, NULL, text) == 400 && has(text, "-32700"),
          "malformed JSON is -32700");
    CHECK(
        post("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":\"document_get\","
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

    /* the stateless era (2026-07-28) */
    char b[600];
    const char *sv = "2026-07-28";
    CHECK(post_stateless(stateless_body(b, sizeof b, "tools/list", "", sv, true), sv, "tools/list", NULL, sid,
                         text) == 200 &&
              has(text, "\"id\":9,\"result\":{\"tools\":[") && has(text, "\"resultType\":\"complete\"") &&
              has(text, "\"cacheScope\":\"private\"") && has(text, "\"ttlMs\":") &&
              has(text, "\"io.modelcontextprotocol/serverInfo\":{\"name\":\"backend\"") &&
              !has(text, "SESSION"),
          "stateless tools/list: resultType, ttlMs, cacheScope, serverInfo; a session header is ignored, "
          "none minted");
    CHECK(post_stateless(stateless_body(b, sizeof b, "server/discover", "", sv, true), sv, "server/discover",
                         NULL, NULL, text) == 200 &&
              has(text,
                  "\"supportedVersions\":[\"2026-07-28\",\"2025-11-25\",\"2025-06-18\",\"2025-03-26\"]") &&
              has(text, "\"capabilities\":" RPC_CAPABILITIES) && has(text, "\"resources\":{") &&
              has(text, "\"resultType\":\"complete\""),
          "server/discover lists every version served and the capabilities (tools, resources)");
    CHECK(post_stateless(stateless_body(b, sizeof b, "tools/list", "", sv, true), "2025-11-25", "tools/list",
                         NULL, NULL, text) == 400 &&
              has(text, "-32020") && has(text, "\"id\":9"),
          "an MCP-Protocol-Version unlike the _meta one is 400 -32020");
    CHECK(post_stateless(stateless_body(b, sizeof b, "tools/list", "", sv, true), NULL, "tools/list", NULL,
                         NULL, text) == 400 &&
              has(text, "-32020"),
          "a missing MCP-Protocol-Version is 400 -32020");
    CHECK(post_stateless(stateless_body(b, sizeof b, "tools/list", "", sv, true), sv, NULL, NULL, NULL,
                         text) == 400 &&
              has(text, "-32020"),
          "a missing Mcp-Method is 400 -32020");
    CHECK(post_stateless(stateless_body(b, sizeof b, "tools/list", "", sv, true), sv, "tools/call", NULL,
                         NULL, text) == 400 &&
              has(text, "-32020"),
          "an Mcp-Method unlike the body's is 400 -32020");
    CHECK(post_stateless(stateless_body(b, sizeof b, "tools/call", "\"name\":\"health\",", sv, true), sv,
                         "tools/call", NULL, NULL, text) == 400 &&
              has(text, "-32020"),
          "tools/call without Mcp-Name is 400 -32020");
    CHECK(post_stateless(stateless_body(b, sizeof b, "tools/call", "\"name\":\"health\",", sv, true), sv,
                         "tools/call", "document_get", NULL, text) == 400 &&
              has(text, "-32020"),
          "an Mcp-Name unlike params.name is 400 -32020");
    CHECK(post_stateless(stateless_body(b, sizeof b, "tools/call",
                                        "\"name\":\"document_get\",\"arguments\":{},", sv, true),
                         sv, "tools/call", "=?base64?ZG9jdW1lbnRfZ2V0?=", NULL, text) == 200 &&
              has(text, "\"isError\":true") && has(text, "validation_failed") && has(text, "\"resultType\""),
          "a base64 Mcp-Name is decoded before the comparison");
    CHECK(post_stateless(stateless_body(b, sizeof b, "tools/call", "\"name\":\"health\",", sv, true), sv,
                         "tools/call", "=?base64?!!!!?=", NULL, text) == 400 &&
              has(text, "-32020"),
          "a bad base64 Mcp-Name is 400 -32020");
    CHECK(post_stateless(stateless_body(b, sizeof b, "tools/list", "", "2099-01-01", true), "2099-01-01",
                         "tools/list", NULL, NULL, text) == 400 &&
              has(text, "-32022") && has(text, "\"requested\":\"2099-01-01\"") &&
              has(text, "\"supported\":[\"2026-07-28\""),
          "an unsupported version is 400 -32022 with supported and requested");
    CHECK(post_stateless(stateless_body(b, sizeof b, "tools/list", "", sv, false), sv, "tools/list", NULL,
                         NULL, text) == 400 &&
              has(text, "-32602"),
          "_meta without clientCapabilities is 400 -32602");
    CHECK(post_stateless("{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/list\"}", sv, "tools/list", NULL,
                         NULL, text) == 400 &&
              has(text, "-32602"),
          "a 2026-07-28 header with no _meta version is 400 -32602");
    CHECK(post_stateless(stateless_body(b, sizeof b, "ping", "", sv, true), sv, "ping", NULL, NULL, text) ==
                  404 &&
              has(text, "-32601"),
          "ping in the stateless era is 404 -32601");
    CHECK(post_stateless(
              stateless_body(b, sizeof b, "tools/call", "\"name\":\"health\",\"arguments\":[1],", sv, true),
              sv, "tools/call", "health", NULL, text) == 200 &&
              has(text, "\"isError\":true") && has(text, "validation_failed"),
          "stateless: arguments that are not an object are an isError validation_failed result");
    CHECK(post_stateless(stateless_body(b, sizeof b, "tools/call", "\"name\":\"nope\",", sv, true), sv,
                         "tools/call", "nope", NULL, text) == 200 &&
              has(text, "-32602"),
          "stateless: an unknown tool stays -32602");
    CHECK(post("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"health\","
               "\"arguments\":[1]}}",
               sid, NULL, text) == 200 &&
              has(text, "\"isError\":true") && has(text, "validation_failed"),
          "2025-11-25: arguments that are not an object are an isError validation_failed result");
    CHECK(post("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"health\","
               "\"arguments\":[1]}}",
               old_sid, NULL, text) == 200 &&
              has(text, "-32602"),
          "2025-03-26: the same is -32602");
    {
        rpc_in get = {.method = "GET",
                      .host = "localhost",
                      .authorization = "Bearer tok",
                      .protocol_version = sv,
                      .accept = "text/event-stream"};
        rpc_out o;
        rpc_out_init(&o);
        rpc_admit(&get, &o);
        CHECK(o.status == 405 && o.allow && strcmp(o.allow, "POST") == 0,
              "GET naming 2026-07-28 is 405 (Allow: POST)");
        rpc_out_release(&o);
        rpc_out_init(&o);
        get.method = "DELETE";
        get.session_id = sid;
        rpc_admit(&get, &o);
        CHECK(o.status == 405, "DELETE naming 2026-07-28 is 405");
        rpc_out_release(&o);
    }

    /* every tool: valid schemas from its route's declarations, a unique
     * name, a title (the route's summary) and a description */
    size_t ntools = 0;
    bool all_ok = true;
    for (const mode *const *mp = mode_registry; *mp; mp++)
        for (size_t i = 0; i < (*mp)->nroutes; i++) {
            const route *r = &(*mp)->routes[i];
            if (r->tool == NULL) continue;
            const char *in_text, *out_text;
            tools_schemas(r->tool, &in_text, &out_text);
            json_t *a = json_loads(in_text, 0, NULL), *b = json_loads(out_text, 0, NULL);
            tool_ref found;
            bool ok = json_is_object(a) && json_is_object(b) && r->summary && r->description &&
                      tools_find(r->tool->name, &found) && found.route == r;
            if (!ok) printf("# tool %s is not well declared\n", r->tool->name);
            all_ok = all_ok && ok;
            json_decref(a);
            json_decref(b);
            ntools++;
        }
    printf("# %zu tools\n", ntools);
    CHECK(all_ok && ntools >= 22,
          "every tool has JSON schemas, a title and a description, and a unique name");
    strbuf_reset(text);
    strbuf_puts(text, "{");
    tools_list(text, "2025-11-25");
    strbuf_puts(text, "}");
    json_t *list = json_loads(text->data, 0, NULL);
    json_t *tools = json_object_get(list, "tools");
    bool annotated = json_array_size(tools) == ntools;
    size_t ti;
    json_t *t;
    json_array_foreach(tools, ti, t) {
        json_t *a = json_object_get(t, "annotations");
        annotated = annotated && json_is_string(json_object_get(t, "title")) && json_is_object(a) &&
                    json_is_boolean(json_object_get(a, "readOnlyHint")) &&
                    json_is_boolean(json_object_get(a, "destructiveHint")) &&
                    json_is_boolean(json_object_get(a, "idempotentHint")) &&
                    json_is_false(json_object_get(a, "openWorldHint")) && json_object_get(t, "outputSchema");
    }
    CHECK(annotated, "tools/list (2025-11-25) is valid JSON listing them, each with a title and annotations");
    json_decref(list);
    strbuf_reset(text);
    strbuf_puts(text, "{");
    tools_list(text, "2025-03-26");
    strbuf_puts(text, "}");
    list = json_loads(text->data, 0, NULL);
    tools = json_object_get(list, "tools");
    bool old_shape = json_array_size(tools) == ntools;
    json_array_foreach(tools, ti, t) {
        old_shape = old_shape && !json_object_get(t, "title") && !json_object_get(t, "outputSchema") &&
                    json_is_string(json_object_get(json_object_get(t, "annotations"), "title"));
    }
    CHECK(old_shape, "under 2025-03-26 a tool has no title (annotations.title instead) and no outputSchema");
    json_decref(list);

    strbuf_free(text);
    sessions_free();

    /* sessions in front of a shared store */
    session_store fake = {fake_insert, fake_lookup, fake_remove, NULL};
    sessions_init(3600, &fake);
    char fid[SESSION_ID_LEN + 1], fv[SESSION_VERSION_MAX];
    CHECK(session_create(fid, "2025-11-25") == SESSION_LIVE && g_fake.inserts == 1,
          "a new session is stored");
    bool all_live = true;
    for (int i = 0; i < 1000; i++) all_live = all_live && session_touch(fid, fv) == SESSION_LIVE;
    CHECK(all_live && g_fake.lookups == 0,
          "1000 requests within a second of the last check cost no store lookup");
    /* CORS: an allowed origin's preflight needs no token; a refused origin
     * gets no CORS at all */
    {
        rpc_in in = {.method = "OPTIONS", .host = "localhost", .origin = "http://localhost:6274"};
        rpc_out out;
        rpc_out_init(&out);
        rpc_admit(&in, &out);
        CHECK(out.status == 204 && out.preflight && out.cors_origin == in.origin && out.body->len == 0,
              "a preflight from an allowed origin is 204 with no token");
        rpc_out_release(&out);
        in.origin = "https://evil.example";
        rpc_out_init(&out);
        rpc_admit(&in, &out);
        CHECK(out.status == 403 && !out.preflight && out.cors_origin == NULL,
              "a preflight from another origin is 403, with no CORS");
        rpc_out_release(&out);
        in = (rpc_in){.method = "POST", .host = "localhost", .origin = "https://app.example", .body = ""};
        rpc_out_init(&out);
        rpc_admit(&in, &out);
        CHECK(out.status == 401 && out.cors_origin == in.origin && !out.preflight,
              "an allowed origin's 401 carries CORS (the page can read why)");
        rpc_out_release(&out);
        in = (rpc_in){.method = "OPTIONS", .host = "localhost"};
        rpc_out_init(&out);
        rpc_admit(&in, &out);
        CHECK(out.status == 401 && !out.preflight,
              "an OPTIONS with no Origin is no preflight: the token first");
        rpc_out_release(&out);
    }

    /* resource URIs: each template's GET; anything else names nothing */
    {
        static const char *const maps[][2] = {
            {"backend://document/ns/k", "/document/ns/k"},
            {"backend://document/ns/k/versions/3", "/document/ns/k?version=3"},
            {"backend://document/ns", "/document/ns"},
            {"backend://queue/jobs", "/queue/jobs"},
            {"backend://sql/t1", "/sql/tables/t1"},
            {"backend://sql/t1/rows/9", "/sql/tables/t1/rows/9"},
            {"backend://document/a.b/k:x@y~z-1", "/document/a.b/k:x@y~z-1"},
        };
        bool ok = true;
        strbuf *path = strbuf_new();
        for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++) {
            strbuf_reset(path);
            ok = ok && resources_path(maps[i][0], path) && strcmp(path->data, maps[i][1]) == 0;
        }
        CHECK(ok, "each template's URI is its route's GET");
        static const char *const none[] = {"backend://document",
                                           "backend://document/",
                                           "backend://document//k",
                                           "backend://document/ns/_changes",
                                           "backend://document/ns/k?version=1",
                                           "backend://document/ns/k#x",
                                           "backend://document/ns/k%20",
                                           "backend://document/ns/k/versions",
                                           "backend://document/ns/k/other/1",
                                           "backend://queue/a/b",
                                           "backend://sql/t/rows",
                                           "backend://sql/t/cols/1",
                                           "backend://other/x",
                                           "http://document/ns",
                                           "backend://document/a/b/c/d/e/f",
                                           "backend://document/ns/k/",
                                           "backend:/document/ns",
                                           ""};
        for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
            strbuf_reset(path);
            ok = ok && !resources_path(none[i], path) && path->len == 0;
        }
        CHECK(ok,
              "a URI outside the templates (or with a query, an escape, an empty or '_' segment) names "
              "nothing");
        strbuf_free(path);
    }

    struct timespec pause = {1, 50 * 1000000L};
    nanosleep(&pause, NULL);
    CHECK(session_touch(fid, fv) == SESSION_LIVE && g_fake.lookups == 1 && strcmp(fv, "2025-11-25") == 0,
          "after a second the store is asked again, once");
    char other[SESSION_ID_LEN + 1] = "0123456789abcdef0123456789abcdef";
    CHECK(session_touch(other, fv) == SESSION_GONE && g_fake.lookups == 2,
          "a session unknown here is looked up in the store (another replica may have made it)");
    CHECK(session_stream_open(fid), "a stream opens on a live session");
    g_fake.live = false; /* ended on another replica */
    CHECK(sessions_recheck() == 1 && !session_stream_wait(fid, 10),
          "the periodic check ends here a session ended elsewhere: its streams close");
    session_stream_close(fid);
    CHECK(session_touch(fid, fv) == SESSION_GONE, "and it is gone here");
    g_fake.down = true;
    CHECK(session_touch(other, fv) == SESSION_STORE_DOWN &&
              session_create(fid, "2025-11-25") == SESSION_STORE_DOWN,
          "the store down is told apart from a session that is gone");
    sessions_free();
    return CHECK_DONE();
}
