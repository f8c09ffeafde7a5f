/*
 * health: the liveness probe, and the catch-all for unknown paths.
 *
 * GET|HEAD /health is the only unauthenticated route. It answers within the
 * mode's 1.5 s database budget even when PostgreSQL hangs: 200 with the
 * sentinels when a round trip works, 503 "degraded" otherwise. Its
 * url_prefix is "/", so lighttpd sends it every path no other mode owns and
 * the answer is the API's JSON 404 (docs/api.md), never a server page.
 */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "clock.h"
#include "config.h"
#include "db.h"
#include "health/described.h"
#include "metrics.h"
#include "mode.h"
#include "registry.h"
#include "schema.h"

/* ---- schema: health has no tables of its own, only its sentinel ---- */

/* ---- statements ---- */

static const db_stmt sentinels_all = {
    "health_sentinels",
    "SELECT coalesce(json_agg(json_build_object('mode', mode, 'shape', shape, 'note', note,"
    " 'created_at', " SQL_UTC("created_at") ") ORDER BY mode), '[]')::text,"
    " NOT pg_is_in_recovery() FROM sentinels",
    0};

/* ---- handlers ---- */

static int by_name(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Appends the registry's mode names, sorted, as a JSON array. This process
 * carries no other mode: the names come from the briefs (registry.h). */
static void append_modes(strbuf *sb) {
    const char *names[64] = {NULL};
    size_t n = 0;
    for (const mode_brief *b = mode_briefs(); b->name && n < 64; b++) names[n++] = b->name;
    qsort(names, n, sizeof names[0], by_name);
    strbuf_puts(sb, "[");
    for (size_t i = 0; i < n; i++) {
        if (i) strbuf_puts(sb, ",");
        strbuf_json_string(sb, names[i], strlen(names[i]));
    }
    strbuf_puts(sb, "]");
}

/* Appends ,"problems":[{"mode","detail"}...]: what each mode needs besides
 * the database and does not have: the folder a mode declares (its
 * SETTING_FOLDER setting, e.g. the file tier's), checked here as the mode
 * checks it. A problem does not make the probe fail: restarting the pod
 * would not fix a full disk, and the other modes still serve. */
static void append_problems(strbuf *sb) {
    strbuf_puts(sb, ",\"problems\":[");
    bool first = true;
    for (const mode_brief *b = mode_briefs(); b->name; b++) {
        api_error problem;
        if (b->folder_var == NULL) continue;
        const char *dir = getenv(b->folder_var);
        if (config_folder_ready(b->folder_var, dir ? dir : b->folder_default, &problem)) continue;
        strbuf_printf(sb, "%s{\"mode\":", first ? "" : ",");
        strbuf_json_string(sb, b->name, strlen(b->name));
        strbuf_puts(sb, ",\"detail\":");
        strbuf_json_string(sb, problem.detail, strlen(problem.detail));
        strbuf_puts(sb, "}");
        first = false;
    }
    strbuf_puts(sb, "]");
}

static bool health_get(request *req, const input_value *in, reply *out, api_error *err) {
    (void)in;
    (void)err;
    double t0 = clock_ms();
    api_error db_err;
    /* db_query creates health's schema and sentinel first if need be. */
    PGresult *res = db_query(req->pool, &sentinels_all, NULL, &db_err);
    double latency = clock_ms() - t0;
    strbuf *b = out->body;
    if (res != NULL && PQntuples(res) == 1) {
        out->status = 200;
        strbuf_printf(
            b, "{\"status\":\"ok\",\"database\":{\"ok\":true,\"latency_ms\":%.2f,\"primary\":%s},\"modes\":",
            latency, strcmp(PQgetvalue(res, 0, 1), "t") == 0 ? "true" : "false");
        append_modes(b);
        strbuf_puts(b, ",\"sentinels\":");
        strbuf_puts(b, PQgetvalue(res, 0, 0));
    } else {
        out->status = 503;
        strbuf_puts(b, "{\"status\":\"degraded\",\"database\":{\"ok\":false,\"detail\":");
        strbuf_json_string(b, db_err.detail, strlen(db_err.detail));
        strbuf_puts(b, "},\"modes\":");
        append_modes(b);
        strbuf_puts(b, ",\"sentinels\":[]");
        reply_header(out, "Retry-After", "1");
    }
    append_problems(b);
    strbuf_puts(b, ",\"version\":\"" BACKEND_VERSION "\"}");
    return true;
}

/* Appends backend_database_info{host="host:port"} 1: the server this
 * process reached for the scrape (after a failover, the new primary).
 * Absent when the round trip failed. /health never names it. */
static void append_database_info(strbuf *b, bool up) {
    char host[DB_HOST_LEN + 16];
    db_current_host(host, sizeof host);
    if (!up || host[0] == '\0') return;
    strbuf_puts(
        b,
        "# HELP backend_database_info The PostgreSQL server (host:port) this scrape reached; always 1.\n"
        "# TYPE backend_database_info gauge\nbackend_database_info{host=\"");
    /* A label value escapes \\, " and newlines (the text format's rule). */
    for (const char *c = host; *c; c++) {
        if (*c == '\\' || *c == '"')
            strbuf_printf(b, "\\%c", *c);
        else if (*c == '\n')
            strbuf_puts(b, "\\n");
        else
            strbuf_printf(b, "%c", *c);
    }
    strbuf_puts(b, "\"} 1\n");
}

/* The database round trip /metrics times. */
static const db_stmt round_trip = {"health_round_trip", "SELECT 1", 0};

/* GET /metrics: the replica's metrics (common/metrics.h: every process of
 * every mode, summed), with the database's state as this process sees it
 * now and the build. Prometheus text, not JSON (docs/operations.md). */
static bool metrics_get(request *req, const input_value *in, reply *out, api_error *err) {
    (void)in;
    (void)err;
    double t0 = clock_ms();
    api_error db_err;
    PGresult *res = db_query(req->pool, &round_trip, NULL, &db_err);
    double rtt = clock_ms() - t0;
    bool up = res != NULL && PQntuples(res) == 1;
    strbuf *b = out->body;
    out->content_type = METRICS_CONTENT_TYPE;
    strbuf_puts(b,
                "# HELP backend_database_up Whether a round trip to PostgreSQL worked during this scrape.\n"
                "# TYPE backend_database_up gauge\n");
    strbuf_printf(b, "backend_database_up %d\n", up ? 1 : 0);
    strbuf_puts(b,
                "# HELP backend_database_rtt_seconds Time of this scrape's round trip to PostgreSQL"
                " (connecting included when there was no connection; the budget when it failed).\n"
                "# TYPE backend_database_rtt_seconds gauge\n");
    strbuf_printf(b, "backend_database_rtt_seconds %.6f\n", rtt / 1000.0);
    append_database_info(b, up);
    strbuf_puts(b,
                "# HELP backend_build_info The running build; always 1.\n"
                "# TYPE backend_build_info gauge\n"
                "backend_build_info{version=\"" BACKEND_VERSION "\"} 1\n");
    metrics_render(b);
    return true;
}

/* The describe statements of every mode that has one (mode.h,
 * mode_describe), from the briefs: this process carries no other mode. */
enum { DESCRIBE_MAX = 16 };
static db_stmt g_describe[DESCRIBE_MAX];
static const mode_brief *g_describe_of[DESCRIBE_MAX];
static char g_describe_names[DESCRIBE_MAX][48];
static size_t g_ndescribe;
static pthread_once_t g_describe_once = PTHREAD_ONCE_INIT;

static void describe_build(void) {
    for (const mode_brief *b = mode_briefs(); b->name && g_ndescribe < DESCRIBE_MAX; b++) {
        if (b->describe == NULL) continue;
        snprintf(g_describe_names[g_ndescribe], sizeof g_describe_names[0], "describe_%s", b->name);
        g_describe[g_ndescribe] = (db_stmt){g_describe_names[g_ndescribe], b->describe->sql, 0};
        g_describe_of[g_ndescribe] = b;
        g_ndescribe++;
    }
}

/* Keeps, of a mode's described values (the sql tables' names, as keys),
 * those the token's scopes may read (docs/security.md): a scoped token
 * sees only its own tables' row schemas. */
static void described_readable(json_t *described, const auth_who *who, const char *area) {
    if (!json_is_object(described) || who->root) return;
    const char *key;
    json_t *value, *tmp;
    json_object_foreach_safe(described, tmp, key, value) {
        if (!scope_may_read(who->scopes, who->nscopes, area, key)) json_object_del(described, key);
    }
}

/* GET /openapi.json: the document generated from every mode's
 * declarations (fcgi-apps/openapi.c, compiled in as build/gen/
 * openapi_doc.c). Public, and then it names no stored data; with the
 * valid token each mode's describe statement adds what it stores (the sql
 * tables: each one's row schema and its operations, health/described.h).
 * A mode whose statement fails (its tables not created yet) adds nothing:
 * the document still answers. */
static bool openapi_get(request *req, const input_value *in, reply *out, api_error *err) {
    (void)in;
    api_error auth_err;
    auth_who who;
    if (req->authorization == NULL || !auth_identify(req->authorization, req->pool, &who, &auth_err)) {
        strbuf_puts(out->body, openapi_document());
        return true;
    }
    json_t *doc = json_loads(openapi_document(), 0, NULL);
    pthread_once(&g_describe_once, describe_build);
    for (size_t i = 0; i < g_ndescribe && doc != NULL; i++) {
        api_error db_err;
        PGresult *res = db_query(req->pool, &g_describe[i], NULL, &db_err);
        if (res == NULL || PQntuples(res) != 1) continue;
        json_t *described = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
        described_readable(described, &who, g_describe_of[i]->name);
        described_add(doc, g_describe_of[i]->name, g_describe_of[i]->describe, described);
        json_decref(described);
    }
    char *text = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    if (text == NULL) return API_INTERNAL(err, "the document could not be written");
    strbuf_puts(out->body, text);
    free(text);
    return true;
}

static const db_stmt *const health_statements[] = {&sentinels_all, &round_trip, NULL};

/* ---- routes ---- */

/* ---- outputs (output.h) ---- */

static const output_field database_fields[] = {
    {.name = "ok", .type = OUT_BOOLEAN, .example = "true", .description = "a round trip worked"},
    {.name = "latency_ms", .type = OUT_NUMBER, .flags = OUT_OPTIONAL, .example = "0.41"},
    {.name = "primary",
     .type = OUT_BOOLEAN,
     .flags = OUT_OPTIONAL,
     .example = "true",
     .description = "the server reached is the primary (not a standby); never names the host"},
    {.name = "detail",
     .type = OUT_STRING,
     .flags = OUT_OPTIONAL,
     .description = "why not, when ok is false"}};
static const output_shape database_out = OUTPUT_SHAPE("HealthDatabase", NULL, database_fields);
static const output_field sentinel_fields[] = {
    {.name = "mode", .type = OUT_STRING, .example = "\"document\""},
    {.name = "shape", .type = OUT_ANY, .example = "{}", .description = "an example record of the mode"},
    {.name = "note", .type = OUT_STRING, .example = "\"Append-only versioned JSON documents.\""},
    OUT_TIME("created_at", 0)};
static const output_shape sentinel_out = OUTPUT_SHAPE("Sentinel", "A mode's sentinel row", sentinel_fields);
static const output_field problem_fields[] = {{.name = "mode", .type = OUT_STRING},
                                              {.name = "detail", .type = OUT_STRING}};
static const output_shape problem_out =
    OUTPUT_SHAPE("HealthProblem", "What a mode needs and lacks", problem_fields);
static const char *const statuses[] = {"ok", "degraded", NULL};
static const output_field health_fields[] = {
    {.name = "status", .type = OUT_STRING, .choices = statuses, .example = "\"ok\""},
    {.name = "database", .type = OUT_OBJECT, .shape = &database_out},
    {.name = "modes", .type = OUT_ARRAY, .item = OUT_STRING, .example = "\"document\""},
    {.name = "sentinels", .type = OUT_ARRAY, .shape = &sentinel_out, .description = "empty when degraded"},
    {.name = "problems", .type = OUT_ARRAY, .shape = &problem_out},
    {.name = "version", .type = OUT_STRING, .example = "\"" BACKEND_VERSION "\""}};
static const output_shape health_out = OUTPUT_SHAPE("Health", "The liveness probe's answer", health_fields);

/* The OpenAPI document: its members beyond these are OpenAPI's own. */
static const output_field openapi_fields[] = {
    {.name = "openapi", .type = OUT_STRING, .example = "\"3.1.0\""},
    {.name = "info", .type = OUT_ANY, .example = "{\"title\":\"backend\"}"},
    {.name = "paths", .type = OUT_ANY, .example = "{}", .description = "every route, by path"}};
static const output_shape openapi_out = {.name = "OpenAPIDocument",
                                         .description = "An OpenAPI 3.1 document",
                                         .fields = openapi_fields,
                                         .nfields = COUNT_OF(openapi_fields),
                                         .open = true};

/* ---- routes ---- */

static const route health_routes[] = {
    {"GET", "/health", health_get, .summary = "Service health",
     .description = "Whether the service and its database are up (200, or 503 degraded within 2 s when the "
                    "database is not), with the modes compiled in and each mode's sentinel. Public: the "
                    "liveness probe.",
     .is_public = true, .output = &health_out, .tool = TOOL("health", TOOL_READ_ONLY | TOOL_IDEMPOTENT)},
    {"GET", "/metrics", metrics_get, .summary = "Prometheus metrics",
     .description = "The replica's metrics in Prometheus's text format, every process of every mode summed: "
                    "requests by mode, method and status, durations, the database, queue depths, MCP "
                    "sessions, build.",
     .content_type = METRICS_CONTENT_TYPE},
    {"GET", "/openapi.json", openapi_get, .summary = "This document",
     .description = "The OpenAPI 3.1 document of every route, generated from the routes' own declarations. "
                    "Public; with a valid token it also describes the row of each sql table.",
     .is_public = true, .output = &openapi_out},
};

const mode mode_health = {
    .name = "health",
    .url_prefix = "/",
    .processes = 2,
    .db_budget_ms = 1500,
    .migrations = NULL,
    .sentinel = &health_out,
    .sentinel_note = "Liveness probe: answers within 2 s whether PostgreSQL is reachable.",
    .routes = health_routes,
    .nroutes = sizeof health_routes / sizeof health_routes[0],
    .statements = health_statements,
    /* its one authenticated route is /metrics: a metrics:read scope */
    .scope_area = "metrics",
};
