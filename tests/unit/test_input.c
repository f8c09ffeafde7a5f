/* Unit tests: declared inputs (input.h). For every route of every mode
 * that declares its input, each field's edges go through the route
 * (serve_dispatch, no database: a request that passes validation answers
 * 503) and must be refused or taken as declared; and the route's MCP tool
 * publishes the declaration as its inputSchema. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>

#include "check.h"
#include "config.h"
#include "fake_env.h"
#include "input.h"
#include "registry.h"
#include "serve.h"

/* Sends body to m's route r (its captures filled with "edge"); returns the
 * status and copies the error's field into field. */
static int send(const mode *m, const route *r, const char *body, char *field, size_t field_size) {
    char uri[256] = "";
    size_t u = 0;
    for (const char *p = r->pattern; *p && u < sizeof uri - 8;) {
        if (*p == '{') {
            u += (size_t)snprintf(uri + u, sizeof uri - u, "edge");
            while (*p && *p != '}') p++;
            if (*p) p++;
        } else {
            uri[u++] = *p++;
        }
    }
    uri[u] = '\0';
    const char *env[] = {"REQUEST_METHOD",     r->method,    "REQUEST_URI", uri,
                         "HTTP_AUTHORIZATION", "Bearer tok", NULL};
    pool *p = pool_new();
    request req;
    reply out;
    api_error err;
    reply_init(&out);
    if (request_parse(&req, p, fake_env_lookup, (void *)env, &err)) {
        req.body = body;
        req.body_len = strlen(body);
        serve_dispatch(m, &req, &out);
    } else {
        reply_error(&out, &err);
    }
    json_t *v = json_loads(out.body->data, 0, NULL);
    const char *f = v ? json_string_value(json_object_get(v, "field")) : NULL;
    snprintf(field, field_size, "%s", f ? f : "");
    json_decref(v);
    int status = out.status;
    reply_release(&out);
    pool_free(p);
    return status;
}

int main(void) {
    g_config.token = "tok";
    g_config.token_len = 3;
    g_config.db_timeout_ms = 100;
    g_config.database_url = "host=127.0.0.1 port=1 connect_timeout=1";
    g_config.body_max_bytes = 1 << 20;
    g_config.log_level = LOG_ERROR + 1; /* quiet */
    int routes = 0;
    for (const mode *const *mp = mode_registry; *mp; mp++)
        for (size_t i = 0; i < (*mp)->nroutes; i++) {
            const route *r = &(*mp)->routes[i];
            if (r->input == NULL) continue;
            routes++;
            char body[128], field[80], name[512];
            for (size_t j = 0; j < r->ninput; j++) {
                const input_field *f = &r->input[j];
                if (f->in_path || f->type != INPUT_INTEGER) continue;
                const struct {
                    long long v;
                    bool ok;
                } edges[] = {{f->min, true}, {f->max, true}, {f->min - 1, false}, {f->max + 1, false}};
                for (size_t e = 0; e < 4; e++) {
                    snprintf(body, sizeof body, "{\"%s\":%lld}", f->name, edges[e].v);
                    int st = send(*mp, r, body, field, sizeof field);
                    snprintf(name, sizeof name, "%s %s %s: %s", r->method, r->pattern, body,
                             edges[e].ok ? "taken" : "422 naming the field");
                    CHECK(edges[e].ok ? st != 422 : st == 422 && strcmp(field, f->name) == 0, name);
                }
                static const char *const wrong[] = {"1.5", "\"1\"", "true", "[]"};
                for (size_t w = 0; w < 4; w++) {
                    snprintf(body, sizeof body, "{\"%s\":%s}", f->name, wrong[w]);
                    int st = send(*mp, r, body, field, sizeof field);
                    snprintf(name, sizeof name, "%s %s %s: 422 naming the field", r->method, r->pattern,
                             body);
                    CHECK(st == 422 && strcmp(field, f->name) == 0, name);
                }
                snprintf(body, sizeof body, "{\"%s\":null}", f->name);
                snprintf(name, sizeof name, "%s %s %s: the default", r->method, r->pattern, body);
                CHECK(send(*mp, r, body, field, sizeof field) != 422, name);
            }
            snprintf(name, sizeof name, "%s %s: an undeclared field is 422 naming it", r->method, r->pattern);
            CHECK(send(*mp, r, "{\"undeclared\":1}", field, sizeof field) == 422 &&
                      strcmp(field, "undeclared") == 0,
                  name);
            /* The route's tool publishes the same declaration. */
            char schema[2048];
            bool same = input_schema_write(schema, sizeof schema, r->input, r->ninput), found = false;
            for (size_t t = 0; t < (*mp)->ntools; t++) {
                const tool *tl = &(*mp)->tools[t];
                if (strcmp(tl->method, r->method) != 0 || strcmp(tl->pattern, r->pattern) != 0) continue;
                found = true;
                same = same && strcmp(tl->input_schema, schema) == 0;
            }
            snprintf(name, sizeof name, "%s %s: its tool's inputSchema is the declaration", r->method,
                     r->pattern);
            CHECK(found && same, name);
        }
    CHECK(routes >= 1, "at least one route declares its input");
    return CHECK_DONE();
}
