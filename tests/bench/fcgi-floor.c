/*
 * fcgi-floor: the floor of the FastCGI hop, for make bench (issue 22).
 *
 * Stands in for backend-document in a copy of the service (same lighttpd,
 * same configuration, same processes): a FastCGI responder that does no
 * work. No parsing, no authentication, no database, no log line: it
 * answers every request with the headers and the body a document GET of
 * the bench's keys gets. It runs FLOOR_WORKERS workers a process (the
 * document mode's count, from `backend-registry --workers`), each taking
 * connections the way common/serve.c's do: accept(2) with no lock, and the
 * request finished detached (no lingering close). So it costs what
 * lighttpd and the hop cost before a mode does anything. Not part of the
 * service; built by tests/bench/run.sh.
 */
#include <fcgiapp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

/* What backend-document answers for GET /document/bench/k77, but the id. */
static const char body[] =
    "{\"namespace\" : \"bench\", \"key\" : \"k77\", \"version\" : 1, "
    "\"payload\" : {\"n\": 77, \"tags\": [\"a\", \"b\"]}, "
    "\"created_at\" : \"2026-12-03T16:59:55.621019Z\"}";
static char answer[512];
static int answer_length;

/* One worker: answers requests until accept fails. */
static void *worker(void *unused) {
    (void)unused;
    FCGX_Request request;
    if (FCGX_InitRequest(&request, 0, 0) != 0) return NULL;
    while (FCGX_Accept_r(&request) >= 0) {
        FCGX_PutStr(answer, answer_length, request.out);
        FCGX_Detach(&request);
        FCGX_Finish_r(&request);
    }
    return NULL;
}

int main(void) {
    const char *w = getenv("FLOOR_WORKERS");
    int workers = w != NULL ? atoi(w) : 1;
    if (workers < 1 || workers > 64) workers = 1;
    answer_length = snprintf(answer, sizeof answer,
                             "Status: 200 OK\r\n"
                             "Content-Type: application/json\r\n"
                             "Content-Length: %zu\r\n"
                             "Cache-Control: no-store\r\n"
                             "X-Request-Id: 9ea1550c7f04327a30be279da9f531be\r\n"
                             "ETag: \"1\"\r\n"
                             "\r\n%s",
                             sizeof body - 1, body);
    if (answer_length < 0 || (size_t)answer_length >= sizeof answer || FCGX_Init() != 0) return 1;
    /* workers - 1 threads beside this one; none is ever joined. */
    for (int i = 1; i < workers; i++) {
        pthread_t thread;
        if (pthread_create(&thread, NULL, worker, NULL) != 0) return 1;
    }
    worker(NULL);
    return 0;
}
