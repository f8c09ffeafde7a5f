#define _POSIX_C_SOURCE 200809L
#include "workers.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "db.h"

typedef struct job {
    void (*fn)(void *);
    void *arg;
    bool done;
    struct job *next;
} job;

struct workers {
    pthread_mutex_t lock;
    pthread_cond_t work;     /* a job was queued, or stop */
    pthread_cond_t finished; /* a job is done */
    job *head, *tail;        /* jobs waiting for a worker; owned by their callers */
    bool stop;
    int n;
    pthread_t *threads;
};

static void *worker_main(void *arg) {
    workers *w = arg;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (w->head == NULL && !w->stop) pthread_cond_wait(&w->work, &w->lock);
        if (w->head == NULL) break; /* stopping, nothing left */
        job *j = w->head;
        w->head = j->next;
        if (w->head == NULL) w->tail = NULL;
        pthread_mutex_unlock(&w->lock);
        j->fn(j->arg);
        pthread_mutex_lock(&w->lock);
        j->done = true;
        pthread_cond_broadcast(&w->finished);
    }
    pthread_mutex_unlock(&w->lock);
    db_disconnect();
    return NULL;
}

workers *workers_new(int n) {
    workers *w = calloc(1, sizeof *w);
    if (w == NULL) return NULL;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->work, NULL);
    pthread_cond_init(&w->finished, NULL);
    w->threads = calloc((size_t)n, sizeof *w->threads);
    if (w->threads == NULL) {
        workers_free(w);
        return NULL;
    }
    for (; w->n < n; w->n++)
        if (pthread_create(&w->threads[w->n], NULL, worker_main, w) != 0) {
            workers_free(w);
            return NULL;
        }
    return w;
}

void workers_run(workers *w, void (*fn)(void *), void *arg) {
    job j = {fn, arg, false, NULL};
    pthread_mutex_lock(&w->lock);
    /* The job lives on this stack: the queue holds it only until a worker
     * takes it, and this call returns only once it is done. */
    if (w->tail)
        w->tail->next = &j;
    else
        w->head = &j; // cppcheck-suppress autoVariables
    w->tail = &j;     // cppcheck-suppress autoVariables
    pthread_cond_signal(&w->work);
    while (!j.done) pthread_cond_wait(&w->finished, &w->lock);
    pthread_mutex_unlock(&w->lock);
}

void workers_free(workers *w) {
    if (w == NULL) return;
    pthread_mutex_lock(&w->lock);
    w->stop = true;
    pthread_cond_broadcast(&w->work);
    pthread_mutex_unlock(&w->lock);
    for (int i = 0; i < w->n; i++) pthread_join(w->threads[i], NULL);
    free(w->threads);
    pthread_cond_destroy(&w->finished);
    pthread_cond_destroy(&w->work);
    pthread_mutex_destroy(&w->lock);
    free(w);
}
