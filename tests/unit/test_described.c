/* Unit tests: the token-only part of /openapi.json (fcgi-apps/health/
 * described.h) on the real document and the sql mode's describe: each
 * table's copies of the sql paths, their answers referencing the table's
 * row (also inside the page and rows shapes, written in place), the
 * capture gone from the parameters, unique operationIds, the generic
 * paths untouched; and the document's text escaped for CommonMark. */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "health/described.h"
#include "registry.h"

/* The schema of the JSON answer of status of op. */
static json_t *answer(json_t *doc, const char *path, const char *method, const char *status) {
    json_t *op = json_object_get(json_object_get(json_object_get(doc, "paths"), path), method);
    json_t *r = json_object_get(json_object_get(op, "responses"), status);
    return json_object_get(json_object_get(json_object_get(r, "content"), "application/json"), "schema");
}

/* Whether s is {"$ref": to}. */
static bool is_ref(json_t *s, const char *to) {
    const char *ref = json_string_value(json_object_get(s, "$ref"));
    return ref != NULL && strcmp(ref, to) == 0 && json_object_size(s) == 1;
}

/* Whether some description or summary under node holds a '<' not escaped. */
static bool unescaped(json_t *node) {
    const char *key;
    json_t *v;
    size_t i;
    bool found = false;
    if (json_is_array(node)) {
        json_array_foreach(node, i, v) { found = found || unescaped(v); }
    }
    if (!json_is_object(node)) return found;
    json_object_foreach(node, key, v) {
        const char *t = json_string_value(v);
        if (t && (strcmp(key, "description") == 0 || strcmp(key, "summary") == 0))
            for (const char *c = strchr(t, '<'); c && !found; c = strchr(c + 1, '<'))
                found = c == t || c[-1] != '\\';
        else
            found = found || unescaped(v);
    }
    return found;
}

static void copies(json_t *doc, const mode_describe *d) {
    json_t *described =
        json_pack("{s:{s:s}, s:{s:s}}", "builds", "title", "builds' row", "logs", "title", "logs' row");
    described_add(doc, "sql", d, described);
    json_decref(described);
    json_t *paths = json_object_get(doc, "paths");
    json_t *schemas = json_object_get(json_object_get(doc, "components"), "schemas");
    CHECK_STR(json_string_value(json_object_get(json_object_get(schemas, "sql_row_builds"), "title")),
              "builds' row", "the schema is components.schemas[prefix + value]");
    CHECK(json_object_get(paths, "/sql/tables/builds") &&
              json_object_get(paths, "/sql/tables/logs/rows/{id}"),
          "each value has its copy of each path with the capture");
    const char *row = "#/components/schemas/sql_row_builds";
    CHECK(is_ref(answer(doc, "/sql/tables/builds/rows/{id}", "get", "200"), row),
          "a copy's answer references the value's schema");
    /* (a list's page holds SqlRowSelected, not the row: ?select= may cut it) */
    json_t *page = answer(doc, "/sql/tables/builds/rows", "patch", "200");
    CHECK(
        is_ref(json_object_get(json_object_get(json_object_get(page, "properties"), "items"), "items"), row),
        "a shape holding the row is written in place, the row turned");
    CHECK(is_ref(answer(doc, "/sql/tables/{name}/rows/{id}", "get", "200"), "#/components/schemas/SqlRow"),
          "the generic path is untouched");
    CHECK(is_ref(answer(doc, "/sql/tables", "get", "200"), "#/components/schemas/SqlTablePage"),
          "a path without the capture is not copied, nor changed");
    json_t *op = json_object_get(json_object_get(paths, "/sql/tables/logs/rows"), "get");
    CHECK_STR(json_string_value(json_object_get(op, "operationId")), "sql_select_rows__logs",
              "a copy's operationId is the base's and __<value>");
    CHECK_STR(json_string_value(json_object_get(op, "summary")), "Select rows: logs",
              "its summary names the value");
    size_t i;
    json_t *p, *ids = json_object();
    bool capture = false, unique = true;
    json_array_foreach(json_object_get(op, "parameters"), i, p) {
        const char *name = json_string_value(json_object_get(p, "name"));
        capture = capture || (name != NULL && strcmp(name, d->capture) == 0);
    }
    CHECK(!capture, "the capture is no longer a parameter");
    const char *path, *method;
    json_t *item;
    json_object_foreach(paths, path, item) {
        json_object_foreach(item, method, op) {
            const char *id = json_string_value(json_object_get(op, "operationId"));
            unique = unique && json_object_get(ids, id) == NULL;
            json_object_set_new(ids, id, json_true());
        }
    }
    CHECK(unique, "every operationId is unique");
    json_decref(ids);
}

int main(void) {
    json_t *doc = json_loads(openapi_document(), 0, NULL);
    CHECK(doc != NULL, "the document is JSON");
    if (doc == NULL) return CHECK_DONE();
    CHECK(!unescaped(doc), "no description or summary holds a '<' that CommonMark would take for HTML");
    const mode *sql = mode_find("sql");
    CHECK(sql != NULL && sql->describe != NULL, "the sql mode describes its tables");
    if (sql == NULL || sql->describe == NULL) return CHECK_DONE();
    copies(doc, sql->describe);
    size_t before = json_object_size(json_object_get(doc, "paths"));
    json_t *none = json_object();
    described_add(doc, "sql", sql->describe, none);
    CHECK(json_object_size(json_object_get(doc, "paths")) == before, "nothing described adds nothing");
    json_decref(none);
    json_decref(doc);
    return CHECK_DONE();
}
