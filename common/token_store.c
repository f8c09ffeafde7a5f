#define _POSIX_C_SOURCE 200809L
#include "token_store.h"

#include <openssl/sha.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "notify.h"

typedef struct token_entry {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    char id[40];
    long long expires;                /* Unix seconds; 0: never */
    long long used_minute;            /* last_used_at as Unix minutes, as last read */
    _Atomic long long written_minute; /* this process wrote last_used_at then */
    scope *scopes;
    size_t nscopes;
} token_entry;

typedef struct token_set {
    token_entry *e;
    size_t n;
} token_set;

static pthread_rwlock_t g_set_lock = PTHREAD_RWLOCK_INITIALIZER;
static pthread_mutex_t g_refresh_lock = PTHREAD_MUTEX_INITIALIZER;
static token_set *g_set;
static double g_loaded_ms;
static unsigned long long g_seen_count;
static bool g_seen_valid;

/* The live tokens, by digest; expired ones are refused at lookup too. */
static const db_stmt st_live = {
    "token_store_live",
    "SELECT digest, id::text, scopes::text, coalesce(extract(epoch FROM expires_at)::bigint, 0)::text,"
    " coalesce((extract(epoch FROM last_used_at) / 60)::bigint, 0)::text"
    " FROM auth_tokens WHERE expires_at IS NULL OR expires_at > now() ORDER BY digest",
    0};
static const db_stmt st_used = {
    "token_store_used",
    "UPDATE auth_tokens SET last_used_at = date_trunc('minute', now()) WHERE id = $1::uuid"
    " AND (last_used_at IS NULL OR last_used_at < date_trunc('minute', now()))",
    1};

void token_store_digest(const char *tok, size_t n, char *hex) {
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)tok, n, d);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) {
        hex[2 * i] = "0123456789abcdef"[d[i] >> 4];
        hex[2 * i + 1] = "0123456789abcdef"[d[i] & 15];
    }
    hex[TOKEN_DIGEST_HEX] = '\0';
}

/* Stored scopes were checked when the token was made: any area's rules do
 * for reading them back. */
static const scope_area *any_area(const char *name) {
    static const scope_area any = {"", true, true, true, false};
    (void)name;
    return &any;
}

static void set_free(token_set *s) {
    if (s == NULL) return;
    for (size_t i = 0; i < s->n; i++) free(s->e[i].scopes);
    free(s->e);
    free(s);
}

/* One row of st_live into e. False when it cannot be read (skipped). */
static bool entry_of(const PGresult *res, int row, token_entry *e) {
    const char *hex = PQgetvalue(res, row, 0);
    if (strlen(hex) != TOKEN_DIGEST_HEX) return false;
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) return false;
        e->digest[i] = (unsigned char)v;
    }
    snprintf(e->id, sizeof e->id, "%s", PQgetvalue(res, row, 1));
    e->expires = atoll(PQgetvalue(res, row, 3));
    e->used_minute = atoll(PQgetvalue(res, row, 4));
    atomic_init(&e->written_minute, 0);
    json_t *arr = json_loads(PQgetvalue(res, row, 2), 0, NULL);
    e->scopes = calloc(SCOPES_MAX, sizeof *e->scopes);
    if (e->scopes == NULL) abort();
    api_error err;
    bool ok = arr != NULL && scope_parse_list(arr, any_area, e->scopes, &e->nscopes, &err);
    json_decref(arr);
    if (!ok) free(e->scopes);
    return ok;
}

/* Reads the live tokens. NULL when the query failed (err set); an empty
 * set when the table does not exist yet (no token was ever made). */
static token_set *set_read(api_error *err) {
    pool *p = pool_new();
    db_begin(g_config.db_timeout_ms);
    PGresult *res = db_query(p, &st_live, NULL, err);
    token_set *s = calloc(1, sizeof *s);
    if (s == NULL) abort();
    if (res == NULL && strcmp(err->sqlstate, "42P01") != 0) {
        free(s);
        s = NULL;
    } else if (res != NULL && PQntuples(res) > 0) {
        s->e = calloc((size_t)PQntuples(res), sizeof *s->e);
        if (s->e == NULL) abort();
        for (int i = 0; i < PQntuples(res); i++)
            if (entry_of(res, i, &s->e[s->n])) s->n++;
    }
    pool_free(p);
    /* The connection goes back to the process's spares: the caller may be
     * a thread that never queries again (backend-mcp's HTTP threads),
     * whose connection would otherwise outlive it, unclosed. */
    db_park();
    return s;
}

/* True when the set must be read again: never read, older than the
 * interval, or a notification came since it was read. Takes the ticket
 * (*t, *watched) a refresh records. */
static bool stale(notify_ticket *t, bool *watched) {
    *watched = notify_watch(TOKEN_STORE_CHANNEL, "", t);
    if (g_set == NULL || clock_ms() - g_loaded_ms >= TOKEN_STORE_REFRESH_MS) return true;
    return *watched && (!g_seen_valid || t->count != g_seen_count);
}

/* Reads the set again when it is stale (one thread at a time; the others
 * go on with the set in hand, or wait for the first one). A failed read keeps the last set (and is tried
 * again after the interval). */
static void maybe_refresh(void) {
    /* Another thread is reading the set: use the one in hand rather than
     * queue behind a query that may take the whole database budget, unless
     * there is none yet. */
    if (pthread_mutex_trylock(&g_refresh_lock) != 0) {
        pthread_rwlock_rdlock(&g_set_lock);
        bool have = g_set != NULL;
        pthread_rwlock_unlock(&g_set_lock);
        if (have) return;
        pthread_mutex_lock(&g_refresh_lock);
    }
    notify_ticket t;
    bool watched;
    if (stale(&t, &watched)) {
        api_error err;
        token_set *s = set_read(&err);
        g_loaded_ms = clock_ms();
        g_seen_valid = watched;
        g_seen_count = t.count;
        if (s == NULL) {
            log_msg(LOG_WARN, "cannot read the scoped tokens: %s", err.detail);
        } else {
            pthread_rwlock_wrlock(&g_set_lock);
            token_set *old = g_set;
            g_set = s;
            pthread_rwlock_unlock(&g_set_lock);
            set_free(old);
        }
    }
    pthread_mutex_unlock(&g_refresh_lock);
}

static int by_digest(const void *key, const void *elem) {
    return memcmp(key, ((const token_entry *)elem)->digest, SHA256_DIGEST_LENGTH);
}

/* Records that the token id was used now, at most once a minute. */
static void mark_used(const char *id) {
    pool *p = pool_new();
    api_error err;
    const char *params[] = {id};
    db_begin(g_config.db_timeout_ms);
    if (db_query(p, &st_used, params, &err) == NULL)
        log_msg(LOG_WARN, "cannot record a token's use: %s", err.detail);
    pool_free(p);
    db_park(); /* as set_read does */
}

bool token_store_lookup(const char *tok, size_t n, pool *p, auth_who *who, api_error *err) {
    maybe_refresh();
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)tok, n, d);
    long long now = (long long)time(NULL), minute = now / 60;
    bool found = false, expired = false, write_use = false;
    pthread_rwlock_rdlock(&g_set_lock);
    token_entry *e = g_set ? bsearch(d, g_set->e, g_set->n, sizeof *g_set->e, by_digest) : NULL;
    if (e != NULL && e->expires != 0 && e->expires <= now) {
        expired = true;
    } else if (e != NULL) {
        found = true;
        snprintf(who->id, sizeof who->id, "%s", e->id);
        who->nscopes = e->nscopes;
        if (p != NULL) {
            scope *copy = pool_alloc(p, e->nscopes * sizeof *copy);
            memcpy(copy, e->scopes, e->nscopes * sizeof *copy);
            who->scopes = copy;
        }
        write_use = e->used_minute < minute && atomic_exchange(&e->written_minute, minute) != minute;
    }
    pthread_rwlock_unlock(&g_set_lock);
    if (write_use) mark_used(who->id);
    if (expired) return API_UNAUTHORIZED(err, "the token has expired");
    if (!found) return API_UNAUTHORIZED(err, "wrong bearer token");
    return true;
}

bool token_store_id_live(const char *id) {
    maybe_refresh();
    long long now = (long long)time(NULL);
    bool live = false;
    pthread_rwlock_rdlock(&g_set_lock);
    for (size_t i = 0; g_set != NULL && i < g_set->n && !live; i++)
        live = strcmp(g_set->e[i].id, id) == 0 && (g_set->e[i].expires == 0 || g_set->e[i].expires > now);
    pthread_rwlock_unlock(&g_set_lock);
    return live;
}
