/*
 * config: the shared configuration (what every process reads: the database,
 * the token, the JSON body limit, lighttpd's address, logging), read from
 * the environment once at start-up and validated there (README.md,
 * "Configuration"), and the table form in which a mode declares settings of its
 * own (`setting`, loaded by settings_load).
 *
 * An invalid value stops the process with one line on stderr naming the
 * variable: config_load and settings_load never return on error. After
 * them the configuration is read-only; `g_config` is the process-wide
 * instance of the shared part.
 */
#ifndef BACKEND_CONFIG_H
#define BACKEND_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "api_error.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

typedef struct config {
    const char *database_url; /* libpq conninfo; "" lets libpq read PG* */
    char *token;              /* owned; NULL when no token is configured */
    size_t token_len;
    char *token2; /* owned: the token file's second line (a
                                 rotation, docs/security.md), or NULL */
    size_t token2_len;
    const char *token_file;      /* DATASTORE_TOKEN_FILE when the token comes
                                 from it (auth.c reads it again), else NULL */
    size_t body_max_bytes;       /* BODY_MAX_BYTES */
    const char *listen_addr;     /* LISTEN_ADDR (lighttpd's, checked here) */
    long port;                   /* PORT */
    long db_timeout_ms;          /* DB_TIMEOUT_MS: budget for one request's
                                   database work, connect included */
    enum log_level log_level;    /* LOG_LEVEL */
    long auth_failures_max;      /* AUTH_FAILURES_MAX: wrong tokens per address
                                   in 60 s before 429 (abuse.h) */
    long rate_limit_rps;         /* RATE_LIMIT_RPS: requests per second per
                                   address on authenticated routes; 0: off */
    const char *trusted_proxies; /* TRUSTED_PROXIES as given ("" by default):
                                    checked here, matched by
                                    config_proxy_trusted */
    long waiters_per_process;    /* WAITERS_PER_PROCESS: requests of one
                                    FastCGI process that wait at once
                                    (serve.h); the next answers at once */
    bool pooled;                 /* DATABASE_POOLER=transaction: PostgreSQL is
                                   reached through a transaction-pooling
                                   PgBouncer (no named prepared statements,
                                   no LISTEN) */
} config;

extern config g_config;

/* Reads and validates the environment into g_config. On an invalid value,
 * prints "backend: invalid configuration: VAR ..." and exits with status 2. */
void config_load(void);

/* A setting a mode (or backend-mcp) declares for itself, next to the code
 * that uses it: the environment variable, its default, how it is checked,
 * and where its value goes. Declare them as a static const array and point
 * the mode's `settings` at it (mode.h). */
typedef enum setting_kind {
    SETTING_NUMBER, /* a positive integer no larger than max (0 too with
                       zero_ok); into *number */
    SETTING_TEXT,   /* any text; into *text */
    SETTING_PATH,   /* an absolute path; into *text */
    SETTING_FOLDER, /* an absolute path to a folder the mode creates (0700,
                       with its parents) and writes; into *text. Its state
                       is checked with config_folder_ready, and /health
                       lists a folder that is not usable under "problems" */
} setting_kind;

typedef struct setting {
    const char *name; /* the environment variable, "FILE_MAX_BYTES" */
    setting_kind kind;
    const char *dflt;    /* what an unset variable means, as text; "" for
                            a SETTING_NUMBER: unset (or empty) is -1,
                            "none" (the document retention's defaults) */
    long long max;       /* SETTING_NUMBER: the largest value taken */
    bool zero_ok;        /* SETTING_NUMBER: 0 is taken too (0: off) */
    long long *number;   /* SETTING_NUMBER: where the value goes */
    const char **text;   /* the other kinds: where the value goes */
    const char *meaning; /* one line for the configuration table */
} setting;

/* Reads and validates n settings from the environment into their places.
 * On an invalid value, prints "backend: invalid configuration: VAR ..." and
 * exits with status 2. */
void settings_load(const setting *s, size_t n);

/* Creates the folder dir (0700, with missing parents) if need be, and
 * checks that this process can write it. var names the setting it came
 * from, for the message. Returns false with 507 insufficient_storage. */
bool config_folder_ready(const char *var, const char *dir, api_error *err);

/* Validation used by config_load, exposed for unit tests. Each returns true
 * and stores the value when text is a valid value. */
bool config_parse_positive(const char *text, long long max, long long *out);
bool config_parse_log_level(const char *text, enum log_level *out);
/* An IP address (IPv4, or IPv6; an IPv4-mapped IPv6 address counts as its
 * IPv4 address) in 16 bytes, IPv4 in the last 4 with v4 set. */
typedef struct config_ip {
    unsigned char b[16];
    bool v4;
} config_ip;
/* Parses an address as text ("10.0.0.1", "::1", "[::1]"). */
bool config_parse_ip(const char *text, size_t len, config_ip *out);
/* Checks TRUSTED_PROXIES's form: a comma-separated list of addresses and
 * CIDR blocks (blanks around items ignored; "" is the empty list), at most
 * CONFIG_PROXIES_MAX of them. Returns false naming the bad item in why. */
enum { CONFIG_PROXIES_MAX = 64 };
bool config_parse_proxies(const char *list, char *why, size_t why_size);
/* True when addr (text) is in list (a checked TRUSTED_PROXIES value). */
bool config_proxy_in(const char *list, const char *addr, size_t addr_len);
/* True when addr is in this process's TRUSTED_PROXIES. */
bool config_proxy_trusted(const char *addr, size_t addr_len);
/* The token file's content (text, NUL-terminated, modified in place):
 * one or two non-blank lines, each a token of printable ASCII without
 * spaces, surrounding whitespace trimmed. Returns true with *t1 and *t2
 * (NULL when one line; both NULL when the file is blank) pointing into
 * text; false with why set (more than two tokens, a bad character, a NUL
 * byte among the n bytes). */
bool config_token_lines(char *text, size_t n, char **t1, char **t2, const char **why);
/* Reads a token file's first 4097 bytes into a new NUL-terminated buffer
 * (the caller frees it), *n its length (over 4096: too large). NULL when
 * it cannot be read. */
char *config_read_token_file(const char *path, size_t *n);
enum { TOKEN_FILE_MAX = 4096 };
/* Trims surrounding ASCII whitespace in place; returns the new length. */
size_t config_trim(char *s);
/* True when list (comma-separated, blanks around items ignored) holds
 * item, compared without regard to ASCII case. */
bool config_list_has(const char *list, const char *item, size_t item_len);

#endif
