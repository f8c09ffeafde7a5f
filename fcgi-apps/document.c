/*
 * document: an append-only jsonb store (contract.md section 3).
 *
 * Every write appends a version; nothing is overwritten. document_heads holds
 * each key's latest version number and whether it is deleted; documents
 * holds every version. A write bumps the head with INSERT ... ON CONFLICT DO
 * UPDATE, which locks the head row and re-reads its newest value, so
 * concurrent writers to one key queue up and each gets the next number: no
 * gaps, no failures. Head and version are written by one statement, so they
 * are never out of step.
 *
 * Responses are built by PostgreSQL (json_build_object): the payload goes
 * from the request body to jsonb and back to the client without passing
 * through a C double, so numbers keep every digit.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "json.h"
#include "mode.h"
#include "schema.h"
#include "validate.h"

/* ---- schema ---- */

static const char document_schema[] =
    "CREATE TABLE IF NOT EXISTS document_heads ("
    " namespace text COLLATE \"C\" NOT NULL,"
    " key text COLLATE \"C\" NOT NULL,"
    " version bigint NOT NULL,"
    " deleted boolean NOT NULL DEFAULT false,"
    " PRIMARY KEY (namespace, key));"
    "CREATE TABLE IF NOT EXISTS documents ("
    " namespace text COLLATE \"C\" NOT NULL,"
    " key text COLLATE \"C\" NOT NULL,"
    " version bigint NOT NULL,"
    " payload jsonb,"
    " deleted boolean NOT NULL DEFAULT false,"
    " created_at timestamptz NOT NULL DEFAULT now(),"
    " PRIMARY KEY (namespace, key, version))";

/* The schema's steps (mode.h): step 1 is release 0.1.0's whole schema. */
static const char *const document_migrations[] = {document_schema, NULL};

/* ---- statements ---- */

#define DOC_JSON(ns, key)                                \
    "json_build_object('namespace', " ns ", 'key', " key \
    ", 'version', d.version, 'payload', "                \
    "d.payload, 'created_at', " SQL_UTC("d.created_at") ")::text"

/* The version row a bumped head points at, and the response. $3 is the
 * whole request body; its "payload" member is stored. */
#define DOC_APPEND                                                      \
    " doc AS (INSERT INTO documents (namespace, key, version, payload)" \
    " SELECT $1, $2, head.version, ($3::jsonb) -> 'payload' FROM head"  \
    " RETURNING version, payload, created_at)"                          \
    " SELECT " DOC_JSON("$1::text", "$2::text") " FROM doc d"

/* $4 true: append unconditionally; false (if_version 0): only when the key
 * has no live version. */
static const db_stmt doc_put = {
    "document_put",
    "WITH head AS (INSERT INTO document_heads AS h (namespace, key, version) VALUES ($1, $2, 1)"
    " ON CONFLICT (namespace, key) DO UPDATE SET version = h.version + 1, deleted = false"
    " WHERE $4::boolean OR h.deleted RETURNING h.version)," DOC_APPEND,
    4};

/* if_version N > 0: only when the latest version (tombstones count) is N. */
static const db_stmt doc_put_if = {
    "document_put_if",
    "WITH head AS (UPDATE document_heads h SET version = h.version + 1, deleted = false"
    " WHERE h.namespace = $1 AND h.key = $2 AND h.version = $4::bigint RETURNING h.version)," DOC_APPEND,
    4};

static const db_stmt doc_get = {
    "document_get",
    "SELECT " DOC_JSON("d.namespace", "d.key")
    " FROM document_heads h JOIN documents d"
    " ON d.namespace = h.namespace AND d.key = h.key AND d.version = h.version"
    " WHERE h.namespace = $1 AND h.key = $2 AND NOT h.deleted",
    2};

static const db_stmt doc_get_version = {
    "document_get_version",
    "SELECT " DOC_JSON("d.namespace", "d.key") " FROM documents d"
    " WHERE d.namespace = $1 AND d.key = $2 AND d.version = $3::bigint AND NOT d.deleted",
    3};

/* Keys in (after, ...) within [prefix, prefix's successor): a plain range on
 * the primary key, so a page costs an index range scan at any depth. */
static const db_stmt doc_list = {
    "document_list",
    "SELECT json_build_object('key', d.key, 'version', d.version, 'payload', d.payload,"
    " 'created_at', " SQL_UTC("d.created_at") ")::text, h.key"
    " FROM document_heads h JOIN documents d"
    " ON d.namespace = h.namespace AND d.key = h.key AND d.version = h.version"
    " WHERE h.namespace = $1 AND NOT h.deleted AND h.key > $2 AND h.key >= $3 AND h.key < $4"
    " ORDER BY h.key LIMIT $5::int",
    5};

static const db_stmt doc_versions = {
    "document_versions",
    "SELECT json_build_object('key', d.key, 'version', d.version, 'payload', d.payload,"
    " 'deleted', d.deleted, 'created_at', " SQL_UTC("d.created_at") ")::text, d.version::text"
    " FROM documents d WHERE d.namespace = $1 AND d.key = $2 AND d.version > $3::bigint"
    " ORDER BY d.version LIMIT $4::int",
    4};

static const db_stmt doc_delete = {
    "document_delete",
    "WITH head AS (UPDATE document_heads h SET version = h.version + 1, deleted = true"
    " WHERE h.namespace = $1 AND h.key = $2 AND NOT h.deleted RETURNING h.version),"
    " doc AS (INSERT INTO documents (namespace, key, version, payload, deleted)"
    " SELECT $1, $2, head.version, NULL, true FROM head RETURNING version)"
    " SELECT json_build_object('namespace', $1::text, 'key', $2::text, 'version', version,"
    " 'deleted', true)::text FROM doc",
    2};

/* ---- helpers ---- */

static bool one_row_reply(reply *out, PGresult *res, int status) {
    out->status = status;
    strbuf_puts(out->body, PQgetvalue(res, 0, 0));
    return true;
}

/* ---- inputs: each route's, declared once (input.h) ---- */

/* The largest version number: a JSON number stays exact up to 2^53. */
#define VERSION_MAX (1LL << 53)

enum { PUT_NS, PUT_KEY, PUT_IF_VERSION, PUT_PAYLOAD, PUT_N };
static const input_field put_input[PUT_N] = {
    [PUT_NS] = INPUT_NAMESPACE("namespace", INPUT_BODY),
    [PUT_KEY] = INPUT_KEY("key", INPUT_BODY, true),
    [PUT_IF_VERSION] = {.name = "if_version",
                        .type = INPUT_INTEGER,
                        .max = VERSION_MAX,
                        .dflt = -1, /* none: absent is unconditional, not 0 */
                        .description = "0: the key must not exist yet; N: its latest version must be N"},
    [PUT_PAYLOAD] = {.name = "payload", .type = INPUT_ANY, .required = true, .description = "any JSON value"},
};

enum { LIST_NS, LIST_LIMIT, LIST_AFTER, LIST_PREFIX, LIST_N };
static const input_field list_input[LIST_N] = {
    [LIST_NS] = INPUT_NAMESPACE("namespace", INPUT_PATH),
    [LIST_LIMIT] = INPUT_LIMIT,
    [LIST_AFTER] = INPUT_KEY("after", INPUT_QUERY, false),
    [LIST_PREFIX] = INPUT_KEY_PREFIX("prefix", INPUT_QUERY),
};

enum { GET_NS, GET_KEY, GET_VERSION, GET_N };
static const input_field get_input[GET_N] = {
    [GET_NS] = INPUT_NAMESPACE("namespace", INPUT_PATH),
    [GET_KEY] = INPUT_KEY("key", INPUT_PATH, true),
    [GET_VERSION] =
        {.name = "version", .type = INPUT_INTEGER, .in = INPUT_QUERY, .min = 1, .max = VERSION_MAX},
};

enum { VERSIONS_NS, VERSIONS_KEY, VERSIONS_LIMIT, VERSIONS_AFTER, VERSIONS_N };
static const input_field versions_input[VERSIONS_N] = {
    [VERSIONS_NS] = INPUT_NAMESPACE("namespace", INPUT_PATH),
    [VERSIONS_KEY] = INPUT_KEY("key", INPUT_PATH, true),
    [VERSIONS_LIMIT] = INPUT_LIMIT,
    [VERSIONS_AFTER] = {.name = "after", .type = INPUT_INTEGER, .in = INPUT_QUERY, .max = VERSION_MAX},
};

/* DELETE /document/{namespace}/{key}: the path only, no query parameter. */
enum { DELETE_NS, DELETE_KEY, DELETE_N };
static const input_field delete_input[DELETE_N] = {
    [DELETE_NS] = INPUT_NAMESPACE("namespace", INPUT_PATH),
    [DELETE_KEY] = INPUT_KEY("key", INPUT_PATH, true),
};

/* The declarations as the tools' JSON Schemas, written before main runs. */
static char put_schema[2048], list_schema[2048], get_schema[2048], delete_schema[2048];
__attribute__((constructor)) static void document_declare_inputs(void) {
    if (!input_schema_write(put_schema, sizeof put_schema, put_input, PUT_N) ||
        !input_schema_write(list_schema, sizeof list_schema, list_input, LIST_N) ||
        !input_schema_write(get_schema, sizeof get_schema, get_input, GET_N) ||
        !input_schema_write(delete_schema, sizeof delete_schema, delete_input, DELETE_N))
        abort();
}

/* ---- handlers ---- */

static bool document_put(request *req, reply *out, api_error *err) {
    input_value in[PUT_N];
    json_t *body = request_json_object(req, false, err);
    if (body == NULL || !input_body(body, put_input, PUT_N, in, err)) return false;
    const char *ns = in[PUT_NS].s, *key = in[PUT_KEY].s;
    long long if_version = in[PUT_IF_VERSION].i;
    bool conditional = in[PUT_IF_VERSION].present;
    char version_text[24];
    snprintf(version_text, sizeof version_text, "%lld", if_version);
    const char *params[] = {ns, key, req->body, conditional ? "f" : "t"};
    if (conditional && if_version > 0) params[3] = version_text;
    PGresult *res = db_query(req->pool, conditional && if_version > 0 ? &doc_put_if : &doc_put, params, err);
    if (res == NULL) return false;
    if (PQntuples(res) == 0)
        return API_CONFLICT(err, "if_version", "document %s/%s is not at version %lld", ns, key, if_version);
    return one_row_reply(out, res, 201);
}

static bool document_list(request *req, reply *out, api_error *err) {
    input_value in[LIST_N];
    if (!input_path(req, list_input, LIST_N, in, err) || !input_query(req, list_input, LIST_N, in, err))
        return false;
    const char *ns = in[LIST_NS].s, *after = in[LIST_AFTER].s, *prefix = in[LIST_PREFIX].s;
    long long limit = in[LIST_LIMIT].i;
    /* Upper bound of the range: the prefix with its last byte raised by one
     * (keys are ASCII, compared bytewise); without a prefix, DEL (0x7f),
     * above every character a key may hold. */
    char upper[KEY_MAX + 2] = "\x7f";
    if (prefix != NULL && prefix[0] != '\0') {
        size_t n = strlen(prefix);
        memcpy(upper, prefix, n + 1);
        upper[n - 1]++;
    }
    char fetch[24];
    snprintf(fetch, sizeof fetch, "%lld", limit + 1);
    const char *params[] = {ns, after ? after : "", prefix ? prefix : "", upper, fetch};
    PGresult *res = db_query(req->pool, &doc_list, params, err);
    if (res == NULL) return false;
    reply_page(out, res, limit);
    return true;
}

static bool document_get(request *req, reply *out, api_error *err) {
    input_value in[GET_N];
    if (!input_path(req, get_input, GET_N, in, err) || !input_query(req, get_input, GET_N, in, err))
        return false;
    const char *ns = in[GET_NS].s, *key = in[GET_KEY].s, *version = in[GET_VERSION].s;
    const char *params[] = {ns, key, version};
    PGresult *res = db_query(req->pool, version ? &doc_get_version : &doc_get, params, err);
    if (res == NULL) return false;
    if (PQntuples(res) == 0) {
        if (version)
            return API_NOT_FOUND(err, "version", "document %s/%s has no live version %s", ns, key, version);
        return API_NOT_FOUND(err, "key", "document %s/%s does not exist", ns, key);
    }
    return one_row_reply(out, res, 200);
}

static bool document_versions(request *req, reply *out, api_error *err) {
    input_value in[VERSIONS_N];
    if (!input_path(req, versions_input, VERSIONS_N, in, err) ||
        !input_query(req, versions_input, VERSIONS_N, in, err))
        return false;
    const char *ns = in[VERSIONS_NS].s, *key = in[VERSIONS_KEY].s;
    long long limit = in[VERSIONS_LIMIT].i, after_v = in[VERSIONS_AFTER].i;
    char after_text[24], fetch[24];
    snprintf(after_text, sizeof after_text, "%lld", after_v);
    snprintf(fetch, sizeof fetch, "%lld", limit + 1);
    const char *params[] = {ns, key, after_text, fetch};
    PGresult *res = db_query(req->pool, &doc_versions, params, err);
    if (res == NULL) return false;
    if (PQntuples(res) == 0 && after_v == 0)
        return API_NOT_FOUND(err, "key", "document %s/%s has no versions", ns, key);
    reply_page(out, res, limit);
    return true;
}

static bool document_delete(request *req, reply *out, api_error *err) {
    input_value in[DELETE_N];
    if (!input_path(req, delete_input, DELETE_N, in, err) ||
        !input_query(req, delete_input, DELETE_N, in, err))
        return false;
    const char *ns = in[DELETE_NS].s, *key = in[DELETE_KEY].s;
    const char *params[] = {ns, key};
    PGresult *res = db_query(req->pool, &doc_delete, params, err);
    if (res == NULL) return false;
    if (PQntuples(res) == 0) return API_NOT_FOUND(err, "key", "document %s/%s does not exist", ns, key);
    return one_row_reply(out, res, 200);
}

static const db_stmt *const document_statements[] = {
    &doc_put, &doc_put_if, &doc_get, &doc_get_version, &doc_list, &doc_versions, &doc_delete, NULL,
};

/* ---- routes ---- */

static const route document_routes[] = {
    {"POST", "/document", document_put, .is_public = false, .input = put_input, .ninput = PUT_N,
     .errors = API_BIT(CONFLICT), .created = true},
    {"GET", "/document/{namespace}", document_list, .is_public = false, .input = list_input,
     .ninput = LIST_N},
    {"GET", "/document/{namespace}/{key}", document_get, .is_public = false, .input = get_input,
     .ninput = GET_N},
    {"DELETE", "/document/{namespace}/{key}", document_delete, .is_public = false, .input = delete_input,
     .ninput = DELETE_N},
    {"GET", "/document/{namespace}/{key}/versions", document_versions, .is_public = false,
     .input = versions_input, .ninput = VERSIONS_N},
};

/* ---- MCP tools ---- */

#define DOC_OUT                                                       \
    SCHEMA({                                                          \
        "type" : "object",                                            \
        "required" : [ "namespace", "key", "version", "created_at" ], \
        "properties" : {                                              \
            "namespace" : {"type" : "string"},                        \
            "key" : {"type" : "string"},                              \
            "version" : {"type" : "integer"},                         \
            "payload" : {},                                           \
            "created_at" : {"type" : "string"}                        \
        }                                                             \
    })
static const tool document_tools[] = {
    {"document_put",
     "Append a new version of a JSON document (namespace/key); if_version makes it conditional "
     "(0: the key must not exist yet).",
     "POST", "/document", TOOL_JSON, NULL, put_schema /* the route's declared input */, DOC_OUT,
     .title = "Write a document version", .hints = 0},
    {"document_get", "Read the latest version of a document, or a given version.", "GET",
     "/document/{namespace}/{key}", TOOL_QUERY, NULL, get_schema, DOC_OUT, .title = "Read a document",
     .hints = TOOL_READ_ONLY | TOOL_IDEMPOTENT},
    {"document_list", "List the latest version of each live key of a namespace, ordered by key (paginated).",
     "GET", "/document/{namespace}", TOOL_QUERY, NULL, list_schema, SCHEMA({
         "type" : "object",
         "required" : [ "items", "next" ],
         "properties" : {
             "items" : {
                 "type" : "array",
                 "items" : {
                     "type" : "object",
                     "required" : [ "key", "version", "created_at" ],
                     "properties" : {
                         "key" : {"type" : "string"},
                         "version" : {"type" : "integer"},
                         "payload" : {},
                         "created_at" : {"type" : "string"}
                     }
                 }
             },
             "next" : {"type" : [ "string", "null" ]}
         }
     }),
     .title = "List documents", .hints = TOOL_READ_ONLY | TOOL_IDEMPOTENT},
    {"document_delete", "Delete a document: appends a tombstone version (the history stays).", "DELETE",
     "/document/{namespace}/{key}", TOOL_QUERY, NULL, delete_schema, SCHEMA({
         "type" : "object",
         "required" : [ "namespace", "key", "version", "deleted" ],
         "properties" : {
             "namespace" : {"type" : "string"},
             "key" : {"type" : "string"},
             "version" : {"type" : "integer"},
             "deleted" : {"type" : "boolean"}
         }
     }),
     .title = "Delete a document", .hints = TOOL_DESTRUCTIVE | TOOL_IDEMPOTENT},
};

const mode mode_document = {
    .name = "document",
    .url_prefix = "/document",
    .processes = 4,
    .migrations = document_migrations,
    .sentinel_shape =
        "{\"namespace\":\"ci-status\",\"key\":\"demo\",\"version\":1,"
        "\"payload\":{\"ok\":true},\"created_at\":\"2026-11-24T10:00:00.000000Z\"}",
    .sentinel_note = "Append-only versioned JSON documents addressed by namespace and key.",
    .routes = document_routes,
    .nroutes = sizeof document_routes / sizeof document_routes[0],
    .statements = document_statements,
    .tools = document_tools,
    .ntools = sizeof document_tools / sizeof document_tools[0],
    .topic = "documents",
};
