#define _POSIX_C_SOURCE 200809L
#include "abuse.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

enum {
    AB_ENTRIES = 2048,        /* addresses tracked at once */
    AB_PROBE = 64,            /* slots looked at per address */
    AB_ADDR = ABUSE_ADDR_MAX, /* an IPv6 address's text fits */
    AB_WINDOW = 60,           /* seconds of failed tokens remembered */
};

typedef struct entry {
    char addr[AB_ADDR];          /* "" for a free entry */
    int64_t last_seen;           /* seconds */
    int64_t fail_sec[AB_WINDOW]; /* ring by second: failures at that second */
    uint32_t fail_count[AB_WINDOW];
    int64_t rps_sec; /* requests in the current second */
    uint32_t rps_count;
} entry;

typedef struct table {
    uint64_t magic;
    pthread_mutex_t lock; /* process-shared and robust: a process killed
                             holding it does not wedge the others */
    entry entries[AB_ENTRIES];
} table;

#define AB_MAGIC (0x6162757365000000ULL ^ (uint64_t)sizeof(table))

static table *g_table;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void lock_init(pthread_mutex_t *m) {
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(m, &a);
    pthread_mutexattr_destroy(&a);
}

/* The run folder's table, created or started afresh under the file's lock;
 * this process's own when there is none. */
static void open_table(void) {
    const char *dir = getenv("BACKEND_SOCKETS");
    if (dir != NULL && dir[0] == '/') {
        char path[4096];
        snprintf(path, sizeof path, "%s/abuse.shm", dir);
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd >= 0) {
            flock(fd, LOCK_EX);
            struct stat st;
            uint64_t magic = 0;
            bool fresh = fstat(fd, &st) != 0 || st.st_size != (off_t)sizeof(table) ||
                         pread(fd, &magic, sizeof magic, 0) != 8 || magic != AB_MAGIC;
            if (fresh && (ftruncate(fd, 0) != 0 || ftruncate(fd, sizeof(table)) != 0)) fd = (close(fd), -1);
            void *p =
                fd < 0 ? MAP_FAILED : mmap(NULL, sizeof(table), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            if (p != MAP_FAILED) {
                table *t = p;
                if (fresh) {
                    lock_init(&t->lock);
                    t->magic = AB_MAGIC;
                }
                g_table = t;
            }
            if (fd >= 0) {
                flock(fd, LOCK_UN);
                close(fd);
            }
        }
        if (g_table == NULL)
            log_msg(LOG_WARN, "abuse limits: cannot share %s; this process limits alone", path);
    }
    if (g_table == NULL) {
        g_table = calloc(1, sizeof(table));
        if (g_table == NULL) abort();
        lock_init(&g_table->lock);
    }
}

static void table_lock(void) {
    if (pthread_mutex_lock(&g_table->lock) == EOWNERDEAD) pthread_mutex_consistent(&g_table->lock);
}

static int64_t now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts); /* one clock for every process */
    return (int64_t)ts.tv_sec;
}

static uint64_t hash(const char *s) {
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* Under the lock: addr's entry, made (taking a free one, or the longest
 * unseen of those probed) when it has none. */
static entry *find(const char *addr, int64_t now) {
    size_t start = (size_t)(hash(addr) % AB_ENTRIES);
    entry *victim = NULL;
    for (size_t i = 0; i < AB_PROBE; i++) {
        entry *e = &g_table->entries[(start + i) % AB_ENTRIES];
        if (strcmp(e->addr, addr) == 0) return e;
        if (e->addr[0] == '\0') {
            if (victim == NULL || victim->addr[0] != '\0') victim = e;
        } else if (victim == NULL || (victim->addr[0] != '\0' && e->last_seen < victim->last_seen)) {
            victim = e;
        }
    }
    memset(victim, 0, sizeof *victim);
    snprintf(victim->addr, sizeof victim->addr, "%s", addr);
    victim->last_seen = now;
    return victim;
}

/* Failed tokens within the window; *retry: seconds until the count is back
 * at max (when it is over). */
static long failures(const entry *e, int64_t now, long max, long *retry) {
    long total = 0;
    for (int i = 0; i < AB_WINDOW; i++)
        if (now - e->fail_sec[i] < AB_WINDOW) total += e->fail_count[i];
    *retry = 0;
    if (total <= max) return total;
    long left = total;
    for (int64_t s = now - AB_WINDOW + 1; s <= now; s++) {
        if (s < 0) continue;
        const int i = (int)(s % AB_WINDOW);
        if (e->fail_sec[i] != s) continue;
        left -= e->fail_count[i];
        if (left <= max) {
            *retry = (long)(s + AB_WINDOW - now);
            break;
        }
    }
    if (*retry < 1) *retry = 1;
    return total;
}

const char *abuse_client_addr(const char *remote, const char *forwarded_for, char buf[ABUSE_ADDR_MAX]) {
    if (remote == NULL) return NULL;
    snprintf(buf, ABUSE_ADDR_MAX, "%s", remote);
    if (forwarded_for == NULL || !config_proxy_trusted(remote, strlen(remote))) return buf;
    const char *end = forwarded_for + strlen(forwarded_for);
    while (end > forwarded_for) {
        const char *start = end;
        while (start > forwarded_for && start[-1] != ',') start--;
        const char *a = start, *b = end;
        while (a < b && (*a == ' ' || *a == '\t')) a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t')) b--;
        config_ip ip;
        if (b - a >= ABUSE_ADDR_MAX || !config_parse_ip(a, (size_t)(b - a), &ip)) break;
        snprintf(buf, ABUSE_ADDR_MAX, "%.*s", (int)(b - a), a);
        if (!config_proxy_trusted(a, (size_t)(b - a))) break;
        end = start > forwarded_for ? start - 1 : start;
    }
    return buf;
}

static bool usable(const char *addr) { return addr != NULL && addr[0] != '\0' && strlen(addr) < AB_ADDR; }

bool abuse_admit(const char *addr, api_error *err) {
    if (!usable(addr)) return true;
    pthread_once(&g_once, open_table);
    int64_t now = now_s();
    long retry = 0, max = (long)g_config.auth_failures_max;
    bool limited = false;
    const char *why = "";
    table_lock();
    entry *e = find(addr, now);
    e->last_seen = now;
    if (failures(e, now, max, &retry) > max) {
        limited = true;
        why = "too many wrong tokens from this address (AUTH_FAILURES_MAX in 60 s)";
    } else if (g_config.rate_limit_rps > 0) {
        if (e->rps_sec != now) {
            e->rps_sec = now;
            e->rps_count = 0;
        }
        if (e->rps_count >= (uint32_t)g_config.rate_limit_rps) {
            limited = true;
            retry = 1;
            why = "too many requests per second from this address (RATE_LIMIT_RPS)";
        } else {
            e->rps_count++;
        }
    }
    pthread_mutex_unlock(&g_table->lock);
    if (!limited) return true;
    api_fail(err, API_E_RATE_LIMITED, NULL, "%s; retry in %ld s", why, retry);
    err->retry_after = retry;
    return false;
}

void abuse_auth_failed(const char *addr) {
    if (!usable(addr)) return;
    pthread_once(&g_once, open_table);
    int64_t now = now_s();
    table_lock();
    entry *e = find(addr, now);
    e->last_seen = now;
    int i = (int)(now % AB_WINDOW);
    if (e->fail_sec[i] != now) {
        e->fail_sec[i] = now;
        e->fail_count[i] = 0;
    }
    e->fail_count[i]++;
    pthread_mutex_unlock(&g_table->lock);
}
