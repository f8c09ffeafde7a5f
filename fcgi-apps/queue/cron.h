/*
 * cron: the queue's schedule expressions and their next run times
 * (docs/queue.md, "Schedules: cron syntax"). Pure code: no clock, no
 * database, no process TZ; the time zone comes in as a tz_zone (tz.h).
 *
 * An expression is five fields, minute hour day-of-month month
 * day-of-week, or six with a leading seconds field, each a comma list of
 * `*`, `N`, `N-M`, with an optional `/step` (`*`/step, N-M/step, N/step
 * = N to the field's end); months and days of the week also by name
 * (JAN..DEC, SUN..SAT, any case), day of week 0 or 7 for Sunday; or one of
 * @hourly @daily @weekly @monthly @yearly. When both the day-of-month and
 * the day-of-week fields are restricted (neither starts with `*`), a day
 * matches if either does, as in Vixie cron; otherwise it must match both.
 */
#ifndef BACKEND_QUEUE_CRON_H
#define BACKEND_QUEUE_CRON_H

#include <stdbool.h>
#include <stdint.h>

#include "api_error.h"
#include "tz.h"

/* The longest expression taken, in bytes (as AWS EventBridge's schedule
 * expressions). */
enum { CRON_TEXT_MAX = 256 };

/* The last instant cron_next deals in: 9999-12-31T23:59:59Z. */
#define CRON_EPOCH_MAX INT64_C(253402300799)

/* How far cron_next looks past its starting instant before saying there is
 * no next run: 50 years (a 29 February on a given day of the week can be
 * 40 years away). */
#define CRON_SEARCH_SECONDS (INT64_C(50) * 366 * 86400)

/* A parsed expression: one bit per value each field allows. */
typedef struct cron_spec {
    uint64_t seconds;   /* bit s: second s, 0-59 (bit 0 alone for five fields) */
    uint64_t minutes;   /* bit m: minute m, 0-59 */
    uint32_t hours;     /* bit h: hour h, 0-23 */
    uint32_t days;      /* bit d: day of month d, 1-31 */
    uint16_t months;    /* bit m: month m, 1-12 */
    uint8_t weekdays;   /* bit d: day of week d, 0 (Sunday) to 6; 7 is 0 */
    bool days_star;     /* the day-of-month field starts with '*' */
    bool weekdays_star; /* the day-of-week field starts with '*' */
} cron_spec;

/* Parses text into *out and returns true; returns false with a 422 naming
 * "cron" and saying which field is wrong and how when text is anything
 * else: NULL or empty, over CRON_TEXT_MAX bytes, a byte other than
 * printable ASCII, space or tab, not 5 or 6 fields, a value out of its
 * field's range, an unknown name, a reversed range, a step of 0 or beyond
 * the field's largest value, an empty list item, an unknown @ form; or an
 * expression that can never fire (a day of month none of its months has:
 * `0 0 30 2 *`). Leading and trailing blanks are allowed. */
bool cron_parse(const char *text, cron_spec *out, api_error *err);

/* Sets *next to the first instant strictly after `after` (UTC epoch
 * seconds) at which c is due in zone z, and returns true. A local time a
 * daylight-saving change skips does not fire; one it repeats fires once,
 * at its first occurrence (a local time fires only when it is later than
 * every local time before it). Returns false (and leaves *next alone) when
 * after is not within 0 to CRON_EPOCH_MAX - 1, or no run comes within
 * CRON_SEARCH_SECONDS of it nor by CRON_EPOCH_MAX (an expression that
 * fires only at local times the zone skips every year, such as 02:30 on a
 * 31 March that is a Sunday in Europe/Amsterdam). c comes from cron_parse;
 * z from tz_load, tz_parse or tz_from_posix. */
bool cron_next(const cron_spec *c, const tz_zone *z, int64_t after, int64_t *next);

#endif
