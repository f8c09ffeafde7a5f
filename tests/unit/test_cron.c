/* Unit tests: the queue's cron expressions and next run times
 * (queue/cron.h) and the time zones they are computed in (queue/tz.h), over
 * fixed instants: every field form, month ends, leap days, Vixie cron's
 * day-of-month/day-of-week OR, both daylight-saving changes in
 * Europe/Amsterdam, America/New_York and Australia/Sydney (inside the zone
 * files' tables and past them, where the POSIX rule of their footer
 * governs), and the refusals. Expected instants are written as RFC 3339
 * text and read by this file's own calendar, not the code under test's. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "queue/cron.h"
#include "queue/tz.h"

/* ---- An independent calendar: RFC 3339 text <-> epoch seconds ---- */

static int leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

/* Days from 1970-01-01 to y-m-d (negative before), counted one year and
 * month at a time. */
static int64_t naive_days(int y, int m, int d) {
    static const int len[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t n = 0;
    for (int yy = 1970; yy < y; yy++) n += 365 + leap(yy);
    for (int yy = y; yy < 1970; yy++) n -= 365 + leap(yy);
    for (int mm = 1; mm < m; mm++) n += len[mm - 1] + (mm == 2 && leap(y));
    return n + d - 1;
}

/* "2026-03-29T02:30:00+02:00" or "...Z" as epoch seconds (-1 if bad). */
static int64_t at(const char *s) {
    int y, mo, d, h, mi, se, oh = 0, om = 0, n = 0;
    char sign = 'Z';
    if (sscanf(s, "%d-%d-%dT%d:%d:%d%n", &y, &mo, &d, &h, &mi, &se, &n) != 6) return -1;
    if (s[n] != 'Z' && sscanf(s + n, "%c%d:%d", &sign, &oh, &om) != 3) return -1;
    int64_t off = (oh * 3600 + om * 60) * (sign == '-' ? -1 : 1);
    return naive_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off;
}

/* t in UTC as RFC 3339 (gmtime_r: UTC only, no zone involved). */
static const char *utc(int64_t t) {
    static char buf[8][32];
    static int i;
    time_t tt = (time_t)t;
    struct tm tm;
    char *b = buf[i++ % 8];
    gmtime_r(&tt, &tm);
    strftime(b, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return b;
}

static const tz_zone *zone(const char *name) {
    const tz_zone *z = NULL;
    api_error err;
    if (!tz_load(name, &z, &err)) printf("# tz_load(%s): %s\n", name, err.detail);
    return z;
}

/* True when expr's runs in zone after `from` are the instants of want[]
 * (NULL-ended), one after the other. */
static int runs(const char *expr, const char *zname, const char *from, const char *const *want) {
    cron_spec c;
    api_error err;
    const tz_zone *z = zone(zname);
    if (z == NULL) return 0;
    if (!cron_parse(expr, &c, &err)) {
        printf("# cron_parse(%s): %s\n", expr, err.detail);
        return 0;
    }
    int64_t t = at(from), next;
    for (int i = 0; want[i] != NULL; i++, t = next) {
        if (!cron_next(&c, z, t, &next) || next != at(want[i])) {
            printf("# %s in %s after %s: run %d is %s, wanted %s\n", expr, zname, utc(t), i + 1,
                   cron_next(&c, z, t, &next) ? utc(next) : "none", utc(at(want[i])));
            return 0;
        }
    }
    return 1;
}
#define RUNS(expr, zname, from, ...) runs(expr, zname, from, (const char *const[]){__VA_ARGS__, NULL})

/* The status of parsing text (0 when valid); its detail must hold `has`. */
static int refused(const char *text, const char *has) {
    cron_spec c;
    api_error err = {0};
    if (cron_parse(text, &c, &err)) return 0;
    if (err.status != 422 || strcmp(err.field, "cron") != 0 || strstr(err.detail, has) == NULL) {
        printf("# cron_parse(%s): %d %s: %s\n", text, err.status, err.field, err.detail);
        return 0;
    }
    return 1;
}

static int tz_refused(const char *name) {
    const tz_zone *z = NULL;
    api_error err = {0};
    return !tz_load(name, &z, &err) && z == NULL && err.status == 422 && strcmp(err.field, "timezone") == 0;
}

static cron_spec parsed(const char *text) {
    cron_spec c = {0};
    api_error err;
    if (!cron_parse(text, &c, &err)) printf("# cron_parse(%s): %s\n", text, err.detail);
    return c;
}

static int same_spec(const char *a, const char *b) {
    cron_spec x = parsed(a), y = parsed(b);
    return x.seconds == y.seconds && x.minutes == y.minutes && x.hours == y.hours && x.days == y.days &&
           x.months == y.months && x.weekdays == y.weekdays && x.days_star == y.days_star &&
           x.weekdays_star == y.weekdays_star;
}

static uint64_t bits(int n, ...);

/* ---- Parsing ---- */

static void test_fields(void) {
    cron_spec c = parsed("* * * * *");
    CHECK(c.seconds == 1 && c.minutes == (UINT64_C(1) << 60) - 1 && c.hours == (1u << 24) - 1 &&
              c.days == ((1u << 31) - 1) << 1 && c.months == 0x1ffe && c.weekdays == 0x7f && c.days_star &&
              c.weekdays_star,
          "* * * * *: every minute at second 0");
    CHECK(parsed("5 * * * *").minutes == bits(1, 5), "a single value");
    CHECK(parsed("1,2,30 * * * *").minutes == bits(3, 1, 2, 30), "a list");
    CHECK(parsed("10-13 * * * *").minutes == bits(4, 10, 11, 12, 13), "a range");
    CHECK(parsed("10-50/20 * * * *").minutes == bits(3, 10, 30, 50), "a step on a range: 10-50/20");
    CHECK(parsed("*/15 * * * *").minutes == bits(4, 0, 15, 30, 45), "a step on *: */15");
    CHECK(parsed("5/20 * * * *").minutes == bits(3, 5, 25, 45), "N/step runs from N to the field's end");
    CHECK(parsed("0 */5 * * *").hours == bits(5, 0, 5, 10, 15, 20), "*/5 hours");
    CHECK(parsed("0 0 1-31/10 * *").days == bits(4, 1, 11, 21, 31), "days of month 1-31/10");
    CHECK(parsed("0 0 * 1,6-7,12 *").months == bits(4, 1, 6, 7, 12), "months by number");
    CHECK(parsed("0 0 * JAN,jun-Jul,DEC *").months == bits(4, 1, 6, 7, 12), "months by name, any case");
    CHECK(parsed("0 0 * JAN-DEC/3 *").months == bits(4, 1, 4, 7, 10), "a step on a range of names");
    CHECK(parsed("0 0 * * MON-FRI").weekdays == bits(5, 1, 2, 3, 4, 5), "days of week by name");
    CHECK(parsed("0 0 * * sun,Sat").weekdays == bits(2, 0, 6), "SUN and SAT, any case");
    CHECK(parsed("0 0 * * 7").weekdays == bits(1, 0), "7 is Sunday");
    CHECK(parsed("0 0 * * 5-7").weekdays == bits(3, 0, 5, 6), "5-7: Friday to Sunday");
    CHECK(parsed("0 0 * * 0-7").weekdays == 0x7f, "0-7: every day");
    CHECK(parsed("0 0 * * */2").weekdays == bits(4, 0, 2, 4, 6), "*/2 days of week");
    CHECK(parsed("0 0 1,15 * *").days_star == false && parsed("0 0 */2 * *").days_star == true,
          "a day-of-month field starting with * counts as * (Vixie's rule)");
    CHECK(parsed("0 0 * * */2").weekdays_star && !parsed("0 0 * * 1-5").weekdays_star,
          "likewise the day-of-week field");
    CHECK(parsed("005 07 * * *").minutes == bits(1, 5) && parsed("005 07 * * *").hours == bits(1, 7),
          "leading zeros");
    CHECK(parsed("*/10 * * * * *").seconds == bits(6, 0, 10, 20, 30, 40, 50), "six fields: seconds first");
    CHECK(parsed("30 15 10 * * *").seconds == bits(1, 30) && parsed("30 15 10 * * *").hours == bits(1, 10),
          "six fields: second minute hour");
    CHECK(same_spec("@hourly", "0 * * * *"), "@hourly is 0 * * * *");
    CHECK(same_spec("@daily", "0 0 * * *"), "@daily is 0 0 * * *");
    CHECK(same_spec("@weekly", "0 0 * * 0"), "@weekly is 0 0 * * 0");
    CHECK(same_spec("@monthly", "0 0 1 * *"), "@monthly is 0 0 1 * *");
    CHECK(same_spec("@yearly", "0 0 1 1 *"), "@yearly is 0 0 1 1 *");
    CHECK(same_spec("  @daily\t", "0 0 * * *"), "blanks around an @ form");
    CHECK(same_spec(" \t0  0\t* *   *  ", "0 0 * * *"), "spaces and tabs between and around fields");
    CHECK(same_spec("0 0 30 2 MON", "0 0 30 2 1"), "30 February ORed with Mondays is taken (it fires)");
    CHECK(same_spec("0 0 31 2,3 *", "0 0 31 3 *") == 0 && parsed("0 0 31 2,3 *").months == bits(2, 2, 3),
          "31 February or March is taken (March has a 31st)");
}

static uint64_t bits(int n, ...) {
    va_list ap;
    uint64_t b = 0;
    va_start(ap, n);
    for (int i = 0; i < n; i++) b |= UINT64_C(1) << va_arg(ap, int);
    va_end(ap);
    return b;
}

/* An expression of exactly n characters: "00 0 * * 0,0,...,0[0]". */
static char *long_expr(size_t n) {
    char *s = malloc(n + 1);
    snprintf(s, n + 1, "00 0 * * 0");
    while (strlen(s) + 2 <= n) strcat(s, ",0");
    if (strlen(s) < n) strcat(s, "0");
    return s;
}

static void test_refusals(void) {
    CHECK(refused("60 * * * *", "minute field: 60 is out of range 0-59"), "minute 60");
    CHECK(refused("* 24 * * *", "hour field: 24 is out of range 0-23"), "hour 24");
    CHECK(refused("* * 0 * *", "day-of-month field: 0 is out of range 1-31"), "day of month 0");
    CHECK(refused("* * 32 * *", "day-of-month field: 32 is out of range 1-31"), "day of month 32");
    CHECK(refused("* * * 13 *", "month field: 13 is out of range 1-12"), "month 13");
    CHECK(refused("* * * 0 *", "month field: 0 is out of range 1-12"), "month 0");
    CHECK(refused("* * * * 8", "day-of-week field: 8 is out of range 0-7"), "day of week 8");
    CHECK(refused("60 * * * * *", "second field: 60 is out of range 0-59"), "second 60");
    CHECK(refused("1000 * * * *", "out of range"), "a number of four digits");
    CHECK(refused("4294967301 * * * *", "out of range"), "a number that wraps a 32-bit int to 5");
    CHECK(refused("*/0 * * * *", "step 0 is out of range 1-59"), "a step of 0");
    CHECK(refused("*/60 * * * *", "step 60 is out of range 1-59"), "a step beyond the field");
    CHECK(refused("0 0 * * */8", "step 8 is out of range 1-7"), "a day-of-week step of 8");
    CHECK(refused("*/ * * * *", "a step is a number"), "a step with no number");
    CHECK(refused("*/MON * * * *", "a step is a number"), "a step that is a name");
    CHECK(refused("50-10 * * * *", "range 50-10 is reversed"), "a reversed range");
    CHECK(refused("0 0 * * FRI-MON", "range 5-1 is reversed"), "a reversed range of names");
    CHECK(refused("5- * * * *", "a value is missing"), "a range with no end");
    CHECK(refused("-5 * * * *", "expected a number"), "a negative number");
    CHECK(refused("1,,2 * * * *", "minute field: a list item is empty (in '1,,2')"), "an empty list item");
    CHECK(refused("1, * * * *", "a list item is empty"), "a trailing comma");
    CHECK(refused(",1 * * * *", "a list item is empty"), "a leading comma");
    CHECK(refused("5x * * * *", "unexpected 'x'"), "junk after a number");
    CHECK(refused("** * * * *", "unexpected '*'"), "a double star");
    CHECK(refused("1-2-3 * * * *", "unexpected '-'"), "a range of three");
    CHECK(refused("JAN * * * *", "names are for the month and day-of-week fields"),
          "a name in the minute field");
    CHECK(refused("0 0 * FOO *", "unknown name 'FOO' (JAN to DEC)"), "an unknown month name");
    CHECK(refused("0 0 * * MONDAY", "unknown name 'MONDAY' (SUN to SAT)"), "a day's full name");
    CHECK(refused("0 0 * JANUARY *", "unknown name"), "a month's full name");
    CHECK(refused("0 0 ? * MON", "expected a number, '*' or a name, found '?'"), "Quartz's ?");
    CHECK(refused("0 0 L * *", "names are for"), "Quartz's L");
    CHECK(refused("0 0 * * 5#3", "unexpected '#'"), "Quartz's #");
    CHECK(refused("* * * *", "cron has 4 fields; it takes 5"), "four fields");
    CHECK(refused("*", "cron has 1 field;"), "one field");
    CHECK(refused("* * * * * * *", "cron has more than 6 fields"), "seven fields");
    CHECK(refused("0 0 1 1 * 2026 x y", "more than 6"), "eight fields");
    CHECK(refused("garbage", "cron has 1 field;"), "garbage");
    CHECK(refused("a b c d e", "minute field"), "five words");
    CHECK(refused("", "cron is empty"), "empty");
    CHECK(refused(" \t ", "cron is empty"), "blanks only");
    CHECK(refused(NULL, "cron must be"), "NULL");
    CHECK(refused("@reboot", "not one of @hourly, @daily, @weekly, @monthly, @yearly"), "@reboot");
    CHECK(refused("@annually", "not one of"), "@annually (not in the contract's list)");
    CHECK(refused("@DAILY", "not one of"), "@ forms are lower case");
    CHECK(refused("@", "not one of"), "a lone @");
    CHECK(refused("@daily 5", "cron: @daily stands alone"), "an @ form with more after it");
    CHECK(refused("@weekly * * * *", "stands alone"), "an @ form with fields after it");
    CHECK(refused("0 0 * * *\n", "printable ASCII"), "a newline");
    CHECK(refused("0 0 * * \x01", "printable ASCII"), "a control character");
    CHECK(refused("0 0 * * \xc3\xa9", "printable ASCII"), "a byte outside ASCII");
    CHECK(refused("0 0 30 2 *", "cron never fires"), "30 February never comes");
    CHECK(refused("0 0 31 4,6,9,11 *", "cron never fires"), "31 April, June, September, November");
    CHECK(refused("0 0 30-31 FEB */2", "cron never fires"), "ANDed with a *-day of week still never");
    char *at_max = long_expr(CRON_TEXT_MAX), *over = long_expr(CRON_TEXT_MAX + 1);
    cron_spec c;
    api_error err;
    CHECK(strlen(at_max) == CRON_TEXT_MAX && cron_parse(at_max, &c, &err) && c.weekdays == 1,
          "an expression of exactly 256 characters is taken");
    CHECK(strlen(over) == CRON_TEXT_MAX + 1 && refused(over, "cron is longer than 256 characters"),
          "one of 257 is 422");
    free(at_max);
    free(over);
}

/* ---- Next runs in UTC ---- */

static void test_next_utc(void) {
    CHECK(RUNS("*/15 * * * *", "UTC", "2026-01-01T00:07:00Z", "2026-01-01T00:15:00Z", "2026-01-01T00:30:00Z"),
          "*/15: the next quarter hours");
    CHECK(RUNS("*/15 * * * *", "UTC", "2026-01-01T00:15:00Z", "2026-01-01T00:30:00Z"),
          "strictly after: a due instant itself is not next");
    CHECK(RUNS("*/15 * * * *", "UTC", "2026-01-01T00:14:59Z", "2026-01-01T00:15:00Z"), "one second before");
    CHECK(RUNS("10-50/20 * * * *", "UTC", "2026-05-05T05:50:00Z", "2026-05-05T06:10:00Z",
               "2026-05-05T06:30:00Z", "2026-05-05T06:50:00Z", "2026-05-05T07:10:00Z"),
          "10-50/20 over an hour's end");
    CHECK(RUNS("0 0 31 * *", "UTC", "2026-01-31T00:00:00Z", "2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z",
               "2026-07-31T00:00:00Z", "2026-08-31T00:00:00Z", "2026-10-31T00:00:00Z", "2026-12-31T00:00:00Z",
               "2027-01-31T00:00:00Z"),
          "the 31st only in 31-day months");
    CHECK(RUNS("0 12 30 * *", "UTC", "2027-01-30T12:00:00Z", "2027-03-30T12:00:00Z"),
          "the 30th skips February");
    CHECK(RUNS("0 0 29 2 *", "UTC", "2027-01-01T00:00:00Z", "2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"),
          "29 February in leap years only");
    CHECK(RUNS("0 0 29 2 *", "UTC", "2096-03-01T00:00:00Z", "2104-02-29T00:00:00Z"),
          "2100 is not a leap year: eight years to the next 29 February");
    CHECK(RUNS("0 0 29 2 */7", "UTC", "2090-01-01T00:00:00Z", "2128-02-29T00:00:00Z"),
          "29 February on a Sunday (ANDed): 38 years away, found");
    CHECK(RUNS("0 0 1 3 *", "UTC", "2028-02-28T12:00:00Z", "2028-03-01T00:00:00Z"),
          "1 March after a leap day");
    CHECK(RUNS("59 23 31 12 *", "UTC", "2026-12-31T23:59:00Z", "2027-12-31T23:59:00Z"),
          "a year's last minute");
    CHECK(RUNS("0 0 13 * FRI", "UTC", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "2026-01-09T00:00:00Z",
               "2026-01-13T00:00:00Z", "2026-01-16T00:00:00Z"),
          "Vixie OR: the 13th or a Friday (13 January 2026 is a Tuesday)");
    CHECK(RUNS("0 0 13 * */5", "UTC", "2026-01-01T00:00:00Z", "2026-02-13T00:00:00Z", "2026-03-13T00:00:00Z",
               "2026-09-13T00:00:00Z", "2026-11-13T00:00:00Z"),
          "a day of week starting with * ANDs: a 13th that is a Sunday or a Friday");
    CHECK(RUNS("0 0 */2 * MON", "UTC", "2026-01-01T00:00:00Z", "2026-01-05T00:00:00Z", "2026-01-19T00:00:00Z",
               "2026-02-09T00:00:00Z"),
          "a day of month starting with * ANDs: odd-day Mondays");
    CHECK(RUNS("0 9 * * MON-FRI", "UTC", "2026-01-02T09:00:00Z", "2026-01-05T09:00:00Z",
               "2026-01-06T09:00:00Z"),
          "weekdays skip the weekend");
    CHECK(RUNS("0 0 * * 7", "UTC", "2026-01-01T00:00:00Z", "2026-01-04T00:00:00Z"), "7 is Sunday");
    CHECK(
        RUNS("*/10 * * * * *", "UTC", "2026-01-01T00:00:05Z", "2026-01-01T00:00:10Z", "2026-01-01T00:00:20Z"),
        "six fields: every ten seconds");
    CHECK(RUNS("*/10 * * * * *", "UTC", "2026-12-31T23:59:55Z", "2027-01-01T00:00:00Z"),
          "seconds over a year end");
    CHECK(RUNS("30 15 10 * * *", "UTC", "2026-06-01T10:15:30Z", "2026-06-02T10:15:30Z"),
          "six fields: a time");
    CHECK(RUNS("@hourly", "UTC", "2026-06-01T10:00:00Z", "2026-06-01T11:00:00Z"), "@hourly");
    CHECK(RUNS("@daily", "UTC", "2026-06-01T10:00:00Z", "2026-06-02T00:00:00Z"), "@daily");
    CHECK(RUNS("@weekly", "UTC", "2026-06-01T10:00:00Z", "2026-06-07T00:00:00Z"), "@weekly: Sunday midnight");
    CHECK(RUNS("@monthly", "UTC", "2026-06-01T00:00:00Z", "2026-07-01T00:00:00Z"), "@monthly");
    CHECK(RUNS("@yearly", "UTC", "2026-06-01T00:00:00Z", "2027-01-01T00:00:00Z"), "@yearly");
    CHECK(RUNS("0 0 * * *", "Etc/GMT+5", "2026-06-01T00:00:00Z", "2026-06-01T05:00:00Z"),
          "Etc/GMT+5 is five hours west (POSIX sign)");
    CHECK(RUNS("0 9 * * *", "Asia/Kolkata", "2026-06-01T00:00:00Z", "2026-06-01T03:30:00Z"),
          "a half-hour offset");
}

/* ---- Daylight saving ---- */

static void test_dst(void) {
    /* Europe/Amsterdam, 2026: 29 March 02:00 CET -> 03:00 CEST; 25 October
     * 03:00 CEST -> 02:00 CET. */
    CHECK(RUNS("30 2 * * *", "Europe/Amsterdam", "2026-03-27T12:00:00Z", "2026-03-28T02:30:00+01:00",
               "2026-03-30T02:30:00+02:00"),
          "Amsterdam spring forward: 02:30 is skipped on 29 March");
    CHECK(RUNS("0 2 * * *", "Europe/Amsterdam", "2026-03-28T12:00:00Z", "2026-03-30T02:00:00+02:00"),
          "Amsterdam: 02:00 itself is skipped");
    CHECK(RUNS("0 3 * * *", "Europe/Amsterdam", "2026-03-28T12:00:00Z", "2026-03-29T03:00:00+02:00"),
          "Amsterdam: 03:00 exists on the day");
    CHECK(RUNS("*/30 * * * *", "Europe/Amsterdam", "2026-03-29T00:00:00Z", "2026-03-29T01:30:00+01:00",
               "2026-03-29T03:00:00+02:00"),
          "Amsterdam: a half-hourly job goes from 01:30 CET to 03:00 CEST");
    CHECK(RUNS("30 2 * * *", "Europe/Amsterdam", "2026-10-24T12:00:00Z", "2026-10-25T02:30:00+02:00",
               "2026-10-26T02:30:00+01:00"),
          "Amsterdam fall back: 02:30 fires once, at its first occurrence");
    CHECK(RUNS("*/30 * * * *", "Europe/Amsterdam", "2026-10-24T23:45:00Z", "2026-10-25T02:00:00+02:00",
               "2026-10-25T02:30:00+02:00", "2026-10-25T03:00:00+01:00"),
          "Amsterdam: the repeated 02:00 and 02:30 CET do not fire again");
    CHECK(RUNS("45 2 * * *", "Europe/Amsterdam", "2026-10-25T01:10:00Z", "2026-10-26T02:45:00+01:00"),
          "Amsterdam: from inside the repeated hour, its times already fired");
    /* America/New_York, 2026: 8 March 02:00 EST -> 03:00 EDT; 1 November
     * 02:00 EDT -> 01:00 EST. */
    CHECK(RUNS("30 2 * * *", "America/New_York", "2026-03-07T12:00:00Z", "2026-03-09T02:30:00-04:00"),
          "New York spring forward: 02:30 is skipped on 8 March");
    CHECK(RUNS("30 1 * * *", "America/New_York", "2026-10-31T12:00:00Z", "2026-11-01T01:30:00-04:00",
               "2026-11-02T01:30:00-05:00"),
          "New York fall back: 01:30 fires once");
    CHECK(RUNS("*/20 1 * * *", "America/New_York", "2026-11-01T04:00:00Z", "2026-11-01T01:00:00-04:00",
               "2026-11-01T01:20:00-04:00", "2026-11-01T01:40:00-04:00", "2026-11-02T01:00:00-05:00"),
          "New York: the repeated hour's minutes fire in its first pass only");
    CHECK(RUNS("45 1 * * *", "America/New_York", "2026-11-01T06:10:00Z", "2026-11-02T01:45:00-05:00"),
          "New York: from inside the repeated hour");
    /* Australia/Sydney, 2026: 5 April 03:00 AEDT -> 02:00 AEST; 4 October
     * 02:00 AEST -> 03:00 AEDT. */
    CHECK(RUNS("30 2 * * *", "Australia/Sydney", "2026-10-02T12:00:00Z", "2026-10-03T02:30:00+10:00",
               "2026-10-05T02:30:00+11:00"),
          "Sydney spring forward (October): 02:30 skipped");
    CHECK(RUNS("30 2 * * *", "Australia/Sydney", "2026-04-03T12:00:00Z", "2026-04-04T02:30:00+11:00",
               "2026-04-05T02:30:00+11:00", "2026-04-06T02:30:00+10:00"),
          "Sydney fall back (April): 02:30 fires once");
    /* Past the zone files' tables (2037): the footer's rule. */
    CHECK(RUNS("30 2 * * *", "Europe/Amsterdam", "2050-03-25T12:00:00Z", "2050-03-26T02:30:00+01:00",
               "2050-03-28T02:30:00+02:00"),
          "Amsterdam 2050: spring forward on 27 March, by the footer's rule");
    CHECK(RUNS("30 2 * * *", "Europe/Amsterdam", "2050-10-29T12:00:00Z", "2050-10-30T02:30:00+02:00",
               "2050-10-31T02:30:00+01:00"),
          "Amsterdam 2050: fall back on 30 October");
    CHECK(RUNS("30 2 * * *", "America/New_York", "2045-03-11T12:00:00Z", "2045-03-13T02:30:00-04:00"),
          "New York 2045: spring forward on 12 March");
    CHECK(RUNS("30 1 * * *", "America/New_York", "2045-11-04T12:00:00Z", "2045-11-05T01:30:00-04:00",
               "2045-11-06T01:30:00-05:00"),
          "New York 2045: fall back on 5 November");
    CHECK(RUNS("30 2 * * *", "Australia/Sydney", "2060-10-01T12:00:00Z", "2060-10-02T02:30:00+10:00",
               "2060-10-04T02:30:00+11:00"),
          "Sydney 2060: spring forward on 3 October, the first Sunday");
}

/* ---- The search's bounds ---- */

static void test_bounds(void) {
    cron_spec c = parsed("30 2 31 3 */7");
    const tz_zone *ams = zone("Europe/Amsterdam"), *u = zone("UTC");
    int64_t next = 42;
    /* 31 March on a Sunday is always the last Sunday of March, when
     * Amsterdam skips 02:00-03:00 (since 1981); the Netherlands had no
     * summer time in 1974. */
    CHECK(ams != NULL && cron_next(&c, ams, at("1970-01-01T00:00:00Z"), &next) &&
              next == at("1974-03-31T02:30:00+01:00"),
          "a time only a daylight-saving change skips: fires the year the zone did not skip it");
    CHECK(ams != NULL && !cron_next(&c, ams, at("2026-01-01T00:00:00Z"), &next) &&
              next == at("1974-03-31T02:30:00+01:00"),
          "and no next run within 50 years after (next left alone)");
    cron_spec daily = parsed("0 0 * * *"), last = parsed("59 23 31 12 *");
    CHECK(!cron_next(&daily, u, -1, &next), "an instant before 1970 has no next run");
    CHECK(!cron_next(&daily, u, CRON_EPOCH_MAX, &next), "nor one at 9999-12-31T23:59:59Z");
    CHECK(cron_next(&last, u, at("9999-12-31T00:00:00Z"), &next) && next == at("9999-12-31T23:59:00Z"),
          "the last minute of 9999 is found");
    CHECK(!cron_next(&daily, u, at("9999-12-31T00:00:00Z"), &next), "nothing past 9999");
    CHECK(cron_next(&daily, u, 0, &next) && next == 86400, "from the epoch itself");
}

/* ---- Time zones ---- */

static void test_zone_names(void) {
    CHECK(zone("UTC") != NULL && strcmp(tz_name(zone("UTC")), "UTC") == 0, "UTC");
    CHECK(zone("Europe/Amsterdam") == zone("Europe/Amsterdam"), "a zone is loaded once and cached");
    CHECK(zone("America/Argentina/Buenos_Aires") != NULL, "a name of three components");
    CHECK(zone("Etc/GMT+5") != NULL && zone("Etc/GMT-14") != NULL, "names with + and -");
    CHECK(tz_name_valid("Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb") &&
              strlen("Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb") == TZ_NAME_MAX,
          "a name of 64 characters has a valid shape");
    CHECK(!tz_name_valid("Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"), "65 has not");
    CHECK(tz_refused("Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"),
          "an unknown valid name: 422");
    const char *hostile[] = {"../../etc/passwd",
                             "/etc/passwd",
                             "Europe/../../../etc/passwd",
                             "Europe/./Amsterdam",
                             "Europe//Amsterdam",
                             "Europe/",
                             "/",
                             ".",
                             "..",
                             ".hidden",
                             "-rf",
                             "Europe/Amsterdam\n",
                             "Europe/Am sterdam",
                             "Europe\\Amsterdam",
                             "Europe/Amsterdam;rm",
                             "Europe/Amst\xc3\xa9rdam",
                             "",
                             "posix/Europe/Amsterdam",
                             "right/Europe/Amsterdam",
                             "right/UTC",
                             "localtime",
                             "posixrules",
                             "zone.tab",
                             "tzdata.zi",
                             "Europe",
                             "Mars/Olympus_Mons",
                             "europe/amsterdam",
                             "utc",
                             NULL};
    int all = 1;
    for (int i = 0; hostile[i] != NULL; i++)
        if (!tz_refused(hostile[i])) {
            printf("# %s was taken\n", hostile[i]);
            all = 0;
        }
    CHECK(all, "unknown, hostile and non-IANA names are 422 naming timezone (28 names)");
    CHECK(tz_refused(NULL), "NULL is 422");
}

/* A thread's work: load four zones (three never loaded before) and keep
 * what it got. */
static void *load_zones(void *arg) {
    const tz_zone **got = arg;
    const char *names[] = {"Asia/Tokyo", "Europe/Berlin", "America/Chicago", "Africa/Cairo"};
    for (int i = 0; i < 4; i++) got[i] = zone(names[i]);
    return NULL;
}

static void test_threads(void) {
    pthread_t th[4];
    const tz_zone *got[4][4];
    for (int i = 0; i < 4; i++) pthread_create(&th[i], NULL, load_zones, got[i]);
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    int same = 1;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) same = same && got[i][j] != NULL && got[i][j] == got[0][j];
    CHECK(same, "four threads loading the same zones at once get one zone each");
}

/* Copies the file at from to the file at to; 0 on failure. */
static int copy_file(const char *from, const char *to) {
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    char buf[4096];
    size_t n;
    int ok = in != NULL && out != NULL;
    while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0) ok = fwrite(buf, 1, n, out) == n;
    if (in) fclose(in);
    if (out) fclose(out);
    return ok;
}

static void test_tzdir(void) {
    char dir[] = "/tmp/test_cron_XXXXXX", sub[64], path[96], fifo[96];
    CHECK(mkdtemp(dir) != NULL, "a scratch zone database");
    snprintf(sub, sizeof sub, "%s/Test", dir);
    snprintf(path, sizeof path, "%s/Zone", sub);
    snprintf(fifo, sizeof fifo, "%s/Fifo", sub);
    mkdir(sub, 0700);
    copy_file("/usr/share/zoneinfo/Asia/Tokyo", path);
    mkfifo(fifo, 0600);
    setenv("TZDIR", dir, 1);
    const tz_zone *z = zone("Test/Zone");
    CHECK(z != NULL && tz_offset(z, at("2026-06-01T00:00:00Z"), NULL) == 9 * 3600, "TZDIR is honoured");
    CHECK(tz_refused("Europe/Paris"), "a zone outside TZDIR is unknown there");
    CHECK(zone("UTC") != NULL, "UTC loads with no file for it");
    CHECK(tz_refused("Test/Fifo"), "a FIFO in the database is refused, without hanging");
    CHECK(tz_refused("Test"), "a directory is refused");
    unsetenv("TZDIR");
    CHECK(zone("Test/Zone") == z, "a loaded zone stays cached");
    unlink(fifo);
    unlink(path);
    rmdir(sub);
    rmdir(dir);
}

/* Reads a whole file into *len bytes (malloc'd; NULL on failure). */
static unsigned char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    *len = 0;
    if (f == NULL) return NULL;
    unsigned char *b = malloc(1 << 16);
    *len = fread(b, 1, 1 << 16, f);
    fclose(f);
    return b;
}

static void test_tzif(void) {
    size_t len = 0;
    unsigned char *b = slurp("/usr/share/zoneinfo/Europe/Amsterdam", &len);
    tz_zone *z = b ? tz_parse("Europe/Amsterdam", b, len) : NULL;
    CHECK(z != NULL, "a TZif file parses");
    int64_t next;
    CHECK(z && tz_offset(z, at("2026-01-01T00:00:00Z"), &next) == 3600 && next == at("2026-03-29T01:00:00Z"),
          "the offset and the next change, inside the table");
    CHECK(z && tz_offset(z, at("2026-03-29T01:00:00Z"), &next) == 7200 && next == at("2026-10-25T01:00:00Z"),
          "at the change itself, the new offset");
    CHECK(z && tz_offset(z, at("2090-07-01T00:00:00Z"), &next) == 7200 && next == at("2090-10-29T01:00:00Z"),
          "past the table, the footer's rule");
    CHECK(z && tz_offset(z, at("1800-01-01T00:00:00Z"), NULL) == 1172,
          "before the first transition: local mean time");
    int prefixes = 1;
    for (size_t n = 0; b && n < len; n++) {
        tz_zone *t = tz_parse("x", b, n);
        if (t != NULL) prefixes = 0;
        tz_free(t);
    }
    CHECK(b && prefixes, "every truncation of the file is refused");
    unsigned char *v1 = b ? malloc(len) : NULL;
    if (v1) {
        memcpy(v1, b, len);
        v1[4] = 0; /* version 1: its 32-bit block alone */
    }
    tz_zone *old = v1 ? tz_parse("v1", v1, len) : NULL;
    CHECK(old && tz_offset(old, at("2026-07-01T00:00:00Z"), NULL) == 7200 &&
              tz_offset(old, at("2026-12-01T00:00:00Z"), NULL) == 3600,
          "a version 1 file parses from its 32-bit block");
    /* A version 1 file of one type (UTC) and, in the second, one
     * leap-second record: the first parses, the second is refused. */
    unsigned char plain[62] = "TZif", leapy[62] = "TZif";
    const unsigned char counts[24] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 4};
    memcpy(plain + 20, counts, 24);
    memcpy(plain + 50, "UTC", 4);
    memcpy(leapy, plain, sizeof leapy);
    leapy[31] = 1; /* leapcnt */
    tz_zone *p = tz_parse("plain", plain, 54);
    CHECK(p != NULL && tz_offset(p, 0, NULL) == 0, "a minimal version 1 file parses");
    CHECK(tz_parse("leap", leapy, 62) == NULL, "a file with leap seconds (right/ zones) is refused");
    tz_free(p);
    CHECK(tz_parse("x", (const unsigned char *)"TZif2", 5) == NULL, "a bare magic is refused");
    tz_free(z);
    tz_free(old);
    free(b);
    free(v1);
}

/* Every day from `from` to `to`, zone name's offset and next change equal
 * those of the POSIX rule alone: the table and the footer agree. */
static int table_is_rule(const char *name, const char *rule, int from, int to) {
    const tz_zone *z = zone(name);
    tz_zone *p = tz_from_posix(rule);
    int ok = z != NULL && p != NULL;
    for (int64_t t = naive_days(from, 1, 1) * 86400; ok && t < naive_days(to, 1, 1) * 86400; t += 86400) {
        int64_t nz, np;
        ok = tz_offset(z, t, &nz) == tz_offset(p, t, &np) && nz == np;
        if (!ok)
            printf("# %s at %s: %d/%s vs %d/%s\n", name, utc(t), tz_offset(z, t, &nz), utc(nz),
                   tz_offset(p, t, &np), utc(np));
    }
    tz_free(p);
    return ok;
}

static void test_posix_rules(void) {
    CHECK(table_is_rule("Europe/Amsterdam", "CET-1CEST,M3.5.0,M10.5.0/3", 1997, 2037),
          "Amsterdam's table and rule agree every day of 1997-2036");
    CHECK(table_is_rule("America/New_York", "EST5EDT,M3.2.0,M11.1.0", 2008, 2037), "New York's, 2008-2036");
    CHECK(table_is_rule("Australia/Sydney", "AEST-10AEDT,M10.1.0,M4.1.0/3", 2009, 2037),
          "Sydney's, 2009-2036");
    tz_zone *z = tz_from_posix("IST-1GMT0,M10.5.0,M3.5.0/1");
    CHECK(z && tz_offset(z, at("2040-01-15T00:00:00Z"), NULL) == 0 &&
              tz_offset(z, at("2040-07-15T00:00:00Z"), NULL) == 3600,
          "Dublin's negative daylight saving");
    tz_free(z);
    z = tz_from_posix("EST5EDT4,0/0,J365/25");
    int64_t next;
    CHECK(z && tz_offset(z, at("2040-01-01T02:00:00Z"), NULL) == -4 * 3600 &&
              tz_offset(z, at("2040-12-31T23:00:00Z"), &next) == -4 * 3600,
          "daylight time all year (RFC 8536's example)");
    tz_free(z);
    z = tz_from_posix("<-03>3<-02>,M3.5.0/-2,M10.5.0/-1");
    CHECK(z && tz_offset(z, at("2040-03-25T00:59:59Z"), NULL) == -3 * 3600 &&
              tz_offset(z, at("2040-03-25T01:00:00Z"), NULL) == -2 * 3600,
          "a negative rule time (Greenland until 2023: 22:00 the day before the last Sunday)");
    tz_free(z);
    z = tz_from_posix("<+0545>-5:45");
    CHECK(z && tz_offset(z, 0, &next) == 5 * 3600 + 45 * 60 && next == INT64_MAX,
          "a fixed offset in <> form");
    tz_free(z);
    const char *bad[] = {"",
                         "EST",
                         "E5",
                         "EST+",
                         "EST25",
                         "EST5EDT,M13.1.0,M11.1.0",
                         "EST5EDT,M3.2.0",
                         "EST5EDT,M3.0.0,M11.1.0",
                         "EST5EDT,J0,J365",
                         "EST5EDT,M3.2.7,M11.1.0",
                         "EST5EDT,M3.2.0/168,M11.1.0",
                         "EST5x",
                         "<AB>5",
                         "EST5EDT,M3.2.0,M11.1.0x",
                         NULL};
    int refused_all = 1;
    for (int i = 0; bad[i] != NULL; i++) {
        tz_zone *b = tz_from_posix(bad[i]);
        if (b != NULL) printf("# rule %s was taken\n", bad[i]), refused_all = 0;
        tz_free(b);
    }
    CHECK(refused_all, "malformed POSIX rules are refused");
}

static void test_calendar(void) {
    /* A date moved on one day at a time, against both directions. */
    int y = 1969, m = 12, d = 31, ok = 1;
    for (int64_t n = -1; ok && n < naive_days(2500, 1, 1); n++) {
        int64_t cy;
        int cm, cd;
        tz_civil_from_days(n, &cy, &cm, &cd);
        ok = cy == y && cm == m && cd == d && tz_days_from_civil(y, m, d) == n;
        if (++d > naive_days(y + (m == 12), m % 12 + 1, 1) - naive_days(y, m, 1)) d = 1, m++;
        if (m > 12) m = 1, y++;
    }
    CHECK(ok, "the calendar agrees with a day-by-day count, 1969-12-31 to 2500");
    CHECK(tz_weekday(0) == 4 && tz_weekday(-1) == 3 && tz_weekday(naive_days(2026, 3, 29)) == 0,
          "days of the week (1970-01-01 a Thursday)");
    CHECK(tz_month_days(2028, 2) == 29 && tz_month_days(2100, 2) == 28 && tz_month_days(2000, 2) == 29,
          "February's length");
}

int main(void) {
    test_fields();
    test_refusals();
    test_next_utc();
    test_dst();
    test_bounds();
    test_zone_names();
    test_threads();
    test_tzdir();
    test_tzif();
    test_posix_rules();
    test_calendar();
    return CHECK_DONE();
}
