#define _POSIX_C_SOURCE 200809L
#include "resources.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "config.h"
#include "db.h"
#include "pool.h"

#define SCHEME "backend://"

/* The templates, in the order resources/templates/list gives them. Each
 * names the HTTP GET that reads it (docs/mcp.md, "Resources"). */
static const struct {
    const char *uri, *name, *title, *description;
} g_templates[] = {
    {SCHEME "document/{namespace}/{key}", "document", "A document",
     "The latest version of a document: GET /document/{namespace}/{key}."},
    {SCHEME "document/{namespace}/{key}/versions/{version}", "document-version", "A document version",
     "One version of a document: GET /document/{namespace}/{key}?version={version}."},
    {SCHEME "document/{namespace}", "document-namespace", "A document namespace",
     "The namespace's live keys, the first page of GET /document/{namespace} with its next cursor."},
    {SCHEME "queue/{namespace}", "queue", "A work queue's counts", "GET /queue/{namespace}."},
    {SCHEME "sql/{table}", "sql-table", "A table's definition", "GET /sql/tables/{table}."},
    {SCHEME "sql/{table}/rows/{id}", "sql-row", "A table row", "GET /sql/tables/{table}/rows/{id}."},
};
enum { NTEMPLATES = sizeof g_templates / sizeof g_templates[0] };

void resources_templates(strbuf *out, const char *version) {
    bool titles = strcmp(version, "2025-06-18") >= 0;
    strbuf_puts(out, "\"resourceTemplates\":[");
    for (size_t i = 0; i < NTEMPLATES; i++) {
        strbuf_printf(out, "%s{\"uriTemplate\":\"%s\",\"name\":\"%s\",", i ? "," : "", g_templates[i].uri,
                      g_templates[i].name);
        if (titles) strbuf_printf(out, "\"title\":\"%s\",", g_templates[i].title);
        strbuf_printf(out, "\"description\":\"%s\",\"mimeType\":\"application/json\"}",
                      g_templates[i].description);
    }
    strbuf_puts(out, "]");
}

/* ---- the list ---- */

/* Every document namespace, queue namespace and table after the cursor
 * (kind, name), in that order: kind 1 documents, 2 queues, 3 tables. A
 * namespace is one that has a version (document_heads keeps a row per
 * key, tombstones too), or an item or a pause. */
/* True in SQL when name N of kind K may be read by a token whose filter
 * for that kind is EX (its names) and PX (its prefixes), auth_read_filter:
 * both NULL for a token that reads every one. */
#define READABLE(K, N, EX, PX)                                 \
    "(k <> " K " OR " EX "::text[] IS NULL OR " N " = ANY(" EX \
    "::text[]) OR EXISTS (SELECT 1"                            \
    " FROM unnest(" PX "::text[]) AS x(y) WHERE starts_with(" N ", x.y)))"

static const db_stmt list_stmt = {
    "mcp_resources_list",
    "SELECT k, n FROM ("
    " SELECT DISTINCT 1 AS k, namespace AS n FROM document_heads"
    " UNION ALL SELECT 2, namespace FROM queue_items UNION SELECT 2, namespace FROM queue_paused"
    " UNION ALL SELECT 3, name FROM sql__tables) s"
    " WHERE (k, n) > ($1::int, $2::text)"
    /* only what the token may read (docs/security.md): the cursor, taken
     * from the last row, then never names anything else */
    " AND " READABLE("1", "n", "$4", "$5") " AND " READABLE("2", "n", "$6", "$7") " AND " READABLE(
        "3", "n", "$8", "$9") " ORDER BY k, n LIMIT $3::int",
    9};

/* Reads a cursor this server gave ("<kind>:<name>", kind 1 to 3) into
 * kind and name (borrowed from cursor). */
static bool cursor_parse(const char *cursor, char kind[2], const char **name) {
    if (cursor == NULL) {
        kind[0] = '0';
        *name = "";
        return true;
    }
    if (cursor[0] < '1' || cursor[0] > '3' || cursor[1] != ':') return false;
    kind[0] = cursor[0];
    *name = cursor + 2;
    return true;
}

/* Appends one resource of kind k ('1' to '3') named n. */
static void put_resource(strbuf *out, char k, const char *n) {
    static const char *const paths[] = {"document/", "queue/", "sql/"};
    static const char *const what[] = {"Document namespace ", "Queue ", "Table "};
    int i = k - '1';
    strbuf *uri = strbuf_new();
    strbuf_printf(uri, SCHEME "%s%s", paths[i], n);
    strbuf_puts(out, "{\"uri\":");
    strbuf_json_string(out, uri->data, uri->len);
    strbuf_puts(out, ",\"name\":");
    strbuf_json_string(out, uri->data + strlen(SCHEME), uri->len - strlen(SCHEME));
    strbuf_puts(out, ",\"description\":\"");
    strbuf_puts(out, what[i]);
    strbuf_puts(out, "\",\"mimeType\":\"application/json\"}");
    strbuf_free(uri);
}

/* Who the token of authorization is, in p; NULL when it is no longer
 * valid (revoked since the request's check: it may read nothing). */
static const auth_who *who_of(const char *authorization, pool *p) {
    auth_who *who = pool_alloc(p, sizeof *who);
    api_error err;
    return authorization != NULL && auth_identify(authorization, p, who, &err) ? who : NULL;
}

/* Sets ex[0] and ex[1] to the statement parameters that keep what who may
 * read of area (auth_read_filter's names and prefixes, in p; docs/security.md:
 * a list shows only what the token's scopes let it read): both NULL for a
 * token that reads every one; empty lists for no valid token. */
static void filter_of(const auth_who *who, const char *area, pool *p, const char **ex) {
    ex[0] = ex[1] = NULL;
    if (who == NULL)
        ex[0] = ex[1] = "{}";
    else
        auth_read_filter(who, area, p, &ex[0], &ex[1]);
}

/* The area of a resource kind ('1' to '3'). */
static const char *kind_area(char k) { return k == '1' ? "document" : k == '2' ? "queue" : "sql"; }

bool resources_list(const char *authorization, const char *cursor, strbuf *out, api_error *err) {
    char kind[2] = {0, 0};
    const char *after;
    if (!cursor_parse(cursor, kind, &after))
        return API_INVALID(err, "cursor", "cursor is not one this server gave");
    char limit[16];
    snprintf(limit, sizeof limit, "%d", RESOURCES_PAGE + 1);
    pool *p = pool_new();
    const auth_who *who = who_of(authorization, p);
    const char *params[9] = {kind, after, limit};
    for (char k = '1'; k <= '3'; k++) filter_of(who, kind_area(k), p, &params[3 + 2 * (k - '1')]);
    db_begin(g_config.db_timeout_ms);
    PGresult *res = db_query(p, &list_stmt, params, err);
    if (res == NULL) {
        pool_free(p);
        return false;
    }
    int rows = PQntuples(res), shown = rows > RESOURCES_PAGE ? RESOURCES_PAGE : rows;
    strbuf_puts(out, "\"resources\":[");
    for (int i = 0; i < shown; i++) {
        if (i) strbuf_puts(out, ",");
        put_resource(out, PQgetvalue(res, i, 0)[0], PQgetvalue(res, i, 1));
    }
    strbuf_puts(out, "]");
    if (rows > RESOURCES_PAGE) {
        strbuf *next = strbuf_new();
        strbuf_printf(next, "%s:%s", PQgetvalue(res, shown - 1, 0), PQgetvalue(res, shown - 1, 1));
        strbuf_puts(out, ",\"nextCursor\":");
        strbuf_json_string(out, next->data, next->len);
        strbuf_free(next);
    }
    pool_free(p);
    return true;
}

/* ---- reading ---- */

enum { URI_SEGMENTS_MAX = 5 };

/* Splits what follows the scheme into at most URI_SEGMENTS_MAX segments
 * (borrowed into copy, which the caller frees). A segment must be non-empty,
 * start with a letter or digit, and hold only the characters a namespace,
 * key, table, version or id may hold: anything else (a query, a fragment,
 * a percent escape, "_changes") names nothing. Returns the count, or 0. */
static size_t split(const char *uri, char **copy, const char *seg[URI_SEGMENTS_MAX]) {
    *copy = NULL;
    if (strncmp(uri, SCHEME, strlen(SCHEME)) != 0) return 0;
    if ((*copy = strdup(uri + strlen(SCHEME))) == NULL) abort();
    size_t n = 0;
    for (char *s = *copy;; n++) {
        char *slash = strchr(s, '/');
        if (slash) *slash = '\0';
        bool ok = n < URI_SEGMENTS_MAX && s[0] != '\0' &&
                  strchr(
                      "abcdefghijklmnopqrstuvwxyz"
                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
                      s[0]) != NULL;
        ok = ok &&
             strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:@~-") == strlen(s);
        if (!ok) return 0;
        seg[n] = s;
        if (slash == NULL) return n + 1;
        s = slash + 1;
    }
}

bool resources_path(const char *uri, strbuf *path) {
    char *copy;
    const char *s[URI_SEGMENTS_MAX];
    size_t n = split(uri, &copy, s);
    bool ok = true;
    if (n == 2 && strcmp(s[0], "document") == 0)
        strbuf_printf(path, "/document/%s", s[1]);
    else if (n == 3 && strcmp(s[0], "document") == 0)
        strbuf_printf(path, "/document/%s/%s", s[1], s[2]);
    else if (n == 5 && strcmp(s[0], "document") == 0 && strcmp(s[3], "versions") == 0)
        strbuf_printf(path, "/document/%s/%s?version=%s", s[1], s[2], s[4]);
    else if (n == 2 && strcmp(s[0], "queue") == 0)
        strbuf_printf(path, "/queue/%s", s[1]);
    else if (n == 2 && strcmp(s[0], "sql") == 0)
        strbuf_printf(path, "/sql/tables/%s", s[1]);
    else if (n == 4 && strcmp(s[0], "sql") == 0 && strcmp(s[2], "rows") == 0)
        strbuf_printf(path, "/sql/tables/%s/rows/%s", s[1], s[3]);
    else
        ok = false;
    free(copy);
    return ok;
}

void resources_read(const char *uri, const call_headers *h, reply *r) {
    strbuf *path = strbuf_new();
    if (resources_path(uri, path)) {
        tools_get(path->data, h, r);
    } else {
        api_error err;
        API_NOT_FOUND(&err, "uri", "%.200s matches none of this server's resource templates", uri);
        reply_error(r, &err);
    }
    strbuf_free(path);
}

/* ---- completion ---- */

/* The values an argument can take that start with $1 (and for keys, of
 * the namespace $2), by name, one more than a completion shows (to tell
 * whether more follow). A key is a live one. */
/* Each keeps only the names the token may read ($3, $4: filter_of; for a
 * key, its namespace $2). */
#define MAY_READ(N)                          \
    " AND ($3::text[] IS NULL OR " N         \
    " = ANY($3::text[]) OR EXISTS (SELECT 1" \
    " FROM unnest($4::text[]) AS x(y) WHERE starts_with(" N ", x.y)))"
static const db_stmt complete_document_ns = {
    "mcp_complete_document_ns",
    "SELECT DISTINCT namespace FROM document_heads WHERE namespace >= $1 AND left(namespace, length($1)) = $1"
    " AND $2::text IS NULL" MAY_READ("namespace") " ORDER BY 1 LIMIT 101",
    4};
static const db_stmt complete_key = {
    "mcp_complete_key",
    "SELECT key FROM document_heads WHERE namespace = $2 AND NOT deleted AND key >= $1"
    " AND left(key, length($1)) = $1" MAY_READ("$2::text") " ORDER BY key LIMIT 101",
    4};
static const db_stmt complete_queue_ns = {
    "mcp_complete_queue_ns",
    "SELECT n FROM (SELECT namespace AS n FROM queue_items UNION SELECT namespace FROM queue_paused) s"
    " WHERE n >= $1 AND left(n, length($1)) = $1 AND $2::text IS NULL" MAY_READ("n") " ORDER BY 1 LIMIT 101",
    4};
static const db_stmt complete_table = {
    "mcp_complete_table",
    "SELECT name FROM sql__tables WHERE name >= $1 AND left(name, length($1)) = $1 AND $2::text IS "
    "NULL" MAY_READ("name") " ORDER BY 1 LIMIT 101",
    4};

/* The template called uri: its index in g_templates, or -1. */
static int template_index(const char *uri) {
    for (size_t i = 0; i < NTEMPLATES; i++)
        if (strcmp(g_templates[i].uri, uri) == 0) return (int)i;
    return -1;
}

/* The statement that completes argument name of template t, or NULL for an
 * argument with nothing to offer (a version, an id). *has: the template
 * has that argument. */
static const db_stmt *completer(int t, const char *name, bool *has) {
    char placeholder[64];
    snprintf(placeholder, sizeof placeholder, "{%.60s}", name);
    *has = strstr(g_templates[t].uri, placeholder) != NULL;
    if (!*has) return NULL;
    bool queue = strncmp(g_templates[t].uri, SCHEME "queue/", strlen(SCHEME "queue/")) == 0;
    if (strcmp(name, "namespace") == 0) return queue ? &complete_queue_ns : &complete_document_ns;
    if (strcmp(name, "key") == 0) return &complete_key;
    if (strcmp(name, "table") == 0) return &complete_table;
    return NULL;
}

/* Appends {"values":[...],"hasMore":...} from res (NULL: none). */
static void put_completion(strbuf *out, PGresult *res) {
    int rows = res ? PQntuples(res) : 0,
        shown = rows > RESOURCES_COMPLETE_MAX ? RESOURCES_COMPLETE_MAX : rows;
    strbuf_puts(out, "\"completion\":{\"values\":[");
    for (int i = 0; i < shown; i++) {
        if (i) strbuf_puts(out, ",");
        strbuf_json_string(out, PQgetvalue(res, i, 0), (size_t)PQgetlength(res, i, 0));
    }
    strbuf_printf(out, "],\"hasMore\":%s}", rows > shown ? "true" : "false");
}

bool resources_complete(const char *authorization, const char *template_uri, const char *name,
                        const char *value, json_t *context, strbuf *out, api_error *err) {
    int t = template_index(template_uri);
    if (t < 0)
        return API_NOT_FOUND(err, "ref", "%.200s is not one of this server's resource templates",
                             template_uri);
    bool has;
    const db_stmt *st = completer(t, name, &has);
    if (!has) return API_NOT_FOUND(err, "argument", "%.200s has no argument %.60s", template_uri, name);
    /* a key is completed within the namespace the client has chosen */
    const char *ns = json_string_value(json_object_get(context, "namespace"));
    if (st == &complete_key && ns == NULL) st = NULL;
    if (st == NULL) {
        put_completion(out, NULL);
        return true;
    }
    pool *p = pool_new();
    const char *area = st == &complete_table ? "sql" : st == &complete_queue_ns ? "queue" : "document";
    const char *params[4] = {value, st == &complete_key ? ns : NULL};
    filter_of(who_of(authorization, p), area, p, &params[2]);
    db_begin(g_config.db_timeout_ms);
    PGresult *res = db_query(p, st, params, err);
    if (res != NULL) put_completion(out, res);
    pool_free(p);
    return res != NULL;
}
