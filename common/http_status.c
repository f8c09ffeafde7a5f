#include "http_status.h"

/* Ordered by code. The phrases are lighttpd's, which writes the status line
 * clients see (it takes only the number from a FastCGI or proxied answer):
 * the RFC 7231 names, with RFC 4918's 422 and 507. lighttpd's own statuses
 * (deploy/errors/) are here too, so that the test covers them. */
const http_status http_statuses[] = {
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {204, "No Content"},
    {304, "Not Modified"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {410, "Gone"},
    {411, "Length Required"},
    {412, "Precondition Failed"},
    {413, "Payload Too Large"},
    {414, "URI Too Long"},
    {415, "Unsupported Media Type"},
    {417, "Expectation Failed"},
    {422, "Unprocessable Entity"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
    {505, "HTTP Version Not Supported"},
    {507, "Insufficient Storage"},
};
const size_t http_statuses_count = sizeof http_statuses / sizeof http_statuses[0];

const char *http_reason(int status) {
    for (size_t i = 0; i < http_statuses_count; i++)
        if (http_statuses[i].code == status) return http_statuses[i].reason;
    return NULL;
}
