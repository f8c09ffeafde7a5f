/* Unit tests: W3C traceparent parsing (common/trace.c): valid headers are
 * honoured, everything else starts a new trace; every request gets a span
 * of its own. */
#define _POSIX_C_SOURCE 200809L
#include <string.h>

#include "check.h"
#include "trace.h"

#define TID "4bf92f3577b34da6a3ce929d0e0e4736"
#define PID "00f067aa0ba902b7"

int main(void) {
    char tid[TRACE_ID_CHARS + 1], pid[SPAN_ID_CHARS + 1];
    CHECK(trace_parse("00-" TID "-" PID "-01", tid, pid) && strcmp(tid, TID) == 0 && strcmp(pid, PID) == 0,
          "the W3C example is honoured");
    CHECK(trace_parse("00-" TID "-" PID "-00", NULL, NULL), "flags 00 too");
    CHECK(trace_parse("01-" TID "-" PID "-01-later", NULL, NULL), "a later version may carry more fields");
    CHECK(trace_parse("01-" TID "-" PID "-01", NULL, NULL), "a later version with no more fields");
    static const char *const bad[] = {
        "",
        "00-" TID "-" PID "-0",    /* short */
        "00-" TID "-" PID "-01-x", /* version 00 has nothing more */
        "ff-" TID "-" PID "-01",   /* version ff is invalid */
        "00-"
        "4BF92F3577B34DA6A3CE929D0E0E4736"
        "-" PID "-01",                                    /* uppercase */
        "00-00000000000000000000000000000000-" PID "-01", /* zero trace id */
        "00-" TID "-0000000000000000-01",                 /* zero parent id */
        "00_" TID "-" PID "-01",                          /* separator */
        "00-" TID "-" PID "-0g",                          /* not hex */
        "01-" TID "-" PID "-01x",                         /* later version, no dash */
        "zz-" TID "-" PID "-01",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char name[160];
        snprintf(name, sizeof name, "refused: \"%s\"", bad[i]);
        CHECK(!trace_parse(bad[i], tid, pid), name);
    }
    CHECK(!trace_parse(NULL, NULL, NULL), "absent");

    trace_context t, u;
    trace_start(&t, "00-" TID "-" PID "-01");
    CHECK(strcmp(t.trace_id, TID) == 0 && strcmp(t.parent_id, PID) == 0,
          "a valid header: its trace, its parent");
    CHECK(strlen(t.span_id) == 16 && strcmp(t.span_id, PID) != 0, "a span of our own");
    trace_start(&t, "garbage");
    trace_start(&u, NULL);
    CHECK(trace_parse("00-" TID "-" PID "-01", NULL, NULL), "sanity");
    CHECK(strlen(t.trace_id) == 32 && t.parent_id[0] == '\0' && strcmp(t.trace_id, u.trace_id) != 0,
          "invalid or absent: a new trace each time, no parent");
    char header[64];
    snprintf(header, sizeof header, "00-%s-%s-01", u.trace_id, u.span_id);
    CHECK(trace_parse(header, NULL, NULL), "a started trace is itself valid traceparent material");
    return CHECK_DONE();
}
