#define _POSIX_C_SOURCE 200809L
#include "session.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "random_id.h"

typedef struct session {
    char id[SESSION_ID_LEN + 1]; /* "" for a free slot */
    double last_used;            /* monotonic seconds */
    int streams;                 /* open GET streams */
} session;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_changed; /* a session ended, or the process stops */
static session *g_sessions;      /* SESSIONS_MAX slots, made by sessions_init */
static long g_idle_seconds = 3600;
static bool g_stopping;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void sessions_init(long idle_seconds) {
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&g_changed, &attr);
    pthread_condattr_destroy(&attr);
    g_idle_seconds = idle_seconds;
    g_sessions = calloc(SESSIONS_MAX, sizeof *g_sessions);
    if (g_sessions == NULL) abort();
}

void sessions_free(void) {
    free(g_sessions);
    g_sessions = NULL;
}

/* Returns the live session called id, or NULL; ends (frees) it first when
 * it has been idle too long. Called with the lock held. */
static session *find(const char *id) {
    if (id == NULL || strlen(id) != SESSION_ID_LEN) return NULL;
    for (size_t i = 0; i < SESSIONS_MAX; i++) {
        session *s = &g_sessions[i];
        if (s->id[0] == '\0' || memcmp(s->id, id, SESSION_ID_LEN) != 0) continue;
        if (s->streams == 0 && now_s() - s->last_used > (double)g_idle_seconds) {
            s->id[0] = '\0';
            return NULL;
        }
        return s;
    }
    return NULL;
}

bool session_create(char id[SESSION_ID_LEN + 1]) {
    if (!random_id_hex(id, SESSION_ID_LEN / 2)) return false;
    pthread_mutex_lock(&g_lock);
    /* A free slot, else an expired one, else the least recently used one
     * without a stream. */
    session *slot = NULL;
    double now = now_s();
    for (size_t i = 0; i < SESSIONS_MAX; i++) {
        session *s = &g_sessions[i];
        if (s->id[0] == '\0' || (s->streams == 0 && now - s->last_used > (double)g_idle_seconds)) {
            slot = s;
            break;
        }
        if (s->streams == 0 && (slot == NULL || s->last_used < slot->last_used)) slot = s;
    }
    if (slot != NULL) {
        memcpy(slot->id, id, SESSION_ID_LEN + 1);
        slot->last_used = now;
        slot->streams = 0;
    }
    pthread_mutex_unlock(&g_lock);
    return slot != NULL;
}

bool session_touch(const char *id) {
    pthread_mutex_lock(&g_lock);
    session *s = find(id);
    if (s) s->last_used = now_s();
    pthread_mutex_unlock(&g_lock);
    return s != NULL;
}

bool session_end(const char *id) {
    pthread_mutex_lock(&g_lock);
    session *s = find(id);
    if (s) {
        s->id[0] = '\0';
        pthread_cond_broadcast(&g_changed);
    }
    pthread_mutex_unlock(&g_lock);
    return s != NULL;
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
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&g_lock);
    bool live = !g_stopping && find(id) != NULL;
    while (live && pthread_cond_timedwait(&g_changed, &g_lock, &until) == 0)
        live = !g_stopping && find(id) != NULL;
    live = live && !g_stopping && find(id) != NULL;
    pthread_mutex_unlock(&g_lock);
    return live;
}

void sessions_shutdown(void) {
    pthread_mutex_lock(&g_lock);
    g_stopping = true;
    pthread_cond_broadcast(&g_changed);
    pthread_mutex_unlock(&g_lock);
}
