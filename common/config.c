#define _POSIX_C_SOURCE 200809L
#include "config.h"

#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

config g_config;

static void die(const char *var, const char *why, const char *value) {
    /* The token's value is never printed: callers pass NULL for it. */
    if (value != NULL)
        fprintf(stderr, "backend: invalid configuration: %s %s (got \"%s\")\n", var, why, value);
    else
        fprintf(stderr, "backend: invalid configuration: %s %s\n", var, why);
    exit(2);
}

bool config_parse_positive(const char *text, long long max, long long *out) {
    if (text == NULL || *text < '0' || *text > '9') return false;
    long long v = 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9') return false;
        if (v > (max - (*p - '0')) / 10) return false; /* would exceed max */
        v = v * 10 + (*p - '0');
    }
    if (v < 1) return false;
    *out = v;
    return true;
}

bool config_parse_log_level(const char *text, enum log_level *out) {
    static const char *names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++)
        if (strcmp(text, names[i]) == 0) {
            *out = (enum log_level)i;
            return true;
        }
    return false;
}

size_t config_trim(char *s) {
    size_t n = strlen(s), start = 0;
    while (start < n && strchr(" \t\r\n\v\f", s[start])) start++;
    while (n > start && strchr(" \t\r\n\v\f", s[n - 1])) n--;
    memmove(s, s + start, n - start);
    s[n - start] = '\0';
    return n - start;
}

/* A positive integer variable with a default, at most max. */
static long long env_positive(const char *var, long long dflt, long long max) {
    const char *v = getenv(var);
    if (v == NULL) return dflt;
    long long out;
    if (!config_parse_positive(v, max, &out)) {
        char why[96];
        snprintf(why, sizeof why, "must be a positive integer no larger than %lld", max);
        die(var, why, v);
    }
    return out;
}

static const char *env_or(const char *var, const char *dflt) {
    const char *v = getenv(var);
    return v ? v : dflt;
}

/* True when the string t is printable ASCII without spaces. */
static bool token_chars_ok(const char *t) {
    for (const char *p = t; *p; p++)
        if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e) return false;
    return true;
}

bool config_token_lines(char *text, size_t n, char **t1, char **t2, const char **why) {
    *t1 = *t2 = NULL;
    if (memchr(text, '\0', n) != NULL) {
        *why = "holds a NUL byte";
        return false;
    }
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        if (config_trim(line) == 0) continue; /* blank lines are no tokens */
        if (!token_chars_ok(line)) {
            *why = "must hold printable ASCII tokens without spaces, one a line";
            return false;
        }
        if (*t2 != NULL) {
            *why = "holds more than two tokens (one a line: the current one and, while rotating, the next)";
            return false;
        }
        *(*t1 == NULL ? t1 : t2) = line;
    }
    return true;
}

/* Reads DATASTORE_TOKEN_FILE's first TOKEN_FILE_MAX + 1 bytes into a new
 * buffer (the caller frees it); *n its length. NULL when it cannot be read. */
char *config_read_token_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    char *buf = calloc(1, TOKEN_FILE_MAX + 2);
    if (buf == NULL) abort();
    *n = fread(buf, 1, TOKEN_FILE_MAX + 1, f);
    bool failed = ferror(f) != 0;
    fclose(f);
    if (failed) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* The token file at start-up: a bad one stops the process (one line). */
static void load_token_file(const char *file) {
    size_t n;
    char *buf = config_read_token_file(file, &n);
    if (buf == NULL) die("DATASTORE_TOKEN_FILE", "names a file that cannot be read", file);
    if (n > TOKEN_FILE_MAX) die("DATASTORE_TOKEN_FILE", "names a file larger than 4096 bytes", file);
    char *t1, *t2;
    const char *why;
    if (!config_token_lines(buf, n, &t1, &t2, &why)) die("DATASTORE_TOKEN_FILE", why, NULL);
    g_config.token_file = file;
    g_config.token = t1 ? strdup(t1) : NULL;
    g_config.token2 = t2 ? strdup(t2) : NULL;
    free(buf);
}

/* DATASTORE_TOKEN wins when non-empty; otherwise DATASTORE_TOKEN_FILE, when
 * set, must name a readable file (a Kubernetes secret mount) of one or two
 * tokens. An empty result means no token: authenticated routes then fail
 * closed with 503. */
static void load_token(void) {
    const char *direct = getenv("DATASTORE_TOKEN");
    const char *file = getenv("DATASTORE_TOKEN_FILE");
    if (direct != NULL && direct[0] != '\0') {
        g_config.token = strdup(direct);
        if (config_trim(g_config.token) == 0) {
            free(g_config.token);
            g_config.token = NULL;
        } else if (!token_chars_ok(g_config.token)) {
            die("DATASTORE_TOKEN", "must be printable ASCII without spaces", NULL);
        }
    } else if (file != NULL && file[0] != '\0') {
        load_token_file(file);
    }
    g_config.token_len = g_config.token ? strlen(g_config.token) : 0;
    g_config.token2_len = g_config.token2 ? strlen(g_config.token2) : 0;
}

void config_load(void) {
    const char *url = getenv("DATABASE_URL");
    g_config.database_url = url ? url : "";
    load_token();
    g_config.body_max_bytes = (size_t)env_positive("BODY_MAX_BYTES", 1 << 20, 1LL << 30);
    g_config.listen_addr = env_or("LISTEN_ADDR", "127.0.0.1");
    if (g_config.listen_addr[0] == '\0' ||
        strspn(g_config.listen_addr,
               "0123456789abcdefABCDEF.:[]-_ghijklmnopqrstuvwxyzGHIJKLMNOPQRSTUVWXYZ") !=
            strlen(g_config.listen_addr))
        die("LISTEN_ADDR", "must be an IP address or host name", g_config.listen_addr);
    g_config.port = (long)env_positive("PORT", 4000, 65535);
    g_config.db_timeout_ms = (long)env_positive("DB_TIMEOUT_MS", 5000, 600000);
    g_config.auth_failures_max = (long)env_positive("AUTH_FAILURES_MAX", 20, 1000000);
    const char *rps = getenv("RATE_LIMIT_RPS");
    g_config.rate_limit_rps =
        rps != NULL && strcmp(rps, "0") == 0 ? 0 : (long)env_positive("RATE_LIMIT_RPS", 0, 1000000);
    /* A waiter costs a sleeping thread (a 2 MiB stack reserved, a few pages
     * used: serve.h) and no database connection; 4096 is far beyond what a
     * replica's document or queue traffic needs (docs/decisions.md,
     * "Waiting at scale"). */
    g_config.waiters_per_process = (long)env_positive("WAITERS_PER_PROCESS", 512, 4096);
    const char *pooler = env_or("DATABASE_POOLER", "none");
    if (strcmp(pooler, "transaction") == 0)
        g_config.pooled = true;
    else if (strcmp(pooler, "none") != 0 && pooler[0] != '\0')
        die("DATABASE_POOLER", "must be none or transaction", pooler);
    g_config.trusted_proxies = env_or("TRUSTED_PROXIES", "");
    char why[160];
    if (!config_parse_proxies(g_config.trusted_proxies, why, sizeof why))
        die("TRUSTED_PROXIES", why, g_config.trusted_proxies);
    const char *lvl = env_or("LOG_LEVEL", "info");
    if (!config_parse_log_level(lvl, &g_config.log_level))
        die("LOG_LEVEL", "must be one of debug, info, warn, error", lvl);
}

bool config_parse_ip(const char *text, size_t len, config_ip *out) {
    char buf[64];
    if (len >= 2 && text[0] == '[' && text[len - 1] == ']') {
        text++;
        len -= 2;
    }
    if (len == 0 || len >= sizeof buf) return false;
    memcpy(buf, text, len);
    buf[len] = '\0';
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, buf, out->b + 12) == 1) {
        out->v4 = true;
        return true;
    }
    if (inet_pton(AF_INET6, buf, out->b) != 1) return false;
    /* ::ffff:a.b.c.d is a.b.c.d: a dual-stack listener reports IPv4
     * clients so, and a list naming 10.0.0.0/8 must still match them. */
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    out->v4 = memcmp(out->b, mapped, 12) == 0;
    if (out->v4) memset(out->b, 0, 12); /* compared as IPv4 is */
    return true;
}

/* One item of a proxy list, "addr" or "addr/bits": its network and prefix
 * length (counted in the 16 bytes). */
static bool parse_block(const char *item, size_t len, config_ip *net, int *bits) {
    const char *slash = memchr(item, '/', len);
    size_t alen = slash ? (size_t)(slash - item) : len;
    if (!config_parse_ip(item, alen, net)) return false;
    /* The prefix length counts bits of the address as written: an
     * IPv4-mapped block ("::ffff:10.0.0.0/104") counts IPv6 bits. */
    bool written_v6 = memchr(item, ':', alen) != NULL;
    int max = written_v6 ? 128 : 32;
    *bits = max;
    if (slash != NULL) {
        size_t blen = len - alen - 1;
        if (blen == 0 || blen > 3) return false;
        int v = 0;
        for (size_t i = 0; i < blen; i++) {
            if (slash[1 + i] < '0' || slash[1 + i] > '9') return false;
            v = v * 10 + (slash[1 + i] - '0');
        }
        if (v > max) return false;
        *bits = v;
    }
    if (!written_v6) *bits += 96;
    if (net->v4 && *bits < 96) *bits = 96; /* the mapped prefix itself */
    return true;
}

/* Calls fn for each item of list (trimmed, non-empty); stops when it
 * returns false and returns false then. */
static bool each_item(const char *list, bool (*fn)(const char *, size_t, void *), void *ctx) {
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        if (*p == '\0') break;
        const char *end = strchr(p, ',');
        if (end == NULL) end = p + strlen(p);
        const char *last = end;
        while (last > p && (last[-1] == ' ' || last[-1] == '\t')) last--;
        if (!fn(p, (size_t)(last - p), ctx)) return false;
        p = end;
    }
    return true;
}

typedef struct check_ctx {
    char *why;
    size_t why_size;
    int n;
} check_ctx;

static bool check_item(const char *item, size_t len, void *v) {
    check_ctx *c = v;
    config_ip net;
    int bits;
    if (!parse_block(item, len, &net, &bits)) {
        snprintf(c->why, c->why_size,
                 "must be addresses or CIDR blocks, comma-separated: \"%.*s\" is not one",
                 (int)(len > 60 ? 60 : len), item);
        return false;
    }
    if (++c->n > CONFIG_PROXIES_MAX) {
        snprintf(c->why, c->why_size, "names more than %d addresses or blocks", CONFIG_PROXIES_MAX);
        return false;
    }
    return true;
}

bool config_parse_proxies(const char *list, char *why, size_t why_size) {
    check_ctx c = {why, why_size, 0};
    return each_item(list, check_item, &c);
}

typedef struct match_ctx {
    config_ip addr;
    bool found;
} match_ctx;

/* Returns false (stopping the walk) once an item holds the address. */
static bool match_item(const char *item, size_t len, void *v) {
    match_ctx *m = v;
    config_ip net;
    int bits;
    if (!parse_block(item, len, &net, &bits) || net.v4 != m->addr.v4) return true;
    int whole = bits / 8, rest = bits % 8;
    if (memcmp(net.b, m->addr.b, (size_t)whole) != 0) return true;
    if (rest != 0) {
        unsigned char mask = (unsigned char)(0xff << (8 - rest));
        if ((net.b[whole] & mask) != (m->addr.b[whole] & mask)) return true;
    }
    m->found = true;
    return false;
}

bool config_proxy_in(const char *list, const char *addr, size_t addr_len) {
    match_ctx m = {.found = false};
    if (list == NULL || addr == NULL || !config_parse_ip(addr, addr_len, &m.addr)) return false;
    each_item(list, match_item, &m);
    return m.found;
}

bool config_proxy_trusted(const char *addr, size_t addr_len) {
    return config_proxy_in(g_config.trusted_proxies, addr, addr_len);
}

bool config_list_has(const char *list, const char *item, size_t item_len) {
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        const char *end = strchr(p, ',');
        if (end == NULL) end = p + strlen(p);
        const char *last = end;
        while (last > p && (last[-1] == ' ' || last[-1] == '\t')) last--;
        if ((size_t)(last - p) == item_len && item_len > 0 && strncasecmp(p, item, item_len) == 0)
            return true;
        p = end;
    }
    return false;
}

void settings_load(const setting *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const setting *st = &s[i];
        const char *v = env_or(st->name, st->dflt);
        switch (st->kind) {
        case SETTING_NUMBER:
            if (st->dflt[0] == '\0' && v[0] == '\0')
                *st->number = -1; /* no default, none given: unset */
            else if (st->zero_ok && strcmp(v, "0") == 0)
                *st->number = 0;
            else if (getenv(st->name) == NULL) {
                long long out = 0;
                if (!config_parse_positive(v, st->max, &out)) die(st->name, "has an invalid default", v);
                *st->number = out;
            } else {
                *st->number = env_positive(st->name, 0, st->max);
            }
            break;
        case SETTING_PATH:
        case SETTING_FOLDER:
            if (v[0] != '/') die(st->name, "must be an absolute path", v);
            *st->text = v;
            break;
        case SETTING_TEXT: *st->text = v; break;
        }
    }
}

bool config_folder_ready(const char *var, const char *dir, api_error *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s", dir);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST) break;
        *p = '/';
    }
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return api_fail(err, API_E_INSUFFICIENT_STORAGE, NULL, "%s %s cannot be created: %s", var, dir,
                        strerror(errno));
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return api_fail(err, API_E_INSUFFICIENT_STORAGE, NULL, "%s %s is not a folder", var, dir);
    if (access(dir, W_OK | X_OK) != 0)
        return api_fail(err, API_E_INSUFFICIENT_STORAGE, NULL, "%s %s is not writable: %s", var, dir,
                        strerror(errno));
    return true;
}
