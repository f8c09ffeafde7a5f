#define _POSIX_C_SOURCE 200809L
#include "config.h"

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

enum { TOKEN_FILE_MAX = 4096 };

/* DATASTORE_TOKEN wins when non-empty; otherwise DATASTORE_TOKEN_FILE, when
 * set, must name a readable file (a Kubernetes secret mount). An empty result
 * means no token: authenticated routes then fail closed with 503. */
static void load_token(void) {
    const char *direct = getenv("DATASTORE_TOKEN");
    const char *file = getenv("DATASTORE_TOKEN_FILE");
    char *tok = NULL;
    if (direct != NULL && direct[0] != '\0') {
        tok = strdup(direct);
    } else if (file != NULL && file[0] != '\0') {
        FILE *f = fopen(file, "rb");
        if (f == NULL) die("DATASTORE_TOKEN_FILE", "names a file that cannot be read", file);
        tok = calloc(1, TOKEN_FILE_MAX + 1);
        if (tok == NULL) abort();
        size_t n = fread(tok, 1, TOKEN_FILE_MAX + 1, f);
        fclose(f);
        if (n > TOKEN_FILE_MAX) die("DATASTORE_TOKEN_FILE", "names a file larger than 4096 bytes", file);
        if (memchr(tok, '\0', n) != NULL)
            die("DATASTORE_TOKEN_FILE", "names a file holding a NUL byte", file);
        tok[n] = '\0';
    }
    if (tok != NULL && config_trim(tok) == 0) {
        free(tok);
        tok = NULL;
    }
    if (tok != NULL) {
        for (const char *p = tok; *p; p++)
            if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
                die(direct && direct[0] ? "DATASTORE_TOKEN" : "DATASTORE_TOKEN_FILE",
                    "must be printable ASCII without spaces", NULL);
    }
    g_config.token = tok;
    g_config.token_len = tok ? strlen(tok) : 0;
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
    const char *pooler = env_or("DATABASE_POOLER", "none");
    if (strcmp(pooler, "transaction") == 0)
        g_config.pooled = true;
    else if (strcmp(pooler, "none") != 0 && pooler[0] != '\0')
        die("DATABASE_POOLER", "must be none or transaction", pooler);
    const char *lvl = env_or("LOG_LEVEL", "info");
    if (!config_parse_log_level(lvl, &g_config.log_level))
        die("LOG_LEVEL", "must be one of debug, info, warn, error", lvl);
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
            if (st->zero_ok && strcmp(v, "0") == 0)
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
