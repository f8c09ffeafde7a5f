/* libFuzzer target: the queue's cron expressions (queue/cron.h) and the
 * zone rules they run in (queue/tz.h). The input is a zone selector byte,
 * eight bytes of starting instant, then the text. Invariants, each checked
 * against an oracle written here:
 *   - cron_parse accepts, or refuses with a 422 naming "cron";
 *   - an accepted expression's next run in the chosen zone is after the
 *     start, within CRON_SEARCH_SECONDS and CRON_EPOCH_MAX, and its local
 *     time (read with gmtime_r on the local seconds: UTC arithmetic only)
 *     matches every field, the day fields by Vixie cron's rule; and, when
 *     it is at most an hour away, it is the first instant at which a
 *     matching local time comes later than every local time before
 *     (checked one second at a time): skipped times never fire, repeated
 *     ones once;
 *   - the search is consistent: from one second before the run, and from
 *     halfway between the start and the run, the next run is the same;
 *   - the text as a POSIX TZ rule: refused, or a zone whose offsets stay
 *     within a day and whose next change is always later;
 *   - the whole input as a TZif file: refused, or a zone as above;
 *   - tz_name_valid holds only for names with no "." or "-" starting a
 *     component and none empty (no "..", no absolute path). */
#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "queue/cron.h"
#include "queue/tz.h"

static const tz_zone *pick_zone(uint8_t sel) {
    static const char *const names[] = {
        "UTC",          "Europe/Amsterdam", "America/New_York", "Australia/Sydney",
        "Asia/Kolkata", "Europe/Dublin",    "Pacific/Chatham",  "America/Santiago"};
    const tz_zone *z = NULL;
    api_error err;
    if (!tz_load(names[sel % 8], &z, &err)) abort(); /* the fuzzer runs where tzdata is installed */
    return z;
}

/* True when the local time of instant t in z matches c. */
static int matches(const cron_spec *c, const tz_zone *z, int64_t t) {
    time_t local = (time_t)(t + tz_offset(z, t, NULL));
    struct tm tm;
    if (gmtime_r(&local, &tm) == NULL) return 0;
    int dom = c->days >> tm.tm_mday & 1, dow = c->weekdays >> tm.tm_wday & 1;
    int day = c->days_star || c->weekdays_star ? dom && dow : dom || dow;
    return (c->seconds >> tm.tm_sec & 1) && (c->minutes >> tm.tm_min & 1) && (c->hours >> tm.tm_hour & 1) &&
           (c->months >> (tm.tm_mon + 1) & 1) && day;
}

/* The contract's rule, second by second from two days before `after` to
 * the run: an instant fires when its local time matches and is later than
 * every local time before it (a skipped time never comes, a repeated one
 * comes once). The run must be the first instant after `after` that
 * fires. */
static void check_first(const cron_spec *c, const tz_zone *z, int64_t after, int64_t next) {
    int64_t hw = INT64_MIN, change;
    for (int64_t t = after - 2 * 86400; t <= next;) {
        int32_t off = tz_offset(z, t, &change);
        int64_t end = change - 1 < next ? change - 1 : next;
        if (t <= after) { /* nothing may fire yet: only the latest local time counts */
            int64_t last = end < after ? end : after;
            if (last + off > hw) hw = last + off;
            t = last + 1;
            continue;
        }
        for (; t <= end; t++) {
            bool fires = t + off > hw && matches(c, z, t);
            if (fires != (t == next)) abort();
            if (t + off > hw) hw = t + off;
        }
    }
}

static void check_next(const cron_spec *c, const tz_zone *z, int64_t after) {
    int64_t next, again;
    if (!cron_next(c, z, after, &next)) return;
    if (next <= after || next > CRON_EPOCH_MAX || next - after > CRON_SEARCH_SECONDS) abort();
    if (!matches(c, z, next)) abort();
    if (next - after <= 3600) check_first(c, z, after, next);
    if (!cron_next(c, z, next - 1, &again) || again != next) abort();
    int64_t mid = after + (next - after) / 2;
    if (!cron_next(c, z, mid, &again) || again != next) abort();
}

static void check_zone(const tz_zone *z) {
    static const int64_t probes[] = {-4000000000LL, 0, 1000000000, 1774746000, 2200000000LL, 4102444800LL,
                                     253402300799LL};
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        int64_t next;
        int32_t off = tz_offset(z, probes[i], &next);
        if (off < -26 * 3600 || off > 26 * 3600 || next <= probes[i]) abort();
    }
}

/* The oracle of tz_name_valid's path safety (not its whole rule). */
static void check_name(const char *s) {
    if (!tz_name_valid(s)) return;
    size_t n = strlen(s);
    if (n == 0 || n > TZ_NAME_MAX || s[0] == '/' || s[n - 1] == '/' || strstr(s, "//") || strstr(s, "/.") ||
        strstr(s, "/-") || s[0] == '.' || s[0] == '-')
        abort();
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] > '~' || s[i] == '\\') abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t sel = size > 0 ? data[0] : 0;
    uint64_t raw = 0;
    for (size_t i = 1; i < 9 && i < size; i++) raw = raw << 8 | data[i];
    int64_t after = (int64_t)(raw % (uint64_t)(CRON_EPOCH_MAX + 2)) - 1; /* -1 to CRON_EPOCH_MAX */
    size_t off = size < 9 ? size : 9;
    char *text = malloc(size - off + 1);
    memcpy(text, data + off, size - off);
    text[size - off] = '\0';

    cron_spec c;
    api_error err;
    if (cron_parse(text, &c, &err))
        check_next(&c, pick_zone(sel), after);
    else if (err.status != 422 || strcmp(err.field, "cron") != 0)
        abort();

    tz_zone *rule = tz_from_posix(text);
    if (rule != NULL) {
        check_zone(rule);
        if (cron_parse("*/7 1-3 * * *", &c, &err)) check_next(&c, rule, after);
    }
    tz_free(rule);
    tz_zone *file = tz_parse("fuzz", data, size);
    if (file != NULL) check_zone(file);
    tz_free(file);
    check_name(text);
    free(text);
    return 0;
}
