/*
 * settings: backend-mcp's own environment variables, declared like a mode's
 * (config.h), loaded by backend-mcp and checked at start-up by
 * backend-registry --check-config.
 */
#ifndef BACKEND_MCP_SETTINGS_H
#define BACKEND_MCP_SETTINGS_H

#include <stddef.h>

#include "config.h"

typedef struct mcp_config {
    const char *allowed_hosts;      /* MCP_ALLOWED_HOSTS: comma-separated names
                                    beyond loopback; "" none */
    const char *allowed_origins;    /* MCP_ALLOWED_ORIGINS: comma-separated
                                    Origin values; "" none */
    long long keepalive_seconds;    /* MCP_KEEPALIVE_SECONDS: 1-15, default 15:
                                    a comment on every idle stream */
    long long session_idle_seconds; /* MCP_SESSION_IDLE_SECONDS: default 3600 */
} mcp_config;

extern mcp_config g_mcp;

/* The settings behind g_mcp, for settings_load. */
extern const setting mcp_settings[];
extern const size_t mcp_nsettings;

#endif
