#define _POSIX_C_SOURCE 200809L
#include "session.h"

#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "random_id.h"

typedef struct session {
    char id[SESSION_ID_LEN + 1]; /* "" for a free slot */
    char version[SESSION_VERSION_MAX];
    double last_used; /* monotonic seconds */
    double validated; /* when the store last said it is live */
    int streams;      /* open GET streams */
} session;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_changed; /* a session ended, or the process stops */
static session *g_sessions;      /* SESSIONS_MAX slots, made by sessions_init */
static long g_idle_seconds = 3600;
static const session_store *g_store;
static bool g_stopping;

static double now_s(void) { return clock_ms() / 1000.0; }

void sessions_init(long idle_seconds, const session_store *store) {
    clock_cond_init(&g_changed);
    g_idle_seconds = idle_seconds;
    g_store = store;
    g_stopping = false;
    g_sessions = calloc(SESSIONS_MAX, sizeof *g_sessions);
    if (g_sessions == NULL) abort();
}

void sessions_free(void) {
    free(g_sessions);
    g_sessions = NULL;
    g_store = NULL;
}

/* Returns the session called id held here, or NULL; without a store, ends
 * (frees) it first when it has been idle too long (with one, the store
 * decides). Called with the lock held. */
static session *find(const char *id) {
    if (id == NULL || strlen(id) != SESSION_ID_LEN) return NULL;
    for (size_t i = 0; i < SESSIONS_MAX; i++) {
        session *s = &g_sessions[i];
        if (s->id[0] == '\0' || memcmp(s->id, id, SESSION_ID_LEN) != 0) continue;
        if (g_store == NULL && s->streams == 0 && now_s() - s->last_used > (double)g_idle_seconds) {
            s->id[0] = '\0';
            return NULL;
        }
        return s;
    }
    return NULL;
}

/* A slot for a new entry: a free one, else an expired one, else the least
 * recently used one without a stream; NULL when every one has a stream.
 * Called with the lock held. */
static session *free_slot(double now) {
    session *slot = NULL;
    for (size_t i = 0; i < SESSIONS_MAX; i++) {
        session *s = &g_sessions[i];
        if (s->id[0] == '\0' || (s->streams == 0 && now - s->last_used > (double)g_idle_seconds)) return s;
        if (s->streams == 0 && (slot == NULL || s->last_used < slot->last_used)) slot = s;
    }
    return slot;
}

/* Holds id as live at version, validated now (an entry made if needed).
 * Returns false when no slot is free. Called with the lock held. */
static bool hold(const char *id, const char *version, double now) {
    session *s = find(id);
    if (s == NULL && (s = free_slot(now)) != NULL) {
        memcpy(s->id, id, SESSION_ID_LEN + 1);
        s->streams = 0;
    }
    if (s == NULL) return false;
    snprintf(s->version, sizeof s->version, "%s", version);
    s->last_used = now;
    s->validated = now;
    return true;
}

/* Drops id from the table and wakes its streams. Called with the lock held. */
static void drop(const char *id) {
    session *s = find(id);
    if (s) {
        s->id[0] = '\0';
        pthread_cond_broadcast(&g_changed);
    }
}

session_status session_create(char id[SESSION_ID_LEN + 1], const char *version) {
    if (!random_id_hex(id, SESSION_ID_LEN / 2)) return SESSION_GONE;
    if (g_store && !g_store->insert(g_store->ctx, id, version)) return SESSION_STORE_DOWN;
    pthread_mutex_lock(&g_lock);
    bool held = hold(id, version, now_s());
    pthread_mutex_unlock(&g_lock);
    /* With a store, a session the cache has no room for is still made. */
    return held || g_store ? SESSION_LIVE : SESSION_GONE;
}

session_status session_touch(const char *id, char version[SESSION_VERSION_MAX]) {
    if (id == NULL || strlen(id) != SESSION_ID_LEN) return SESSION_GONE;
    double now = now_s();
    pthread_mutex_lock(&g_lock);
    session *s = find(id);
    bool fresh = s && (g_store == NULL || now - s->validated < SESSION_CACHE_MS / 1000.0);
    if (fresh) {
        s->last_used = now;
        if (version) memcpy(version, s->version, SESSION_VERSION_MAX);
    }
    pthread_mutex_unlock(&g_lock);
    if (fresh) return SESSION_LIVE;
    if (g_store == NULL) return SESSION_GONE;
    char v[SESSION_VERSION_MAX] = "";
    session_status st = g_store->lookup(g_store->ctx, id, v);
    pthread_mutex_lock(&g_lock);
    if (st == SESSION_LIVE)
        hold(id, v, now_s());
    else if (st == SESSION_GONE)
        drop(id);
    pthread_mutex_unlock(&g_lock);
    if (st == SESSION_LIVE && version) memcpy(version, v, SESSION_VERSION_MAX);
    return st;
}

session_status session_end(const char *id) {
    session_status st = SESSION_GONE;
    if (g_store) st = g_store->remove(g_store->ctx, id);
    pthread_mutex_lock(&g_lock);
    if (g_store == NULL && find(id)) st = SESSION_LIVE;
    if (st != SESSION_STORE_DOWN) drop(id);
    pthread_mutex_unlock(&g_lock);
    return st;
}

bool session_stream_open(const char *id) {
    pthread_mutex_lock(&g_lock);
    session *s = g_stopping ? NULL : find(id);
    if (s) {
        s->streams++;
        s->last_used = now_s();
    }
    pthread_mutex_unlock(&g_lock);
    return s != NULL;
}

void session_stream_close(const char *id) {
    pthread_mutex_lock(&g_lock);
    session *s = find(id);
    if (s && s->streams > 0) {
        s->streams--;
        s->last_used = now_s();
    }
    pthread_mutex_unlock(&g_lock);
}

bool session_stream_wait(const char *id, long timeout_ms) {
    struct timespec until = clock_deadline(timeout_ms);
    pthread_mutex_lock(&g_lock);
    bool live = !g_stopping && find(id) != NULL;
    while (live && pthread_cond_timedwait(&g_changed, &g_lock, &until) == 0)
        live = !g_stopping && find(id) != NULL;
    live = live && !g_stopping && find(id) != NULL;
    pthread_mutex_unlock(&g_lock);
    return live;
}

int sessions_recheck(void) {
    if (g_store == NULL) return 0;
    /* The ids first (under the lock), then the store (without it). */
    enum { BATCH = 256 };
    char(*ids)[SESSION_ID_LEN + 1] = malloc(BATCH * sizeof *ids);
    if (ids == NULL) abort();
    int n = 0;
    pthread_mutex_lock(&g_lock);
    for (size_t i = 0; i < SESSIONS_MAX && n < BATCH; i++)
        if (g_sessions[i].id[0] && g_sessions[i].streams > 0)
            memcpy(ids[n++], g_sessions[i].id, SESSION_ID_LEN + 1);
    pthread_mutex_unlock(&g_lock);
    for (int i = 0; i < n; i++) {
        char v[SESSION_VERSION_MAX];
        session_status st = g_store->lookup(g_store->ctx, ids[i], v);
        pthread_mutex_lock(&g_lock);
        session *s = find(ids[i]);
        if (st == SESSION_GONE)
            drop(ids[i]);
        else if (st == SESSION_LIVE && s)
            s->validated = now_s();
        pthread_mutex_unlock(&g_lock);
    }
    free(ids);
    return n;
}

void sessions_shutdown(void) {
    pthread_mutex_lock(&g_lock);
    g_stopping = true;
    pthread_cond_broadcast(&g_changed);
    pthread_mutex_unlock(&g_lock);
}

long sessions_live(void) {
    long n = 0;
    pthread_mutex_lock(&g_lock);
    double now = now_s();
    for (size_t i = 0; g_sessions != NULL && i < SESSIONS_MAX; i++) {
        const session *s = &g_sessions[i];
        if (s->id[0] != '\0' && (s->streams > 0 || now - s->last_used <= (double)g_idle_seconds)) n++;
    }
    pthread_mutex_unlock(&g_lock);
    return n;
}

/* The value of a lower-case hex digit, or -1. */
static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

void session_bind(const char *id, const char *token_key, char out[SESSION_ID_LEN + 1]) {
    /* "-" is no session's id (they are hex): an id of another shape
     * names none, as it did before it was bound */
    bool hex = strlen(id) == SESSION_ID_LEN;
    for (size_t i = 0; hex && i < SESSION_ID_LEN; i++) hex = hex_value(id[i]) >= 0;
    if (!hex) {
        snprintf(out, SESSION_ID_LEN + 1, "-");
        return;
    }
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)token_key, strlen(token_key), d);
    for (size_t i = 0; i < SESSION_ID_LEN; i++) {
        int mask = (i % 2 == 0) ? d[i / 2] >> 4 : d[i / 2] & 15;
        out[i] = "0123456789abcdef"[hex_value(id[i]) ^ mask];
    }
    out[SESSION_ID_LEN] = '\0';
}
