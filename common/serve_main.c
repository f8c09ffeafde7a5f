/*
 * serve_main: the command line and the life of a mode process (start-up,
 * worker threads, periodic work, stop on a signal). The per-request
 * pipeline is serve.c's.
 */
#define _POSIX_C_SOURCE 200809L
#include "serve.h"

#include <fcgiapp.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "schema.h"

/* The mode this process serves, for the schema hook. */
static const mode *g_mode;

/* db's schema hook: the mode's schema and sentinel, until they exist. */
static bool schema_hook(api_error *err) { return schema_ready() || schema_ensure(g_mode, err); }

/* backend-<mode> --sql NAME [ARG]: prints one of the mode's statements, or
 * one it builds at run time from ARG. Returns the exit status. */
static int print_sql(const mode *m, int argc, char **argv) {
    if (argc > 3) {
        if (m->print_built_sql && m->print_built_sql(argv[2], argv[3])) return 0;
        fprintf(stderr, "backend: no statement %s for %s\n", argv[2], argv[3]);
        return 2;
    }
    for (const db_stmt *const *st = m->statements; st && *st; st++)
        if (strcmp((*st)->name, argv[2]) == 0) {
            printf("%s\n", (*st)->sql);
            return 0;
        }
    fprintf(stderr, "backend: no statement %s\n", argv[2]);
    return 2;
}

/* backend-<mode> --init: the mode's schema and sentinel, then exit. */
static int init_schema(const mode *m) {
    api_error err;
    db_begin(serve_budget(m) * 4);
    bool ok = schema_ensure(m, &err);
    if (!ok) fprintf(stderr, "backend-%s: schema: %s\n", m->name, err.detail);
    db_disconnect();
    return ok ? 0 : 1;
}

/* Start-up before serving: the mode's own check, and its schema if the
 * database is there; if it is not, the first request that needs it tries
 * again. The process does not exit: lighttpd would only restart it in a
 * loop. */
static void start_up(const mode *m) {
    api_error err;
    if (m->check != NULL && !m->check(&err))
        fprintf(stderr, "backend-%s: %s; its routes answer %d until it is fixed\n", m->name, err.detail,
                err.status);
    db_begin(serve_budget(m));
    if (!schema_ensure(m, &err)) log_msg(LOG_WARN, "schema not ready yet: %s", err.detail);
    db_disconnect(); /* the workers have connections of their own */
    db_set_schema_hook(schema_hook);
}

/* Waits for SIGTERM or SIGINT (blocked in every thread, taken here with
 * sigwait), running the mode's periodic work in between if it has any.
 * Returns the signal. */
static int wait_for_stop(const mode *m, const sigset_t *stop_signals) {
    int sig = 0;
    if (m->tick == NULL) {
        sigwait(stop_signals, &sig);
        return sig;
    }
    for (;;) {
        m->tick();
        struct timespec every = {.tv_sec = m->tick_seconds(), .tv_nsec = 0};
        sig = sigtimedwait(stop_signals, NULL, &every);
        if (sig > 0) break;
    }
    db_disconnect();
    return sig;
}

/* Serves FastCGI on fd 0 with the mode's workers until a stop signal, then
 * finishes the requests in hand. Returns the exit status. */
static int serve_fcgi(const mode *m) {
    signal(SIGPIPE, SIG_IGN);
    metrics_init(m->name);
    start_up(m);
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
     * the notification listener waiting on it wakes at once (db_set_wake_fd). */
    int stop_pipe[2];
    if (pipe(stop_pipe) != 0) {
        fprintf(stderr, "backend-%s: cannot make the stop pipe\n", m->name);
        return 1;
    }
    fcntl(stop_pipe[0], F_SETFD, FD_CLOEXEC);
    fcntl(stop_pipe[1], F_SETFD, FD_CLOEXEC);
    db_set_wake_fd(stop_pipe[0]);
    int nworkers = mode_workers(m);
    pthread_t *workers = calloc((size_t)nworkers, sizeof *workers);
    if (workers == NULL) abort();
    if (!serve_workers_start(m, nworkers, workers)) {
        fprintf(stderr, "backend-%s: cannot start its workers\n", m->name);
        return 1;
    }
    int sig = wait_for_stop(m, &stop_signals);
    /* Finish the requests in hand, then leave: wake the waiters and the
     * workers blocked in accept (shutting the listening socket down makes
     * every accept fail); the others see the flag when they come back. */
    serve_request_stop();
    if (write(stop_pipe[1], "x", 1) != 1) log_msg(LOG_WARN, "cannot wake the notification listener");
    notify_stop();
    FCGX_ShutdownPending();
    shutdown(0, SHUT_RDWR);
    serve_workers_join(nworkers, workers, 10 * 1000);
    free(workers);
    metrics_release();
    log_msg(LOG_INFO, "stopping (signal %d)", sig);
    return 0;
}

int serve_main(const mode *m, int argc, char **argv) {
    config_load();
    settings_load(m->settings, m->nsettings);
    log_set_mode(m->name);
    db_set_app_name(m->name);
    db_set_generic_plans(m->generic_plans);
    g_mode = m;
    if (argc == 1) return serve_fcgi(m);
    if (strcmp(argv[1], "--check-config") == 0) return 0;
    if (argc > 2 && strcmp(argv[1], "--sql") == 0) return print_sql(m, argc, argv);
    if (strcmp(argv[1], "--init") == 0) return init_schema(m);
    fprintf(stderr, "usage: backend-%s [--check-config | --init | --sql NAME [ARG]]\n", m->name);
    return 2;
}
