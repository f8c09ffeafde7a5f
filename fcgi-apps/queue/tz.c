#define _POSIX_C_SOURCE 200809L
#include "tz.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The largest zone file read: the biggest in the database is under 4 KiB. */
enum { TZ_FILE_MAX = 65536 };
/* An offset from UTC beyond these is refused (RFC 8536 section 3.2 asks
 * readers to expect -89999 to 93599: under 25 and 26 hours). */
enum { TZ_OFF_MIN = -89999, TZ_OFF_MAX = 93599 };
/* A rule's time of day may run from -167 to 167 hours (RFC 8536 3.3.1). */
enum { TZ_RULE_HOURS = 167 };
/* Instants further than this from 1970 (about 8700 years) are taken as
 * this far: the calendar's arithmetic stays far from overflow. */
#define TZ_T_LIMIT ((int64_t)1 << 38)

/* When a POSIX rule changes the offset: Jn (day n of 365, February 29 never
 * counted), n (zero-based day of the year, February 29 counted) or Mm.w.d
 * (day d of week w of month m, w 5 meaning the last), at secs past local
 * midnight. */
typedef struct tz_when {
    char kind; /* 'J', 'D' or 'M' */
    int n, m, w, d;
    int32_t secs;
} tz_when;

/* A POSIX TZ rule: standard time, and daylight time between two dates. */
typedef struct tz_rule {
    int32_t std_off, dst_off; /* seconds east of UTC */
    bool has_dst;
    tz_when start, end; /* start in standard time, end in daylight time */
} tz_rule;

struct tz_zone {
    char name[TZ_NAME_MAX + 1];
    size_t count;      /* transitions */
    int64_t *times;    /* ascending */
    int32_t *offsets;  /* the offset from times[i] on */
    int32_t first_off; /* before times[0] (RFC 8536: time type 0) */
    bool has_rule;     /* the footer's rule governs from times[count-1] on */
    tz_rule rule;
    struct tz_zone *next; /* the cache's list */
};

/* ---- The calendar ---- */

int64_t tz_days_from_civil(int64_t y, int m, int d) {
    /* Howard Hinnant's days_from_civil: 400-year eras counted from
     * 0000-03-01, so that February's leap day ends a year. */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void tz_civil_from_days(int64_t days, int64_t *y, int *m, int *d) {
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* True for a leap year of the Gregorian calendar. */
static bool leap_year(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int tz_month_days(int64_t y, int m) {
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap_year(y) ? 29 : days[m - 1];
}

int tz_weekday(int64_t days) { return (int)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday */ }

/* floor(a / b) for b > 0. */
static int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && a < 0); }

/* ---- POSIX TZ rules (the TZif footer) ---- */

/* Returns s past a zone abbreviation ("CET", "<+0330>"), or NULL. */
static const char *rule_name(const char *s) {
    size_t n = 0;
    if (*s == '<') {
        for (s++; (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
                  *s == '+' || *s == '-';
             s++)
            n++;
        return n >= 3 && *s == '>' ? s + 1 : NULL;
    }
    for (; (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z'); s++) n++;
    return n >= 3 ? s : NULL;
}

/* Reads 1 to `digits` digits into *v, at most max. Returns s past them, or
 * NULL. */
static const char *rule_num(const char *s, int digits, int max, int *v) {
    int n = 0;
    *v = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (++n > digits) return NULL;
        *v = *v * 10 + (*s - '0');
    }
    return n > 0 && *v <= max ? s : NULL;
}

/* Reads [+-]h[h[h]][:mm[:ss]] (hours at most max_h) into *secs. Returns s
 * past it, or NULL. */
static const char *rule_hms(const char *s, int max_h, int32_t *secs) {
    int sign = 1, h, m = 0, sec = 0;
    if (*s == '+' || *s == '-') sign = *s++ == '-' ? -1 : 1;
    if ((s = rule_num(s, 3, max_h, &h)) == NULL) return NULL;
    if (*s == ':' && (s = rule_num(s + 1, 2, 59, &m)) != NULL && *s == ':') s = rule_num(s + 1, 2, 59, &sec);
    if (s == NULL) return NULL;
    *secs = sign * (h * 3600 + m * 60 + sec);
    return s;
}

/* Reads a date of a rule and its optional /time (default 02:00). Returns
 * s past it, or NULL. */
static const char *rule_when(const char *s, tz_when *w) {
    w->secs = 7200;
    w->kind = *s == 'J' || *s == 'M' ? *s++ : 'D';
    if (w->kind == 'J') s = rule_num(s, 3, 365, &w->n);
    if (w->kind == 'D') s = rule_num(s, 3, 365, &w->n);
    if (w->kind == 'M' && (s = rule_num(s, 2, 12, &w->m)) != NULL && *s == '.' &&
        (s = rule_num(s + 1, 1, 5, &w->w)) != NULL && *s == '.')
        s = rule_num(s + 1, 1, 6, &w->d);
    else if (w->kind == 'M')
        s = NULL;
    if (s == NULL || (w->kind == 'J' && w->n < 1) || (w->kind == 'M' && (w->m < 1 || w->w < 1))) return NULL;
    if (*s == '/') s = rule_hms(s + 1, TZ_RULE_HOURS, &w->secs);
    return s;
}

/* Parses a whole POSIX TZ rule into *r; false when it is not one. */
static bool rule_parse(const char *s, tz_rule *r) {
    memset(r, 0, sizeof *r);
    int32_t v;
    if ((s = rule_name(s)) == NULL || (s = rule_hms(s, 24, &v)) == NULL) return false;
    r->std_off = r->dst_off = -v; /* POSIX counts hours west */
    if (*s == '\0') return true;
    if ((s = rule_name(s)) == NULL) return false;
    r->has_dst = true;
    r->dst_off = r->std_off + 3600;
    if (*s != ',' && *s != '\0') {
        if ((s = rule_hms(s, 24, &v)) == NULL) return false;
        r->dst_off = -v;
    }
    if (*s == '\0') /* no dates: the US rules, as tzcode's default */
        return rule_when("M3.2.0", &r->start) && rule_when("M11.1.0", &r->end);
    if (*s != ',' || (s = rule_when(s + 1, &r->start)) == NULL) return false;
    if (*s != ',' || (s = rule_when(s + 1, &r->end)) == NULL) return false;
    return *s == '\0';
}

/* The day number on which w falls in year y. */
static int64_t rule_day(const tz_when *w, int64_t y) {
    int64_t jan1 = tz_days_from_civil(y, 1, 1);
    if (w->kind == 'D') return jan1 + w->n;
    if (w->kind == 'J') return jan1 + w->n - 1 + (leap_year(y) && w->n >= 60);
    int64_t first = tz_days_from_civil(y, w->m, 1);
    int day = 1 + (w->d - tz_weekday(first) + 7) % 7 + (w->w - 1) * 7;
    while (day > tz_month_days(y, w->m)) day -= 7;
    return first + day - 1;
}

/* A change of a rule: when, and whether daylight time starts or ends. */
typedef struct tz_change {
    int64_t at;
    bool dst;
} tz_change;

enum { TZ_RULE_YEARS = 5 };

/* Fills ch with the changes of the five years around year y, in order of
 * time; of two changes at one instant the end comes first, so that a rule
 * with daylight time all year ("EST5EDT4,0/0,J365/25") stays in it. */
static void rule_changes(const tz_rule *r, int64_t y, tz_change ch[2 * TZ_RULE_YEARS]) {
    for (int i = 0; i < TZ_RULE_YEARS; i++) {
        int64_t yy = y - TZ_RULE_YEARS / 2 + i;
        ch[2 * i] = (tz_change){rule_day(&r->start, yy) * 86400 + r->start.secs - r->std_off, true};
        ch[2 * i + 1] = (tz_change){rule_day(&r->end, yy) * 86400 + r->end.secs - r->dst_off, false};
    }
    for (int i = 1; i < 2 * TZ_RULE_YEARS; i++)
        for (int j = i; j > 0; j--) {
            tz_change a = ch[j - 1], b = ch[j];
            if (b.at > a.at || (b.at == a.at && (b.dst || !a.dst))) break;
            ch[j - 1] = b, ch[j] = a;
        }
}

/* The offset rule r gives at t, and the next change after it. Daylight
 * time starts and ends once a year: the changes of the five years around
 * t's are enough to know the state at t and the next change. */
static int32_t rule_offset(const tz_rule *r, int64_t t, int64_t *next) {
    *next = INT64_MAX;
    if (!r->has_dst) return r->std_off;
    int64_t y;
    int mo, d;
    tz_change ch[2 * TZ_RULE_YEARS];
    tz_civil_from_days(floor_div(t, 86400), &y, &mo, &d);
    rule_changes(r, y, ch);
    bool dst = !ch[0].dst;
    int i = 0;
    for (; i < 2 * TZ_RULE_YEARS && ch[i].at <= t; i++) dst = ch[i].dst;
    if (i < 2 * TZ_RULE_YEARS) *next = ch[i].at;
    return dst ? r->dst_off : r->std_off;
}

/* ---- Offsets ---- */

int32_t tz_offset(const tz_zone *z, int64_t t, int64_t *next) {
    int64_t ignored;
    if (next == NULL) next = &ignored;
    if (t > TZ_T_LIMIT || t < -TZ_T_LIMIT) {
        int32_t off = tz_offset(z, t > 0 ? TZ_T_LIMIT : -TZ_T_LIMIT, next);
        *next = t > 0 ? INT64_MAX : -TZ_T_LIMIT;
        return off;
    }
    if (z->count == 0 || t >= z->times[z->count - 1]) {
        if (z->has_rule) return rule_offset(&z->rule, t, next);
        *next = INT64_MAX;
        return z->count ? z->offsets[z->count - 1] : z->first_off;
    }
    if (t < z->times[0]) {
        *next = z->times[0];
        return z->first_off;
    }
    size_t lo = 0, hi = z->count - 1; /* times[lo] <= t < times[hi] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (z->times[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    *next = z->times[hi];
    return z->offsets[lo];
}

const char *tz_name(const tz_zone *z) { return z->name; }

/* ---- TZif files ---- */

/* A TZif file being read: its bytes and the position reached. */
typedef struct tz_reader {
    const unsigned char *p;
    size_t len, at;
} tz_reader;

/* A TZif header's version and counts (RFC 8536 section 3.1). */
typedef struct tzif_head {
    unsigned char version;
    uint32_t isut, isstd, leap, times, types, chars;
} tzif_head;

/* Sets *out to the next k bytes; false when fewer are left. */
static bool take(tz_reader *r, size_t k, const unsigned char **out) {
    if (r->len - r->at < k) return false;
    *out = r->p + r->at;
    r->at += k;
    return true;
}

/* The big-endian 32-bit number at b. */
static uint32_t be32(const unsigned char *b) {
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* The big-endian signed 64-bit number at b. */
static int64_t be64(const unsigned char *b) { return (int64_t)((uint64_t)be32(b) << 32 | be32(b + 4)); }

/* Reads a TZif header; false when it is not one or its counts are not
 * coherent (RFC 8536 section 3.1). */
static bool read_head(tz_reader *r, tzif_head *h) {
    const unsigned char *b;
    if (!take(r, 44, &b) || memcmp(b, "TZif", 4) != 0) return false;
    h->version = b[4];
    h->isut = be32(b + 20), h->isstd = be32(b + 24), h->leap = be32(b + 28);
    h->times = be32(b + 32), h->types = be32(b + 36), h->chars = be32(b + 40);
    return (h->version == 0 || h->version >= '2') && h->types >= 1 && h->types <= 256 &&
           (h->isut == 0 || h->isut == h->types) && (h->isstd == 0 || h->isstd == h->types) &&
           h->chars >= 1 && h->times <= TZ_FILE_MAX && h->leap == 0; /* leap seconds: right/ zones, not UTC */
}

/* Reads the time types of a data block into off[]; false when one is out
 * of range. */
static bool read_types(tz_reader *r, const tzif_head *h, int32_t *off) {
    const unsigned char *b;
    if (!take(r, (size_t)h->types * 6, &b)) return false;
    for (uint32_t i = 0; i < h->types; i++) {
        off[i] = (int32_t)be32(b + 6 * i);
        if (off[i] < TZ_OFF_MIN || off[i] > TZ_OFF_MAX || b[6 * i + 4] > 1 || b[6 * i + 5] >= h->chars)
            return false;
    }
    return true;
}

/* Reads a data block (tsize 4 for version 1's, 8 for version 2's) into z:
 * its transitions and their offsets. False when it is not coherent. */
static bool read_block(tz_reader *r, const tzif_head *h, size_t tsize, tz_zone *z) {
    const unsigned char *t, *idx, *rest;
    int32_t off[256];
    if (!take(r, h->times * tsize, &t) || !take(r, h->times, &idx) || !read_types(r, h, off) ||
        !take(r, (size_t)h->chars + h->isstd + h->isut, &rest))
        return false;
    z->count = h->times;
    z->times = malloc(sizeof *z->times * (z->count + 1));
    z->offsets = malloc(sizeof *z->offsets * (z->count + 1));
    if (z->times == NULL || z->offsets == NULL) return false;
    for (size_t i = 0; i < z->count; i++) {
        z->times[i] = tsize == 8 ? be64(t + 8 * i) : (int32_t)be32(t + 4 * i);
        if (idx[i] >= h->types || (i > 0 && z->times[i] <= z->times[i - 1])) return false;
        z->offsets[i] = off[idx[i]];
    }
    for (size_t i = 0; i < h->isstd + h->isut; i++)
        if (rest[h->chars + i] > 1) return false;
    z->first_off = off[0];
    return true;
}

/* Reads the footer "\n<rule>\n" of a version 2+ file; an empty rule leaves
 * the last transition's offset in force. */
static bool read_footer(tz_reader *r, tz_zone *z) {
    const unsigned char *b;
    if (!take(r, 1, &b) || *b != '\n') return false;
    const unsigned char *end = memchr(r->p + r->at, '\n', r->len - r->at);
    if (end == NULL || end - (r->p + r->at) > 255) return false;
    char text[256];
    size_t n = (size_t)(end - (r->p + r->at));
    memcpy(text, r->p + r->at, n);
    text[n] = '\0';
    if (n == 0) return true;
    z->has_rule = strlen(text) == n && rule_parse(text, &z->rule);
    return z->has_rule;
}

/* Skips version 1's data block of a version 2+ file. */
static bool skip_v1(tz_reader *r, const tzif_head *h) {
    const unsigned char *b;
    size_t n =
        (size_t)h->times * 5 + (size_t)h->types * 6 + h->chars + (size_t)h->leap * 8 + h->isstd + h->isut;
    return take(r, n, &b);
}

tz_zone *tz_parse(const char *name, const unsigned char *data, size_t len) {
    tz_reader r = {data, len, 0};
    tzif_head h;
    tz_zone *z = calloc(1, sizeof *z);
    if (z == NULL || strlen(name) > TZ_NAME_MAX || !read_head(&r, &h)) goto bad;
    snprintf(z->name, sizeof z->name, "%s", name);
    if (h.version == 0) {
        if (!read_block(&r, &h, 4, z)) goto bad;
        return z;
    }
    if (!skip_v1(&r, &h) || !read_head(&r, &h) || !read_block(&r, &h, 8, z) || !read_footer(&r, z)) goto bad;
    return z;
bad:
    tz_free(z);
    return NULL;
}

tz_zone *tz_from_posix(const char *rule) {
    tz_zone *z = calloc(1, sizeof *z);
    if (z == NULL) return NULL;
    z->has_rule = rule_parse(rule, &z->rule);
    if (!z->has_rule) {
        free(z);
        return NULL;
    }
    z->first_off = z->rule.std_off;
    return z;
}

void tz_free(tz_zone *z) {
    if (z == NULL) return;
    free(z->times);
    free(z->offsets);
    free(z);
}

/* ---- The zone database ---- */

bool tz_name_valid(const char *name) {
    size_t n = strnlen(name, TZ_NAME_MAX + 1);
    if (n == 0 || n > TZ_NAME_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool starts = i == 0 || name[i - 1] == '/';
        if (c == '/' && (starts || i == n - 1)) return false; /* empty component, absolute path */
        if (starts && (c == '.' || c == '-')) return false;   /* ".", "..", hidden files, options */
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '/' ||
              c == '.' || c == '_' || c == '+' || c == '-'))
            return false;
    }
    return strncmp(name, "posix/", 6) != 0 && strncmp(name, "right/", 6) != 0 &&
           strcmp(name, "posixrules") != 0 && strcmp(name, "localtime") != 0;
}

/* Reads the file of a valid name from the zone database; NULL when there
 * is no such regular file or it is no zone. The caller frees the zone. */
static tz_zone *read_zone(const char *name) {
    const char *dir = getenv("TZDIR");
    char path[4096];
    if (dir == NULL || dir[0] == '\0') dir = "/usr/share/zoneinfo";
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path) return NULL;
    /* O_NONBLOCK: a FIFO planted in the database must not hang a request. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) return NULL;
    struct stat st;
    unsigned char *buf = NULL;
    tz_zone *z = NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 && st.st_size <= TZ_FILE_MAX &&
        (buf = malloc((size_t)st.st_size)) != NULL) {
        size_t got = 0;
        ssize_t k = 1;
        while (got < (size_t)st.st_size && (k = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
            got += (size_t)k;
        if (got == (size_t)st.st_size) z = tz_parse(name, buf, got);
    }
    free(buf);
    close(fd);
    return z;
}

/* UTC, built in: it needs no file. */
static const tz_zone utc_zone = {.name = "UTC"};
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static tz_zone *cache; /* every zone loaded, for the process's life */

/* The cached zone of that name, or NULL. Called with cache_lock held. */
static tz_zone *cache_find(const char *name) {
    for (tz_zone *z = cache; z != NULL; z = z->next)
        if (strcmp(z->name, name) == 0) return z;
    return NULL;
}

bool tz_load(const char *name, const tz_zone **out, api_error *err) {
    if (name == NULL || !tz_name_valid(name))
        return API_INVALID(err, "timezone",
                           "timezone must be an IANA zone name such as Europe/Amsterdam or UTC");
    if (strcmp(name, "UTC") == 0) {
        *out = &utc_zone;
        return true;
    }
    pthread_mutex_lock(&cache_lock);
    tz_zone *z = cache_find(name);
    if (z == NULL && (z = read_zone(name)) != NULL) {
        z->next = cache;
        cache = z;
    }
    pthread_mutex_unlock(&cache_lock);
    if (z == NULL)
        return API_INVALID(err, "timezone", "timezone '%s' is not a zone of the time zone database", name);
    *out = z;
    return true;
}
