#define _POSIX_C_SOURCE 200809L
#include "cron.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- Parsing ---- */

/* One field of an expression: its name in errors, its range, its names
 * (names[i] is the value lo + i). */
typedef struct cron_field {
    const char *what;
    int lo, hi;
    const char *const *names;
} cron_field;

static const char *const month_names[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL",
                                          "AUG", "SEP", "OCT", "NOV", "DEC", NULL};
static const char *const day_names[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", NULL};

enum { F_SECOND, F_MINUTE, F_HOUR, F_DAY, F_MONTH, F_WEEKDAY, F_COUNT };

/* Day of week runs to 7, Sunday again, as in Vixie cron. */
static const cron_field fields[F_COUNT] = {
    {"second", 0, 59, NULL},       {"minute", 0, 59, NULL},       {"hour", 0, 23, NULL},
    {"day-of-month", 1, 31, NULL}, {"month", 1, 12, month_names}, {"day-of-week", 0, 7, day_names},
};

/* The @ forms, each an expression of five fields. */
static const struct {
    const char *name, *expr;
} at_forms[] = {
    {"@hourly", "0 * * * *"},  {"@daily", "0 0 * * *"},  {"@weekly", "0 0 * * 0"},
    {"@monthly", "0 0 1 * *"}, {"@yearly", "0 0 1 1 *"},
};

/* Fills err with a 422 naming "cron": "cron <field> field: <what> (in
 * '<the field's text>')". Returns false. */
static bool field_fail(api_error *err, const cron_field *f, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static bool field_fail(api_error *err, const cron_field *f, const char *field, const char *fmt, ...) {
    char what[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return API_INVALID(err, "cron", "cron %s field: %s (in '%.40s')", f->what, what, field);
}

/* Character classes of the ASCII text (cron_parse refuses other bytes). */
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
static char upper(char c) { return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c; }

/* Reads a number of up to 3 digits at *s into *v (1000 when longer, so
 * that it is out of every range). Advances *s past every digit. */
static void read_number(const char **s, int *v) {
    int n = 0;
    for (*v = 0; is_digit(**s); (*s)++)
        if (++n <= 3) *v = *v * 10 + (**s - '0');
    if (n > 3) *v = 1000;
}

/* Reads a three-letter name of field f at *s into *v; advances *s past
 * the letters. */
static bool read_name(const char **s, const cron_field *f, const char *field, int *v, api_error *err) {
    const char *start = *s;
    while (is_alpha(**s)) (*s)++;
    size_t n = (size_t)(*s - start);
    if (f->names == NULL)
        return field_fail(err, f, field, "names are for the month and day-of-week fields only");
    int i = 0;
    for (; f->names[i] != NULL; i++)
        if (n == 3 && upper(start[0]) == f->names[i][0] && upper(start[1]) == f->names[i][1] &&
            upper(start[2]) == f->names[i][2]) {
            *v = f->lo + i;
            return true;
        }
    return field_fail(err, f, field, "unknown name '%.*s' (%s to %s)", (int)(n > 12 ? 12 : n), start,
                      f->names[0], f->names[i - 1]);
}

/* Reads a value of field f at *s (a number or, for months and days of the
 * week, a three-letter name) into *v; advances *s past it. */
static bool read_value(const char **s, const cron_field *f, const char *field, int *v, api_error *err) {
    if (is_alpha(**s)) return read_name(s, f, field, v, err);
    if (**s == '\0') return field_fail(err, f, field, "a value is missing");
    if (!is_digit(**s)) return field_fail(err, f, field, "expected a number, '*' or a name, found '%c'", **s);
    read_number(s, v);
    if (*v < f->lo || *v > f->hi)
        return field_fail(err, f, field, "%d is out of range %d-%d", *v, f->lo, f->hi);
    return true;
}

/* Parses one list item of field f (`*`, `N`, `N-M`, each with an optional
 * `/step`) and sets its values' bits in *bits. */
static bool parse_item(const char *item, const char *field, const cron_field *f, uint64_t *bits,
                       api_error *err) {
    const char *s = item;
    int a = f->lo, b = f->hi, step = 1;
    if (*s == '*') {
        s++;
    } else {
        if (!read_value(&s, f, field, &a, err)) return false;
        b = a;
        if (*s == '-') {
            s++;
            if (!read_value(&s, f, field, &b, err)) return false;
            if (b < a) return field_fail(err, f, field, "range %d-%d is reversed", a, b);
        } else if (*s == '/') {
            b = f->hi; /* N/step: from N to the field's end */
        }
    }
    if (*s == '/') {
        s++;
        if (!is_digit(*s)) return field_fail(err, f, field, "a step is a number of 1 to %d", f->hi);
        read_number(&s, &step);
        if (step < 1 || step > f->hi)
            return field_fail(err, f, field, "step %d is out of range 1-%d", step, f->hi);
    }
    if (*s != '\0') return field_fail(err, f, field, "unexpected '%c'", *s);
    for (int v = a; v <= b; v += step) *bits |= (uint64_t)1 << v;
    return true;
}

/* Parses one field (a comma list of items) into *bits. */
static bool parse_field(const char *text, const cron_field *f, uint64_t *bits, api_error *err) {
    char work[CRON_TEXT_MAX + 1];
    snprintf(work, sizeof work, "%s", text);
    *bits = 0;
    for (char *item = work;;) {
        char *comma = strchr(item, ',');
        if (comma != NULL) *comma = '\0';
        if (*item == '\0') return field_fail(err, f, text, "a list item is empty");
        if (!parse_item(item, text, f, bits, err)) return false;
        if (comma == NULL) return true;
        item = comma + 1;
    }
}

/* True when some day of the month the spec names exists in some month it
 * names; only then can a spec that ANDs its day fields ever fire. (With
 * Vixie's OR every month has every day of the week.) */
static bool can_fire(const cron_spec *s) {
    if (!s->days_star && !s->weekdays_star) return true;
    for (int m = 1; m <= 12; m++)
        for (int d = 1; (s->months >> m & 1) && d <= tz_month_days(2000, m); d++) /* 2000: a leap year */
            if (s->days >> d & 1) return true;
    return false;
}

/* Splits buf in place at blanks into up to max tokens; returns how many
 * there are (max when there are more). */
static int split(char *buf, char **tok, int max) {
    int n = 0;
    for (char *s = buf; *s != '\0' && n < max;) {
        while (*s == ' ' || *s == '\t') *s++ = '\0';
        if (*s == '\0') break;
        tok[n++] = s;
        while (*s != '\0' && *s != ' ' && *s != '\t') s++;
    }
    return n;
}

/* Parses the tokens of a 5- or 6-field expression into *out. */
static bool parse_fields(char **tok, int count, cron_spec *out, api_error *err) {
    cron_spec s = {.seconds = 1};
    int first = count == 6 ? F_SECOND : F_MINUTE;
    for (int i = 0; i < count; i++) {
        uint64_t bits;
        int f = first + i;
        if (!parse_field(tok[i], &fields[f], &bits, err)) return false;
        if (f == F_SECOND) s.seconds = bits;
        if (f == F_MINUTE) s.minutes = bits;
        if (f == F_HOUR) s.hours = (uint32_t)bits;
        if (f == F_DAY) s.days = (uint32_t)bits, s.days_star = tok[i][0] == '*';
        if (f == F_MONTH) s.months = (uint16_t)bits;
        if (f == F_WEEKDAY)
            s.weekdays = (uint8_t)((bits | bits >> 7) & 0x7f), s.weekdays_star = tok[i][0] == '*';
    }
    if (!can_fire(&s))
        return API_INVALID(err, "cron",
                           "cron never fires: none of its months has a day of the month it names");
    *out = s;
    return true;
}

bool cron_parse(const char *text, cron_spec *out, api_error *err) {
    if (text == NULL) return API_INVALID(err, "cron", "cron must be a cron expression");
    size_t n = strnlen(text, CRON_TEXT_MAX + 1);
    if (n > CRON_TEXT_MAX)
        return API_INVALID(err, "cron", "cron is longer than %d characters", CRON_TEXT_MAX);
    for (size_t i = 0; i < n; i++)
        if ((text[i] < 0x20 || text[i] > 0x7e) && text[i] != '\t')
            return API_INVALID(err, "cron", "cron may hold only printable ASCII characters, spaces and tabs");
    char buf[CRON_TEXT_MAX + 1], *tok[7];
    memcpy(buf, text, n + 1);
    int count = split(buf, tok, 7);
    if (count == 0) return API_INVALID(err, "cron", "cron is empty");
    if (tok[0][0] == '@') {
        for (size_t i = 0; i < sizeof at_forms / sizeof at_forms[0]; i++)
            if (strcmp(tok[0], at_forms[i].name) == 0)
                return count == 1
                           ? cron_parse(at_forms[i].expr, out, err)
                           : API_INVALID(err, "cron", "cron: %s stands alone, nothing after it", tok[0]);
        return API_INVALID(err, "cron",
                           "cron: '%.20s' is not one of @hourly, @daily, @weekly, @monthly, @yearly", tok[0]);
    }
    if (count != 5 && count != 6)
        return API_INVALID(err, "cron",
                           "cron has %s%d field%s; it takes 5 (minute hour day-of-month month day-of-week) "
                           "or 6 (a leading seconds field, then those five)",
                           count == 7 ? "more than " : "", count == 7 ? 6 : count, count == 1 ? "" : "s");
    return parse_fields(tok, count, out, err);
}

/* ---- Next run ---- */

/* A local date and time. */
typedef struct civil {
    int64_t y;
    int mo, d, h, mi, s;
} civil;

/* floor(a / b) for b > 0. */
static int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && a < 0); }

/* The local date and time of local seconds L (seconds since 1970-01-01
 * 00:00 local). */
static civil civil_of(int64_t L) {
    civil c;
    int64_t days = floor_div(L, 86400), secs = L - days * 86400;
    tz_civil_from_days(days, &c.y, &c.mo, &c.d);
    c.h = (int)(secs / 3600), c.mi = (int)(secs / 60 % 60), c.s = (int)(secs % 60);
    return c;
}

/* The local seconds of a local date and time (civil_of's inverse). */
static int64_t seconds_of(const civil *c) {
    return tz_days_from_civil(c->y, c->mo, c->d) * 86400 + c->h * 3600 + c->mi * 60 + c->s;
}

/* Each moves c to the start of the next month, day, hour or minute. */
static void next_month(civil *c) {
    c->d = 1, c->h = c->mi = c->s = 0;
    if (++c->mo > 12) c->mo = 1, c->y++;
}
static void next_day(civil *c) {
    c->h = c->mi = c->s = 0;
    if (++c->d > tz_month_days(c->y, c->mo)) next_month(c);
}
static void next_hour(civil *c) {
    c->mi = c->s = 0;
    if (++c->h > 23) next_day(c);
}
static void next_minute(civil *c) {
    c->s = 0;
    if (++c->mi > 59) next_hour(c);
}

/* The lowest set bit of bits at or above from, or -1. */
static int next_bit(uint64_t bits, int from) {
    bits &= ~(uint64_t)0 << from;
    return bits ? __builtin_ctzll(bits) : -1;
}

/* Vixie cron's rule: with both day fields restricted, either may match. */
static bool day_matches(const cron_spec *s, const civil *c) {
    bool dom = s->days >> c->d & 1;
    bool dow = s->weekdays >> tz_weekday(tz_days_from_civil(c->y, c->mo, c->d)) & 1;
    return s->days_star || s->weekdays_star ? dom && dow : dom || dow;
}

/* Sets *out to the first local time in [lo, hi] (local seconds) that s
 * matches; false when there is none. Moves field by field from the
 * largest, each miss jumping to the start of the next candidate. */
static bool next_match(const cron_spec *s, int64_t lo, int64_t hi, int64_t *out) {
    civil c = civil_of(lo);
    int v;
    while (seconds_of(&c) <= hi) {
        if (!(s->months >> c.mo & 1)) {
            next_month(&c);
        } else if (!day_matches(s, &c)) {
            next_day(&c);
        } else if ((v = next_bit(s->hours, c.h)) != c.h) {
            if (v < 0)
                next_day(&c);
            else
                c.h = v, c.mi = c.s = 0;
        } else if ((v = next_bit(s->minutes, c.mi)) != c.mi) {
            if (v < 0)
                next_hour(&c);
            else
                c.mi = v, c.s = 0;
        } else if ((v = next_bit(s->seconds, c.s)) != c.s) {
            if (v < 0)
                next_minute(&c);
            else
                c.s = v;
        } else {
            *out = seconds_of(&c);
            return true;
        }
    }
    return false;
}

/* How far before `after` cron_next starts reading the zone, to know the
 * local times already passed (a clock set back repeats at most a day). */
enum { CRON_LOOKBACK = 2 * 86400 };

bool cron_next(const cron_spec *c, const tz_zone *z, int64_t after, int64_t *next) {
    if (after < 0 || after >= CRON_EPOCH_MAX) return false;
    int64_t limit =
        after > CRON_EPOCH_MAX - CRON_SEARCH_SECONDS ? CRON_EPOCH_MAX : after + CRON_SEARCH_SECONDS;
    /* Walk the zone's stretches of one offset; hw is the latest local time
     * reached so far, which a later local time must pass to fire. */
    int64_t hw = INT64_MIN, u = after - CRON_LOOKBACK, change;
    for (;;) {
        int32_t off = tz_offset(z, u, &change);
        int64_t last = change - 1 < limit ? change - 1 : limit; /* the stretch's last instant */
        int64_t from = u > after ? u : after + 1, L;
        int64_t lo = from + off > hw ? from + off : hw + 1;
        if (from <= last && lo <= last + off && next_match(c, lo, last + off, &L)) {
            *next = L - off;
            return true;
        }
        if (last + off > hw) hw = last + off;
        if (change > limit) return false;
        u = change;
    }
}
