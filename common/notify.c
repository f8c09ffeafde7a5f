#define _POSIX_C_SOURCE 200809L
#include "notify.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "config.h"
#include "db.h"
#include "log.h"

enum {
    NOTIFY_BUCKETS = 256,
    NOTIFY_CHANNELS = 8,      /* a process's modes use a handful */
    NOTIFY_CHANNEL_LEN = 64,  /* LISTEN names are identifiers */
    LISTENER_SLICE_MS = 100,  /* how soon the listener sees a new channel */
    LISTENER_RETRY_MS = 1000, /* after its connection failed */
    WATCH_START_MS = 1000,    /* a first watch waits this long for the LISTEN */
    /* An idle listening connection to a frozen host (a machine that hangs
     * rather than refuses) never errors: the listener asks the server
     * every LISTENER_PROBE_MS, and a probe not answered in
     * LISTENER_PROBE_BUDGET_MS drops the connection for the next host. */
    LISTENER_PROBE_MS = 1000,
    LISTENER_PROBE_BUDGET_MS = 2000,
};

typedef struct bucket {
    unsigned long long count;
    pthread_cond_t moved;
} bucket;

typedef struct channel {
    char name[NOTIFY_CHANNEL_LEN];
    bool listening; /* the listener's LISTEN on it has run */
} channel;

/* Everything below is guarded by g_lock. */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static bucket g_buckets[NOTIFY_BUCKETS];
static channel g_channels[NOTIFY_CHANNELS];
static int g_nchannels;
static bool g_listener_started;
static bool g_stopping;
static pthread_cond_t g_state; /* a channel became listened to, or stopping */
static pthread_t g_listener;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

/* The conditions wait on the monotonic clock, as clock_ms runs. */
static void init_conds(void) {
    for (int i = 0; i < NOTIFY_BUCKETS; i++) clock_cond_init(&g_buckets[i].moved);
    clock_cond_init(&g_state);
}

/* FNV-1a over channel, a NUL and key. */
static unsigned bucket_of(const char *channel_name, const char *key) {
    unsigned h = 2166136261u;
    for (const char *c = channel_name; *c; c++) h = (h ^ (unsigned char)*c) * 16777619u;
    h = (h ^ 0u) * 16777619u;
    for (const char *c = key; *c; c++) h = (h ^ (unsigned char)*c) * 16777619u;
    return h % NOTIFY_BUCKETS;
}

/* The absolute monotonic time until_ms (a clock_ms reading) stands for. */
static struct timespec deadline_of(long long until_ms) {
    return clock_deadline(until_ms - (long long)clock_ms());
}

/* Moves every bucket (caller holds g_lock): each waiter reads again. */
static void move_all(void) {
    for (int i = 0; i < NOTIFY_BUCKETS; i++) {
        g_buckets[i].count++;
        pthread_cond_broadcast(&g_buckets[i].moved);
    }
}

/* db_wait_notifications' callback: counts one notification. */
static void on_notification(const char *channel_name, const char *payload, void *arg) {
    (void)arg;
    unsigned b = bucket_of(channel_name, payload);
    pthread_mutex_lock(&g_lock);
    g_buckets[b].count++;
    pthread_cond_broadcast(&g_buckets[b].moved);
    pthread_mutex_unlock(&g_lock);
}

/* The listener's connection is gone (or never came): no channel is
 * listened to, and every waiter reads again. */
static void listener_down(void) {
    pthread_mutex_lock(&g_lock);
    for (int i = 0; i < g_nchannels; i++) g_channels[i].listening = false;
    move_all();
    pthread_mutex_unlock(&g_lock);
}

/* LISTENs on the channels registered and not yet listened to. Returns
 * false when the connection failed. */
static bool listen_new(void) {
    for (;;) {
        char name[NOTIFY_CHANNEL_LEN] = "";
        pthread_mutex_lock(&g_lock);
        for (int i = 0; i < g_nchannels && name[0] == '\0'; i++)
            if (!g_channels[i].listening) memcpy(name, g_channels[i].name, sizeof name);
        pthread_mutex_unlock(&g_lock);
        if (name[0] == '\0') return true;
        api_error err;
        db_begin(g_config.db_timeout_ms);
        if (!db_listen(name, &err)) {
            log_msg(LOG_WARN, "cannot listen for notifications: %s", err.detail);
            return false;
        }
        pthread_mutex_lock(&g_lock);
        for (int i = 0; i < g_nchannels; i++)
            if (strcmp(g_channels[i].name, name) == 0) g_channels[i].listening = true;
        /* Whatever was notified while nobody listened is lost: every
         * waiter reads again. */
        move_all();
        pthread_cond_broadcast(&g_state);
        pthread_mutex_unlock(&g_lock);
    }
}

/* Sleeps ms unless the process stops first. */
static void listener_pause(long ms) {
    struct timespec until = deadline_of((long long)clock_ms() + ms);
    pthread_mutex_lock(&g_lock);
    while (!g_stopping && pthread_cond_timedwait(&g_state, &g_lock, &until) != ETIMEDOUT) {}
    pthread_mutex_unlock(&g_lock);
}

static bool stopping(void) {
    pthread_mutex_lock(&g_lock);
    bool s = g_stopping;
    pthread_mutex_unlock(&g_lock);
    return s;
}

/* The listener thread: keeps one connection listening on every registered
 * channel and counts what arrives, until notify_stop. */
static void *listener_main(void *arg) {
    (void)arg;
    long long last_probe = (long long)clock_ms();
    while (!stopping()) {
        if (!listen_new()) {
            listener_down();
            db_disconnect();
            listener_pause(LISTENER_RETRY_MS);
            continue;
        }
        api_error err;
        int got = db_wait_notifications(LISTENER_SLICE_MS, on_notification, NULL, &err);
        if (got == 0 && (long long)clock_ms() - last_probe >= LISTENER_PROBE_MS) {
            last_probe = (long long)clock_ms();
            db_begin(LISTENER_PROBE_BUDGET_MS);
            /* A failed probe dropped the connection; one replaced under
             * the probe (reconnected) listens to nothing. */
            bool alive = db_command("SELECT 1", &err);
            if (alive && !db_listening()) snprintf(err.detail, sizeof err.detail, "reconnected");
            if (!alive || !db_listening()) got = -1;
        }
        if (got < 0) {
            log_msg(LOG_WARN, "the notification listener lost its connection: %s", err.detail);
            listener_down();
            /* The parked connections went to the same server (a frozen one
             * never says so): the waiters' next statements connect anew. */
            db_close_spares();
        }
    }
    db_disconnect();
    return NULL;
}

bool notify_watch(const char *channel_name, const char *key, notify_ticket *t) {
    if (!db_can_listen() || strlen(channel_name) >= NOTIFY_CHANNEL_LEN) return false;
    pthread_once(&g_once, init_conds);
    pthread_mutex_lock(&g_lock);
    if (g_stopping) {
        pthread_mutex_unlock(&g_lock);
        return false;
    }
    int found = -1;
    for (int i = 0; i < g_nchannels; i++)
        if (strcmp(g_channels[i].name, channel_name) == 0) found = i;
    if (found < 0 && g_nchannels < NOTIFY_CHANNELS) {
        found = g_nchannels++;
        memcpy(g_channels[found].name, channel_name, strlen(channel_name) + 1);
        g_channels[found].listening = false;
    }
    if (found < 0) {
        pthread_mutex_unlock(&g_lock);
        return false; /* more channels than expected: poll */
    }
    if (!g_listener_started) {
        g_listener_started = pthread_create(&g_listener, NULL, listener_main, NULL) == 0;
        if (!g_listener_started) log_msg(LOG_ERROR, "cannot start the notification listener");
    }
    struct timespec until = deadline_of((long long)clock_ms() + WATCH_START_MS);
    while (g_listener_started && !g_channels[found].listening && !g_stopping &&
           pthread_cond_timedwait(&g_state, &g_lock, &until) != ETIMEDOUT) {}
    bool ok = g_channels[found].listening && !g_stopping;
    t->bucket = bucket_of(channel_name, key);
    t->count = g_buckets[t->bucket].count;
    pthread_mutex_unlock(&g_lock);
    return ok;
}

bool notify_listening(void) {
    pthread_mutex_lock(&g_lock);
    bool up = g_listener_started && !g_stopping;
    for (int i = 0; i < g_nchannels && up; i++) up = g_channels[i].listening;
    pthread_mutex_unlock(&g_lock);
    return up;
}

bool notify_wait(const notify_ticket *t, long long until_ms) {
    db_park();
    pthread_once(&g_once, init_conds);
    if (t == NULL) {
        long long poll_until = (long long)clock_ms() + NOTIFY_POLL_MS;
        if (poll_until < until_ms) until_ms = poll_until;
    }
    struct timespec until = deadline_of(until_ms);
    pthread_mutex_lock(&g_lock);
    pthread_cond_t *cond = t != NULL ? &g_buckets[t->bucket].moved : &g_state;
    bool moved = false;
    while (!g_stopping) {
        if (t != NULL && g_buckets[t->bucket].count != t->count) {
            moved = true;
            break;
        }
        if (pthread_cond_timedwait(cond, &g_lock, &until) == ETIMEDOUT) break;
    }
    pthread_mutex_unlock(&g_lock);
    return moved;
}

void notify_stop(void) {
    pthread_once(&g_once, init_conds);
    pthread_mutex_lock(&g_lock);
    g_stopping = true;
    for (int i = 0; i < NOTIFY_BUCKETS; i++) pthread_cond_broadcast(&g_buckets[i].moved);
    pthread_cond_broadcast(&g_state);
    bool started = g_listener_started;
    g_listener_started = false;
    pthread_mutex_unlock(&g_lock);
    if (started) pthread_join(g_listener, NULL);
}
