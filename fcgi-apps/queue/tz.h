/*
 * tz: IANA time zones for the queue's schedules (docs/queue.md, "Schedules:
 * cron syntax"), read straight from the system's zone database: the TZif
 * files (RFC 8536) under /usr/share/zoneinfo, or $TZDIR when it is set.
 * Nothing here reads or changes the process's TZ, and nothing calls
 * localtime, mktime or tzset: a schedule in Europe/Amsterdam and one in
 * America/New_York are computed side by side in one process, each from its
 * own zone (tests/arch/check.sh checks that no object links those calls).
 *
 * A zone answers one question: the offset from UTC in force at an instant,
 * and the next instant at which it may change. Instants before the file's
 * first transition take its first time type; instants after its last
 * transition follow the POSIX TZ rule of its footer (e.g.
 * "CET-1CEST,M3.5.0,M10.5.0/3"), so years past the table (2037 in "fat"
 * files, much earlier in "slim" ones) are computed, not guessed.
 */
#ifndef BACKEND_QUEUE_TZ_H
#define BACKEND_QUEUE_TZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api_error.h"

/* The longest zone name taken (the longest IANA name today,
 * America/Argentina/ComodRivadavia, has 32 characters). */
enum { TZ_NAME_MAX = 64 };

/* A loaded zone: immutable once built, so it can be shared by threads. */
typedef struct tz_zone tz_zone;

/* True when name has the shape of an IANA zone name: 1 to TZ_NAME_MAX
 * characters, '/'-separated components of [A-Za-z0-9._+-], none empty and
 * none starting with '.' or '-' (so no "..", no absolute path), and not one
 * of the database's files that are not IANA names (posix/..., right/...,
 * posixrules, localtime). Says nothing of whether the zone exists. */
bool tz_name_valid(const char *name);

/* Sets *out to the zone called name and returns true; returns false with a
 * 422 naming "timezone" when the name is not valid (tz_name_valid) or no
 * readable TZif file of that name is in the zone database. "UTC" is built
 * in and always loads, even with no zone database installed. Zones are
 * loaded once per process and kept in a cache (thread-safe): the zone
 * belongs to the cache and lives as long as the process; nobody frees it.
 * $TZDIR is read when a zone is first loaded. */
bool tz_load(const char *name, const tz_zone **out, api_error *err);

/* The zone's name, as given to tz_load ("" for tz_from_posix's). */
const char *tz_name(const tz_zone *z);

/* Returns the offset from UTC, in seconds east, in force at instant t (UTC
 * epoch seconds), and sets *next (when next is not NULL) to the first
 * instant after t at which the offset may change, or INT64_MAX when it
 * never does again. An instant more than 2^38 seconds (about 8700 years)
 * from 1970 is taken as that bound. */
int32_t tz_offset(const tz_zone *z, int64_t t, int64_t *next);

/* Builds a zone from the bytes of a TZif file (versions 1 to 4; a file with
 * leap-second records is refused, as its times are not UTC). Returns NULL
 * when the bytes are not such a file. The caller frees it with tz_free.
 * For tz_load, the tests and the fuzzer. */
tz_zone *tz_parse(const char *name, const unsigned char *data, size_t len);

/* Builds a zone from a POSIX TZ rule alone, the text of a TZif footer
 * ("EST5EDT,M3.2.0,M11.1.0"). Returns NULL when the text is not such a
 * rule. The caller frees it with tz_free. For the tests and the fuzzer. */
tz_zone *tz_from_posix(const char *rule);

/* Frees a zone of tz_parse or tz_from_posix (never one of tz_load's).
 * z may be NULL. */
void tz_free(tz_zone *z);

/* The proleptic Gregorian calendar, on days since 1970-01-01: the day
 * number of year y, month m (1-12), day d (1-31)... */
int64_t tz_days_from_civil(int64_t y, int m, int d);
/* ...and back. */
void tz_civil_from_days(int64_t days, int64_t *y, int *m, int *d);
/* The number of days of month m (1-12) of year y. */
int tz_month_days(int64_t y, int m);
/* The day of the week of a day number: 0 Sunday to 6 Saturday. */
int tz_weekday(int64_t days);

#endif
