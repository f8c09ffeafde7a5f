/*
 * document: an append-only jsonb store (docs/document.md).
 *
 * Every write appends a version; nothing is overwritten. document_heads holds
 * each key's latest version number and whether it is deleted; documents
 * holds every version. A write bumps the head with INSERT ... ON CONFLICT DO
 * UPDATE, which locks the head row and re-reads its newest value, so
 * concurrent writers to one key queue up and each gets the next number: no
 * gaps, no failures. Head and version are written by one statement, so they
 * are never out of step.
 *
 * Changes feed (docs/document.md): every version carries seq, from one sequence,
 * and every write to a namespace first takes a transaction-level advisory
 * lock on that namespace, then its sequence number (the insert), then
 * commits, which releases the lock: one statement, a function of schema
 * step 3 run in autocommit (one round trip). So within a namespace the writers queue
 * on the lock, and seq order is commit order: a reader that has seen seq s
 * has seen every smaller seq of the namespace that will ever commit, and
 * resuming from s misses nothing (docs/decisions.md). The cost: writes to
 * one namespace are serialised for the length of their insert. A write
 * also notifies DOC_CHANNEL with the namespace, which wakes waiting feeds.
 *
 * Retention (docs/document.md): a namespace's policy (document_retention)
 * lets the background compactor (document/compact.c, the mode's tick)
 * remove old versions. A version read by number that is missing below the
 * key's head was removed: 410. The feed checks the namespace's compaction
 * point (document_compaction) after reading each page: a cursor below it
 * is 410 with resume, and an event stream ends with event: gone.
 *
 * Responses are built by PostgreSQL (json_build_object): the payload goes
 * from the request body to jsonb and back to the client without passing
 * through a C double, so numbers keep every digit.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "clock.h"
#include "config.h"
#include "db.h"
#include "json.h"
#include "mode.h"
#include "schema.h"
#include "serve.h"
#include "validate.h"

#include "document/compact.h"

/* The channel a committed write notifies, with the namespace as payload. */
#define DOC_CHANNEL "backend_document"
/* The advisory lock class of a namespace's writers (the two-key form, so it
 * cannot meet the one-key schema lock): "doc". */
#define DOC_LOCK_CLASS "6582115"
/* ?wait_seconds= of the changes feed: at most a minute. */
#define WAIT_MAX 60

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

/* Step 2: the changes feed's sequence number on every version, and the
 * merge patch function (RFC 7396). Existing versions are numbered in the
 * order they were written as far as it is known (created_at), kept
 * ascending within each key (a later version never sorts before an earlier
 * one even when its transaction started first). */
static const char document_step2[] =
    "CREATE SEQUENCE IF NOT EXISTS document_seq AS bigint;"
    "ALTER TABLE documents ADD COLUMN IF NOT EXISTS seq bigint;"
    "UPDATE documents d SET seq = o.n FROM (SELECT namespace, key, version,"
    " row_number() OVER (ORDER BY w, namespace, key, version) AS n FROM"
    " (SELECT namespace, key, version, max(created_at) OVER"
    " (PARTITION BY namespace, key ORDER BY version) AS w FROM documents) x) o"
    " WHERE d.namespace = o.namespace AND d.key = o.key AND d.version = o.version;"
    "SELECT setval('document_seq', (SELECT coalesce(max(seq), 0) + 1 FROM documents), false);"
    "ALTER TABLE documents ALTER COLUMN seq SET DEFAULT nextval('document_seq'),"
    " ALTER COLUMN seq SET NOT NULL;"
    "ALTER SEQUENCE document_seq OWNED BY documents.seq;"
    "CREATE UNIQUE INDEX IF NOT EXISTS documents_namespace_seq ON documents (namespace, seq);"
    /* RFC 7396: a non-object patch replaces; an object patch merges
     * member by member, null removing. Recursion is bounded by the body's
     * nesting limit (64). */
    "CREATE OR REPLACE FUNCTION document_merge_patch(target jsonb, patch jsonb) RETURNS jsonb"
    " LANGUAGE plpgsql IMMUTABLE AS $f$"
    " DECLARE k text; v jsonb; result jsonb;"
    " BEGIN"
    "  IF patch IS NULL OR jsonb_typeof(patch) <> 'object' THEN RETURN patch; END IF;"
    "  IF target IS NULL OR jsonb_typeof(target) <> 'object' THEN result := '{}';"
    "  ELSE result := target; END IF;"
    "  FOR k, v IN SELECT * FROM jsonb_each(patch) LOOP"
    "   IF jsonb_typeof(v) = 'null' THEN result := result - k;"
    "   ELSE result := jsonb_set(result, ARRAY[k], document_merge_patch(result -> k, v), true);"
    "   END IF;"
    "  END LOOP;"
    "  RETURN result;"
    " END $f$";

/* ---- statements ---- */

#define DOC_JSON(ns, key)                                \
    "json_build_object('namespace', " ns ", 'key', " key \
    ", 'version', d.version, 'payload', "                \
    "d.payload, 'created_at', " SQL_UTC("d.created_at") ")::text"

/* Step 3: every write is one statement, one round trip (issue 22). Each
 * write is a function that takes the namespace's lock (the changes feed's
 * seq order = commit order, see the top), then writes with a snapshot taken
 * after the lock (plpgsql takes one per statement: a VOLATILE function in
 * READ COMMITTED), then queues the notification when it wrote. The service
 * calls it in autocommit, so the statement's transaction commits at once
 * and the lock is released after the commit is visible, as the COMMIT of
 * the four round trips before it did. A precondition that does not hold
 * writes nothing and notifies nothing; its statement's transaction commits
 * nothing. Each returns the answer (r_body) and the version, for the ETag
 * (r_version); no row: nothing was written.
 *
 * A released step is never changed: a change to these functions (or to
 * DOC_JSON, which they embed) is a new step that replaces them. */
#define DOC_FN(NAME, ARGS, BODY)                      \
    "CREATE OR REPLACE FUNCTION " NAME "(" ARGS       \
    ") RETURNS TABLE (r_body text, r_version text)"   \
    " LANGUAGE plpgsql VOLATILE AS $f$"               \
    " BEGIN"                                          \
    "  PERFORM pg_advisory_xact_lock(" DOC_LOCK_CLASS \
    ", hashtext(p_ns));"                              \
    "  RETURN QUERY " BODY                            \
    ";"                                               \
    "  IF FOUND THEN PERFORM pg_notify('" DOC_CHANNEL \
    "', p_ns); END IF;"                               \
    " END $f$;"
/* The version row a bumped head points at, and the answer. */
#define DOC_APPEND                                                      \
    " doc AS (INSERT INTO documents (namespace, key, version, payload)" \
    " SELECT p_ns, p_key, head.version, p_payload FROM head"            \
    " RETURNING version, payload, created_at)"                          \
    " SELECT " DOC_JSON("p_ns", "p_key") ", d.version::text FROM doc d"
static const char document_step3[] =
    /* p_always true: append unconditionally; false (if_version 0,
     * If-None-Match: *): only when the key has no live version. */
    DOC_FN("document_write_put", "p_ns text, p_key text, p_payload jsonb, p_always boolean",
           "WITH head AS (INSERT INTO document_heads AS h (namespace, key, version) VALUES (p_ns, p_key, 1)"
           " ON CONFLICT (namespace, key) DO UPDATE SET version = h.version + 1, deleted = false"
           " WHERE p_always OR h.deleted RETURNING h.version)," DOC_APPEND)
    /* if_version N > 0, If-Match: "N": only when the latest version
     * (tombstones count) is N. */
    DOC_FN("document_write_put_if", "p_ns text, p_key text, p_payload jsonb, p_version bigint",
           "WITH head AS (UPDATE document_heads h SET version = h.version + 1, deleted = false"
           " WHERE h.namespace = p_ns AND h.key = p_key AND h.version = p_version RETURNING "
           "h.version)," DOC_APPEND)
    /* PATCH: the merge patch applied to the live latest version (p_version
     * > 0: only when that is version p_version), as the next version. The
     * head row is locked before it is read (and the namespace's writers are
     * serialised anyway), so no concurrent patch is lost. */
    DOC_FN("document_write_patch", "p_ns text, p_key text, p_patch jsonb, p_version bigint",
           "WITH cur AS (SELECT h.version, d.payload FROM document_heads h JOIN documents d"
           " ON d.namespace = h.namespace AND d.key = h.key AND d.version = h.version"
           " WHERE h.namespace = p_ns AND h.key = p_key AND NOT h.deleted"
           " AND (p_version = 0 OR h.version = p_version) FOR UPDATE OF h),"
           " head AS (UPDATE document_heads h SET version = h.version + 1 FROM cur"
           " WHERE h.namespace = p_ns AND h.key = p_key RETURNING h.version, cur.payload AS old),"
           " doc AS (INSERT INTO documents (namespace, key, version, payload)"
           " SELECT p_ns, p_key, head.version, document_merge_patch(head.old, p_patch) FROM head"
           " RETURNING version, payload, created_at)"
           " SELECT " DOC_JSON("p_ns", "p_key") ", d.version::text FROM doc d")
    /* DELETE: a tombstone, when the key has a live version. */
    DOC_FN("document_write_delete", "p_ns text, p_key text",
           "WITH head AS (UPDATE document_heads h SET version = h.version + 1, deleted = true"
           " WHERE h.namespace = p_ns AND h.key = p_key AND NOT h.deleted RETURNING h.version),"
           " doc AS (INSERT INTO documents (namespace, key, version, payload, deleted)"
           " SELECT p_ns, p_key, head.version, NULL, true FROM head RETURNING version)"
           " SELECT json_build_object('namespace', p_ns, 'key', p_key, 'version', version,"
           " 'deleted', true)::text, version::text FROM doc");

/* The schema's steps (mode.h): step 1 is release 0.1.0's whole schema. */
static const char *const document_migrations[] = {document_schema, document_step2, document_step3,
                                                  document_step4, NULL};

/* The writes (step 3's functions), one statement each. POST /document
 * stores the body's "payload" member; PUT the body itself. */
#define FROM_MEMBER        "($3::jsonb) -> 'payload'"
#define FROM_BODY          "$3::jsonb"
#define DOC_CALL(FN, ARGS) "SELECT r_body, r_version FROM " FN "(" ARGS ")"
static const db_stmt doc_put = {"document_put",
                                DOC_CALL("document_write_put", "$1, $2, " FROM_MEMBER ", $4::boolean"), 4};
static const db_stmt doc_put_body = {"document_put_body",
                                     DOC_CALL("document_write_put", "$1, $2, " FROM_BODY ", $4::boolean"), 4};
static const db_stmt doc_put_if = {
    "document_put_if", DOC_CALL("document_write_put_if", "$1, $2, " FROM_MEMBER ", $4::bigint"), 4};
static const db_stmt doc_put_if_body = {
    "document_put_if_body", DOC_CALL("document_write_put_if", "$1, $2, " FROM_BODY ", $4::bigint"), 4};
static const db_stmt doc_patch = {"document_patch",
                                  DOC_CALL("document_write_patch", "$1, $2, $3::jsonb, $4::bigint"), 4};
static const db_stmt doc_delete = {"document_delete", DOC_CALL("document_write_delete", "$1, $2"), 2};

/* Whether the key has a live version: tells a PATCH's 404 from its 412. */
static const db_stmt doc_live = {
    "document_live", "SELECT 1 FROM document_heads WHERE namespace = $1 AND key = $2 AND NOT deleted", 2};

/* The feed: versions of the namespace after seq $2, in seq order (column
 * 1: the seq, the cursor). */
#define DOC_CHANGES(PAYLOAD)                                                                           \
    "SELECT json_build_object('seq', d.seq, 'key', d.key, 'version', d.version, 'deleted', d.deleted," \
    " 'created_at', " SQL_UTC("d.created_at") PAYLOAD                                                  \
        ")::text, d.seq::text"                                                                         \
        " FROM documents d WHERE d.namespace = $1 AND d.seq > $2::bigint ORDER BY d.seq LIMIT $3::int"
static const db_stmt doc_changes = {"document_changes", DOC_CHANGES(""), 3};
static const db_stmt doc_changes_payload = {"document_changes_payload", DOC_CHANGES(", 'payload', d.payload"),
                                            3};

/* since=now: the namespace's latest committed seq. */
static const db_stmt doc_changes_now = {
    "document_changes_now", "SELECT coalesce(max(seq), 0)::text FROM documents WHERE namespace = $1", 1};

static const db_stmt doc_get = {
    "document_get",
    "SELECT " DOC_JSON("d.namespace", "d.key") ", d.version::text"
    " FROM document_heads h JOIN documents d"
    " ON d.namespace = h.namespace AND d.key = h.key AND d.version = h.version"
    " WHERE h.namespace = $1 AND h.key = $2 AND NOT h.deleted",
    2};

static const db_stmt doc_get_version = {
    "document_get_version",
    "SELECT " DOC_JSON("d.namespace", "d.key") ", d.version::text FROM documents d"
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

/* GET /document: the namespaces after $1, by name, each with its latest
 * version's seq and time; with $3/$4 (a scoped token's names and
 * prefixes), only those. The namespaces are found by a skip scan of the
 * (namespace, seq) index (one index probe per namespace shown), and each
 * one's latest by the same index backwards: a page costs its size, not
 * the table's. */
static const db_stmt doc_namespaces = {
    "document_namespaces",
    "WITH RECURSIVE ns AS ("
    " (SELECT namespace FROM documents WHERE namespace > $1 ORDER BY namespace LIMIT 1)"
    " UNION ALL SELECT (SELECT d.namespace FROM documents d WHERE d.namespace > ns.namespace"
    " ORDER BY d.namespace LIMIT 1) FROM ns WHERE ns.namespace IS NOT NULL)"
    " SELECT json_build_object('namespace', n.namespace, 'last_seq', l.seq,"
    " 'last_write_at', " SQL_UTC("l.created_at") ")::text, n.namespace"
    " FROM (SELECT namespace FROM ns WHERE namespace IS NOT NULL"
    /* a scoped token sees the namespaces its scopes name (auth_read_filter) */
    " AND ($3::text[] IS NULL OR namespace = ANY($3::text[])"
    " OR EXISTS (SELECT 1 FROM unnest($4::text[]) AS p(x) WHERE starts_with(namespace, p.x)))"
    " LIMIT $2::int) n"
    " CROSS JOIN LATERAL (SELECT d.seq, d.created_at FROM documents d WHERE d.namespace = n.namespace"
    " ORDER BY d.seq DESC LIMIT 1) l ORDER BY n.namespace",
    4};

/* A namespace's retention policy: its own row, else the defaults ($2,
 * $3: the settings, NULL when unset). */
#define RETENTION_JSON(NS, KV, KD, DFLT)                                                          \
    "json_build_object('namespace', " NS ", 'keep_versions', " KV ", 'keep_deleted_seconds', " KD \
    ", 'default', " DFLT ")::text"
static const db_stmt doc_retention_get = {
    "document_retention_get",
    "SELECT " RETENTION_JSON(
        "$1::text", "CASE WHEN r.namespace IS NULL THEN $2::bigint ELSE r.keep_versions END",
        "CASE WHEN r.namespace IS NULL THEN $3::bigint ELSE r.keep_deleted_seconds END",
        "r.namespace IS NULL") " FROM (SELECT 1) one LEFT JOIN document_retention r ON r.namespace = $1",
    3};
static const db_stmt doc_retention_put = {
    "document_retention_put",
    "INSERT INTO document_retention (namespace, keep_versions, keep_deleted_seconds)"
    " VALUES ($1, $2::bigint, $3::bigint) ON CONFLICT (namespace) DO UPDATE SET"
    " keep_versions = excluded.keep_versions, keep_deleted_seconds = excluded.keep_deleted_seconds,"
    " updated_at = now()"
    " RETURNING " RETENTION_JSON("namespace", "keep_versions", "keep_deleted_seconds", "false"),
    3};
static const db_stmt doc_retention_delete = {
    "document_retention_delete",
    "WITH gone AS (DELETE FROM document_retention WHERE namespace = $1)"
    " SELECT " RETENTION_JSON("$1::text", "$2::bigint", "$3::bigint", "true"),
    3};

/* A version missing from documents below the key's latest: retention
 * removed it (every number up to the latest was written once). */
static const db_stmt doc_version_removed = {
    "document_version_removed",
    "SELECT 1 FROM document_heads h WHERE h.namespace = $1 AND h.key = $2 AND h.version > $3::bigint"
    " AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.namespace = $1 AND d.key = $2"
    " AND d.version = $3::bigint)",
    3};

/* The namespace's compaction point: the highest seq compaction removed. */
static const db_stmt doc_compaction_point = {
    "document_compaction_point",
    "SELECT coalesce((SELECT compacted_seq FROM document_compaction WHERE namespace = $1), 0)::text", 1};

/* ---- helpers ---- */

/* One version as the answer: column 0 the body, column 1 its version,
 * the ETag (a strong validator, "<version>": docs/document.md). */
static bool one_row_reply(reply *out, PGresult *res, int status) {
    out->status = status;
    strbuf_puts(out->body, PQgetvalue(res, 0, 0));
    char tag[32];
    snprintf(tag, sizeof tag, "\"%s\"", PQgetvalue(res, 0, 1));
    reply_header(out, "ETag", tag);
    return true;
}

/* A write's precondition, from if_version or the headers (docs/document.md). */
typedef enum { COND_NONE, COND_CREATE, COND_VERSION } cond_kind;
typedef struct write_cond {
    cond_kind kind;
    long long version; /* COND_VERSION */
    bool by_header;    /* a failure is 412 (a header), not 409 (if_version) */
} write_cond;

/* If-Match on a write: one entity tag, "<version>" (weak or not: which
 * one matches is the handler's 412, after the other checks). */
static bool check_if_match(const char *s, const char *field, api_error *err) {
    bool any;
    long long tags[2];
    if (request_etags(s, &any, NULL, tags, 2) != 1 || any)
        return API_INVALID(err, field, "If-Match takes one entity tag, \"<version>\"");
    return true;
}

/* If-None-Match on a write: only "*" (create-only). */
static bool check_if_none_match_write(const char *s, const char *field, api_error *err) {
    bool any;
    long long tags[2];
    if (request_etags(s, &any, NULL, tags, 2) != 0 || !any)
        return API_INVALID(err, field, "If-None-Match on a write takes only *");
    return true;
}

/* If-None-Match on a PATCH: none (a patch changes what exists). */
static bool check_no_if_none_match(const char *s, const char *field, api_error *err) {
    (void)s;
    return API_INVALID(err, field, "a PATCH changes an existing document: If-None-Match does not apply");
}

/* The write's precondition from the validated If-Match (if_match) and
 * If-None-Match (if_none) values into c. Returns false with 422 for both
 * at once, and with 412 for If-Match "0" (no version 0 ever exists) or a
 * weak W/"N" (If-Match compares strongly, and a weak tag never matches:
 * RFC 9110, 13.1.1; the ETags this mode sends are all strong). */
static bool header_cond(const char *if_match, const char *if_none, write_cond *c, api_error *err) {
    *c = (write_cond){COND_NONE, 0, true};
    if (if_match != NULL && if_none != NULL)
        return API_INVALID(err, "If-Match", "If-Match and If-None-Match cannot be combined on a write");
    if (if_none != NULL) c->kind = COND_CREATE;
    if (if_match == NULL) return true;
    bool any, weak;
    long long tag;
    request_etags(if_match, &any, &weak, &tag, 1);
    if (weak)
        return api_fail(err, API_E_PRECONDITION_FAILED, "If-Match",
                        "If-Match compares entity tags strongly: the weak W/\"%lld\" matches no version",
                        tag);
    if (tag < 1) return api_fail(err, API_E_PRECONDITION_FAILED, "If-Match", "there is no version %lld", tag);
    c->kind = COND_VERSION;
    c->version = tag;
    return true;
}

/* Appends a version (POST or PUT: body_is_payload) under condition c.
 * The writes are step 3's functions, run in autocommit: one round trip
 * takes the namespace's lock, writes and commits; no row means a
 * precondition did not hold and nothing was written. */
static bool put_version(request *req, reply *out, const char *ns, const char *key, bool body_is_payload,
                        const write_cond *c, api_error *err) {
    char version_text[24];
    snprintf(version_text, sizeof version_text, "%lld", c->version);
    const char *params[] = {ns, key, req->body, c->kind == COND_CREATE ? "f" : "t"};
    const db_stmt *st = body_is_payload ? &doc_put_body : &doc_put;
    if (c->kind == COND_VERSION) {
        params[3] = version_text;
        st = body_is_payload ? &doc_put_if_body : &doc_put_if;
    }
    PGresult *res = db_query(req->pool, st, params, err);
    if (res == NULL) return false;
    if (PQntuples(res) > 0) return one_row_reply(out, res, 201);
    api_code code = c->by_header ? API_E_PRECONDITION_FAILED : API_E_CONFLICT;
    const char *field = c->by_header ? (c->kind == COND_CREATE ? "If-None-Match" : "If-Match") : "if_version";
    if (c->kind == COND_CREATE) return api_fail(err, code, field, "document %s/%s exists already", ns, key);
    return api_fail(err, code, field, "document %s/%s is not at version %lld", ns, key, c->version);
}

/* ---- inputs: each route's, declared once (input.h) ---- */

/* The largest version number: a JSON number stays exact up to 2^53. */
#define VERSION_MAX (1LL << 53)

#define IN_NS  INPUT_NAMESPACE("namespace", INPUT_PATH)
#define IN_KEY INPUT_KEY("key", INPUT_PATH, true)
#define IN_IF_MATCH                                                                                  \
    {                                                                                                \
        .name = "If-Match", .type = INPUT_STRING, .in = INPUT_HEADER, .check = check_if_match,       \
        .pattern = "^(W/)?\"[0-9]{1,16}\"$", .example = "\"3\"",                                     \
        .description = "write only if the key's latest version is this one (a strong \"<version>\")" \
    }
#define IN_IF_NONE_MATCH_WRITE                                                                   \
    {                                                                                            \
        .name = "If-None-Match", .type = INPUT_STRING, .in = INPUT_HEADER,                       \
        .check = check_if_none_match_write, .choices = NULL, .pattern = "^\\*$", .example = "*", \
        .description = "*: write only if the key has no live version (create-only)"              \
    }

enum { PUT_NS, PUT_KEY, PUT_IF_VERSION, PUT_PAYLOAD, PUT_IF_MATCH, PUT_IF_NONE, PUT_N };
static const input_field put_input[PUT_N] = {
    [PUT_NS] = INPUT_NAMESPACE("namespace", INPUT_BODY),
    [PUT_KEY] = INPUT_KEY("key", INPUT_BODY, true),
    [PUT_IF_VERSION] = {.name = "if_version",
                        .type = INPUT_INTEGER,
                        .max = VERSION_MAX,
                        .dflt = -1, /* none: absent is unconditional, not 0 */
                        .description = "0: the key must not exist yet; N: its latest version must be N"},
    [PUT_PAYLOAD] = {.name = "payload", .type = INPUT_ANY, .required = true, .description = "any JSON value"},
    [PUT_IF_MATCH] = IN_IF_MATCH,
    [PUT_IF_NONE] = IN_IF_NONE_MATCH_WRITE,
};

enum { LIST_NS, LIST_LIMIT, LIST_AFTER, LIST_PREFIX, LIST_N };
static const input_field list_input[LIST_N] = {
    [LIST_NS] = IN_NS,
    [LIST_LIMIT] = INPUT_LIMIT,
    [LIST_AFTER] = INPUT_KEY("after", INPUT_QUERY, false),
    [LIST_PREFIX] = INPUT_KEY_PREFIX("prefix", INPUT_QUERY),
};

enum { GET_NS, GET_KEY, GET_VERSION, GET_IF_NONE, GET_N };
static const input_field get_input[GET_N] = {
    [GET_NS] = IN_NS,
    [GET_KEY] = IN_KEY,
    [GET_VERSION] = {.name = "version",
                     .type = INPUT_INTEGER,
                     .in = INPUT_QUERY,
                     .min = 1,
                     .max = VERSION_MAX,
                     .description = "a given version rather than the latest"},
    /* Any value: one that is not a list of tags matches nothing. */
    [GET_IF_NONE] = {.name = "If-None-Match",
                     .type = INPUT_STRING,
                     .in = INPUT_HEADER,
                     .example = "\"3\"",
                     .description = "304 Not Modified when it names the current version (weakly), or *"},
};

enum { VERSIONS_NS, VERSIONS_KEY, VERSIONS_LIMIT, VERSIONS_AFTER, VERSIONS_N };
static const input_field versions_input[VERSIONS_N] = {
    [VERSIONS_NS] = IN_NS,
    [VERSIONS_KEY] = IN_KEY,
    [VERSIONS_LIMIT] = INPUT_LIMIT,
    [VERSIONS_AFTER] = {.name = "after",
                        .type = INPUT_INTEGER,
                        .in = INPUT_QUERY,
                        .max = VERSION_MAX,
                        .description = "next, from the previous page (a version number)"},
};

/* DELETE /document/{namespace}/{key}: the path only, no query parameter. */
enum { DELETE_NS, DELETE_KEY, DELETE_N };
static const input_field delete_input[DELETE_N] = {[DELETE_NS] = IN_NS, [DELETE_KEY] = IN_KEY};

/* PUT /document/{namespace}/{key}: the body is the payload. */
enum { KEYED_NS, KEYED_KEY, KEYED_BODY, KEYED_IF_MATCH, KEYED_IF_NONE, KEYED_N };
static const input_field put_key_input[KEYED_N] = {
    [KEYED_NS] = IN_NS,
    [KEYED_KEY] = IN_KEY,
    [KEYED_BODY] = {.name = "payload", .type = INPUT_ANY, .in = INPUT_WHOLE, .description = "any JSON value"},
    [KEYED_IF_MATCH] = IN_IF_MATCH,
    [KEYED_IF_NONE] = IN_IF_NONE_MATCH_WRITE,
};
/* PATCH /document/{namespace}/{key}: the body is an RFC 7396 merge patch. */
static const input_field patch_input[KEYED_N] = {
    [KEYED_NS] = IN_NS,
    [KEYED_KEY] = IN_KEY,
    [KEYED_BODY] = {.name = "patch",
                    .type = INPUT_ANY,
                    .in = INPUT_WHOLE,
                    .description = "an RFC 7396 merge patch: an object merges member by member (null "
                                   "removes one), any other value replaces the payload"},
    [KEYED_IF_MATCH] = IN_IF_MATCH,
    [KEYED_IF_NONE] = {.name = "If-None-Match",
                       .type = INPUT_STRING,
                       .in = INPUT_HEADER,
                       .check = check_no_if_none_match,
                       .description = "not taken: a PATCH changes what exists (422)"},
};

/* ?since=: a seq, or "now". Up to 16 digits: below 2^53, exact in JSON. */
static bool check_since(const char *s, const char *field, api_error *err) {
    if (strcmp(s, "now") == 0) return true;
    size_t n = strspn(s, "0123456789");
    if (n == 0 || n > 16 || s[n] != '\0')
        return API_INVALID(err, field, "%s is a cursor (up to 16 digits, from next) or now", field);
    return true;
}

enum {
    CHANGES_NS,
    CHANGES_SINCE,
    CHANGES_LIMIT,
    CHANGES_WAIT,
    CHANGES_PAYLOAD,
    CHANGES_ACCEPT,
    CHANGES_LAST_ID,
    CHANGES_N
};
static const input_field changes_input[CHANGES_N] = {
    [CHANGES_NS] = IN_NS,
    [CHANGES_SINCE] = {.name = "since",
                       .type = INPUT_STRING,
                       .in = INPUT_QUERY,
                       .check = check_since,
                       .pattern = "^(now|[0-9]{1,16})$",
                       .example = "now",
                       .description = "a cursor (next of the page before), or now; absent: from the start"},
    [CHANGES_LIMIT] = INPUT_LIMIT,
    [CHANGES_WAIT] = {.name = "wait_seconds",
                      .type = INPUT_INTEGER,
                      .in = INPUT_QUERY,
                      .min = 0,
                      .max = WAIT_MAX,
                      .dflt = 0,
                      .description = "with nothing new, wait up to this long for a version to commit"},
    [CHANGES_PAYLOAD] = {.name = "include_payload",
                         .type = INPUT_BOOLEAN,
                         .in = INPUT_QUERY,
                         .description = "true: each item carries its payload"},
    [CHANGES_ACCEPT] = {.name = "Accept",
                        .type = INPUT_STRING,
                        .in = INPUT_HEADER,
                        .example = "text/event-stream",
                        .description = "text/event-stream: stream the changes as server-sent events"},
    [CHANGES_LAST_ID] = {.name = "Last-Event-ID",
                         .type = INPUT_STRING,
                         .in = INPUT_HEADER,
                         .check = check_since,
                         .pattern = "^[0-9]{1,16}$",
                         .description = "an event stream resuming: the id of the last event seen (as since)"},
};

/* GET /document: the namespaces, paginated by name. */
enum { NSL_LIMIT, NSL_AFTER, NSL_N };
static const input_field namespaces_input[NSL_N] = {
    [NSL_LIMIT] = INPUT_LIMIT,
    [NSL_AFTER] = {.name = "after",
                   .type = INPUT_STRING,
                   .in = INPUT_QUERY,
                   .min = 1,
                   .max = NAMESPACE_MAX,
                   .check = validate_namespace,
                   .pattern = "^[A-Za-z0-9][A-Za-z0-9._-]*$",
                   .description = "next, from the previous page (a namespace)"},
};

/* GET and DELETE /document/{namespace}/_retention: the path only. */
enum { RET_NS, RET_N };
static const input_field retention_input[RET_N] = {[RET_NS] = IN_NS};

/* PUT /document/{namespace}/_retention: the policy; a member left out
 * (or null) is null, "keep" (the default below min stands for it). */
enum { RETP_NS, RETP_VERSIONS, RETP_DELETED, RETP_N };
static const input_field retention_put_input[RETP_N] = {
    [RETP_NS] = IN_NS,
    [RETP_VERSIONS] = {.name = "keep_versions",
                       .type = INPUT_INTEGER,
                       .min = 1,
                       .max = KEEP_VERSIONS_MAX,
                       .dflt = 0,
                       .description = "versions kept per key, the newest; null or absent: all"},
    [RETP_DELETED] = {.name = "keep_deleted_seconds",
                      .type = INPUT_INTEGER,
                      .min = 0,
                      .max = KEEP_DELETED_SECONDS_MAX,
                      .dflt = -1,
                      .description = "a deleted key's versions but its tombstone are removed once the "
                                     "tombstone is this old; null or absent: never"},
};

/* ---- outputs: each answer's shape, declared once (output.h) ---- */

#define OUT_NS \
    { .name = "namespace", .type = OUT_STRING, .example = "\"ci-status\"" }
#define OUT_KEY \
    { .name = "key", .type = OUT_STRING, .example = "\"demo\"" }
#define OUT_VERSION \
    { .name = "version", .type = OUT_INTEGER, .example = "1", .description = "1, 2, 3, ... per key" }
#define OUT_PAYLOAD \
    { .name = "payload", .type = OUT_ANY, .example = "{\"ok\":true}" }

static const output_field document_fields[] = {OUT_NS, OUT_KEY, OUT_VERSION, OUT_PAYLOAD,
                                               OUT_TIME("created_at", 0)};
static const output_shape document_out =
    OUTPUT_SHAPE("Document", "One version of a document", document_fields);

static const output_field listed_fields[] = {OUT_KEY, OUT_VERSION, OUT_PAYLOAD, OUT_TIME("created_at", 0)};
static const output_shape listed_out =
    OUTPUT_SHAPE("DocumentLatest", "A key's latest version", listed_fields);
static const output_field list_fields[] = {OUTPUT_PAGE_FIELDS(listed_out)};
static const output_shape list_out = OUTPUT_SHAPE("DocumentPage", NULL, list_fields);

static const output_field version_fields[] = {
    OUT_KEY,
    OUT_VERSION,
    {.name = "payload", .type = OUT_ANY, .description = "null for a tombstone"},
    {.name = "deleted", .type = OUT_BOOLEAN, .example = "false"},
    OUT_TIME("created_at", 0)};
static const output_shape version_out =
    OUTPUT_SHAPE("DocumentVersion", "A version, tombstones included", version_fields);
static const output_field versions_fields[] = {OUTPUT_PAGE_FIELDS(version_out)};
static const output_shape versions_out = OUTPUT_SHAPE("DocumentVersionPage", NULL, versions_fields);

static const output_field tombstone_fields[] = {
    OUT_NS, OUT_KEY, OUT_VERSION, {.name = "deleted", .type = OUT_BOOLEAN, .example = "true"}};
static const output_shape tombstone_out =
    OUTPUT_SHAPE("DocumentTombstone", "The tombstone a delete appended", tombstone_fields);

static const output_field change_fields[] = {
    {.name = "seq",
     .type = OUT_INTEGER,
     .example = "42",
     .description = "the feed's cursor: commit order in the namespace"},
    OUT_KEY,
    OUT_VERSION,
    {.name = "deleted", .type = OUT_BOOLEAN, .example = "false"},
    OUT_TIME("created_at", 0),
    {.name = "payload", .type = OUT_ANY, .flags = OUT_OPTIONAL, .description = "with include_payload=true"}};
static const output_shape change_out =
    OUTPUT_SHAPE("DocumentChange", "A version, in the changes feed", change_fields);
static const output_field changes_fields[] = {
    {.name = "items", .type = OUT_ARRAY, .shape = &change_out},
    {.name = "next",
     .type = OUT_STRING,
     .example = "\"42\"",
     .description = "the cursor to follow with (?since=): never null"}};
static const output_shape changes_out = OUTPUT_SHAPE("DocumentChangePage", NULL, changes_fields);

static const output_field namespace_fields[] = {OUT_NS,
                                                {.name = "last_seq",
                                                 .type = OUT_INTEGER,
                                                 .example = "42",
                                                 .description = "the seq of its latest version"},
                                                OUT_TIME("last_write_at", 0)};
static const output_shape namespace_out =
    OUTPUT_SHAPE("DocumentNamespace", "A namespace that has a version", namespace_fields);
static const output_field namespaces_fields[] = {OUTPUT_PAGE_FIELDS(namespace_out)};
static const output_shape namespaces_out = OUTPUT_SHAPE("DocumentNamespacePage", NULL, namespaces_fields);

static const output_field retention_fields[] = {
    OUT_NS,
    {.name = "keep_versions",
     .type = OUT_INTEGER,
     .flags = OUT_NULLABLE,
     .example = "10",
     .description = "versions kept per key; null: all"},
    {.name = "keep_deleted_seconds",
     .type = OUT_INTEGER,
     .flags = OUT_NULLABLE,
     .example = "604800",
     .description = "age of a tombstone past which the key's other versions go; null: never"},
    {.name = "default",
     .type = OUT_BOOLEAN,
     .example = "false",
     .description = "true: the namespace has no policy of its own, these are the defaults"}};
static const output_shape retention_out =
    OUTPUT_SHAPE("DocumentRetention", "A namespace's retention policy", retention_fields);

/* ---- handlers ---- */

static bool document_put(request *req, const input_value *in, reply *out, api_error *err) {
    /* One precondition per write: the combination is refused (422) before
     * a header's own 412 (If-Match "0" or weak) could answer instead. */
    if (in[PUT_IF_VERSION].present && (in[PUT_IF_MATCH].present || in[PUT_IF_NONE].present))
        return API_INVALID(err, "if_version",
                           "if_version and an If-Match or If-None-Match header cannot "
                           "be combined");
    write_cond c;
    if (!header_cond(in[PUT_IF_MATCH].s, in[PUT_IF_NONE].s, &c, err)) return false;
    if (in[PUT_IF_VERSION].present) {
        c.by_header = false;
        c.version = in[PUT_IF_VERSION].i;
        c.kind = c.version > 0 ? COND_VERSION : COND_CREATE;
    }
    return put_version(req, out, in[PUT_NS].s, in[PUT_KEY].s, false, &c, err);
}

/* PUT /document/{namespace}/{key}: the body is the payload. */
static bool document_put_key(request *req, const input_value *in, reply *out, api_error *err) {
    write_cond c;
    if (!header_cond(in[KEYED_IF_MATCH].s, in[KEYED_IF_NONE].s, &c, err)) return false;
    return put_version(req, out, in[KEYED_NS].s, in[KEYED_KEY].s, true, &c, err);
}

/* PATCH /document/{namespace}/{key}: an RFC 7396 merge patch, applied by
 * PostgreSQL (document_merge_patch) to the latest version under the
 * namespace's lock, so concurrent patches each see the one before. The new
 * version is a create, as every write is (201). */
static bool document_patch(request *req, const input_value *in, reply *out, api_error *err) {
    write_cond c;
    if (!header_cond(in[KEYED_IF_MATCH].s, NULL, &c, err)) return false;
    const char *ns = in[KEYED_NS].s, *key = in[KEYED_KEY].s;
    char version_text[24];
    snprintf(version_text, sizeof version_text, "%lld", c.kind == COND_VERSION ? c.version : 0);
    const char *params[] = {ns, key, req->body, version_text};
    PGresult *res = db_query(req->pool, &doc_patch, params, err);
    if (res == NULL) return false;
    if (PQntuples(res) > 0) return one_row_reply(out, res, 201);
    PGresult *live = db_query(req->pool, &doc_live, params, err);
    if (live == NULL) return false;
    if (PQntuples(live) > 0)
        return api_fail(err, API_E_PRECONDITION_FAILED, "If-Match", "document %s/%s is not at version %lld",
                        ns, key, c.version);
    return API_NOT_FOUND(err, "key", "document %s/%s does not exist", ns, key);
}

static bool document_list(request *req, const input_value *in, reply *out, api_error *err) {
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

/* Whether an If-None-Match value (weak comparison: W/"N" is version N
 * too) names version current, or is *. A value that is not a list of
 * tags matches nothing. */
static bool none_match_names(const char *value, long long current) {
    bool any;
    long long tags[16];
    int ntags = value ? request_etags(value, &any, NULL, tags, 16) : -1;
    bool match = ntags >= 0 && any;
    for (int i = 0; i < ntags && !match; i++) match = tags[i] == current;
    return match;
}

/* True when version params[2] of key params[0]/params[1] was removed by
 * retention (a failure to tell reads as not removed: 404). */
static bool version_removed(request *req, const char *const *params, api_error *err) {
    PGresult *res = db_query(req->pool, &doc_version_removed, params, err);
    return res != NULL && PQntuples(res) > 0;
}

static bool document_get(request *req, const input_value *in, reply *out, api_error *err) {
    const char *ns = in[GET_NS].s, *key = in[GET_KEY].s, *version = in[GET_VERSION].s;
    const char *params[] = {ns, key, version};
    PGresult *res = db_query(req->pool, version ? &doc_get_version : &doc_get, params, err);
    if (res == NULL) return false;
    if (PQntuples(res) == 0) {
        if (version && version_removed(req, params, err))
            return api_fail(err, API_E_GONE, "version", "document %s/%s version %s was removed by retention",
                            ns, key, version);
        if (version)
            return API_NOT_FOUND(err, "version", "document %s/%s has no live version %s", ns, key, version);
        return API_NOT_FOUND(err, "key", "document %s/%s does not exist", ns, key);
    }
    /* If-None-Match naming this version (or *): 304, no body, the same
     * ETag. */
    if (!none_match_names(in[GET_IF_NONE].s, atoll(PQgetvalue(res, 0, 1))))
        return one_row_reply(out, res, 200);
    one_row_reply(out, res, 304);
    strbuf_reset(out->body);
    return true;
}

static bool document_versions(request *req, const input_value *in, reply *out, api_error *err) {
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

static bool document_delete(request *req, const input_value *in, reply *out, api_error *err) {
    const char *ns = in[DELETE_NS].s, *key = in[DELETE_KEY].s;
    const char *params[] = {ns, key};
    PGresult *res = db_query(req->pool, &doc_delete, params, err);
    if (res == NULL) return false;
    if (PQntuples(res) == 0) return API_NOT_FOUND(err, "key", "document %s/%s does not exist", ns, key);
    return one_row_reply(out, res, 200);
}
/* GET /document: every namespace that has a version, by name. */
static bool document_namespaces(request *req, const input_value *in, reply *out, api_error *err) {
    long long limit = in[NSL_LIMIT].i;
    char fetch[24];
    snprintf(fetch, sizeof fetch, "%lld", limit + 1);
    const char *exact = NULL, *prefixes = NULL;
    auth_read_filter(&req->who, req->mode->name, req->pool, &exact, &prefixes);
    const char *params[] = {in[NSL_AFTER].s ? in[NSL_AFTER].s : "", fetch, exact, prefixes};
    PGresult *res = db_query(req->pool, &doc_namespaces, params, err);
    if (res == NULL) return false;
    reply_page(out, res, limit);
    return true;
}

/* Runs a retention statement (namespace, then the two numbers: the
 * policy's or the defaults, "" standing for none) and answers its one
 * row. */
static bool retention_reply(request *req, const db_stmt *st, const char *ns, long long versions,
                            long long deleted, reply *out, api_error *err) {
    char v[24], d[24];
    snprintf(v, sizeof v, "%lld", versions);
    snprintf(d, sizeof d, "%lld", deleted);
    const char *params[] = {ns, versions < 0 ? NULL : v, deleted < 0 ? NULL : d};
    PGresult *res = db_query(req->pool, st, params, err);
    if (res == NULL) return false;
    strbuf_puts(out->body, PQgetvalue(res, 0, 0));
    return true;
}

/* GET /document/{namespace}/_retention: the policy in force. */
static bool document_retention_get(request *req, const input_value *in, reply *out, api_error *err) {
    return retention_reply(req, &doc_retention_get, in[RET_NS].s, document_keep_versions,
                           document_keep_deleted_seconds, out, err);
}

/* PUT /document/{namespace}/_retention: the namespace's own policy. */
static bool document_retention_put(request *req, const input_value *in, reply *out, api_error *err) {
    const input_value *v = &in[RETP_VERSIONS], *d = &in[RETP_DELETED];
    return retention_reply(req, &doc_retention_put, in[RETP_NS].s, v->present ? v->i : -1,
                           d->present ? d->i : -1, out, err);
}

/* DELETE /document/{namespace}/_retention: back to the defaults. */
static bool document_retention_delete(request *req, const input_value *in, reply *out, api_error *err) {
    return retention_reply(req, &doc_retention_delete, in[RET_NS].s, document_keep_versions,
                           document_keep_deleted_seconds, out, err);
}

/* ---- the changes feed (docs/document.md) ---- */

/* Reads one page of the feed after since into res. Returns NULL with err. */
static PGresult *changes_page(request *req, const char *ns, const char *since, const char *limit,
                              bool payload, api_error *err) {
    const char *params[] = {ns, since, limit};
    db_begin(serve_budget(req->mode));
    return db_query(req->pool, payload ? &doc_changes_payload : &doc_changes, params, err);
}

/* The namespace's compaction point into *point. Returns false with err. */
static bool compaction_point(request *req, const char *ns, long long *point, api_error *err) {
    const char *params[] = {ns};
    PGresult *res = db_query(req->pool, &doc_compaction_point, params, err);
    if (res == NULL) return false;
    *point = atoll(PQgetvalue(res, 0, 0));
    return true;
}

/* Whether a reader at since, whose page was read before this call, has
 * been overtaken by compaction: *point is then above since (a removal
 * that committed before the page was read is seen here, as the point
 * moves in the same transaction). Returns false with err. */
static bool overtaken(request *req, const char *ns, const char *since, long long *point, bool *behind,
                      api_error *err) {
    if (!compaction_point(req, ns, point, err)) return false;
    *behind = atoll(since) < *point;
    return true;
}

/* The 410 of a reader below the compaction point, with resume. */
static bool gone_reply(api_error *err, const char *since, long long point) {
    api_fail(err, API_E_GONE, "since",
             "changes up to %lld were compacted away: re-read the namespace and follow from resume "
             "(since %s is below it)",
             point, since);
    snprintf(err->resume, sizeof err->resume, "%lld", point);
    return false;
}

/* The starting cursor: since as given, "now" as the namespace's latest
 * committed seq, absent as the namespace's compaction point (0 before
 * any). Writes it into buf. */
static bool changes_since(request *req, const char *ns, const char *since, char *buf, size_t size,
                          api_error *err) {
    if (since == NULL) {
        long long point;
        if (!compaction_point(req, ns, &point, err)) return false;
        snprintf(buf, size, "%lld", point);
        return true;
    }
    if (strcmp(since, "now") == 0) {
        const char *params[] = {ns};
        PGresult *res = db_query(req->pool, &doc_changes_now, params, err);
        if (res == NULL) return false;
        since = PQgetvalue(res, 0, 0);
    }
    snprintf(buf, size, "%lld", atoll(since));
    return true;
}

/* An event stream ends after this long (a client such as EventSource
 * reconnects with Last-Event-ID), so a stream never holds a worker for
 * ever; and it sends a comment line after this much silence, which also
 * finds a client that went away (the write fails). */
#define STREAM_MAX_MS       (5 * 60 * 1000LL)
#define STREAM_KEEPALIVE_MS (15 * 1000LL)
#define STREAM_PAGE         "100"

/* True when the Accept header asks for an event stream. */
static bool wants_event_stream(const char *accept) {
    return accept != NULL && strstr(accept, "text/event-stream") != NULL;
}

/* Tells an event-stream reader that compaction overtook it: one event
 * gone, whose data holds resume (the compaction point). */
static void stream_gone(request *req, long long point) {
    char ev[96];
    int len = snprintf(ev, sizeof ev, "event: gone\ndata: {\"resume\":\"%lld\"}\n\n", point);
    req->stream_write(req->stream_ctx, "text/event-stream", ev, (size_t)len);
}

/* Accept: text/event-stream: one event per version (id: its seq, event:
 * change, data: the item), from since on, until the stream's time is up,
 * the client goes away or the process stops. Between events it waits as a
 * long-poll does (serve.h); when the process's waiters are all taken the
 * stream ends after what there is now, and the client comes back (retry:). */
static bool changes_stream(request *req, const char *ns, char *since, bool payload, api_error *err) {
    static const char type[] = "text/event-stream";
    static const char opening[] = ": changes of the namespace\nretry: 2000\n\n";
    long long start = (long long)clock_ms(), last_write = start;
    serve_waiter w;
    serve_waiter_start(&w, DOC_CHANNEL, ns, start + STREAM_MAX_MS);
    bool ok = req->stream_write(req->stream_ctx, type, opening, sizeof opening - 1);
    while (ok && !serve_stopping()) {
        serve_waiter_watch(&w);
        PGresult *res = changes_page(req, ns, since, STREAM_PAGE, payload, err);
        long long point;
        bool behind = false;
        if (res == NULL || !overtaken(req, ns, since, &point, &behind, err)) break;
        if (behind) {
            stream_gone(req, point);
            break;
        }
        int n = PQntuples(res);
        for (int i = 0; i < n && ok; i++) {
            strbuf *ev = strbuf_new();
            strbuf_printf(ev, "id: %s\nevent: change\ndata: %s\n\n", PQgetvalue(res, i, 1),
                          PQgetvalue(res, i, 0));
            ok = req->stream_write(req->stream_ctx, type, ev->data, ev->len);
            strbuf_free(ev);
            snprintf(since, 24, "%s", PQgetvalue(res, i, 1));
        }
        long long now = (long long)clock_ms();
        if (n > 0) last_write = now;
        if (!ok || now - start >= STREAM_MAX_MS) break;
        if (n == atoi(STREAM_PAGE)) continue;
        if (now - last_write >= STREAM_KEEPALIVE_MS) {
            ok = req->stream_write(req->stream_ctx, type, ":\n\n", 3);
            last_write = now;
            continue;
        }
        if (!serve_waiter_sleep(&w, last_write + STREAM_KEEPALIVE_MS)) break;
    }
    serve_waiter_end(&w);
    return true; /* the stream has gone out: its end is not an error */
}

/* GET /document/{namespace}/_changes: one page of versions after since,
 * in seq (= commit) order; with wait_seconds and nothing new, it waits for
 * a commit. next is never null: the last seq shown, or since. */
static bool document_changes(request *req, const input_value *in, reply *out, api_error *err) {
    const char *ns = in[CHANGES_NS].s;
    bool payload = in[CHANGES_PAYLOAD].i != 0;
    long long wait = in[CHANGES_WAIT].i;
    char since[24], limit[24];
    snprintf(limit, sizeof limit, "%lld", in[CHANGES_LIMIT].i);
    /* An event stream resumes from Last-Event-ID when the client sends one
     * (EventSource does when it reconnects), else from since. */
    bool stream = req->stream_write != NULL && wants_event_stream(in[CHANGES_ACCEPT].s);
    const char *from = stream && in[CHANGES_LAST_ID].present ? in[CHANGES_LAST_ID].s : in[CHANGES_SINCE].s;
    if (!changes_since(req, ns, from, since, sizeof since, err)) return false;
    if (stream) return changes_stream(req, ns, since, payload, err);
    /* With wait_seconds and nothing new: wait for a write's notification,
     * holding neither a worker at accept nor a connection (serve.h). */
    serve_waiter w;
    serve_waiter_start(&w, DOC_CHANNEL, ns, (long long)clock_ms() + wait * 1000);
    PGresult *res;
    do {
        serve_waiter_watch(&w);
        res = changes_page(req, ns, since, limit, payload, err);
    } while (res != NULL && PQntuples(res) == 0 && serve_waiter_sleep(&w, w.until_ms));
    serve_waiter_end(&w);
    long long point;
    bool behind = false;
    if (res == NULL || !overtaken(req, ns, since, &point, &behind, err)) return false;
    if (behind) return gone_reply(err, since, point);
    int n = PQntuples(res);
    strbuf_puts(out->body, "{\"items\":[");
    for (int i = 0; i < n; i++) {
        if (i) strbuf_puts(out->body, ",");
        strbuf_puts(out->body, PQgetvalue(res, i, 0));
    }
    strbuf_puts(out->body, "],\"next\":\"");
    strbuf_puts(out->body, n > 0 ? PQgetvalue(res, n - 1, 1) : since);
    strbuf_puts(out->body, "\"}");
    return true;
}

static const db_stmt *const document_statements[] = {
    &doc_put,
    &doc_put_body,
    &doc_put_if,
    &doc_put_if_body,
    &doc_patch,
    &doc_live,
    &doc_get,
    &doc_get_version,
    &doc_list,
    &doc_versions,
    &doc_delete,
    &doc_changes,
    &doc_changes_payload,
    &doc_changes_now,
    &doc_namespaces,
    &doc_retention_get,
    &doc_retention_put,
    &doc_retention_delete,
    &doc_version_removed,
    &doc_compaction_point,
    &document_compact_stmt,
    NULL,
};

/* ---- routes ---- */

static const route document_routes[] = {
    {"POST", "/document", document_put, .summary = "Write a document version",
     .description = "Appends a new version of the document namespace/key, with the body's payload (any JSON "
                    "value). if_version makes it conditional (0: the key must not exist yet; N: its latest "
                    "version must be N, else 409); so do the If-Match and If-None-Match headers (412).",
     .input = put_input, .ninput = PUT_N, .output = &document_out, .errors = API_BIT(CONFLICT),
     .created = true, .also = ROUTE_ETAG, .tool = TOOL("document_put", 0)},
    {"GET", "/document", document_namespaces, .summary = "List namespaces",
     .description = "Every namespace that has a version, ordered by name (bytewise), paginated, each with "
                    "the seq of its latest version (last_seq) and when that was written.",
     .input = namespaces_input, .ninput = NSL_N, .output = &namespaces_out,
     .tool = TOOL("document_namespaces", TOOL_READ_ONLY | TOOL_IDEMPOTENT)},
    {"GET", "/document/{namespace}", document_list, .summary = "List documents",
     .description = "The latest version of each live key of a namespace, ordered by key (bytewise), "
                    "paginated; prefix keeps the keys that start with it. An unknown namespace is an "
                    "empty list.",
     .input = list_input, .ninput = LIST_N, .output = &list_out,
     .tool = TOOL("document_list", TOOL_READ_ONLY | TOOL_IDEMPOTENT)},
    {"GET", "/document/{namespace}/{key}", document_get, .summary = "Read a document",
     .description = "The latest version of a document, or the version given; 404 when the key has no live "
                    "version. If-None-Match naming the current version answers 304 with no body.",
     .input = get_input, .ninput = GET_N, .output = &document_out, .also = ROUTE_NOT_MODIFIED | ROUTE_ETAG,
     .errors = API_BIT(GONE), .tool = TOOL("document_get", TOOL_READ_ONLY | TOOL_IDEMPOTENT)},
    {"GET", "/document/{namespace}/_changes", document_changes, .summary = "Follow a namespace's changes",
     .description = "One page of a namespace's changes feed: every version written (tombstones too) after "
                    "the cursor since, in commit order, with no gap; call again with since = next. "
                    "wait_seconds waits for a write when nothing is new. With Accept: text/event-stream "
                    "the route streams one event per version (id: the cursor), resuming from "
                    "Last-Event-ID. A cursor below the namespace's compaction point answers 410 with "
                    "resume (a stream ends with an event gone).",
     .errors = API_BIT(GONE), .streams_response = true, .input = changes_input, .ninput = CHANGES_N,
     .output = &changes_out, .tool = TOOL("document_changes", TOOL_READ_ONLY | TOOL_IDEMPOTENT)},
    {"PUT", "/document/{namespace}/{key}", document_put_key, .summary = "Write a document's payload",
     .description = "Appends a new version whose payload is the body itself (any JSON value). If-Match: "
                    "\"N\" writes only if N is the latest version; If-None-Match: * only if the key has no "
                    "live version (412 otherwise).",
     .input = put_key_input, .ninput = KEYED_N, .output = &document_out, .created = true, .also = ROUTE_ETAG},
    {"PATCH", "/document/{namespace}/{key}", document_patch, .summary = "Merge-patch a document",
     .description = "Applies an RFC 7396 JSON Merge Patch (Content-Type: application/merge-patch+json) to "
                    "the latest version and writes the result as the next version, in one transaction; "
                    "404 when the key has no live version; honours If-Match.",
     .input = patch_input, .ninput = KEYED_N, .body_type = "application/merge-patch+json",
     .output = &document_out, .created = true, .also = ROUTE_ETAG},
    {"DELETE", "/document/{namespace}/{key}", document_delete, .summary = "Delete a document",
     .description = "Appends a tombstone version (the history stays); later reads of the key answer 404 "
                    "and a later write revives it with the next version number.",
     .input = delete_input, .ninput = DELETE_N, .output = &tombstone_out,
     .tool = TOOL("document_delete", TOOL_DESTRUCTIVE | TOOL_IDEMPOTENT)},
    {"GET", "/document/{namespace}/{key}/versions", document_versions,
     .summary = "List a document's versions",
     .description = "Every version of a key, oldest first, tombstones included (deleted: true), paginated "
                    "by version number.",
     .input = versions_input, .ninput = VERSIONS_N, .output = &versions_out},
    {"GET", "/document/{namespace}/_retention", document_retention_get,
     .summary = "Read a namespace's retention policy",
     .description = "The retention policy in force for the namespace: its own, or the defaults "
                    "(DOCUMENT_KEEP_VERSIONS, DOCUMENT_KEEP_DELETED_SECONDS) with default: true.",
     .input = retention_input, .ninput = RET_N, .output = &retention_out,
     .tool = TOOL("document_retention_get", TOOL_READ_ONLY | TOOL_IDEMPOTENT)},
    {"PUT", "/document/{namespace}/_retention", document_retention_put,
     .summary = "Set a namespace's retention policy",
     .description = "Sets how much history the namespace keeps: keep_versions (1-1000000: the newest "
                    "versions of each key) and keep_deleted_seconds (0-315360000: how long a deleted key "
                    "keeps its versions); a member left out or null keeps everything. Compaction then "
                    "removes the rest in the background.",
     .input = retention_put_input, .ninput = RETP_N, .output = &retention_out,
     .tool = TOOL("document_retention_put", TOOL_DESTRUCTIVE | TOOL_IDEMPOTENT)},
    {"DELETE", "/document/{namespace}/_retention", document_retention_delete,
     .summary = "Drop a namespace's retention policy",
     .description = "Removes the namespace's own policy: the defaults apply again.", .input = retention_input,
     .ninput = RET_N, .output = &retention_out},
};

const mode mode_document = {
    .name = "document",
    .url_prefix = "/document",
    /* Two processes of two workers at accept. On a machine of few cores
     * the request path is bound by CPU, and a few workers do more with it
     * than many: a worker that finishes often finds the next connection
     * already queued and takes it without sleeping, and the same threads
     * stay warm, while sixteen take turns (accept wakes the one that has
     * waited longest). Measured against 2 x 8 at 8 clients: GET and POST
     * each about 15% faster, less CPU per request in every process
     * (decisions.md, "Workers per mode"). A waiting feed starts a worker
     * in its place and sleeps without a connection (serve.h), so waiting
     * never takes one of the two. */
    .processes = 2,
    .threads = 2,
    .migrations = document_migrations,
    .sentinel = &document_out,
    .sentinel_note = "Append-only versioned JSON documents addressed by namespace and key.",
    .routes = document_routes,
    .nroutes = sizeof document_routes / sizeof document_routes[0],
    .statements = document_statements,
    .topic = "documents",
    /* Retention's compactor (document/compact.c): every process tries a
     * round; one at a time runs it (an advisory lock). */
    .tick = document_compact_round,
    .tick_seconds = document_compact_every,
    .settings = document_settings,
    .nsettings = DOCUMENT_NSETTINGS,
};
