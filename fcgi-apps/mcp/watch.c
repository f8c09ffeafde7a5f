#define _POSIX_C_SOURCE 200809L
#include "watch.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "notify.h"
#include "pool.h"
#include "reply.h"
#include "mode.h"
#include "resources.h"

/* The document mode's notification on every committed write, its payload
 * the namespace (fcgi-apps/document.c, DOC_CHANNEL): what wakes its feed's
 * waiters wakes the watches. */
#define DOC_CHANNEL "backend_document"
/* Ours, its payload a session id: that session's subscriptions changed. */
#define SUB_CHANNEL "backend_mcp_subscriptions"

enum {
    WATCH_MAX = 64,      /* subscriptions per session */
    WATCH_TICK_MS = 200, /* how often a stream with a watch looks at its tickets */
    WATCH_PAGE = 1000,   /* changes read at once */
};

static const db_stmt sub_insert = {
    "mcp_subscription_insert",
    "WITH i AS (INSERT INTO mcp_subscriptions (session_id, uri, namespace, key, since)"
    " SELECT $1, $2, $3, $4, $5 WHERE (SELECT count(*) FROM mcp_subscriptions WHERE session_id = $1) < $6"
    " ON CONFLICT (session_id, uri) DO UPDATE SET since = mcp_subscriptions.since RETURNING 1)"
    " SELECT count(*), pg_notify('" SUB_CHANNEL "', $1) FROM i",
    6};
static const db_stmt sub_delete = {
    "mcp_subscription_delete",
    "WITH d AS (DELETE FROM mcp_subscriptions WHERE session_id = $1 AND uri = $2 RETURNING 1)"
    " SELECT count(*), pg_notify('" SUB_CHANNEL "', $1) FROM d",
    2};
static const db_stmt sub_load = {
    "mcp_subscription_load",
    "SELECT uri, namespace, key, since FROM mcp_subscriptions WHERE session_id = $1 ORDER BY uri LIMIT 64",
    1};

/* Reads a document or namespace URI into ns and key (key[0] == '\0': the
 * namespace). False for any other URI. */
static bool watchable(const char *uri, char ns[160], char key[288]) {
    strbuf *path = strbuf_new();
    bool ok = resources_path(uri, path) && strncmp(path->data, "/document/", 10) == 0 &&
              strchr(path->data, '?') == NULL && path->len < 400;
    if (ok) {
        const char *n = path->data + 10, *slash = strchr(n, '/');
        snprintf(ns, 160, "%.*s", (int)(slash ? (size_t)(slash - n) : strlen(n)), n);
        snprintf(key, 288, "%s", slash ? slash + 1 : "");
    }
    strbuf_free(path);
    return ok;
}

/* GET /document/{ns}/_changes?since=... through the route (h: whose
 * authorization): its parsed body (the caller decrefs) and status. */
static json_t *read_feed(const char *ns, const char *since, const call_headers *h, int *status) {
    char uri[400];
    snprintf(uri, sizeof uri, "/document/%s/_changes?since=%s&limit=%d", ns, since, WATCH_PAGE);
    reply r;
    reply_init(&r);
    tools_get(uri, h, &r);
    *status = r.status;
    json_t *body = json_loadb(r.body->data, r.body->len, 0, NULL);
    reply_release(&r);
    return body;
}

bool watch_subscribe(const char *sid, const char *uri, const call_headers *h, api_error *err) {
    char ns[160], key[288];
    if (!watchable(uri, ns, key))
        return API_INVALID(err, "uri", "only a document or a document namespace can be watched: %.200s", uri);
    int status;
    json_t *now = read_feed(ns, "now", h, &status);
    const char *since = json_string_value(json_object_get(now, "next"));
    bool ok = status == 200 && since != NULL;
    /* a feed the route refuses (outside the token's scopes, or a name it
     * does not take) is the client's to fix, not the server's failure */
    if (!ok && status >= 400 && status < 500)
        API_INVALID(err, "uri", "%.200s cannot be watched: its changes feed answered %d", uri, status);
    else if (!ok)
        API_DB_UNAVAILABLE(err, "the changes feed of %s cannot be read (%d)", ns, status);
    char max[16];
    snprintf(max, sizeof max, "%d", WATCH_MAX);
    const char *params[] = {sid, uri, ns, key[0] ? key : NULL, since, max};
    pool *p = pool_new();
    db_begin(g_config.db_timeout_ms);
    PGresult *res = ok ? db_query(p, &sub_insert, params, err) : NULL;
    ok = res != NULL;
    if (ok && strcmp(PQgetvalue(res, 0, 0), "0") == 0)
        ok = API_INVALID(err, "uri", "a session holds at most %d subscriptions", WATCH_MAX);
    pool_free(p);
    json_decref(now);
    return ok;
}

bool watch_unsubscribe(const char *sid, const char *uri, api_error *err) {
    const char *params[] = {sid, uri};
    pool *p = pool_new();
    db_begin(g_config.db_timeout_ms);
    bool ok = db_query(p, &sub_delete, params, err) != NULL;
    pool_free(p);
    return ok;
}

/* ---- a stream's watch ---- */

typedef struct subscription {
    char uri[480];
    char ns[160];
    char key[288]; /* "": the namespace */
    char since[24];
    notify_ticket ticket; /* on DOC_CHANNEL, the namespace */
    bool ticketed;        /* ticket valid (else: read every tick) */
} subscription;

struct watch {
    char sid[64];
    char *listen_id; /* a 2026-07-28 listen: its request's id as written (NULL: a session's stream) */
    char *authorization;
    notify_ticket sub_ticket; /* SUB_CHANNEL, the session */
    bool loaded, sub_ticketed;
    subscription subs[WATCH_MAX];
    int nsubs;
    /* between the stream's thread and the worker */
    subscription loaded_subs[WATCH_MAX];
    int nloaded;
    bool load_ok;
    subscription *reading; /* read_one's subscription */
    strbuf *events;
};

watch *watch_new(const char *sid, const char *authorization) {
    watch *w = calloc(1, sizeof *w);
    if (w == NULL) abort();
    snprintf(w->sid, sizeof w->sid, "%s", sid);
    if (authorization && (w->authorization = strdup(authorization)) == NULL) abort();
    return w;
}

void watch_free(watch *w) {
    if (w == NULL) return;
    free(w->listen_id);
    free(w->authorization);
    free(w);
}

/* On a worker: the session's subscriptions into w->loaded_subs. */
static void load(void *arg) {
    watch *w = arg;
    api_error err;
    const char *params[] = {w->sid};
    pool *p = pool_new();
    db_begin(g_config.db_timeout_ms);
    PGresult *res = db_query(p, &sub_load, params, &err);
    w->load_ok = res != NULL;
    w->nloaded = res ? PQntuples(res) : 0;
    for (int i = 0; i < w->nloaded; i++) {
        subscription *s = &w->loaded_subs[i];
        memset(s, 0, sizeof *s);
        snprintf(s->uri, sizeof s->uri, "%s", PQgetvalue(res, i, 0));
        snprintf(s->ns, sizeof s->ns, "%s", PQgetvalue(res, i, 1));
        snprintf(s->key, sizeof s->key, "%s", PQgetvalue(res, i, 2));
        snprintf(s->since, sizeof s->since, "%s", PQgetvalue(res, i, 3));
    }
    pool_free(p);
}

/* Takes the subscriptions just loaded, keeping the cursor of each one
 * this stream already follows (it is at least as far as the stored one). */
static void adopt(watch *w) {
    for (int i = 0; i < w->nloaded; i++)
        for (int j = 0; j < w->nsubs; j++)
            if (strcmp(w->loaded_subs[i].uri, w->subs[j].uri) == 0)
                snprintf(w->loaded_subs[i].since, sizeof w->loaded_subs[i].since, "%s", w->subs[j].since);
    memcpy(w->subs, w->loaded_subs, sizeof w->subs[0] * (size_t)w->nloaded);
    w->nsubs = w->nloaded;
}

/* Appends a listen's _meta member (its subscription id) to out. */
static void put_listen_meta(strbuf *out, const watch *w) {
    strbuf_puts(out, ",\"_meta\":{\"io.modelcontextprotocol/subscriptionId\":");
    strbuf_puts(out, w->listen_id);
    strbuf_puts(out, "}");
}

/* Appends one notifications/resources/updated event for uri (a listen's
 * carries its subscription id). */
static void put_updated(strbuf *out, const watch *w, const char *uri) {
    strbuf_puts(out,
                "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/resources/updated\","
                "\"params\":{\"uri\":");
    strbuf_json_string(out, uri, strlen(uri));
    if (w->listen_id) put_listen_meta(out, w);
    strbuf_puts(out, "}}\n\n");
}

/* On a worker: reads w->reading's feed from its cursor; appends the event
 * when a write touched it, and moves the cursor on. A feed compaction
 * overtook (410 gone) resumes from its resume cursor, with an event: the
 * resource may have changed. */
static void read_one(void *arg) {
    watch *w = arg;
    subscription *s = w->reading;
    call_headers h = {w->authorization, NULL, NULL};
    int status;
    json_t *page = read_feed(s->ns, s->since, &h, &status);
    const char *next = json_string_value(json_object_get(page, status == 410 ? "resume" : "next"));
    bool touched = status == 410 && next != NULL;
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(page, "items"), i, item) {
        const char *k = json_string_value(json_object_get(item, "key"));
        touched = touched || s->key[0] == '\0' || (k != NULL && strcmp(k, s->key) == 0);
    }
    if (touched) put_updated(w->events, w, s->uri);
    if ((status == 200 || status == 410) && next != NULL) snprintf(s->since, sizeof s->since, "%s", next);
    json_decref(page);
}

/* ---- a 2026-07-28 listen ---- */

watch *watch_listen(json_t *uris, const char *authorization, const char *id, size_t id_len) {
    watch *w = watch_new("", authorization);
    if ((w->listen_id = strndup(id, id_len)) == NULL) abort();
    size_t i;
    json_t *u;
    json_array_foreach(uris, i, u) {
        const char *uri = json_string_value(u);
        subscription *s = &w->subs[w->nsubs];
        if (w->nsubs == WATCH_MAX || uri == NULL || strlen(uri) >= sizeof s->uri ||
            !watchable(uri, s->ns, s->key))
            continue;
        snprintf(s->uri, sizeof s->uri, "%s", uri);
        w->nsubs++;
    }
    return w;
}

/* On a worker: each subscription of a listen starts at its namespace's
 * latest change; false (into w->load_ok) when a feed cannot be read. */
static void listen_start(void *arg) {
    watch *w = arg;
    call_headers h = {w->authorization, NULL, NULL};
    w->load_ok = true;
    for (int i = 0; i < w->nsubs; i++) {
        int status;
        json_t *now = read_feed(w->subs[i].ns, "now", &h, &status);
        const char *next = json_string_value(json_object_get(now, "next"));
        if (status == 200 && next != NULL)
            snprintf(w->subs[i].since, sizeof w->subs[i].since, "%s", next);
        else
            w->load_ok = false;
        json_decref(now);
    }
}

bool watch_listen_ack(watch *w, strbuf *out, watch_runner runner, void *ctx) {
    runner(listen_start, w, ctx);
    if (!w->load_ok) return false;
    w->loaded = true;
    w->sub_ticketed = true; /* a listen's subscriptions never change */
    strbuf_puts(out,
                "event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":"
                "\"notifications/subscriptions/acknowledged\",\"params\":{\"notifications\":"
                "{\"resourceSubscriptions\":[");
    for (int i = 0; i < w->nsubs; i++) {
        if (i) strbuf_puts(out, ",");
        strbuf_json_string(out, w->subs[i].uri, strlen(w->subs[i].uri));
    }
    strbuf_puts(out, "]}");
    put_listen_meta(out, w);
    strbuf_puts(out, "}}\n\n");
    return true;
}

void watch_listen_end(const watch *w, strbuf *out) {
    strbuf_puts(out, "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":");
    strbuf_puts(out, w->listen_id);
    strbuf_puts(
        out,
        ",\"result\":{\"resultType\":\"complete\",\"_meta\":{\"io.modelcontextprotocol/subscriptionId\":");
    strbuf_puts(out, w->listen_id);
    strbuf_printf(out,
                  ",\"io.modelcontextprotocol/serverInfo\":{\"name\":\"backend\",\"version\":\"%s\"}}}}\n\n",
                  BACKEND_VERSION);
}

long watch_poll(watch *w, strbuf *out, watch_runner runner, void *ctx) {
    bool reload = w->listen_id == NULL && (!w->loaded || !w->sub_ticketed || notify_wait(&w->sub_ticket, 0));
    if (reload) {
        w->sub_ticketed = notify_watch(SUB_CHANNEL, w->sid, &w->sub_ticket);
        runner(load, w, ctx);
        if (w->load_ok) adopt(w);
        w->loaded = w->load_ok;
        for (int i = 0; i < w->nsubs; i++) w->subs[i].ticketed = false;
    }
    w->events = out;
    for (int i = 0; i < w->nsubs; i++) {
        subscription *s = &w->subs[i];
        if (s->ticketed && !notify_wait(&s->ticket, 0)) continue;
        /* the ticket first: a commit after the read wakes the next poll */
        s->ticketed = notify_watch(DOC_CHANNEL, s->ns, &s->ticket);
        w->reading = s;
        runner(read_one, w, ctx);
    }
    w->events = NULL;
    bool reliable = w->sub_ticketed;
    for (int i = 0; i < w->nsubs; i++) reliable = reliable && w->subs[i].ticketed;
    return reliable ? WATCH_TICK_MS : NOTIFY_POLL_MS;
}
