#include "settings.h"

mcp_config g_mcp = {"", "", 15, 3600};

const setting mcp_settings[] = {
    {.name = "MCP_ALLOWED_HOSTS",
     .kind = SETTING_TEXT,
     .dflt = "",
     .text = &g_mcp.allowed_hosts,
     .meaning = "extra allowed `Host` names for `/mcp` (comma-separated), beyond loopback"},
    {.name = "MCP_ALLOWED_ORIGINS",
     .kind = SETTING_TEXT,
     .dflt = "",
     .text = &g_mcp.allowed_origins,
     .meaning = "allowed non-loopback `Origin` values for `/mcp` (comma-separated)"},
    {.name = "MCP_KEEPALIVE_SECONDS",
     .kind = SETTING_NUMBER,
     .dflt = "15",
     .max = 15,
     .number = &g_mcp.keepalive_seconds,
     .meaning = "seconds between comment lines on an idle `/mcp` stream"},
    {.name = "MCP_SESSION_IDLE_SECONDS",
     .kind = SETTING_NUMBER,
     .dflt = "3600",
     .max = 30LL * 86400,
     .number = &g_mcp.session_idle_seconds,
     .meaning = "idle session expiry on `/mcp`"},
};

const size_t mcp_nsettings = sizeof mcp_settings / sizeof mcp_settings[0];
