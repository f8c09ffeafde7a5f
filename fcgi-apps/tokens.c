/*
 * The tokens mode: scoped tokens, made and revoked with the root token
 * (docs/security.md). The table auth_tokens keeps each token's SHA-256
 * digest, never the token, which appears once, in the answer that made
 * it. Every process of every mode reads the live digests into memory
 * (common/token_store.c); a trigger notifies them on each create and
 * revoke.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "mode.h"
#include "random_id.h"
#include "registry.h"
#include "schema.h"
#include "scope.h"
#include "token_store.h"
#include "validate.h"

/* ---- schema ---- */

static const char tokens_schema[] =
    "CREATE TABLE IF NOT EXISTS auth_tokens ("
    " id uuid PRIMARY KEY DEFAULT gen_random_uuid(),"
    " name text NOT NULL CHECK (length(name) BETWEEN 1 AND 128),"
    " digest text NOT NULL UNIQUE CHECK (digest ~ '^[0-9a-f]{64}$'),"
    " scopes jsonb NOT NULL CHECK (jsonb_typeof(scopes) = 'array'),"
    " created_at timestamptz NOT NULL DEFAULT now(),"
    " expires_at timestamptz,"
    " last_used_at timestamptz);"
    /* every process reads the set again on a create or a revoke; a use
     * (last_used_at) changes nothing it holds */
    "CREATE OR REPLACE FUNCTION auth_tokens_notify() RETURNS trigger LANGUAGE plpgsql AS"
    " $f$ BEGIN PERFORM pg_notify('" TOKEN_STORE_CHANNEL
    "', ''); RETURN NULL; END $f$;"
    "CREATE TRIGGER auth_tokens_changed AFTER INSERT OR DELETE ON auth_tokens"
    " FOR EACH STATEMENT EXECUTE FUNCTION auth_tokens_notify();";

static const char *const tokens_migrations[] = {tokens_schema, NULL};

/* ---- statements ---- */

#define TOKEN_JSON \
    "json_build_object('id', t.id, 'name', t.name, 'scopes', t.scopes, 'created_at', " SQL_UTC(          \
        "t.created_at") ", 'expires_at', CASE WHEN t.expires_at IS NULL THEN NULL ELSE " SQL_UTC("t.expires_at") \
        " END, 'last_used_at', CASE WHEN t.last_used_at IS NULL THEN NULL ELSE " SQL_UTC("t.last_used_at") " END)"

static const db_stmt st_create = {"tokens_create",
                                  "INSERT INTO auth_tokens AS t (name, digest, scopes, expires_at)"
                                  " VALUES ($1, $2, $3::jsonb, now() + make_interval(secs => $4::int))"
                                  " RETURNING " TOKEN_JSON "::text",
                                  4};
static const db_stmt st_list = {"tokens_list",
                                "SELECT " TOKEN_JSON
                                "::text, t.id::text FROM auth_tokens t"
                                " WHERE t.id > $1::uuid ORDER BY t.id LIMIT $2::int",
                                2};
static const db_stmt st_get = {"tokens_get",
                               "SELECT " TOKEN_JSON "::text FROM auth_tokens t WHERE t.id = $1::uuid", 1};
static const db_stmt st_revoke = {"tokens_revoke", "DELETE FROM auth_tokens WHERE id = $1::uuid RETURNING id",
                                  1};

static const db_stmt *const tokens_statements[] = {&st_create, &st_list, &st_get, &st_revoke, NULL};

/* ---- scopes' areas ---- */

/* What each area's scopes take: every mode but this one and health is an
 * area of read and write with namespace patterns; these differ. */
static const scope_area special_areas[] = {
    {"metrics", true, false, false, false},
    {"file", false, true, false, false}, /* nothing to read, no namespaces */
    {"sql", true, true, true, true},     /* patterns name tables */
};
static const scope_area plain_area = {"", true, true, true, false};

/* The rules of area name, or NULL when no mode has that name. */
static const scope_area *area_of(const char *name) {
    for (size_t i = 0; i < COUNT_OF(special_areas); i++)
        if (strcmp(special_areas[i].name, name) == 0) return &special_areas[i];
    if (strcmp(name, "health") == 0 || strcmp(name, "tokens") == 0) return NULL;
    for (const mode_brief *b = mode_briefs(); b->name; b++)
        if (strcmp(b->name, name) == 0) return &plain_area;
    return NULL;
}

/* ---- inputs ---- */

#define IN_ID INPUT_UUID("id", INPUT_PATH, true)

enum { CREATE_NAME, CREATE_SCOPES, CREATE_EXPIRES, CREATE_N };
static const input_field create_input[CREATE_N] = {
    [CREATE_NAME] = {.name = "name",
                     .type = INPUT_STRING,
                     .in = INPUT_BODY,
                     .required = true,
                     .min = 1,
                     .max = 128,
                     .description = "what the token is for, 1-128 characters",
                     .example = "ci-agent"},
    [CREATE_SCOPES] = {.name = "scopes",
                       .type = INPUT_ANY,
                       .in = INPUT_BODY,
                       .required = true,
                       .kinds = INPUT_KIND_ARRAY,
                       .max = SCOPES_MAX,
                       .example = "[\"document:read:ci-*\"]",
                       .description = "1-64 scopes, each <area>:<access>[:<pattern>] (docs/security.md)"},
    [CREATE_EXPIRES] = {.name = "expires_in_seconds",
                        .type = INPUT_INTEGER,
                        .in = INPUT_BODY,
                        .min = 60,
                        .max = 31536000,
                        .dflt = -1,
                        .description = "omitted: the token never expires"},
};

enum { LIST_LIMIT, LIST_AFTER, LIST_N };
static const input_field list_input[LIST_N] = {
    [LIST_LIMIT] = INPUT_LIMIT,
    [LIST_AFTER] = INPUT_UUID("after", INPUT_QUERY, false),
};

static const input_field id_input[] = {IN_ID};

/* ---- outputs ---- */

#define OUT_TOKEN_COMMON                                                                                  \
    {.name = "id",                                                                                        \
     .type = OUT_STRING,                                                                                  \
     .format = "uuid",                                                                                    \
     .example = "\"0b5e0c4e-8a52-4d0e-9a43-5d1c2f3e4a5b\""},                                              \
        {.name = "name", .type = OUT_STRING, .example = "\"ci-agent\""},                                  \
        {.name = "scopes", .type = OUT_ARRAY, .item = OUT_STRING, .example = "[\"document:read:ci-*\"]"}, \
        OUT_TIME("created_at", 0), OUT_TIME("expires_at", OUT_NULLABLE)

static const output_field token_fields[] = {
    OUT_TOKEN_COMMON,
    OUT_TIME("last_used_at", OUT_NULLABLE),
};
static const output_shape token_out =
    OUTPUT_SHAPE("Token", "A scoped token, without its secret", token_fields);

static const output_field created_fields[] = {
    OUT_TOKEN_COMMON,
    OUT_TIME("last_used_at", OUT_NULLABLE),
    {.name = "token",
     .type = OUT_STRING,
     .example = "\"bk_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"",
     .description = "the secret: shown in this answer only"},
};
static const output_shape created_out =
    OUTPUT_SHAPE("TokenCreated", "A new scoped token, with its secret (shown once)", created_fields);

static const output_field page_fields[] = {OUTPUT_PAGE_FIELDS(token_out)};
static const output_shape page_out = OUTPUT_SHAPE("TokenPage", NULL, page_fields);

static const output_field revoked_fields[] = {
    {.name = "id",
     .type = OUT_STRING,
     .format = "uuid",
     .example = "\"0b5e0c4e-8a52-4d0e-9a43-5d1c2f3e4a5b\""},
    {.name = "revoked", .type = OUT_BOOLEAN, .example = "true"},
};
static const output_shape revoked_out = OUTPUT_SHAPE("TokenRevoked", NULL, revoked_fields);

static const output_field self_fields[] = {
    {.name = "id", .type = OUT_STRING, .example = "\"root\"", .description = "root, or the token's id"},
    {.name = "scopes", .type = OUT_ARRAY, .item = OUT_STRING, .example = "[\"*:write\"]"},
};
static const output_shape self_out = {.name = "TokenSelf",
                                      .description = "The token's own record (the root token: id and scopes)",
                                      .fields = self_fields,
                                      .nfields = COUNT_OF(self_fields),
                                      .open = true};

/* ---- handlers ---- */

/* POST /tokens: a new token's secret, `bk_` and 256 random bits in hex,
 * its digest stored. The scopes are checked (422) before the root check
 * (403), as every route's input is. */
static bool tokens_create(request *req, const input_value *in, reply *out, api_error *err) {
    scope parsed[SCOPES_MAX];
    size_t n;
    if (!scope_parse_list(in[CREATE_SCOPES].json, area_of, parsed, &n, err)) return false;
    if (!req->who.root) return api_fail(err, API_E_FORBIDDEN, "scope", "only the root token makes tokens");
    char secret[sizeof TOKEN_PREFIX + TOKEN_SECRET_HEX], digest[TOKEN_DIGEST_HEX + 1];
    memcpy(secret, TOKEN_PREFIX, strlen(TOKEN_PREFIX));
    if (!random_id_hex(secret + strlen(TOKEN_PREFIX), TOKEN_SECRET_HEX / 2))
        return API_INTERNAL(err, "no randomness for a token");
    token_store_digest(secret, strlen(secret), digest);
    char *scopes = json_dumps(in[CREATE_SCOPES].json, JSON_COMPACT);
    char expires[24];
    snprintf(expires, sizeof expires, "%lld", in[CREATE_EXPIRES].i);
    const char *params[] = {in[CREATE_NAME].s, digest, scopes, in[CREATE_EXPIRES].present ? expires : NULL};
    PGresult *res = db_query(req->pool, &st_create, params, err);
    free(scopes);
    if (res == NULL) return false;
    json_t *made = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
    if (made == NULL) return API_INTERNAL(err, "internal error reading the new token's record");
    json_object_set_new(made, "token", json_string(secret));
    char *text = json_dumps(made, JSON_COMPACT);
    if (text == NULL) abort();
    strbuf_puts(out->body, text);
    free(text);
    json_decref(made);
    out->status = 201;
    return true;
}

/* The 403 of a route that takes the root token. */
static bool root_only(const request *req, api_error *err) {
    if (req->who.root) return true;
    return api_fail(err, API_E_FORBIDDEN, "scope", "only the root token may list, read or revoke tokens");
}

static bool tokens_list(request *req, const input_value *in, reply *out, api_error *err) {
    if (!root_only(req, err)) return false;
    char fetch[24];
    snprintf(fetch, sizeof fetch, "%lld", in[LIST_LIMIT].i + 1);
    const char *params[] = {in[LIST_AFTER].s ? in[LIST_AFTER].s : "00000000-0000-0000-0000-000000000000",
                            fetch};
    PGresult *res = db_query(req->pool, &st_list, params, err);
    if (res == NULL) return false;
    reply_page(out, res, in[LIST_LIMIT].i);
    return true;
}

/* One token's record (id), or 404. */
static bool one_token(request *req, const char *id, reply *out, api_error *err) {
    const char *params[] = {id};
    PGresult *res = db_query(req->pool, &st_get, params, err);
    if (res == NULL) return false;
    if (PQntuples(res) == 0) return API_NOT_FOUND(err, "id", "token %s does not exist", id);
    strbuf_puts(out->body, PQgetvalue(res, 0, 0));
    return true;
}

static bool tokens_get(request *req, const input_value *in, reply *out, api_error *err) {
    return root_only(req, err) && one_token(req, in[0].s, out, err);
}

static bool tokens_revoke(request *req, const input_value *in, reply *out, api_error *err) {
    if (!root_only(req, err)) return false;
    const char *params[] = {in[0].s};
    PGresult *res = db_query(req->pool, &st_revoke, params, err);
    if (res == NULL) return false;
    if (PQntuples(res) == 0) return API_NOT_FOUND(err, "id", "token %s does not exist", in[0].s);
    strbuf_printf(out->body, "{\"id\":\"%s\",\"revoked\":true}", in[0].s);
    return true;
}

/* GET /tokens/self: any valid token's own record. */
static bool tokens_self(request *req, const input_value *in, reply *out, api_error *err) {
    (void)in;
    if (!req->who.root) return one_token(req, req->who.id, out, err);
    strbuf_puts(out->body, "{\"id\":\"root\",\"scopes\":[\"*:write\"]}");
    return true;
}

/* ---- routes ---- */

static const route tokens_routes[] = {
    {"POST", "/tokens", tokens_create, .summary = "Make a scoped token",
     .description = "Root token only. Makes a token that may do what its scopes allow; the secret (bk_...) "
                    "is in this answer only: the service keeps its SHA-256 digest. Every process of every "
                    "replica takes it within 2 s.",
     .input = create_input, .ninput = CREATE_N, .output = &created_out, .errors = API_BIT(FORBIDDEN),
     .created = true},
    {"GET", "/tokens", tokens_list, .summary = "List scoped tokens",
     .description = "Root token only. The scoped tokens without their secrets, with last_used_at (to the "
                    "minute), ordered by id, paginated.",
     .input = list_input, .ninput = LIST_N, .output = &page_out, .errors = API_BIT(FORBIDDEN)},
    {"GET", "/tokens/self", tokens_self, .summary = "This token's own record",
     .description = "Any valid token: its own record, so a client can tell what it may do; for the root "
                    "token {\"id\": \"root\", \"scopes\": [\"*:write\"]}.",
     .output = &self_out, .also = ROUTE_ANY_TOKEN},
    {"GET", "/tokens/{id}", tokens_get, .summary = "Read a scoped token",
     .description = "Root token only. One scoped token, without its secret.", .input = id_input, .ninput = 1,
     .output = &token_out, .errors = API_BIT(FORBIDDEN) | API_BIT(NOT_FOUND)},
    {"DELETE", "/tokens/{id}", tokens_revoke, .summary = "Revoke a scoped token",
     .description = "Root token only. Removes the token: every process of every replica refuses it within "
                    "2 s (401, like a wrong token).",
     .input = id_input, .ninput = 1, .output = &revoked_out,
     .errors = API_BIT(FORBIDDEN) | API_BIT(NOT_FOUND)},
};

const mode mode_tokens = {
    .name = "tokens",
    .url_prefix = "/tokens",
    .processes = 1,
    .migrations = tokens_migrations,
    .sentinel = &token_out,
    .sentinel_note = "Scoped tokens: each one's digest, name, scopes and expiry; never the token itself.",
    .routes = tokens_routes,
    .nroutes = COUNT_OF(tokens_routes),
    .statements = tokens_statements,
    .root_only = true,
};
