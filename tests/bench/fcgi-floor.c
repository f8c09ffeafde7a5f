/*
 * fcgi-floor: the floor of the FastCGI hop, for make bench (issue 22).
 *
 * A FastCGI responder that does no work: no parsing, no authentication, no
 * database, no log line. It answers every request with the headers and the
 * body a document GET of the bench's keys gets, one request at a time,
 * exactly as libfcgi's own loop does. Behind lighttpd, with as many
 * processes as the document mode runs, it shows what lighttpd and the
 * FastCGI hop cost before a mode does anything: the most any mode behind
 * them could reach on the machine. Not part of the service; built by
 * tests/bench/run.sh.
 */
#include <fcgiapp.h>
#include <stdio.h>

/* What backend-document answers for GET /document/bench/k77, but the id. */
static const char body[] =
    "{\"namespace\" : \"bench\", \"key\" : \"k77\", \"version\" : 1, "
    "\"payload\" : {\"n\": 77, \"tags\": [\"a\", \"b\"]}, "
    "\"created_at\" : \"2026-12-03T16:59:55.621019Z\"}";

int main(void) {
    char answer[512];
    int length = snprintf(answer, sizeof answer,
                          "Status: 200 OK\r\n"
                          "Content-Type: application/json\r\n"
                          "Content-Length: %zu\r\n"
                          "Cache-Control: no-store\r\n"
                          "X-Request-Id: 9ea1550c7f04327a30be279da9f531be\r\n"
                          "ETag: \"1\"\r\n"
                          "\r\n%s",
                          sizeof body - 1, body);
    FCGX_Request request;
    if (length < 0 || (size_t)length >= sizeof answer || FCGX_Init() != 0 ||
        FCGX_InitRequest(&request, 0, 0) != 0)
        return 1;
    while (FCGX_Accept_r(&request) >= 0) {
        FCGX_PutStr(answer, length, request.out);
        FCGX_Finish_r(&request);
    }
    return 0;
}
