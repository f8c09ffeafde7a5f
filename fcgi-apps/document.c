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

/* ---- handlers ---- */

static bool document_put(request *req, reply *out, api_error *err) {
    static const char *const known[] = {"namespace", "key", "payload", "if_version", NULL};
    json_t *body = request_json_object(req, false, err);
    if (body == NULL) return false;
    const char *ns, *key;
    long long if_version;
    bool conditional;
    if (!json_fields_known(body, known, err) || !json_get_string(body, "namespace", true, &ns, err) ||
        !validate_namespace(ns, "namespace", err) || !json_get_string(body, "key", true, &key, err) ||
        !validate_key(key, "key", err) ||
        !json_get_int(body, "if_version", 0, (1LL << 53), 0, &if_version, &conditional, err))
        return false;
    if (json_object_get(body, "payload") == NULL) return API_INVALID(err, "payload", "payload is required");
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

/* The {namespace} and {key} captures, validated. */
static bool path_doc(request *req, const char **ns, const char **key, api_error *err) {
    *ns = req->params[0];
    if (!validate_namespace(*ns, "namespace", err)) return false;
    if (key == NULL) return true;
    *key = req->params[1];
    return validate_key(*key, "key", err);
}

static bool document_list(request *req, reply *out, api_error *err) {
    static const char *const known[] = {"limit", "after", "prefix", NULL};
    const char *ns, *after, *prefix;
    long long limit;
    if (!path_doc(req, &ns, NULL, err) || !request_query_known(req, known, err) ||
        !validate_limit(req, &limit, err) || !request_query(req, "after", &after, err) ||
        !request_query(req, "prefix", &prefix, err))
        return false;
    if (after != NULL && !validate_key(after, "after", err)) return false;
    if (prefix != NULL && !validate_key_prefix(prefix, "prefix", err)) return false;
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
    static const char *const known[] = {"version", NULL};
    const char *ns, *key, *version;
    long long v;
    if (!path_doc(req, &ns, &key, err) || !request_query_known(req, known, err) ||
        !request_query(req, "version", &version, err))
        return false;
    if (version != NULL && !validate_int_text(version, 1, (1LL << 53), "version", &v, err)) return false;
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
    static const char *const known[] = {"limit", "after", NULL};
    const char *ns, *key, *after;
    long long limit, after_v = 0;
    if (!path_doc(req, &ns, &key, err) || !request_query_known(req, known, err) ||
        !validate_limit(req, &limit, err) || !request_query(req, "after", &after, err))
        return false;
    if (after != NULL && !validate_int_text(after, 0, (1LL << 53), "after", &after_v, err)) return false;
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
    static const char *const known[] = {NULL};
    const char *ns, *key;
    if (!path_doc(req, &ns, &key, err) || !request_query_known(req, known, err)) return false;
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
    {"POST", "/document", document_put, .is_public = false},
    {"GET", "/document/{namespace}", document_list, .is_public = false},
    {"GET", "/document/{namespace}/{key}", document_get, .is_public = false},
    {"DELETE", "/document/{namespace}/{key}", document_delete, .is_public = false},
    {"GET", "/document/{namespace}/{key}/versions", document_versions, .is_public = false},
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
/* Namespace and key, as the routes validate them. */
#define DOC_NS_KEY                                                                                     \
    "namespace" : {"type" : "string", "description" : "1-128 characters, [A-Za-z0-9][A-Za-z0-9._-]*"}, \
                  "key" : {                                                                            \
        "type" : "string", "description" : "1-256 characters, [A-Za-z0-9][A-Za-z0-9._:@~-]*"           \
    }

static const tool document_tools[] = {
    {"document_put",
     "Append a new version of a JSON document (namespace/key); if_version makes it conditional "
     "(0: the key must not exist yet).",
     "POST", "/document", TOOL_JSON, NULL, SCHEMA({
         "type" : "object",
         "required" : [ "namespace", "key", "payload" ],
         "properties" : {
             DOC_NS_KEY,
             "payload" : {"description" : "any JSON value"},
             "if_version" : {"type" : "integer", "minimum" : 0}
         }
     }),
     DOC_OUT, .title = "Write a document version", .hints = 0},
    {"document_get", "Read the latest version of a document, or a given version.", "GET",
     "/document/{namespace}/{key}", TOOL_QUERY, NULL, SCHEMA({
         "type" : "object",
         "required" : [ "namespace", "key" ],
         "properties" : {DOC_NS_KEY, "version" : {"type" : "integer", "minimum" : 1}}
     }),
     DOC_OUT, .title = "Read a document", .hints = TOOL_READ_ONLY | TOOL_IDEMPOTENT},
    {"document_list", "List the latest version of each live key of a namespace, ordered by key (paginated).",
     "GET", "/document/{namespace}", TOOL_QUERY, NULL, SCHEMA({
         "type" : "object",
         "required" : ["namespace"],
         "properties" : {
             "namespace" : {"type" : "string"},
             "prefix" : {"type" : "string"},
             "after" : {"type" : "string", "description" : "next, from the previous page"},
             "limit" : {"type" : "integer", "minimum" : 1, "maximum" : 1000}
         }
     }),
     SCHEMA({
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
     "/document/{namespace}/{key}", TOOL_QUERY, NULL,
     SCHEMA({"type" : "object", "required" : [ "namespace", "key" ], "properties" : {DOC_NS_KEY}}), SCHEMA({
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
