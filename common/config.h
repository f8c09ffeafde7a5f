/*
 * config: the service's configuration, read from the environment once at
 * start-up and validated there (contract.md section 8).
 *
 * An invalid value stops the process with one line on stderr naming the
 * variable: config_load never returns on error. After config_load the
 * configuration is read-only; `config` is the process-wide instance.
 */
#ifndef BACKEND_CONFIG_H
#define BACKEND_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

typedef struct config {
    const char *database_url;   /* libpq conninfo; "" lets libpq read PG* */
    char *token;                /* owned; NULL when no token is configured */
    size_t token_len;
    size_t body_max_bytes;      /* BODY_MAX_BYTES */
    size_t file_max_bytes;      /* FILE_MAX_BYTES */
    long file_ttl_seconds;      /* FILE_TTL_SECONDS */
    const char *file_temp_dir;  /* FILE_TEMP_DIR */
    const char *listen_addr;    /* LISTEN_ADDR (lighttpd's, checked here) */
    long port;                  /* PORT */
    long db_timeout_ms;         /* DB_TIMEOUT_MS: budget for one request's
                                   database work, connect included */
    enum log_level log_level;   /* LOG_LEVEL */
    bool pooled;                /* DATABASE_POOLER=transaction: PostgreSQL is
                                   reached through a transaction-pooling
                                   PgBouncer (no named prepared statements,
                                   no LISTEN) */
    const char *mcp_allowed_hosts;   /* MCP_ALLOWED_HOSTS: comma-separated
                                        names beyond loopback; "" none */
    const char *mcp_allowed_origins; /* MCP_ALLOWED_ORIGINS: comma-separated
                                        Origin values; "" none */
    long mcp_keepalive_seconds;      /* MCP_KEEPALIVE_SECONDS: 1-15, default
                                        15: a comment on every idle stream */
    long mcp_session_idle_seconds;   /* MCP_SESSION_IDLE_SECONDS: default 3600 */
} config;

extern config g_config;

/* Reads and validates the environment into g_config. On an invalid value,
 * prints "backend: invalid configuration: VAR ..." and exits with status 2. */
void config_load(void);

/* Validation used by config_load, exposed for unit tests. Each returns true
 * and stores the value when text is a valid value. */
bool config_parse_positive(const char *text, long long max, long long *out);
bool config_parse_log_level(const char *text, enum log_level *out);
/* Trims surrounding ASCII whitespace in place; returns the new length. */
size_t config_trim(char *s);
/* True when list (comma-separated, blanks around items ignored) holds
 * item, compared without regard to ASCII case. */
bool config_list_has(const char *list, const char *item, size_t item_len);

#endif
