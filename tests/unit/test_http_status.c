/* Unit tests: every status the service can send has its standard reason
 * phrase, from the one table (common/http_status.c).
 *
 * "Every status the code can emit": every error's, from the one error
 * table (api_error.h), and the others found by reading the sources, so a
 * status added anywhere without a table entry fails here: the numbers given
 * to a status field, to the MCP transport's error and buffer senders and to
 * one_row_reply-style helpers in common/ and fcgi-apps/, and lighttpd's own
 * (deploy/errors/status-NNN.html, the magnet script's return). Run from the
 * repository's top folder (tests/run.sh does). */
#define _POSIX_C_SOURCE 200809L
#include <glob.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_error.h"
#include "check.h"
#include "http_status.h"

/* The registered phrases (RFC 7231, 6585, 4918, 7232): the oracle the table
 * is checked against, kept apart from it on purpose. */
static const struct {
    int code;
    const char *reason;
} standard[] = {
    {100, "Continue"},
    {101, "Switching Protocols"},
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {203, "Non-Authoritative Information"},
    {204, "No Content"},
    {205, "Reset Content"},
    {206, "Partial Content"},
    {207, "Multi-Status"},
    {300, "Multiple Choices"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {303, "See Other"},
    {304, "Not Modified"},
    {307, "Temporary Redirect"},
    {308, "Permanent Redirect"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {402, "Payment Required"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {407, "Proxy Authentication Required"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {410, "Gone"},
    {411, "Length Required"},
    {412, "Precondition Failed"},
    {413, "Payload Too Large"},
    {414, "URI Too Long"},
    {415, "Unsupported Media Type"},
    {416, "Range Not Satisfiable"},
    {417, "Expectation Failed"},
    {421, "Misdirected Request"},
    {422, "Unprocessable Entity"},
    {423, "Locked"},
    {424, "Failed Dependency"},
    {426, "Upgrade Required"},
    {428, "Precondition Required"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
    {505, "HTTP Version Not Supported"},
    {507, "Insufficient Storage"},
    {511, "Network Authentication Required"},
};

static const char *standard_reason(int code) {
    for (size_t i = 0; i < sizeof standard / sizeof standard[0]; i++)
        if (standard[i].code == code) return standard[i].reason;
    return NULL;
}

/* Where the code hands a literal status to something that sends it. */
static const char *const emit_patterns[] = {
    "status *= *([1-5][0-9][0-9]) *;",                /* out->status = 201; */
    "transport_error\\([^,]+, *([1-5][0-9][0-9]) *,", /* /mcp's JSON-RPC errors */
    "send_buffer\\([^,]+,[^,]+, *([1-5][0-9][0-9]) *,",
    "_reply\\([^,()]+,[^,()]+, *([1-5][0-9][0-9]) *\\)", /* one_row_reply(out, res, 201) */
    "return ([1-5][0-9][0-9])$",                         /* the magnet script */
};

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    size_t got = fread(s, 1, (size_t)n, f);
    s[got] = '\0';
    fclose(f);
    return s;
}

static int found[600]; /* found[code]: how many places emit it */
static int places;

/* Adds every status emitted in text (the file's contents) to found[]. */
static void scan_text(const char *text, const regex_t *res, size_t nres) {
    for (size_t p = 0; p < nres; p++) {
        const char *at = text;
        regmatch_t m[2];
        while (regexec(&res[p], at, 2, m, 0) == 0) {
            int code = atoi(at + m[1].rm_so);
            found[code]++;
            places++;
            at += m[0].rm_eo;
        }
    }
}

int main(void) {
    /* The table itself: standard phrases, no repeats, ordered. */
    for (size_t i = 0; i < http_statuses_count; i++) {
        char name[96];
        int code = http_statuses[i].code;
        snprintf(name, sizeof name, "%d %s is the standard phrase", code, http_statuses[i].reason);
        CHECK(standard_reason(code) != NULL && strcmp(standard_reason(code), http_statuses[i].reason) == 0,
              name);
        snprintf(name, sizeof name, "%d is listed once, in order", code);
        CHECK(i == 0 || http_statuses[i - 1].code < code, name);
        CHECK(http_reason(code) == http_statuses[i].reason, "http_reason finds it");
    }
    CHECK(http_reason(299) == NULL && http_reason(0) == NULL, "a status never sent has no phrase");

    /* Every status the sources can emit. */
    regex_t res[sizeof emit_patterns / sizeof emit_patterns[0]];
    size_t nres = sizeof emit_patterns / sizeof emit_patterns[0];
    for (size_t p = 0; p < nres; p++)
        if (regcomp(&res[p], emit_patterns[p], REG_EXTENDED | REG_NEWLINE) != 0) return 2;
    const char *const sources[] = {"common/*.[ch]", "fcgi-apps/*.[ch]", "fcgi-apps/*/*.[ch]",
                                   "deploy/errors/*.lua"};
    int files = 0;
    for (size_t s = 0; s < sizeof sources / sizeof sources[0]; s++) {
        glob_t g;
        if (glob(sources[s], 0, NULL, &g) != 0) continue;
        for (size_t i = 0; i < g.gl_pathc; i++) {
            char *text = read_file(g.gl_pathv[i]);
            if (text == NULL) continue;
            scan_text(text, res, nres);
            free(text);
            files++;
        }
        globfree(&g);
    }
    /* lighttpd's own error pages name their status in the file name. */
    glob_t g;
    if (glob("deploy/errors/status-*.html", 0, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; i++) {
            int code = atoi(strrchr(g.gl_pathv[i], '-') + 1);
            if (code > 0 && code < 600) found[code]++, places++;
        }
        globfree(&g);
    }
    for (size_t p = 0; p < nres; p++) regfree(&res[p]);

    /* Every error of the error table. */
    for (int i = 0; i < API_E_COUNT; i++) found[api_error_kinds[i].status]++, places++;

    /* A scan that finds nothing proves nothing: the tree has dozens. */
    CHECK(files > 20 && places > 40, "the sources were read (run from the repository's top folder)");
    int distinct = 0;
    for (int code = 100; code < 600; code++) {
        if (found[code] == 0) continue;
        distinct++;
        char name[96];
        snprintf(name, sizeof name, "status %d, emitted in %d place(s), has a phrase in the table", code,
                 found[code]);
        CHECK(http_reason(code) != NULL, name);
    }
    CHECK(found[411] > 0 && found[201] > 0 && found[502] > 0 && found[202] > 0,
          "the scan sees 411, 201, /mcp's 202 and lighttpd's 502");
    CHECK(distinct >= 15, "at least 15 distinct statuses are emitted");
    return CHECK_DONE();
}
