/* libFuzzer target: the MCP message handler (fcgi-apps/mcp/rpc.h), without
 * the HTTP server. The input is the body of a POST /mcp from an allowed
 * Host with the right token, in a live session (2025-06-18): rpc_admit
 * decides, and when a method is to run, rpc_answer runs it with an inline
 * runner (tool calls go through serve_dispatch; no database is reachable,
 * DATABASE_URL names a closed port, so a tool that needs it fails fast with
 * 503). Invariants: no crash, leak or sanitizer report; a status from the
 * transport's set (never 500); a non-empty body is valid JSON. Also the
 * same body in a 2025-03-26 session (batches are allowed there), and as a
 * 2026-07-28 (stateless) request with that era's headers. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "registry.h"
#include "rpc.h"
#include "session.h"
#include "settings.h"

static void inline_runner(void (*fn)(void *), void *arg, void *ctx) {
    (void)ctx;
    fn(arg);
}

/* Non-empty output is JSON. Integers are read as reals: an id the client
 * wrote with 25 digits is echoed as written, which is valid JSON that
 * jansson's integers cannot hold. */
static void check_json(const strbuf *b) {
    if (b->len == 0) return;
    json_t *v = json_loadb(b->data, b->len, JSON_DECODE_INT_AS_REAL, NULL);
    if (v == NULL) abort();
    json_decref(v);
}

static char g_session[SESSION_ID_LEN + 1], g_old_session[SESSION_ID_LEN + 1];
static char g_files[64];

/* The file tool found no database: nothing of its upload stays on disk. */
static void check_no_files(void) {
    DIR *d = opendir(g_files);
    if (d == NULL) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') abort();
    closedir(d);
}

static void one(const char *body, size_t len, const char *version, const char *session,
                const char *mcp_method) {
    rpc_in in = {
        .method = "POST",
        .host = "127.0.0.1:4000",
        .authorization = "Bearer fuzz",
        .session_id = session,
        .protocol_version = version,
        .mcp_method = mcp_method,
        .mcp_name = mcp_method ? "health" : NULL,
        .accept = "application/json, text/event-stream",
        .request_id = "fuzz",
        .body = body,
        .body_len = len,
    };
    rpc_out out;
    rpc_out_init(&out);
    rpc_admit(&in, &out);
    if (out.status >= 500 && out.status != 503) abort();
    check_json(out.body);
    if (out.action == RPC_ANSWER) {
        strbuf *answer = strbuf_new();
        strbuf *progress = strbuf_new();
        rpc_progress(&out, 0, "started", progress);
        check_json(progress);
        rpc_answer(&out, answer, inline_runner, NULL);
        if (answer->len == 0) abort(); /* a request always gets an answer */
        check_json(answer);
        strbuf_free(progress);
        strbuf_free(answer);
    }
    rpc_out_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int ready;
    if (!ready) {
        static char token[] = "fuzz";
        g_config.token = token;
        g_config.token_len = 4;
        g_config.database_url = "host=127.0.0.1 port=1 connect_timeout=1";
        g_config.db_timeout_ms = 50;
        g_config.log_level = LOG_ERROR + 1; /* quiet */
        g_config.body_max_bytes = 1 << 20;
        g_mcp.allowed_hosts = "";
        g_mcp.allowed_origins = "";
        g_mcp.keepalive_seconds = 15;
        g_mcp.session_idle_seconds = 3600;
        snprintf(g_files, sizeof g_files, "/tmp/fuzz-mcp-files.XXXXXX");
        if (mkdtemp(g_files) == NULL) abort();
        /* The modes' own settings, the file mode's among them. */
        setenv("FILE_MAX_BYTES", "1048576", 1);
        setenv("FILE_TEMP_DIR", g_files, 1);
        for (const mode *const *mp = mode_registry; *mp; mp++)
            settings_load((*mp)->settings, (*mp)->nsettings);
        sessions_init(3600, NULL);
        if (session_create(g_session, "2025-06-18") != SESSION_LIVE) abort();
        if (session_create(g_old_session, "2025-03-26") != SESSION_LIVE) abort();
        ready = 1;
    }
    char *body = malloc(size + 1);
    memcpy(body, data, size);
    body[size] = '\0';
    one(body, size, "2025-06-18", g_session, NULL);
    one(body, size, "2025-03-26", g_old_session, NULL);
    one(body, size, "2026-07-28", NULL, "tools/call");
    check_no_files();
    free(body);
    return 0;
}
