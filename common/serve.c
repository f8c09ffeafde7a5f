#define _POSIX_C_SOURCE 200809L
#include "serve.h"

#include <fcgiapp.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "config.h"
#include "db.h"
#include "http_status.h"
#include "log.h"
#include "schema.h"

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static long budget(const mode *m) { return m->db_budget_ms ? m->db_budget_ms : g_config.db_timeout_ms; }

/* Routes and authenticates: everything decided before the body is read.
 * Authentication comes before any answer about a route (404 or 405), so
 * that without the token nothing of the API surface is revealed. */
static const route *admit(const mode *m, request *req, api_error *err) {
    bool public_path;
    const route *r = mode_route(m, req, &public_path, err);
    if (!public_path && !auth_check(req->authorization, err)) return NULL;
    return r;
}

/* Runs the handler within the mode's database budget, once the mode's own
 * check (if it has one) passes. */
static bool run(const mode *m, const route *r, request *req, reply *out, api_error *err) {
    if (m->check != NULL && !r->is_public && !m->check(err)) return false;
    db_begin(budget(m));
    return r->handler(req, out, err);
}

/* The mode this process serves, for the schema hook. */
static const mode *g_mode;

/* db's schema hook: the mode's schema and sentinel, until they exist. */
static bool schema_hook(api_error *err) { return schema_ready() || schema_ensure(g_mode, err); }

void serve_dispatch(const mode *m, request *req, reply *out) {
    api_error err;
    req->mode = m;
    const route *r = admit(m, req, &err);
    if (r == NULL || !run(m, r, req, out, &err)) reply_error(out, &err);
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
                     "Status: %d %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nCache-Control: no-store\r\nX-Request-Id: %s\r\n%s\r\n",
                     status, reason, out->body->len, req->request_id, out->headers);
    FCGX_PutStr(head, n, fr->out);
    if (strcmp(req->method, "HEAD") != 0) FCGX_PutStr(out->body->data, (int)out->body->len, fr->out);
}

static void serve_one(const mode *m, FCGX_Request *fr) {
    double start = now_ms();
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
    ok = r != NULL && (r->streams_body || read_body(fr, &req, &err)) && run(m, r, &req, &out, &err);
    if (!ok) reply_error(&out, &err);
    write_reply(fr, &req, &out);
    /* Finish without libfcgi's lingering close: by default it shuts the
     * socket down and then waits (poll, up to 2 s) for lighttpd to close
     * its end, to dodge a TCP reset that would eat the response. On a unix
     * socket there is no such reset (what was written stays readable), and
     * the wait costs a context switch per request and keeps the worker from
     * its next request (measured: 13 -> 10 system calls per request).
     * A detached request is closed without it. */
    FCGX_Detach(fr);
    FCGX_Finish_r(fr);
    log_access(req.request_id, req.method, req.path ? req.path : "", out.status, now_ms() - start,
               ok ? NULL : err.detail);
    reply_release(&out);
    pool_free(p);
}

/* ---- the lighttpd routing ---------------------------------------------- */

/* Prints fastcgi.server entries for every registered mode. lighttpd takes
 * the first prefix that matches, so the catch-all "/" (the mode whose
 * url_prefix is "/") comes last. Paths are lighttpd variables that
 * lighttpd.conf sets from the environment; LISTEN_ADDR and PORT were
 * validated by config_load. */
static void print_lighttpd_conf(void) {
    printf("server.bind = \"%s\"\nserver.port = %ld\n", g_config.listen_addr, g_config.port);
    /* lighttpd's own body cap (KiB) sits just above the largest body a
     * route takes, so the modes' limits are the ones clients meet. */
    size_t largest = g_config.file_max_bytes > g_config.body_max_bytes ? g_config.file_max_bytes
                                                                       : g_config.body_max_bytes;
    printf("server.max-request-size = %zu\n", largest / 1024 + 64);
    for (const mode *const *mp = mode_registry; *mp; mp++)
        if ((*mp)->streams_request_body)
            printf("$HTTP[\"url\"] =~ \"^%s/\" {\n  server.stream-request-body = 2\n}\n", (*mp)->url_prefix);
    /* /mcp: proxied, streamed both ways, to backend-mcp (its own HTTP
     * server). lighttpd spawns and respawns it like a mode process: the
     * fastcgi.server entry inside the block exists only for that (its
     * prefix can never match inside this block), and it hands backend-mcp
     * its listening socket on fd 0. Setting fastcgi.server here also
     * replaces the catch-all "/" entry for /mcp. */
    printf("$HTTP[\"url\"] == \"/mcp\" {\n"
           "  server.stream-request-body = 2\n"
           "  server.stream-response-body = 2\n"
           "  magnet.attract-response-start-to = ()\n"
           "  proxy.server = (\"\" => ((\"socket\" => var.backend_sockets + \"/mcp.sock-0\")))\n"
           "  fastcgi.server = (\"/mcp/spawn-only/\" => ((\n"
           "    \"bin-path\" => var.backend_wrap + var.backend_bin + \"/backend-mcp --listen-fd0\",\n"
           "    \"socket\" => var.backend_sockets + \"/mcp.sock\",\n"
           "    \"max-procs\" => 1,\n"
           "    \"check-local\" => \"disable\",\n"
           "  )))\n"
           "}\n");
    printf("fastcgi.server = (\n");
    for (int pass = 0; pass < 2; pass++) {
        for (const mode *const *mp = mode_registry; *mp; mp++) {
            const mode *m = *mp;
            bool catch_all = strcmp(m->url_prefix, "/") == 0;
            if (catch_all != (pass == 1)) continue;
            printf("  \"%s\" => ((\n"
                   "    \"bin-path\" => var.backend_wrap + var.backend_bin + \"/backend-%s\",\n"
                   "    \"socket\" => var.backend_sockets + \"/%s.sock\",\n"
                   "    \"max-procs\" => %d,\n"
                   "    \"check-local\" => \"disable\",\n"
                   "    \"fix-root-scriptname\" => \"enable\",\n"
                   "  )),\n",
                   m->url_prefix, m->name, m->name, m->processes);
        }
    }
    printf(")\n");
}

/* Prints "METHOD PATTERN PUBLIC" for every route of every registered mode,
 * one a line (PUBLIC is "public" or "auth"; a route that takes no method
 * prints "-"). The hostile-input matrix (tests/integration/12-hostile.bats)
 * is generated from it, so a new route is covered the day it exists. */
static void print_routes(void) {
    for (const mode *const *mp = mode_registry; *mp; mp++)
        for (size_t i = 0; i < (*mp)->nroutes; i++) {
            const route *r = &(*mp)->routes[i];
            printf("%s %s %s\n", r->method ? r->method : "-", r->pattern, r->is_public ? "public" : "auth");
        }
}

static atomic_int g_stop;
static pthread_mutex_t g_accept_lock = PTHREAD_MUTEX_INITIALIZER;

bool serve_stopping(void) { return atomic_load(&g_stop) != 0; }
void serve_request_stop(void) { atomic_store(&g_stop, 1); }

static atomic_int g_worker_count = 1;
int serve_worker_count(void) { return atomic_load(&g_worker_count); }
void serve_set_worker_count(int n) { atomic_store(&g_worker_count, n); }

/* One worker: accepts and answers requests until the process stops. With
 * several workers, accept is taken in turn (libfcgi's threaded pattern);
 * each worker has its own database connection (db.c is per thread). */
static void *worker_main(void *arg) {
    const mode *m = arg;
    FCGX_Request fr;
    FCGX_InitRequest(&fr, 0, FCGI_FAIL_ACCEPT_ON_INTR);
    for (;;) {
        pthread_mutex_lock(&g_accept_lock);
        int rc = serve_stopping() ? -1 : FCGX_Accept_r(&fr);
        pthread_mutex_unlock(&g_accept_lock);
        if (rc >= 0) {
            serve_one(m, &fr);
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
    db_disconnect();
    return NULL;
}

int serve_main(const char *mode_name, int argc, char **argv) {
    const mode *m = mode_find(mode_name);
    if (m == NULL) {
        fprintf(stderr, "backend: mode %s is not in the registry\n", mode_name);
        return 2;
    }
    config_load();
    if (argc > 1 && strcmp(argv[1], "--lighttpd-conf") == 0) {
        print_lighttpd_conf();
        return 0;
    }
    if (argc > 1 && strcmp(argv[1], "--routes") == 0) {
        print_routes();
        return 0;
    }
    log_set_mode(m->name);
    db_set_app_name(m->name);
    g_mode = m;
    if (argc > 1 && strcmp(argv[1], "--check-config") == 0) return 0;
    if (argc > 3 && strcmp(argv[1], "--sql") == 0) {
        for (const mode *const *mp = mode_registry; *mp; mp++)
            if ((*mp)->print_built_sql && (*mp)->print_built_sql(argv[2], argv[3])) return 0;
        fprintf(stderr, "backend: no statement %s for %s\n", argv[2], argv[3]);
        return 2;
    }
    if (argc > 2 && strcmp(argv[1], "--sql") == 0) {
        for (const mode *const *mp = mode_registry; *mp; mp++)
            for (const db_stmt *const *st = (*mp)->statements; st && *st; st++)
                if (strcmp((*st)->name, argv[2]) == 0) {
                    printf("%s\n", (*st)->sql);
                    return 0;
                }
        fprintf(stderr, "backend: no statement %s\n", argv[2]);
        return 2;
    }
    if (argc > 1 && strcmp(argv[1], "--init") == 0) {
        api_error err;
        db_begin(budget(m) * 4);
        bool ok = schema_ensure(m, &err);
        if (!ok) fprintf(stderr, "backend-%s: schema: %s\n", m->name, err.detail);
        db_disconnect();
        return ok ? 0 : 1;
    }
    if (argc > 1) {
        fprintf(stderr,
                "usage: backend-%s [--check-config | --init | --lighttpd-conf | --routes | --sql NAME [ARG]]\n",
                m->name);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    /* Create the schema now if the database is there; if it is not, the
     * first request that needs it tries again. The process does not exit:
     * lighttpd would only restart it in a loop. */
    api_error err;
    if (m->check != NULL && !m->check(&err))
        fprintf(stderr, "backend-%s: %s; its routes answer %d until it is fixed\n", m->name, err.detail,
                err.status);
    db_begin(budget(m));
    if (!schema_ensure(m, &err)) log_msg(LOG_WARN, "schema not ready yet: %s", err.detail);
    db_disconnect(); /* the workers have connections of their own */
    db_set_schema_hook(schema_hook);
    if (FCGX_Init() != 0) {
        fprintf(stderr, "backend-%s: FCGX_Init failed\n", m->name);
        return 1;
    }
    /* SIGTERM (lighttpd stopping, the pod ending) and SIGINT are taken by
     * this thread alone, with sigwait: the workers never see them. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    /* The stop pipe: written once when the process stops, never read, so
     * every long-poll waiting on it wakes at once (db_set_wake_fd). */
    int stop_pipe[2];
    if (pipe(stop_pipe) != 0) {
        fprintf(stderr, "backend-%s: cannot make the stop pipe\n", m->name);
        return 1;
    }
    fcntl(stop_pipe[0], F_SETFD, FD_CLOEXEC);
    fcntl(stop_pipe[1], F_SETFD, FD_CLOEXEC);
    db_set_wake_fd(stop_pipe[0]);
    int nworkers = m->threads > 1 ? m->threads : 1;
    serve_set_worker_count(nworkers);
    pthread_t *workers = calloc((size_t)nworkers, sizeof *workers);
    if (workers == NULL) abort();
    for (int i = 0; i < nworkers; i++)
        if (pthread_create(&workers[i], NULL, worker_main, (void *)m) != 0) {
            fprintf(stderr, "backend-%s: cannot start worker %d\n", m->name, i);
            return 1;
        }
    int sig = 0;
    if (m->tick == NULL) {
        sigwait(&stop_signals, &sig);
    } else {
        /* Wait for a stop signal, running the mode's periodic work between. */
        for (;;) {
            m->tick();
            struct timespec every = {.tv_sec = m->tick_seconds(), .tv_nsec = 0};
            sig = sigtimedwait(&stop_signals, NULL, &every);
            if (sig > 0) break;
        }
        db_disconnect();
    }
    /* Finish the requests in hand, then leave: wake the worker blocked in
     * accept (shutting the listening socket down makes accept fail), the
     * others see the flag when they come back to accept. */
    atomic_store(&g_stop, 1);
    if (write(stop_pipe[1], "x", 1) != 1) log_msg(LOG_WARN, "cannot wake the long-polls; they end within a second");
    FCGX_ShutdownPending();
    shutdown(0, SHUT_RDWR);
    for (int i = 0; i < nworkers; i++) pthread_join(workers[i], NULL);
    free(workers);
    log_msg(LOG_INFO, "stopping (signal %d)", sig);
    return 0;
}
