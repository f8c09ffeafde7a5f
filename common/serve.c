/*
 * serve: one request, from FastCGI to the handler and back (serve.h); the
 * command line and the process's life are serve_main.c's.
 */
#define _POSIX_C_SOURCE 200809L
#include "serve.h"

#include <fcgiapp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "abuse.h"
#include "auth.h"
#include "clock.h"
#include "config.h"
#include "db.h"
#include "http_status.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "random_id.h"
#include "token_store.h"

long serve_budget(const mode *m) { return m->db_budget_ms ? m->db_budget_ms : g_config.db_timeout_ms; }

/* Routes and authenticates: everything decided before the body is read.
 * Authentication comes before any answer about a route (404 or 405), so
 * that without the token nothing of the API surface is revealed. */
static const route *admit(const mode *m, request *req, api_error *err) {
    bool public_path;
    const route *r = mode_route(m, req, &public_path, err);
    if (public_path) return r;
    /* The abuse limits (docs/operations.md) come first: an address over
     * them is refused even with the right token. */
    if (!abuse_admit(req->remote_addr, err)) return NULL;
    if (!auth_identify(req->authorization, req->pool, &req->who, err)) {
        /* a wrong token counts, a missing one does not */
        if (err->status == 401 && req->authorization != NULL && req->authorization[0] != '\0')
            abuse_auth_failed(req->remote_addr);
        return NULL;
    }
    return r;
}

/* True when the request's Content-Type is the route's one body type
 * (any parameters after it, such as a charset, are allowed), or the route
 * names none: else a 415. */
static bool content_type_ok(const route *r, const request *req, api_error *err) {
    if (r->body_type == NULL) return true;
    const char *ct = req->content_type;
    size_t n = strlen(r->body_type);
    if (ct != NULL && strncasecmp(ct, r->body_type, n) == 0 && strchr("; \t", ct[n]) != NULL) return true;
    return api_fail(err, API_E_UNSUPPORTED_MEDIA_TYPE, "Content-Type", "%s %s takes Content-Type: %s",
                    r->method, r->pattern, r->body_type);
}

/* The body as its route declares it: the whole body as one value, an
 * object of members, or nothing to read. *body is NULL for none. 400 when
 * it is not JSON. */
static bool body_of(const route *r, request *req, json_t **body, api_error *err) {
    const input_field *whole = input_whole_field(r->input, r->ninput);
    *body = NULL;
    if (whole != NULL) return (*body = request_json_value(req, whole->allow_nul, err)) != NULL;
    /* A body that may be empty is still an object of no other members. */
    if (input_has_body_members(r->input, r->ninput) || r->body_optional)
        return (*body = request_json_object(req, r->body_optional, input_allows_nul(r->input, r->ninput),
                                            err)) != NULL;
    return true;
}

/* Validates everything r declares into in, in the order the API states
 * (docs/api.md): the body's content type (415), its syntax (400), then
 * every path, query, header and body input (422). Then hides what r does
 * not declare: the handler reads in, and only in. */
static bool inputs(const route *r, request *req, input_value *in, api_error *err) {
    json_t *body;
    if (!content_type_ok(r, req, err) || !body_of(r, req, &body, err)) return false;
    const input_field *f = r->input, *whole = input_whole_field(f, r->ninput);
    size_t n = r->ninput;
    if (!input_path(req, f, n, in, err) || !input_query(req, f, n, in, err) ||
        !input_headers(req, f, n, in, err))
        return false;
    if (whole != NULL && !input_whole(body, whole, &in[whole - f], err)) return false;
    if (body != NULL && whole == NULL && !input_body(body, f, n, in, err)) return false;
    req->json = body;
    input_headers_hide(req, f, n);
    req->params = NULL;
    req->nparams = 0;
    return true;
}

/* The validated value naming the namespace (or table) a request is about:
 * the input named "namespace", else the one named "name" (a table's); of
 * each, the path's before the query's before the body's (a body's "name"
 * may be a column's when the path names the table). NULL when the route
 * has none. */
static const char *scope_name(const route *r, const input_value *in) {
    static const char *const names[] = {"namespace", "name"};
    static const input_place places[] = {INPUT_PATH, INPUT_QUERY, INPUT_BODY};
    for (size_t k = 0; k < 2; k++)
        for (size_t pl = 0; pl < 3; pl++)
            for (size_t i = 0; i < r->ninput; i++)
                if (r->input[i].type == INPUT_STRING && r->input[i].in == places[pl] &&
                    strcmp(r->input[i].name, names[k]) == 0)
                    return in[i].s;
    return NULL;
}

/* The scope check, the same for every route (docs/security.md, "How a
 * route's scope is decided"): after the input is valid (422), before the
 * handler looks anything up, so a 403 never tells whether a thing exists.
 * The area is the mode's (or its scope_area), the access read for GET and
 * HEAD and write otherwise, the namespace the validated input naming it. */
static bool scope_ok(const mode *m, const route *r, const request *req, const input_value *in,
                     api_error *err) {
    if (r->is_public || req->who.root || (r->also & ROUTE_ANY_TOKEN)) return true;
    if (m->root_only)
        return api_fail(err, API_E_FORBIDDEN, "scope", "%s %s takes the root token", r->method, r->pattern);
    bool write = strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0;
    return auth_allows(&req->who, m->scope_area ? m->scope_area : m->name, write, scope_name(r, in), err);
}

/* Validates the route's input, then runs the handler within the mode's
 * database budget, once the mode's own check (if it has one) passes. */
static bool run(const mode *m, const route *r, request *req, reply *out, api_error *err) {
    input_value in[INPUT_FIELDS_MAX];
    memset(in, 0, sizeof in);
    if (!inputs(r, req, in, err) || !scope_ok(m, r, req, in, err)) return false;
    if (m->check != NULL && !r->is_public && !m->check(err)) return false;
    db_begin(serve_budget(m));
    return r->handler(req, in, out, err);
}

/* The token of the request this thread answers, for its waits: a scoped
 * token's stream or long-poll ends within 2 s of its revocation. */
static _Thread_local const auth_who *t_who;

void serve_dispatch(const mode *m, request *req, reply *out) {
    api_error err;
    req->mode = m;
    const route *r = admit(m, req, &err);
    const auth_who *outer = t_who;
    t_who = &req->who;
    if (r == NULL || !run(m, r, req, out, &err)) reply_error(out, &err);
    t_who = outer;
}

/* ---- FastCGI ---------------------------------------------------------- */

static const char *fcgi_param(void *ctx, const char *name) {
    return FCGX_GetParam(name, ((FCGX_Request *)ctx)->envp);
}

/* Reads the body into the request's pool. Returns false with 413 when it is
 * over the limit (nothing is read then), or when the client went away. */
static bool read_body(FCGX_Request *fr, request *req, api_error *err) {
    if (req->content_length <= 0) {
        req->body = "";
        req->body_len = 0;
        return true;
    }
    if ((unsigned long long)req->content_length > g_config.body_max_bytes)
        return API_TOO_LARGE(err, "the body is %lld bytes; the limit is %zu (BODY_MAX_BYTES)",
                             req->content_length, g_config.body_max_bytes);
    size_t n = (size_t)req->content_length;
    char *buf = pool_alloc(req->pool, n + 1);
    size_t got = 0;
    while (got < n) {
        int r = FCGX_GetStr(buf + got, (int)(n - got), fr->in);
        if (r <= 0) break;
        got += (size_t)r;
    }
    if (got != n) return API_BAD_REQUEST(err, "the body ended after %zu of %zu bytes", got, n);
    buf[n] = '\0';
    req->body = buf;
    req->body_len = n;
    return true;
}

static long fcgi_body_read(void *ctx, char *buf, size_t n) {
    FCGX_Stream *in = ctx;
    int r = FCGX_GetStr(buf, (int)n, in);
    if (r < 0 || (r == 0 && FCGX_GetError(in) != 0)) return -1;
    return r;
}

static void write_reply(FCGX_Request *fr, const request *req, const reply *out) {
    char head[640];
    int status = out->status;
    const char *reason = http_reason(status);
    if (reason == NULL) { /* a bug: a status with no entry in http_statuses */
        log_msg(LOG_ERROR, "status %d has no reason phrase (common/http_status.c); sent as 500", status);
        status = 500;
        reason = http_reason(status);
    }
    int n = snprintf(head, sizeof head,
                     "Status: %d %s\r\nContent-Type: %s\r\n"
                     "Content-Length: %zu\r\nCache-Control: no-store\r\nX-Request-Id: %s\r\n%s\r\n",
                     status, reason, out->content_type ? out->content_type : "application/json",
                     out->body->len, req->request_id, out->headers);
    FCGX_PutStr(head, n, fr->out);
    if (strcmp(req->method, "HEAD") != 0) FCGX_PutStr(out->body->data, (int)out->body->len, fr->out);
}

/* A streamed answer (route.streams_response): the head goes out with the
 * first write, each write is flushed at once. */
typedef struct fcgi_stream {
    FCGX_Request *fr;
    const request *req;
    bool started;
} fcgi_stream;

static bool fcgi_stream_write(void *ctx, const char *content_type, const char *data, size_t n) {
    fcgi_stream *s = ctx;
    if (!s->started) {
        char head[256];
        int k = snprintf(head, sizeof head,
                         "Status: 200 OK\r\nContent-Type: %s\r\nCache-Control: no-store\r\n"
                         "X-Request-Id: %s\r\n\r\n",
                         content_type, s->req->request_id);
        s->started = true;
        if (k < 0 || (size_t)k >= sizeof head || FCGX_PutStr(head, k, s->fr->out) < 0) return false;
    }
    if (n > 0 && FCGX_PutStr(data, (int)n, s->fr->out) < 0) return false;
    /* A client that went away shows here: lighttpd closed our socket. */
    return FCGX_FFlush(s->fr->out) == 0 && FCGX_GetError(s->fr->out) == 0;
}

static void serve_one(const mode *m, FCGX_Request *fr) {
    double start = clock_ms();
    pool *p = pool_new();
    request req;
    reply out;
    reply_init(&out);
    api_error err;
    bool ok = request_parse(&req, p, fcgi_param, fr, &err);
    req.mode = m;
    const route *r = ok ? admit(m, &req, &err) : NULL;
    if (r != NULL && r->streams_body) {
        req.body_read = fcgi_body_read;
        req.body_ctx = fr->in;
    }
    fcgi_stream stream = {fr, &req, false};
    if (r != NULL && r->streams_response && strcmp(req.method, "HEAD") != 0) {
        req.stream_write = fcgi_stream_write;
        req.stream_ctx = &stream;
    }
    t_who = &req.who;
    ok = r != NULL && (r->streams_body || read_body(fr, &req, &err)) && run(m, r, &req, &out, &err);
    t_who = NULL;
    /* A streamed answer has gone out already, as a 200: whatever ended
     * it (the client leaving, its time running out) is logged, not sent. */
    if (stream.started) out.status = 200;
    if (!ok && !stream.started) reply_error(&out, &err);
    /* Counted before the answer leaves: a client that has its answer
     * finds it in the next scrape, whichever process takes that. */
    metrics_observe(req.method, out.status, clock_ms() - start);
    if (!stream.started) write_reply(fr, &req, &out);
    /* Finish without libfcgi's lingering close: by default it shuts the
     * socket down and then waits (poll, up to 2 s) for lighttpd to close
     * its end, to dodge a TCP reset that would eat the response. On a unix
     * socket there is no such reset (what was written stays readable), and
     * the wait costs a context switch per request and keeps the worker from
     * its next request (measured: 13 -> 10 system calls per request).
     * A detached request is closed without it. */
    FCGX_Detach(fr);
    FCGX_Finish_r(fr);
    log_access(req.request_id, &req.trace, req.method, req.path ? req.path : "", out.status,
               clock_ms() - start, ok ? NULL : err.detail, req.who.id);
    reply_release(&out);
    pool_free(p);
}

static atomic_int g_stop;

bool serve_stopping(void) { return atomic_load(&g_stop) != 0; }
void serve_request_stop(void) { atomic_store(&g_stop, 1); }

static atomic_int g_worker_count = 1;
int serve_worker_count(void) { return atomic_load(&g_worker_count); }
void serve_set_worker_count(int n) { atomic_store(&g_worker_count, n); }

/* ---- waiting requests (serve.h) ---- */

/* The mode whose FastCGI workers hand their place over when they wait
 * (serve_workers_start); NULL in a process without that (backend-mcp). */
static const mode *g_handoff_mode;
static atomic_int g_waiting;
/* Workers started in place of one that waits, still running. */
static pthread_mutex_t g_extra_lock = PTHREAD_MUTEX_INITIALIZER;
/* On the monotonic clock, as clock_deadline; made by serve_workers_start,
 * before any worker exists (only its workers hand off, and
 * serve_workers_join waits on it only while there are extra workers). */
static pthread_cond_t g_extra_gone;
static int g_extra;

/* This thread has handed its place at accept to another: it ends when its
 * request does. */
static _Thread_local bool t_handed_off;

/* An extra worker: serve_worker, then one fewer. It is detached: what it
 * holds that outlives its last line (OpenSSL's per-thread state) is freed
 * first, since serve_workers_join returns as soon as the count is 0. */
static void *extra_worker(void *arg) {
    serve_worker(arg);
    random_id_thread_end();
    pthread_mutex_lock(&g_extra_lock);
    g_extra--;
    pthread_cond_broadcast(&g_extra_gone);
    pthread_mutex_unlock(&g_extra_lock);
    return NULL;
}

/* Starts a worker in the calling one's place. Returns false when no thread
 * could be made. */
static bool hand_off(void) {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, SERVE_WORKER_STACK_BYTES);
    pthread_mutex_lock(&g_extra_lock);
    g_extra++;
    pthread_mutex_unlock(&g_extra_lock);
    pthread_t t;
    int rc = pthread_create(&t, &attr, extra_worker, (void *)g_handoff_mode);
    pthread_attr_destroy(&attr);
    if (rc == 0) return true;
    pthread_mutex_lock(&g_extra_lock);
    g_extra--;
    pthread_mutex_unlock(&g_extra_lock);
    log_msg(LOG_WARN, "cannot start a worker for a waiting request (%d): it answers now", rc);
    return false;
}

/* Claims a place among the process's waiters; false when they are all
 * taken (or, in a FastCGI process, no thread could take this one's place
 * at accept). */
static bool wait_begin(void) {
    int most = g_handoff_mode != NULL ? (int)g_config.waiters_per_process : serve_worker_count() / 2;
    if (atomic_fetch_add(&g_waiting, 1) >= most) {
        atomic_fetch_sub(&g_waiting, 1);
        return false;
    }
    if (g_handoff_mode != NULL && !t_handed_off) {
        if (!hand_off()) {
            atomic_fetch_sub(&g_waiting, 1);
            return false;
        }
        t_handed_off = true;
    }
    return true;
}

void serve_waiter_start(serve_waiter *w, const char *channel, const char *key, long long until_ms) {
    memset(w, 0, sizeof *w);
    w->channel = channel;
    w->key = key;
    w->until_ms = until_ms;
}

void serve_waiter_watch(serve_waiter *w) {
    if (w->until_ms > (long long)clock_ms()) w->watched = notify_watch(w->channel, w->key, &w->ticket);
}

bool serve_waiter_sleep(serve_waiter *w, long long until_ms) {
    if ((long long)clock_ms() >= w->until_ms || serve_stopping()) return false;
    /* A scoped token wakes at least every second to see whether it still
     * is (docs/security.md): revoked or expired, the wait ends. */
    bool scoped = t_who != NULL && !t_who->root && t_who->id[0] != '\0';
    if (scoped && !token_store_id_live(t_who->id)) return false;
    if (!w->counted && !(w->counted = wait_begin())) return false;
    if (until_ms > w->until_ms) until_ms = w->until_ms;
    if (scoped && until_ms > (long long)clock_ms() + 1000) until_ms = (long long)clock_ms() + 1000;
    notify_wait(w->watched ? &w->ticket : NULL, until_ms);
    /* The listener lost its connection (a failover moved the primary): a
     * read now would only fail, so a waiter that was listening stays
     * parked until the listener is back on the new primary, then reads
     * again under a new ticket (serve_waiter_watch): no wake-up is lost. */
    while (w->watched && !notify_listening() && (long long)clock_ms() < w->until_ms && !serve_stopping())
        notify_wait(NULL, w->until_ms);
    return !serve_stopping();
}

void serve_waiter_end(serve_waiter *w) {
    if (w->counted) atomic_fetch_sub(&g_waiting, 1);
    w->counted = false;
}

/* One worker: accepts and answers requests until the process stops, or
 * until it has handed its place over to another (it waited); each keeps a
 * database connection (db.c), except while it waits.
 *
 * The workers wait in accept(2) on the listening socket all at once, with
 * no lock around it (issue 22). Linux allows concurrent accepts on one
 * socket and wakes exactly one waiter per connection (an exclusive wait),
 * and libfcgi takes no lock of its own here (no fcntl locking in this
 * build: strace shows none). libfcgi's threaded example serialises accept
 * with a mutex for the platforms that need it; on Linux that mutex cost
 * every request a second wake-up: the worker that got a connection
 * released it, which woke the next worker (futex) only so that it could go
 * to sleep again in accept. On this machine a task switch is the dearest
 * thing a request does (perf: most of a document GET's CPU is in
 * finish_task_switch). Measured on document GET at 8 clients: 4.0 -> 3.0
 * task switches and two futex calls fewer per request. At stop, shutting
 * the listening socket down (serve_main.c) wakes every waiting accept, and
 * each fails. */
void *serve_worker(void *arg) {
    const mode *m = arg;
    FCGX_Request fr;
    FCGX_InitRequest(&fr, 0, FCGI_FAIL_ACCEPT_ON_INTR);
    for (;;) {
        int rc = serve_stopping() ? -1 : FCGX_Accept_r(&fr);
        if (rc >= 0) {
            serve_one(m, &fr);
            if (t_handed_off) break;
            continue;
        }
        if (serve_stopping()) break;
        /* accept failed while we are not stopping (out of descriptors,
         * say): keep the worker, try again shortly. */
        log_msg(LOG_ERROR, "accept failed (%d); retrying", rc);
        struct timespec pause = {0, 100 * 1000000L};
        nanosleep(&pause, NULL);
    }
    FCGX_Free(&fr, 1);
    /* A worker that handed its place over leaves its connection to the
     * others; at the process's stop it is closed. */
    if (t_handed_off && !serve_stopping())
        db_park();
    else
        db_disconnect();
    return NULL;
}

bool serve_workers_start(const mode *m, int n, pthread_t *threads) {
    serve_set_worker_count(n);
    g_handoff_mode = m;
    clock_cond_init(&g_extra_gone);
    db_set_connection_cap(n + SERVE_SPARE_CONNECTIONS);
    for (int i = 0; i < n; i++)
        if (pthread_create(&threads[i], NULL, serve_worker, (void *)m) != 0) return false;
    return true;
}

void serve_workers_join(int n, pthread_t *threads, long wait_ms) {
    for (int i = 0; i < n; i++) pthread_join(threads[i], NULL);
    struct timespec until = clock_deadline(wait_ms);
    pthread_mutex_lock(&g_extra_lock);
    while (g_extra > 0 && pthread_cond_timedwait(&g_extra_gone, &g_extra_lock, &until) == 0) {}
    if (g_extra > 0) log_msg(LOG_WARN, "%d waiting requests did not end in time", g_extra);
    pthread_mutex_unlock(&g_extra_lock);
    db_close_spares();
}
