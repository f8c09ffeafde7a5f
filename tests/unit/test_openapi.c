/* Unit tests: the OpenAPI document (fcgi-apps/openapi.c) against the
 * declarations it is generated from: every route with a method is an
 * operation, every {capture} a declared path parameter, every error
 * response's codes rows of the one error table with that status, every
 * status one with a reason phrase. */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>

#include "check.h"
#include "http_status.h"
#include "registry.h"

/* The status of error code, or 0 when the table has no such code. */
static int status_of(const char *code) {
    for (int i = 0; i < API_E_COUNT; i++)
        if (strcmp(api_error_kinds[i].code, code) == 0) return api_error_kinds[i].status;
    return 0;
}

/* Whether op declares a path parameter called name. */
static bool has_path_param(json_t *op, const char *name) {
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(op, "parameters"), i, p) {
        if (json_is_string(json_object_get(p, "in")) &&
            strcmp(json_string_value(json_object_get(p, "in")), "path") == 0 &&
            strcmp(json_string_value(json_object_get(p, "name")), name) == 0)
            return true;
    }
    return false;
}

int main(void) {
    json_error_t jerr;
    json_t *doc = json_loads(openapi_document(), 0, &jerr);
    CHECK(doc != NULL, "the document is JSON");
    if (doc == NULL) return CHECK_DONE();
    CHECK_STR(json_string_value(json_object_get(doc, "openapi")), "3.1.0", "it is OpenAPI 3.1");
    json_t *paths = json_object_get(doc, "paths");

    bool every_route = true, params = true, public_ok = true, created_ok = true;
    for (const mode *const *mp = mode_registry; *mp; mp++)
        for (size_t i = 0; i < (*mp)->nroutes; i++) {
            const route *r = &(*mp)->routes[i];
            if (r->method == NULL) continue;
            char method[16];
            size_t n = 0;
            for (; r->method[n] && n + 1 < sizeof method; n++) method[n] = (char)(r->method[n] | 0x20);
            method[n] = '\0';
            json_t *op = json_object_get(json_object_get(paths, r->pattern), method);
            if (op == NULL) {
                every_route = false;
                printf("# %s %s is not in the document\n", r->method, r->pattern);
                continue;
            }
            for (const char *p = strchr(r->pattern, '{'); p; p = strchr(p + 1, '{')) {
                char name[64];
                snprintf(name, sizeof name, "%.*s", (int)(strchr(p, '}') - p - 1), p + 1);
                if (!has_path_param(op, name)) params = false;
            }
            json_t *security = json_object_get(op, "security");
            if (r->is_public != (json_is_array(security) && json_array_size(security) == 0))
                public_ok = false;
            if (json_object_get(json_object_get(op, "responses"), r->created ? "201" : "200") == NULL)
                created_ok = false;
        }
    CHECK(every_route, "every route with a method is an operation of the document");
    CHECK(params, "every {capture} of a route is a path parameter of its operation");
    CHECK(public_ok, "public routes, and only they, have no security requirement");
    CHECK(created_ok, "a create answers 201, every other route 200");

    /* Every response of every operation: a status with a reason phrase;
     * an error's codes are the table's, each with that status. */
    bool statuses = true, codes = true, auth = true;
    const char *path, *method, *status;
    json_t *item, *op, *resp;
    json_object_foreach(paths, path, item) {
        json_object_foreach(item, method, op) {
            bool is_public = json_array_size(json_object_get(op, "security")) == 0 &&
                             json_is_array(json_object_get(op, "security"));
            json_t *responses = json_object_get(op, "responses");
            if (!is_public && json_object_get(responses, "401") == NULL) auth = false;
            json_object_foreach(responses, status, resp) {
                int s = atoi(status);
                if (http_reason(s) == NULL) statuses = false;
                json_t *schema = json_object_get(
                    json_object_get(json_object_get(resp, "content"), "application/json"), "schema");
                json_t *enums = json_object_get(
                    json_object_get(
                        json_object_get(json_array_get(json_object_get(schema, "allOf"), 1), "properties"),
                        "error"),
                    "enum");
                size_t i;
                json_t *code;
                json_array_foreach(enums, i, code) {
                    if (status_of(json_string_value(code)) != s) {
                        codes = false;
                        printf("# %s %s: %s under %d\n", method, path, json_string_value(code), s);
                    }
                }
            }
        }
    }
    CHECK(statuses, "every status of the document has its reason phrase (http_status.h)");
    CHECK(codes, "every error code of the document is in the error table, under its status");
    CHECK(auth, "every authenticated operation lists 401");
    json_decref(doc);
    return CHECK_DONE();
}
