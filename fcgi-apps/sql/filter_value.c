/*
 * sql/filter_value: a filter's or a cursor's value text checked against
 * its column type in C (filter.h), so that PostgreSQL never sees a value
 * it would refuse. Each accepted form is one PostgreSQL reads, and reads
 * as a reader of the docs expects: where PostgreSQL is more lenient
 * (blanks around a number, "yes" for true, "01/02/2024" for a date) the
 * forms here are the unambiguous subset (docs/sql.md lists them).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "filter.h"

/* A numeric's exponent beyond this is refused: with FILTER_TEXT_MAX
 * digits the value then stays far inside PostgreSQL's numeric (131072
 * digits before the point, 16383 after). */
enum { NUMERIC_EXP_MAX = 1000 };

/* True when s is valid UTF-8 (no overlong form, no surrogate, nothing past
 * U+10FFFF): what PostgreSQL's UTF8 database accepts in any text. */
static bool utf8_ok(const unsigned char *s) {
    while (*s) {
        unsigned c = *s;
        size_t n = c < 0x80                 ? 0
                   : c >= 0xC2 && c <= 0xDF ? 1
                   : c >= 0xE0 && c <= 0xEF ? 2
                   : c >= 0xF0 && c <= 0xF4 ? 3
                                            : 9;
        if (n == 9) return false;
        unsigned lo = 0x80, hi = 0xBF;
        if (c == 0xE0) lo = 0xA0; /* overlong */
        if (c == 0xED) hi = 0x9F; /* surrogates */
        if (c == 0xF0) lo = 0x90; /* overlong */
        if (c == 0xF4) hi = 0x8F; /* past U+10FFFF */
        s++;
        for (size_t i = 0; i < n; i++, s++) {
            if (*s < (i == 0 ? lo : 0x80) || *s > (i == 0 ? hi : 0xBF)) return false;
        }
    }
    return true;
}

/* Reads between min and max decimal digits at *p into *v (saturating) and
 * advances; returns how many were read, or 0 (nothing read) when fewer
 * than min. */
static size_t digits(const char **p, size_t min, size_t max, long long *v) {
    size_t n = 0;
    long long x = 0;
    while (n < max && (*p)[n] >= '0' && (*p)[n] <= '9') {
        if (x < 100000000000000000LL) x = x * 10 + ((*p)[n] - '0');
        n++;
    }
    if (n < min) return 0;
    *p += n;
    *v = x;
    return n;
}

/* ---- numbers ---- */

/* An integer of `bits` (32 or 64): an optional sign and digits (leading
 * zeros allowed), in range. */
static bool integer_ok(const char *s, int bits, char *why, size_t size) {
    const char *p = s;
    bool neg = *p == '-';
    if (*p == '-' || *p == '+') p++;
    unsigned long long limit = bits == 32 ? 2147483647ULL : 9223372036854775807ULL, v = 0;
    size_t n = 0;
    for (; p[n] >= '0' && p[n] <= '9'; n++) {
        unsigned d = (unsigned)(p[n] - '0');
        if (v > (limit + 1 - d) / 10) { /* past limit + 1: out of range either sign */
            snprintf(why, size, "is out of range for %s", bits == 32 ? "integer" : "bigint");
            return false;
        }
        v = v * 10 + d;
    }
    if (n == 0 || p[n] != '\0') return snprintf(why, size, "is not an integer"), false;
    if (v > limit + (neg ? 1 : 0))
        return snprintf(why, size, "is out of range for %s", bits == 32 ? "integer" : "bigint"), false;
    return true;
}

/* True when s is [+-]NaN, Infinity or Inf (any case), as double and
 * numeric columns spell their special values. */
static bool special_number(const char *s) {
    if (*s == '+' || *s == '-') {
        s++;
        return strcasecmp(s, "infinity") == 0 || strcasecmp(s, "inf") == 0;
    }
    return strcasecmp(s, "nan") == 0 || strcasecmp(s, "infinity") == 0 || strcasecmp(s, "inf") == 0;
}

/* A decimal number: [+-] (digits [. digits*] | . digits) [e [+-] digits].
 * Returns false for anything else; *exp is the exponent (saturated). */
static bool decimal_syntax(const char *s, long long *exp) {
    const char *p = s;
    long long v;
    if (*p == '+' || *p == '-') p++;
    size_t before = digits(&p, 1, (size_t)-1, &v), after = 0;
    if (*p == '.') {
        p++;
        after = digits(&p, 1, (size_t)-1, &v);
    }
    if (before == 0 && after == 0) return false;
    *exp = 0;
    if (*p == 'e' || *p == 'E') {
        p++;
        bool neg = *p == '-';
        if (*p == '+' || *p == '-') p++;
        if (digits(&p, 1, (size_t)-1, exp) == 0) return false;
        if (neg) *exp = -*exp;
    }
    return *p == '\0';
}

/* A double precision value: a decimal number strtod reads without
 * overflow or complete underflow (PostgreSQL's own rule, which also uses
 * strtod), or a special value. */
static bool double_ok(const char *s, char *why, size_t size) {
    long long exp;
    if (special_number(s)) return true;
    if (!decimal_syntax(s, &exp)) return snprintf(why, size, "is not a number"), false;
    errno = 0;
    double d = strtod(s, NULL);
    if (errno == ERANGE && (d == 0.0 || isinf(d)))
        return snprintf(why, size, "is out of range for double precision"), false;
    return true;
}

static bool numeric_ok(const char *s, char *why, size_t size) {
    long long exp;
    if (special_number(s)) return true;
    if (!decimal_syntax(s, &exp)) return snprintf(why, size, "is not a number"), false;
    if (exp > NUMERIC_EXP_MAX || exp < -NUMERIC_EXP_MAX)
        return snprintf(why, size, "has an exponent beyond +-%d", NUMERIC_EXP_MAX), false;
    return true;
}

/* ---- the other scalars ---- */

static bool boolean_ok(const char *s, char *why, size_t size) {
    static const char *const words[] = {"true", "false", "t",   "f", "yes", "no", "y",
                                        "n",    "on",    "off", "1", "0",   NULL};
    for (const char *const *w = words; *w; w++)
        if (strcasecmp(s, *w) == 0) return true;
    return snprintf(why, size, "is not a boolean (true or false)"), false;
}

/* 8-4-4-4-12 hexadecimal digits, or the 32 digits alone (any case). */
static bool uuid_ok(const char *s, char *why, size_t size) {
    static const int groups[] = {8, 4, 4, 4, 12};
    bool dashes = strlen(s) == 36;
    const char *p = s;
    for (int g = 0; g < 5; g++) {
        for (int i = 0; i < groups[g]; i++, p++)
            if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F'))) goto bad;
        if (dashes && g < 4 && *p++ != '-') goto bad;
    }
    if (*p == '\0') return true;
bad:
    return snprintf(why, size, "is not a uuid"), false;
}

static bool jsonb_ok(const char *s, char *why, size_t size) {
    json_error_t jerr;
    json_t *v = json_loads(s, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL, &jerr);
    if (v == NULL) return snprintf(why, size, "is not JSON (%.60s)", jerr.text), false;
    json_decref(v);
    return true;
}

/* ---- dates and times ---- */

/* Days in month m of the (proleptic Gregorian, astronomical) year y. */
static int month_days(long long y, long long m) {
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* Reads YYYY-MM-DD (year_digits_min to 7 year digits) at *p into y, m,
 * d and advances; true when it is a day of the calendar. bc: the year is
 * before Christ (1 BC is the astronomical year 0, a leap year). */
static bool ymd(const char **p, size_t year_digits_min, bool bc, long long *y, long long *m, long long *d) {
    if (digits(p, year_digits_min, 7, y) == 0 || *(*p)++ != '-' || digits(p, 2, 2, m) == 0 ||
        *(*p)++ != '-' || digits(p, 2, 2, d) == 0)
        return false;
    return *y >= 1 && *m >= 1 && *m <= 12 && *d >= 1 && *d <= month_days(bc ? 1 - *y : *y, *m);
}

/* A date as a filter value: YYYY-MM-DD, a day of the years 1 to 9999. */
static bool date_ok(const char *s, char *why, size_t size) {
    long long y, m, d;
    if (!ymd(&s, 4, false, &y, &m, &d) || *s != '\0')
        return snprintf(why, size, "is not a date (YYYY-MM-DD, a day that exists)"), false;
    return true;
}

/* Reads HH:MM[:SS[.fraction]] at *p and advances. exact: the key form,
 * HH:MM:SS.ffffff (all six digits); else seconds and a fraction of 1 to 9
 * digits are optional. */
static bool hms(const char **p, bool exact) {
    long long h, mi, se = 0, f;
    if (digits(p, 2, 2, &h) == 0 || *(*p)++ != ':' || digits(p, 2, 2, &mi) == 0 || h > 23 || mi > 59)
        return false;
    if (**p != ':') return !exact;
    (*p)++;
    if (digits(p, 2, 2, &se) == 0 || se > 59) return false;
    if (**p != '.') return !exact;
    (*p)++;
    return digits(p, exact ? 6 : 1, exact ? 6 : 9, &f) > 0;
}

/* Reads a zone at *p: Z, or +HH, +HHMM, +HH:MM (either sign, at most
 * 15:59, PostgreSQL's bound); advances. An empty zone is fine. */
static bool zone(const char **p) {
    long long h, m = 0;
    if (**p == 'Z' || **p == 'z') return (*p)++, true;
    if (**p != '+' && **p != '-') return true;
    (*p)++;
    if (digits(p, 2, 2, &h) == 0 || h > 15) return false;
    if (**p == ':') (*p)++;
    if (**p >= '0' && **p <= '9' && (digits(p, 2, 2, &m) == 0 || m > 59)) return false;
    return true;
}

/* A timestamptz as a filter value: a date of the years 1 to 9999, alone or
 * with a time (T or a blank between), seconds and a fraction of up to 9
 * digits optional, then an optional zone; without a zone, PostgreSQL reads
 * it in its TimeZone. */
static bool timestamptz_ok(const char *s, char *why, size_t size) {
    long long y, m, d;
    const char *p = s;
    bool ok = ymd(&p, 4, false, &y, &m, &d);
    if (ok && *p != '\0')
        ok = (*p == 'T' || *p == 't' || *p == ' ') && (p++, hms(&p, false)) && zone(&p) && *p == '\0';
    if (!ok)
        return snprintf(why, size,
                        "is not a timestamp (YYYY-MM-DD, or YYYY-MM-DDTHH:MM[:SS[.ffffff]] and Z or +HH:MM)"),
               false;
    return true;
}

bool filter_value_ok(col_type t, const char *s, char *why, size_t size) {
    if (!utf8_ok((const unsigned char *)s)) return snprintf(why, size, "is not valid UTF-8"), false;
    switch (t) {
    case COL_TEXT: return true;
    case COL_INTEGER: return integer_ok(s, 32, why, size);
    case COL_BIGINT: return integer_ok(s, 64, why, size);
    case COL_DOUBLE: return double_ok(s, why, size);
    case COL_NUMERIC: return numeric_ok(s, why, size);
    case COL_BOOLEAN: return boolean_ok(s, why, size);
    case COL_TIMESTAMPTZ: return timestamptz_ok(s, why, size);
    case COL_DATE: return date_ok(s, why, size);
    case COL_JSONB: return jsonb_ok(s, why, size);
    case COL_UUID: return uuid_ok(s, why, size);
    case COL_TYPE_COUNT: break;
    }
    return snprintf(why, size, "has no type"), false;
}

/* ---- a cursor's keys ---- */

/* Reads " AD" or " BC" at *p into *bc; advances. */
static bool era(const char **p, bool *bc) {
    if (strncmp(*p, " AD", 3) != 0 && strncmp(*p, " BC", 3) != 0) return false;
    *bc = (*p)[1] == 'B';
    *p += 3;
    return true;
}

/* True when y-m-d (bc: before Christ) lies from 4714-11-24 BC to the last
 * year max_ad, PostgreSQL's range. */
static bool in_range(bool bc, long long y, long long m, long long d, long long max_ad) {
    if (!bc) return y <= max_ad;
    return y < 4714 || (y == 4714 && (m > 11 || (m == 11 && d >= 24)));
}

/* A date or timestamptz key as filter_sql_keys writes it: "YYYY-MM-DD AD"
 * (4 to 7 year digits; BC too), "YYYY-MM-DDTHH:MI:SS.US AD", or
 * [-]infinity. */
static bool time_key_ok(col_type t, const char *s) {
    if (strcmp(s, "infinity") == 0 || strcmp(s, "-infinity") == 0) return true;
    size_t n = strlen(s);
    const char *p = s, *end = s + (n < 3 ? 0 : n - 3);
    long long y, m, d;
    bool bc;
    /* the era ends the text: read it first, for the leap rule */
    if (n < 3 || !era(&end, &bc) || !ymd(&p, 4, bc, &y, &m, &d)) return false;
    if (t == COL_TIMESTAMPTZ && (*p++ != 'T' || !hms(&p, true))) return false;
    return era(&p, &bc) && *p == '\0' && in_range(bc, y, m, d, t == COL_DATE ? 5874897 : 294276);
}

bool filter_key_ok(col_type t, const char *s) {
    char why[8];
    if (t == COL_DATE || t == COL_TIMESTAMPTZ) return time_key_ok(t, s);
    return filter_value_ok(t, s, why, sizeof why);
}
