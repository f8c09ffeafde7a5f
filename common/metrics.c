#define _POSIX_C_SOURCE 200809L
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "http_status.h"
#include "log.h"

/* Bounded labels: these methods and "other"; the statuses of the one
 * status table (http_status.h) and "other". */
static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"};
enum {
    MX_SLOTS = 128,
    MX_METHODS = sizeof methods / sizeof methods[0],
    MX_STATUSES = 48,
    MX_MODE_NAME = 24,
    MX_MODES = 32,
};
/* Upper bounds of the duration buckets, in microseconds (0.5 ms to 10 s);
 * the last bucket is +Inf. */
static const uint64_t bucket_us[] = {500,    1000,   2500,   5000,    10000,   25000,   50000,
                                     100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};
static const char *const bucket_le[] = {"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
                                        "0.25",   "0.5",   "1",      "2.5",   "5",    "10",    "+Inf"};
enum { MX_BUCKETS = sizeof bucket_le / sizeof bucket_le[0] };

typedef struct slot {
    _Atomic int pid;         /* the owner; 0: none (it stopped cleanly) */
    char mode[MX_MODE_NAME]; /* set once, when the slot is first taken */
    _Atomic uint64_t requests[MX_METHODS][MX_STATUSES];
    _Atomic uint64_t buckets[MX_BUCKETS]; /* per bucket, not cumulative */
    _Atomic uint64_t sum_us;
    _Atomic uint64_t count;
    _Atomic int64_t db_connections; /* gauges: the owner's, counted while it runs */
    _Atomic int64_t sessions;
    /* The mode's published gauges (metrics_publish), under a sequence
     * lock: the owner alone writes (seq odd meanwhile), a scrape copies
     * and retries when seq moved. */
    _Atomic uint64_t board_seq;
    _Atomic int64_t board_at;  /* CLOCK_MONOTONIC seconds of the publish; 0: none */
    _Atomic int64_t board_ttl; /* seconds it stays valid */
    _Atomic uint32_t board_len;
    char board[METRICS_BOARD_BYTES];
} slot;

typedef struct shared {
    uint64_t magic; /* the layout: another build's file is started afresh */
    slot slots[MX_SLOTS];
} shared;

#define MX_MAGIC (0x6d65747269637300ULL ^ (uint64_t)sizeof(shared) ^ ((uint64_t)MX_STATUSES << 40))

static shared *g_shared;
static slot g_local; /* without a shared file: this process only */
static _Atomic(slot *) g_slot;

static bool owner_alive(int pid) { return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM); }

/* Opens (creating or starting afresh) the run folder's metrics file and
 * maps it; NULL when there is no run folder or it cannot be had. */
static shared *map_file(int *fd_out) {
    const char *dir = getenv("BACKEND_SOCKETS");
    if (dir == NULL || dir[0] != '/') return NULL;
    char path[4096];
    snprintf(path, sizeof path, "%s/metrics.shm", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        log_msg(LOG_WARN, "metrics: cannot open %s: %s; this process counts alone", path, strerror(errno));
        return NULL;
    }
    flock(fd, LOCK_EX);
    struct stat st;
    uint64_t magic = 0;
    if (fstat(fd, &st) != 0 || st.st_size != (off_t)sizeof(shared) ||
        pread(fd, &magic, sizeof magic, 0) != 8 || magic != MX_MAGIC) {
        /* New, or another build's layout: start from zero. */
        magic = MX_MAGIC;
        if (ftruncate(fd, 0) != 0 || ftruncate(fd, sizeof(shared)) != 0 || pwrite(fd, &magic, 8, 0) != 8) {
            log_msg(LOG_WARN, "metrics: cannot size %s: %s", path, strerror(errno));
            flock(fd, LOCK_UN);
            close(fd);
            return NULL;
        }
    }
    void *p = mmap(NULL, sizeof(shared), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        log_msg(LOG_WARN, "metrics: cannot map %s: %s", path, strerror(errno));
        flock(fd, LOCK_UN);
        close(fd);
        return NULL;
    }
    *fd_out = fd; /* still locked: the caller takes its slot, then unlocks */
    return p;
}

/* Under the file lock: a slot of this mode whose owner has gone (its
 * counters carry on), else a slot never used. */
static slot *claim(shared *sh, const char *mode_name) {
    slot *fresh = NULL;
    for (int i = 0; i < MX_SLOTS; i++) {
        slot *s = &sh->slots[i];
        if (s->mode[0] == '\0') {
            if (fresh == NULL) fresh = s;
            continue;
        }
        if (strncmp(s->mode, mode_name, MX_MODE_NAME - 1) == 0 && !owner_alive(atomic_load(&s->pid))) {
            atomic_store(&s->db_connections, 0);
            atomic_store(&s->sessions, 0);
            /* An owner killed mid-publish left seq odd and the text torn:
             * the board is dropped, and the new owner publishes afresh. */
            atomic_store(&s->board_at, 0);
            atomic_store(&s->board_seq, (atomic_load(&s->board_seq) | 1) + 1);
            atomic_store(&s->pid, (int)getpid());
            return s;
        }
    }
    if (fresh == NULL) return NULL;
    snprintf(fresh->mode, sizeof fresh->mode, "%s", mode_name);
    atomic_store(&fresh->pid, (int)getpid());
    return fresh;
}

void metrics_init(const char *mode_name) {
    if (atomic_load(&g_slot) != NULL) return;
    int fd = -1;
    shared *sh = map_file(&fd);
    slot *s = NULL;
    if (sh != NULL) {
        s = claim(sh, mode_name);
        flock(fd, LOCK_UN);
        close(fd);
        if (s == NULL)
            log_msg(LOG_WARN, "metrics: all %d slots are taken; this process counts alone", MX_SLOTS);
        g_shared = sh;
    }
    if (s == NULL) {
        snprintf(g_local.mode, sizeof g_local.mode, "%s", mode_name);
        atomic_store(&g_local.pid, (int)getpid());
        s = &g_local;
    }
    atomic_store(&g_slot, s);
}

void metrics_release(void) {
    slot *s = atomic_load(&g_slot);
    if (s != NULL && s != &g_local) atomic_store(&s->pid, 0);
}

static slot *my_slot(void) {
    slot *s = atomic_load(&g_slot);
    return s ? s : &g_local;
}

static size_t method_index(const char *method) {
    for (size_t i = 0; i + 1 < MX_METHODS; i++)
        if (method && strcmp(method, methods[i]) == 0) return i;
    return MX_METHODS - 1;
}

static size_t status_index(int status) {
    for (size_t i = 0; i < http_statuses_count && i + 1 < MX_STATUSES; i++)
        if (http_statuses[i].code == status) return i;
    return MX_STATUSES - 1;
}

/* make bench builds the service a second time with -DBACKEND_NO_METRICS
 * (bin-nometrics/, never shipped) and measures both, so that what counting
 * costs a request is a number: the same code, with this call doing
 * nothing. */
#ifdef BACKEND_NO_METRICS
#define METRICS_COUNT_REQUESTS 0
#else
#define METRICS_COUNT_REQUESTS 1
#endif

void metrics_observe(const char *method, int status, double duration_ms) {
    if (!METRICS_COUNT_REQUESTS) return;
    slot *s = my_slot();
    atomic_fetch_add_explicit(&s->requests[method_index(method)][status_index(status)], 1,
                              memory_order_relaxed);
    uint64_t us = duration_ms > 0 ? (uint64_t)(duration_ms * 1000.0) : 0;
    size_t b = 0;
    while (b < MX_BUCKETS - 1 && us > bucket_us[b]) b++;
    atomic_fetch_add_explicit(&s->buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->sum_us, us, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
}

void metrics_db_connections_add(int delta) {
    atomic_fetch_add_explicit(&my_slot()->db_connections, delta, memory_order_relaxed);
}

void metrics_sessions_set(long n) { atomic_store_explicit(&my_slot()->sessions, n, memory_order_relaxed); }

/* ---- gauges a mode publishes ---- */

static int64_t now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts); /* one clock for every process */
    return (int64_t)ts.tv_sec + 1;       /* never 0, which means none */
}

void metrics_publish(const char *text, size_t len, long ttl_seconds) {
    slot *s = my_slot();
    if (len > METRICS_BOARD_BYTES) {
        log_msg(LOG_WARN, "metrics: %zu bytes of gauges to publish, over %d: not published", len,
                METRICS_BOARD_BYTES);
        return;
    }
    uint64_t seq = atomic_load(&s->board_seq);
    atomic_store(&s->board_seq, seq | 1);
    atomic_thread_fence(memory_order_release);
    memcpy(s->board, text, len);
    atomic_store(&s->board_len, (uint32_t)len);
    atomic_store(&s->board_ttl, ttl_seconds);
    atomic_store(&s->board_at, now_s());
    atomic_store_explicit(&s->board_seq, (seq | 1) + 1, memory_order_release);
}

bool metrics_publish_due(long every_seconds) {
    slot *mine = my_slot();
    int64_t last = atomic_load(&mine->board_at);
    for (int i = 0; g_shared != NULL && i < MX_SLOTS; i++) {
        slot *s = &g_shared->slots[i];
        if (s == mine || strncmp(s->mode, mine->mode, MX_MODE_NAME) != 0) continue;
        int64_t at = atomic_load(&s->board_at);
        if (at > last) last = at;
    }
    return last == 0 || now_s() - last >= every_seconds;
}

void metrics_label_value(strbuf *sb, const char *v) {
    strbuf_puts(sb, "\"");
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            strbuf_printf(sb, "\\%c", *v);
        else if (*v == '\n')
            strbuf_puts(sb, "\\n");
        else
            strbuf_append(sb, v, 1);
    }
    strbuf_puts(sb, "\"");
}

/* Appends s's board when it is whole and still valid; false when not. */
static bool append_board(strbuf *sb, slot *s) {
    char *copy = malloc(METRICS_BOARD_BYTES);
    if (copy == NULL) abort();
    bool ok = false;
    for (int tries = 0; tries < 8 && !ok; tries++) {
        uint64_t before = atomic_load_explicit(&s->board_seq, memory_order_acquire);
        if (before & 1) continue;
        int64_t at = atomic_load(&s->board_at), ttl = atomic_load(&s->board_ttl);
        uint32_t len = atomic_load(&s->board_len);
        if (at == 0 || now_s() - at > ttl || len > METRICS_BOARD_BYTES) break;
        memcpy(copy, s->board, len);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load(&s->board_seq) != before) continue;
        strbuf_append(sb, copy, len);
        if (len > 0 && copy[len - 1] != '\n') strbuf_puts(sb, "\n");
        ok = true;
    }
    free(copy);
    return ok;
}

/* ---- the exposition: every slot, summed by mode ---- */

typedef struct by_mode {
    char name[MX_MODE_NAME];
    uint64_t requests[MX_METHODS][MX_STATUSES];
    uint64_t buckets[MX_BUCKETS];
    uint64_t sum_us, count;
    long processes, db_connections, sessions;
    slot *board; /* the slot that published last, if any did */
    int64_t board_at;
} by_mode;

static void add_slot(by_mode *m, slot *s) {
    for (size_t i = 0; i < MX_METHODS; i++)
        for (size_t j = 0; j < MX_STATUSES; j++)
            m->requests[i][j] += atomic_load_explicit(&s->requests[i][j], memory_order_relaxed);
    for (size_t b = 0; b < MX_BUCKETS; b++)
        m->buckets[b] += atomic_load_explicit(&s->buckets[b], memory_order_relaxed);
    m->sum_us += atomic_load(&s->sum_us);
    m->count += atomic_load(&s->count);
    int64_t at = atomic_load(&s->board_at);
    if (at > m->board_at) {
        m->board_at = at;
        m->board = s;
    }
    if (owner_alive(atomic_load(&s->pid))) {
        m->processes++;
        m->db_connections += (long)atomic_load(&s->db_connections);
        m->sessions += (long)atomic_load(&s->sessions);
    }
}

/* Mode names are the registry's ([a-z0-9_-]): no escaping is needed, but
 * anything else is refused rather than written into a label. */
static bool label_safe(const char *s) {
    return s[0] != '\0' && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == strlen(s);
}

static void help(strbuf *sb, const char *name, const char *type, const char *text) {
    strbuf_printf(sb, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

void metrics_render(strbuf *sb) {
    by_mode *modes = calloc(MX_MODES, sizeof *modes);
    if (modes == NULL) abort();
    size_t n = 0;
    slot *mine = my_slot();
    for (int i = 0; i <= MX_SLOTS; i++) {
        slot *s =
            i < MX_SLOTS ? (g_shared ? &g_shared->slots[i] : NULL) : (mine == &g_local ? &g_local : NULL);
        if (s == NULL || !label_safe(s->mode)) continue;
        size_t k = 0;
        while (k < n && strcmp(modes[k].name, s->mode) != 0) k++;
        if (k == n) {
            if (n == MX_MODES) continue;
            snprintf(modes[n++].name, MX_MODE_NAME, "%s", s->mode);
        }
        add_slot(&modes[k], s);
    }
    help(sb, "backend_http_requests_total", "counter", "Requests answered, by mode, method and status.");
    for (size_t k = 0; k < n; k++)
        for (size_t i = 0; i < MX_METHODS; i++)
            for (size_t j = 0; j < MX_STATUSES; j++) {
                if (modes[k].requests[i][j] == 0) continue;
                char status[16];
                if (j < http_statuses_count && j + 1 < MX_STATUSES)
                    snprintf(status, sizeof status, "%d", http_statuses[j].code);
                else
                    snprintf(status, sizeof status, "other");
                strbuf_printf(sb,
                              "backend_http_requests_total{mode=\"%s\",method=\"%s\",status=\"%s\"} %llu\n",
                              modes[k].name, methods[i], status, (unsigned long long)modes[k].requests[i][j]);
            }
    help(sb, "backend_http_request_duration_seconds", "histogram",
         "Time from the request's arrival in the mode process to its answer, by mode.");
    for (size_t k = 0; k < n; k++) {
        uint64_t cum = 0;
        for (size_t b = 0; b < MX_BUCKETS; b++) {
            cum += modes[k].buckets[b];
            strbuf_printf(sb, "backend_http_request_duration_seconds_bucket{mode=\"%s\",le=\"%s\"} %llu\n",
                          modes[k].name, bucket_le[b], (unsigned long long)cum);
        }
        strbuf_printf(sb, "backend_http_request_duration_seconds_sum{mode=\"%s\"} %.6f\n", modes[k].name,
                      (double)modes[k].sum_us / 1e6);
        strbuf_printf(sb, "backend_http_request_duration_seconds_count{mode=\"%s\"} %llu\n", modes[k].name,
                      (unsigned long long)cum);
    }
    help(sb, "backend_processes", "gauge", "Processes of each mode running now.");
    for (size_t k = 0; k < n; k++)
        strbuf_printf(sb, "backend_processes{mode=\"%s\"} %ld\n", modes[k].name, modes[k].processes);
    help(sb, "backend_db_connections", "gauge", "PostgreSQL connections open now, by mode.");
    for (size_t k = 0; k < n; k++)
        strbuf_printf(sb, "backend_db_connections{mode=\"%s\"} %ld\n", modes[k].name,
                      modes[k].db_connections);
    help(sb, "backend_sessions", "gauge", "Client sessions held now, by mode (the MCP endpoint's).");
    for (size_t k = 0; k < n; k++)
        strbuf_printf(sb, "backend_sessions{mode=\"%s\"} %ld\n", modes[k].name, modes[k].sessions);
    for (size_t k = 0; k < n; k++)
        if (modes[k].board != NULL) append_board(sb, modes[k].board);
    free(modes);
}
