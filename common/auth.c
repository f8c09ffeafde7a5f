#define _POSIX_C_SOURCE 200809L
#include "auth.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "config.h"
#include "log.h"
#include "strbuf.h"
#include "token_store.h"

bool auth_token_equal(const char *presented, size_t presented_len, const char *expected,
                      size_t expected_len) {
    /* Walk the expected token's length whatever was presented; reading the
     * presented bytes modulo their length keeps the loop free of branches on
     * secret data. */
    unsigned char diff = (unsigned char)(presented_len != expected_len);
    for (size_t i = 0; i < expected_len; i++) {
        unsigned char p = presented_len ? (unsigned char)presented[i % presented_len] : 0;
        diff |= (unsigned char)(p ^ (unsigned char)expected[i]);
    }
    return diff == 0 && expected_len > 0;
}

/* The root tokens (g_config.token, g_config.token2) are swapped under this
 * lock when the token file changes; every comparison reads them under it. */
static pthread_rwlock_t g_root_lock = PTHREAD_RWLOCK_INITIALIZER;
static pthread_mutex_t g_reread_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic double g_last_read_ms = -1e18;

/* Puts the file's tokens in place of the current ones when they differ
 * (by content: a Kubernetes secret changes by a symbolic-link swap, which
 * file-change notifications miss). t1 is not NULL. */
static void root_replace(const char *t1, const char *t2) {
    pthread_rwlock_wrlock(&g_root_lock);
    bool same = g_config.token != NULL && strcmp(g_config.token, t1) == 0 &&
                ((t2 == NULL && g_config.token2 == NULL) ||
                 (t2 != NULL && g_config.token2 != NULL && strcmp(g_config.token2, t2) == 0));
    char *old1 = NULL, *old2 = NULL;
    if (!same) {
        old1 = g_config.token;
        old2 = g_config.token2;
        g_config.token = strdup(t1);
        g_config.token_len = strlen(t1);
        g_config.token2 = t2 ? strdup(t2) : NULL;
        if (g_config.token == NULL || (t2 != NULL && g_config.token2 == NULL)) abort(); /* out of memory */
        g_config.token2_len = t2 ? strlen(t2) : 0;
    }
    pthread_rwlock_unlock(&g_root_lock);
    free(old1);
    free(old2);
    if (!same) log_msg(LOG_INFO, "DATASTORE_TOKEN_FILE changed: %d root tokens now", t2 ? 2 : 1);
}

/* Reads the token file again, if it is time; a file that cannot be read,
 * is blank, too large or holds more than two tokens keeps the last good
 * tokens and logs an error (at each read). One thread reads at a time; the
 * others go on with the current tokens. */
static void root_maybe_reread(void) {
    if (g_config.token_file == NULL || clock_ms() - atomic_load(&g_last_read_ms) < AUTH_REREAD_MS) return;
    if (pthread_mutex_trylock(&g_reread_lock) != 0) return;
    atomic_store(&g_last_read_ms, clock_ms());
    size_t n = 0;
    char *buf = config_read_token_file(g_config.token_file, &n), *t1 = NULL, *t2 = NULL;
    const char *why = NULL;
    if (buf == NULL)
        why = "cannot be read";
    else if (n > TOKEN_FILE_MAX)
        why = "is larger than 4096 bytes";
    else if (config_token_lines(buf, n, &t1, &t2, &why) && t1 == NULL)
        why = "holds no token";
    if (why != NULL)
        log_msg(LOG_ERROR, "DATASTORE_TOKEN_FILE %s: the last good tokens stay in use", why);
    else
        root_replace(t1, t2);
    free(buf);
    pthread_mutex_unlock(&g_reread_lock);
}

/* Compares tok with both root tokens, both always (with one token, the
 * first twice): 1 or 2 for the one it is, 0 for neither. */
static int root_match(const char *tok, size_t len) {
    pthread_rwlock_rdlock(&g_root_lock);
    const char *second = g_config.token2 != NULL ? g_config.token2 : g_config.token;
    size_t second_len = g_config.token2 != NULL ? g_config.token2_len : g_config.token_len;
    bool one = auth_token_equal(tok, len, g_config.token, g_config.token_len);
    bool two = auth_token_equal(tok, len, second, second_len);
    two = two && g_config.token2 != NULL;
    pthread_rwlock_unlock(&g_root_lock);
    return one ? 1 : two ? 2 : 0;
}

/* The token in an Authorization value, trimmed: *len its length. NULL with
 * 401 when there is none or another scheme. */
static const char *bearer_of(const char *authorization, size_t *len, api_error *err) {
    if (authorization == NULL || authorization[0] == '\0') {
        API_UNAUTHORIZED(err, "missing bearer token");
        return NULL;
    }
    if (strncasecmp(authorization, "Bearer ", 7) != 0) {
        API_UNAUTHORIZED(err, "the Authorization header must be 'Bearer <token>'");
        return NULL;
    }
    const char *tok = authorization + 7;
    while (*tok == ' ') tok++;
    *len = strlen(tok);
    while (*len > 0 && (tok[*len - 1] == ' ' || tok[*len - 1] == '\t')) (*len)--;
    return tok;
}

bool auth_identify(const char *authorization, pool *p, auth_who *who, api_error *err) {
    memset(who, 0, sizeof *who);
    root_maybe_reread();
    if (g_config.token == NULL)
        return api_fail(err, API_E_AUTH_NOT_CONFIGURED, NULL,
                        "no bearer token is configured (DATASTORE_TOKEN or DATASTORE_TOKEN_FILE)");
    size_t len = 0;
    const char *tok = bearer_of(authorization, &len, err);
    if (tok == NULL) return false;
    int root = root_match(tok, len);
    if (root != 0) {
        who->root = true;
        strcpy(who->id, root == 1 ? "root:1" : "root:2");
        return true;
    }
    /* a scoped token: hashed and looked up in memory (token_store.h) */
    if (len > strlen(TOKEN_PREFIX) && strncmp(tok, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) == 0)
        return token_store_lookup(tok, len, p, who, err);
    return API_UNAUTHORIZED(err, "wrong bearer token");
}

bool auth_check(const char *authorization, api_error *err) {
    auth_who who;
    return auth_identify(authorization, NULL, &who, err);
}

bool auth_allows(const auth_who *who, const char *area, bool write, const char *name, api_error *err) {
    if (who->root || scope_allows(who->scopes, who->nscopes, area, write, name)) return true;
    char need[SCOPE_TEXT_MAX + 1];
    scope_needed(need, sizeof need, area, write, name);
    return api_fail(err, API_E_FORBIDDEN, "scope",
                    "this token's scopes do not allow it: it takes the scope %s", need);
}

/* Appends "name" to an array literal being written (the names hold only
 * [A-Za-z0-9._-]: nothing to escape). */
static void literal_add(strbuf *b, const char *name) {
    strbuf_puts(b, b->len > 1 ? ",\"" : "\"");
    strbuf_puts(b, name);
    strbuf_puts(b, "\"");
}

bool auth_read_filter(const auth_who *who, const char *area, pool *p, const char **exact,
                      const char **prefixes) {
    if (who->root || scope_may_read(who->scopes, who->nscopes, area, NULL)) return false;
    strbuf *e = strbuf_new(), *x = strbuf_new();
    strbuf_puts(e, "{");
    strbuf_puts(x, "{");
    for (size_t i = 0; i < who->nscopes; i++) {
        const scope *s = &who->scopes[i];
        if (strcmp(s->area, area) != 0 && strcmp(s->area, "*") != 0) continue;
        literal_add(s->prefix ? x : e, s->pattern);
    }
    strbuf_puts(e, "}");
    strbuf_puts(x, "}");
    *exact = pool_strdup(p, e->data);
    *prefixes = pool_strdup(p, x->data);
    strbuf_free(e);
    strbuf_free(x);
    return true;
}

bool auth_may_use(const auth_who *who, const char *area, bool write) {
    if (who->root) return true;
    for (size_t i = 0; i < who->nscopes; i++) {
        const scope *s = &who->scopes[i];
        if ((strcmp(s->area, area) == 0 || strcmp(s->area, "*") == 0) && (s->write || !write)) return true;
    }
    return false;
}
