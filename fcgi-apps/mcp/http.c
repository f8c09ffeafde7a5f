/*
 * backend-mcp: the /mcp endpoint (docs/mcp.md), an HTTP server on
 * libmicrohttpd listening on a unix socket that only lighttpd reaches
 * (mod_proxy, streamed both ways, lighttpd.conf).
 *
 *   backend-mcp --listen-fd0       serve on the listening socket on fd 0
 *                                  (lighttpd spawns it so, lighttpd.conf)
 *   backend-mcp --listen PATH      serve on a unix socket of its own
 *   backend-mcp --check-config     validate the environment and exit
 *
 * Every connection has its own thread (libmicrohttpd's thread-per-connection
 * mode), so an open event stream is a thread asleep on a condition
 * variable, and any number of them never delays a tool call. Tool calls run
 * on a fixed set of workers with database connections of their own
 * (workers.h). The protocol rules are rpc.h's (rpc.c and the two eras'
 * files, rpc_internal.h); this file moves bytes.
 */
#define _POSIX_C_SOURCE 200809L
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <openssl/sha.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "abuse.h"
#include "clock.h"
#include "config.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "random_id.h"
#include "reply.h"
#include "request.h"
#include "registry.h"
#include "rpc.h"
#include "schema.h"
#include "serve.h"
#include "session.h"
#include "settings.h"
#include "store.h"
#include "watch.h"
#include "token_store.h"
#include "workers.h"

enum {
    MCP_WORKERS = 8,         /* tool calls at once (each with a database connection) */
    MCP_SESSION_WORKERS = 2, /* session store lookups at once (each with its own) */
    MCP_CONNECTIONS = 1000,  /* open connections (streams included) */
    MCP_IDLE_SECONDS = 60,   /* a connection that sends nothing for this long is closed */
    MCP_STACK_BYTES = 256 * 1024,
    MCP_PROGRESS_MS = 4000, /* between two progress events of a call that waits (at most 5 s) */
};

static workers *g_workers;
static workers *g_session_workers;
static session_store g_store;

/* ---- one request ---- */

typedef struct exchange {
    strbuf *body; /* the request body read so far */
    bool too_large;
    double start;
    char method[16];
    char request_id[REQUEST_ID_MAX + 1];
    trace_context trace; /* from the traceparent header, or started here */
    rpc_out out;         /* what rpc_admit decided */
    int status;          /* for the log */
    /* A streamed response (SSE): what is left to send, and where it is. */
    strbuf *pending;
    size_t pending_at;
    int phase;
    char stream_session[SESSION_ID_LEN + 1]; /* GET stream: its session */
    bool stream_open;
    watch *watch;         /* GET stream: its session's subscriptions */
    double keepalive_due; /* GET stream: when the next comment is due (clock_ms) */
    /* An answer with progress: it runs on a thread of its own (bg) while
     * this connection's thread sends a progress event every
     * MCP_PROGRESS_MS; bg_done (under bg_lock) says it has finished. */
    pthread_t bg;
    bool bg_started, bg_done;
    int progress;
    strbuf *bg_answer;
    pthread_mutex_t bg_lock;
    pthread_cond_t bg_cond;
    /* The token (auth.h): its id for the log, and the key its sessions
     * are bound to (session_bind): "root" for the root tokens. */
    char token_id[40];
    char token_key[2 * 32 + 1];          /* hex SHA-256 of the token itself: secret */
    bool scoped;                         /* a scoped token (not a root one) */
    char session_in[SESSION_ID_LEN + 1]; /* Mcp-Session-Id, unbound */
    char session_out[SESSION_ID_LEN + 1];
} exchange;

static exchange *exchange_new(const char *method, const char *request_id, const char *traceparent) {
    exchange *x = calloc(1, sizeof *x);
    if (x == NULL) abort();
    x->body = strbuf_new();
    x->pending = strbuf_new();
    x->start = clock_ms();
    snprintf(x->method, sizeof x->method, "%s", method);
    if (request_id != NULL && request_id_valid(request_id)) {
        snprintf(x->request_id, sizeof x->request_id, "%s", request_id);
    } else {
        random_id_hex(x->request_id, 16);
    }
    trace_start(&x->trace, traceparent);
    rpc_out_init(&x->out);
    return x;
}

/* libmicrohttpd's completion callback: the request is over (sent, or the
 * client went away); log it and free everything it held. */
static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    (void)cls;
    (void)c;
    exchange *x = *con_cls;
    if (x == NULL) return;
    if (x->stream_open) session_stream_close(x->stream_session);
    watch_free(x->watch);
    if (x->bg_started) { /* the client left while its call runs: wait for it, then free */
        pthread_join(x->bg, NULL);
        strbuf_free(x->bg_answer);
        pthread_mutex_destroy(&x->bg_lock);
        pthread_cond_destroy(&x->bg_cond);
    }
    const char *detail = x->out.log_detail[0] ? x->out.log_detail : NULL;
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && detail == NULL) detail = "the connection ended early";
    metrics_observe(x->method, x->status, clock_ms() - x->start);
    metrics_sessions_set(sessions_live());
    log_access(x->request_id, &x->trace, x->method, "/mcp", x->status, clock_ms() - x->start, detail,
               x->token_id);
    rpc_out_release(&x->out);
    strbuf_free(x->body);
    strbuf_free(x->pending);
    free(x);
    *con_cls = NULL;
}

static void run_on_workers(void (*fn)(void *), void *arg, void *ctx) { workers_run(ctx, fn, arg); }

/* Appends one SSE event carrying the JSON message: a data line per line of
 * it (the JSON has no raw newline, but a line break must never end the
 * event early). */
static void put_event(strbuf *sb, const char *json, size_t n) {
    strbuf_puts(sb, "event: message\n");
    size_t i = 0;
    while (i <= n) {
        size_t j = i;
        while (j < n && json[j] != '\n' && json[j] != '\r') j++;
        strbuf_puts(sb, "data: ");
        strbuf_append(sb, json + i, j - i);
        strbuf_puts(sb, "\n");
        i = j + 1;
    }
    strbuf_puts(sb, "\n");
}

/* Copies what is pending into buf; returns the bytes copied (0 if none). */
static ssize_t drain(exchange *x, char *buf, size_t max) {
    size_t left = x->pending->len - x->pending_at;
    if (left == 0) return 0;
    if (left > max) left = max;
    memcpy(buf, x->pending->data + x->pending_at, left);
    x->pending_at += left;
    if (x->pending_at == x->pending->len) {
        strbuf_reset(x->pending);
        x->pending_at = 0;
    }
    return (ssize_t)left;
}

/* The thread of an answer with progress: runs it into x->bg_answer, then
 * says it is done. */
static void *answer_in_background(void *arg) {
    exchange *x = arg;
    rpc_answer(&x->out, x->bg_answer, run_on_workers, g_workers);
    pthread_mutex_lock(&x->bg_lock);
    x->bg_done = true;
    pthread_cond_signal(&x->bg_cond);
    pthread_mutex_unlock(&x->bg_lock);
    return NULL;
}

/* Starts the answer on its own thread; false when none can be started
 * (the answer then runs on the connection's thread, with no progress
 * events after the first). */
static bool start_background(exchange *x) {
    x->bg_answer = strbuf_new();
    pthread_mutex_init(&x->bg_lock, NULL);
    clock_cond_init(&x->bg_cond);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, MCP_STACK_BYTES);
    x->bg_started = pthread_create(&x->bg, &attr, answer_in_background, x) == 0;
    pthread_attr_destroy(&attr);
    if (!x->bg_started) {
        strbuf_free(x->bg_answer);
        pthread_mutex_destroy(&x->bg_lock);
        pthread_cond_destroy(&x->bg_cond);
    }
    return x->bg_started;
}

/* Waits up to MCP_PROGRESS_MS for the background answer: true when it is
 * done (then in x->bg_answer). */
static bool background_done(exchange *x) {
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += MCP_PROGRESS_MS / 1000;
    until.tv_nsec += (MCP_PROGRESS_MS % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&x->bg_lock);
    while (!x->bg_done && pthread_cond_timedwait(&x->bg_cond, &x->bg_lock, &until) == 0) {}
    bool done = x->bg_done;
    pthread_mutex_unlock(&x->bg_lock);
    return done;
}

/* Appends the answer's next part to x->pending: phase 0 the comment that
 * opens the stream (and the first progress event, starting the answer in
 * the background when the call asked for progress); phase 1 a progress
 * event every MCP_PROGRESS_MS while the call runs, then the answer.
 * Returns false when there is nothing more to send. */
static bool answer_next(exchange *x) {
    strbuf *event = strbuf_new();
    bool more = true;
    if (x->phase == 0) {
        strbuf_puts(x->pending, ": answering\n\n");
        if (rpc_progress(&x->out, 0, "started", event)) {
            put_event(x->pending, event->data, event->len);
            start_background(x);
        }
        x->phase = 1;
    } else if (x->phase == 1 && x->bg_started && !background_done(x)) {
        if (rpc_progress(&x->out, ++x->progress, "waiting", event))
            put_event(x->pending, event->data, event->len);
    } else if (x->phase == 1) {
        if (!x->bg_started) rpc_answer(&x->out, event, run_on_workers, g_workers);
        const strbuf *answer = x->bg_started ? x->bg_answer : event;
        put_event(x->pending, answer->data, answer->len);
        x->phase = 2;
    } else {
        more = false;
    }
    strbuf_free(event);
    return more;
}

/* The SSE answer to a POST (answer_next says what, part by part). Blocking
 * here is fine: this is the connection's own thread. */
static ssize_t answer_reader(void *cls, uint64_t pos, char *buf, size_t max) {
    (void)pos;
    exchange *x = cls;
    ssize_t n = drain(x, buf, max);
    if (n > 0) return n;
    if (!answer_next(x)) return MHD_CONTENT_READER_END_OF_STREAM;
    return drain(x, buf, max);
}

/* True when x was opened by a scoped token that has since been revoked or
 * has expired: its streams end within 2 s (docs/security.md), so a scoped
 * stream wakes at least every second to ask (token_store.h). */
static bool token_gone(const exchange *x) { return x->scoped && !token_store_id_live(x->token_id); }

/* The longest a stream of x may sleep before it asks token_gone again. */
static long token_nap_ms(const exchange *x, long ms) { return x->scoped && ms > 1000 ? 1000 : ms; }

/* The session's GET stream: a comment at once, then the notifications of
 * the session's resource subscriptions (watch.h) as they come, and a
 * comment every MCP_KEEPALIVE_SECONDS, until the session ends or the
 * process stops. */
static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max) {
    (void)pos;
    exchange *x = cls;
    ssize_t n = drain(x, buf, max);
    if (n > 0) return n;
    if (x->phase == 0) {
        strbuf_puts(x->pending, ": stream open\n\n");
        x->phase = 1;
        x->keepalive_due = clock_ms() + g_mcp.keepalive_seconds * 1000.0;
        return drain(x, buf, max);
    }
    while (x->pending->len == 0) {
        long sleep_ms = watch_poll(x->watch, x->pending, run_on_workers, g_workers);
        if (x->pending->len) break;
        double left = x->keepalive_due - clock_ms();
        if (left <= 0) {
            strbuf_puts(x->pending, ": keepalive\n\n");
            x->keepalive_due = clock_ms() + g_mcp.keepalive_seconds * 1000.0;
            break;
        }
        if (!session_stream_wait(x->stream_session,
                                 token_nap_ms(x, left < sleep_ms ? (long)left + 1 : sleep_ms)) ||
            token_gone(x))
            return MHD_CONTENT_READER_END_OF_STREAM;
    }
    return drain(x, buf, max);
}

/* The CORS headers of an answer to an allowed browser origin (docs/mcp.md,
 * "Browser clients connecting directly"): that origin, never credentials
 * (the token is a header the page sets, not a cookie), what a page may
 * read, and on a preflight what it may send. */
static void add_cors(struct MHD_Response *r, const rpc_out *out) {
    if (out->cors_origin == NULL) return;
    MHD_add_response_header(r, "Access-Control-Allow-Origin", out->cors_origin);
    MHD_add_response_header(r, "Vary", "Origin");
    MHD_add_response_header(r, "Access-Control-Max-Age", "600");
    MHD_add_response_header(r, "Access-Control-Expose-Headers", "Mcp-Session-Id, WWW-Authenticate");
    if (!out->preflight) return;
    MHD_add_response_header(r, "Access-Control-Allow-Methods", "GET, POST, DELETE");
    MHD_add_response_header(r, "Access-Control-Allow-Headers",
                            "Authorization, Content-Type, Accept, Mcp-Session-Id, MCP-Protocol-Version, "
                            "Mcp-Method, Mcp-Name, Last-Event-ID");
}

/* Sleeps ms, in steps that end early when the process is stopping. */
static void nap(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    if (!serve_stopping()) nanosleep(&t, NULL);
}

/* A 2026-07-28 subscriptions/listen: a comment and the acknowledgement at
 * once, then notifications/resources/updated as writes touch the URIs
 * (watch.h) and a comment every MCP_KEEPALIVE_SECONDS, until the client
 * leaves; when the process stops, the listen's result (its graceful end). */
static ssize_t listen_reader(void *cls, uint64_t pos, char *buf, size_t max) {
    (void)pos;
    exchange *x = cls;
    ssize_t n = drain(x, buf, max);
    if (n > 0 || x->phase == 2) return n > 0 ? n : MHD_CONTENT_READER_END_OF_STREAM;
    if (x->phase == 0) {
        strbuf_puts(x->pending, ": listening\n\n");
        x->phase = 1;
        if (!watch_listen_ack(x->watch, x->pending, run_on_workers, g_workers)) {
            strbuf_puts(x->pending,
                        "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":"
                        "-32603,\"message\":\"Internal error: the changes feed cannot be read\"}}\n\n");
            x->phase = 2;
        }
        x->keepalive_due = clock_ms() + g_mcp.keepalive_seconds * 1000.0;
        return drain(x, buf, max);
    }
    while (x->pending->len == 0) {
        long sleep_ms = watch_poll(x->watch, x->pending, run_on_workers, g_workers);
        if (x->pending->len) break;
        double left = x->keepalive_due - clock_ms();
        if (serve_stopping()) {
            watch_listen_end(x->watch, x->pending);
            x->phase = 2;
        } else if (left <= 0) {
            strbuf_puts(x->pending, ": keepalive\n\n");
            x->keepalive_due = clock_ms() + g_mcp.keepalive_seconds * 1000.0;
        } else {
            nap(token_nap_ms(x, left < sleep_ms ? (long)left + 1 : sleep_ms));
            if (token_gone(x)) return MHD_CONTENT_READER_END_OF_STREAM;
        }
    }
    return drain(x, buf, max);
}

static enum MHD_Result send_response(struct MHD_Connection *c, exchange *x, struct MHD_Response *r,
                                     int status, const char *content_type) {
    add_cors(r, &x->out);
    if (content_type) MHD_add_response_header(r, "Content-Type", content_type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Request-Id", x->request_id);
    if (x->out.session_id[0]) {
        session_bind(x->out.session_id, x->token_key, x->session_out);
        MHD_add_response_header(r, "Mcp-Session-Id", x->session_out);
    }
    if (content_type && strcmp(content_type, "text/event-stream") == 0)
        MHD_add_response_header(r, "X-Accel-Buffering", "no");
    if (x->out.allow) MHD_add_response_header(r, "Allow", x->out.allow);
    if (x->out.www_authenticate) MHD_add_response_header(r, "WWW-Authenticate", "Bearer");
    if (x->out.retry_after > 0) {
        char secs[24];
        snprintf(secs, sizeof secs, "%ld", x->out.retry_after);
        MHD_add_response_header(r, "Retry-After", secs);
    }
    x->status = status;
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result send_buffer(struct MHD_Connection *c, exchange *x, int status, const strbuf *body) {
    struct MHD_Response *r = MHD_create_response_from_buffer(body->len, body->data, MHD_RESPMEM_MUST_COPY);
    if (r == NULL) return MHD_NO;
    return send_response(c, x, r, status, body->len ? "application/json" : NULL);
}

static enum MHD_Result send_stream(struct MHD_Connection *c, exchange *x, MHD_ContentReaderCallback reader) {
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, reader, x, NULL);
    if (r == NULL) return MHD_NO;
    return send_response(c, x, r, 200, "text/event-stream");
}

static const char *header(struct MHD_Connection *c, const char *name) {
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* The client's address, for the abuse limits. backend-mcp's connection is
 * lighttpd's, on a unix socket in the run folder that lighttpd made and
 * only the service's own processes use (a process that can reach it can
 * reach the FastCGI sockets too, whose REMOTE_ADDR is taken on the same
 * word), so what lighttpd says is trusted by construction: its mod_proxy
 * (1.4.69, with or without proxy.forwarded) appends the address of the
 * peer it served to X-Forwarded-For, so the header's right-most entry is
 * what REMOTE_ADDR is to the FastCGI processes. The entries left of it
 * came with the request and count only as far as TRUSTED_PROXIES says,
 * exactly as on the FastCGI routes (abuse_client_addr). NULL without the
 * header: not through lighttpd (backend-mcp --listen in a test), no
 * address to limit. */
static const char *client_addr(struct MHD_Connection *c, char buf[ABUSE_ADDR_MAX]) {
    const char *xff = header(c, "X-Forwarded-For");
    if (xff == NULL) return NULL;
    const char *comma = strrchr(xff, ',');
    const char *last = comma ? comma + 1 : xff;
    while (*last == ' ' || *last == '\t') last++;
    char peer[ABUSE_ADDR_MAX];
    size_t n = strlen(last);
    while (n > 0 && (last[n - 1] == ' ' || last[n - 1] == '\t')) n--;
    if (n == 0 || n >= sizeof peer) return NULL;
    memcpy(peer, last, n);
    peer[n] = '\0';
    char *rest = NULL;
    if (comma != NULL && (rest = strndup(xff, (size_t)(comma - xff))) == NULL) abort();
    const char *addr = abuse_client_addr(peer, rest, buf);
    free(rest);
    return addr;
}

/* Keeps a piece of the body (upload, *upload_size bytes) within
 * BODY_MAX_BYTES: past it the body is dropped and the request marked too
 * large (rpc_admit answers 413). */
static void take_upload(exchange *x, const char *upload, size_t *upload_size) {
    if (!x->too_large && x->body->len + *upload_size > g_config.body_max_bytes) {
        x->too_large = true;
        strbuf_reset(x->body);
    }
    if (!x->too_large) strbuf_append(x->body, upload, *upload_size);
    *upload_size = 0;
}

/* Sends the 404 of a path other than /mcp (lighttpd sends only /mcp
 * here), in the HTTP routes' error shape. */
static enum MHD_Result send_not_found(struct MHD_Connection *c, exchange *x) {
    api_error err;
    reply r;
    reply_init(&r);
    api_fail(&err, API_E_NOT_FOUND, NULL, "no route for this path");
    reply_error(&r, &err);
    enum MHD_Result ok = send_buffer(c, x, 404, r.body);
    reply_release(&r);
    return ok;
}

/* key: the hex SHA-256 of the token an Authorization header carries (what
 * follows its scheme, blanks trimmed). A session's id is bound to it
 * (session_bind): only a holder of that very token can compute the stored
 * id, so a session is the token's, as docs/security.md says; each root
 * token line is a token of its own. */
static void token_key_of(const char *authorization, char key[2 * 32 + 1]) {
    const char *t = authorization ? strchr(authorization, ' ') : NULL;
    t = t ? t : "";
    while (*t == ' ') t++;
    size_t n = strlen(t);
    while (n > 0 && t[n - 1] == ' ') n--;
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)t, n, d);
    for (size_t i = 0; i < SHA256_DIGEST_LENGTH; i++) snprintf(key + 2 * i, 3, "%02x", d[i]);
}

/* The stored id of the session the client names sid (x->session_in):
 * unbound from x's token (session_bind). A session of the release before
 * sessions were bound is stored as its client knows it: when the bound id
 * names none and the id as sent names one, that is the one (it stays open
 * to every valid token, as it was). */
static void unbind_session(const char *sid, exchange *x) {
    session_bind(sid, x->token_key, x->session_in);
    if (x->token_key[0] == '\0' || strlen(sid) != SESSION_ID_LEN) return;
    char v[SESSION_VERSION_MAX];
    if (session_touch(x->session_in, v) == SESSION_GONE && session_touch(sid, v) == SESSION_LIVE)
        snprintf(x->session_in, sizeof x->session_in, "%s", sid);
}

/* What rpc_admit reads of the request: its headers (borrowed from c), its
 * body (borrowed from x); the client's address goes into client. */
static rpc_in request_in(struct MHD_Connection *c, const char *method, exchange *x,
                         char client[ABUSE_ADDR_MAX]) {
    /* Who the token is, for the log and the session's binding; a token
     * that fails is refused by rpc_admit (this check has no effect of its
     * own: the failure counts there). */
    auth_who who;
    api_error err;
    if (auth_identify(header(c, "Authorization"), NULL, &who, &err)) {
        snprintf(x->token_id, sizeof x->token_id, "%s", who.id);
        token_key_of(header(c, "Authorization"), x->token_key);
        x->scoped = !who.root;
    }
    const char *sid = header(c, "Mcp-Session-Id");
    if (sid != NULL) unbind_session(sid, x);
    return (rpc_in){
        .method = method,
        .host = header(c, "Host"),
        .origin = header(c, "Origin"),
        .authorization = header(c, "Authorization"),
        .session_id = sid != NULL ? x->session_in : NULL,
        .protocol_version = header(c, "MCP-Protocol-Version"),
        .mcp_method = header(c, "Mcp-Method"),
        .mcp_name = header(c, "Mcp-Name"),
        .accept = header(c, "Accept"),
        .request_id = x->request_id,
        .client_addr = client_addr(c, client),
        .trace = &x->trace,
        .body = x->body->data,
        .body_len = x->body->len,
        .body_too_large = x->too_large,
    };
}

/* Sends what rpc_admit decided for the request (in): a reply as it is, the
 * answer to a request (JSON, or an event stream), or the session's GET
 * stream. */
static enum MHD_Result send_admitted(struct MHD_Connection *c, exchange *x, const rpc_in *in) {
    switch (x->out.action) {
    case RPC_OPEN_STREAM:
        snprintf(x->stream_session, sizeof x->stream_session, "%s", in->session_id);
        if (!session_stream_open(x->stream_session)) {
            strbuf_puts(x->out.body,
                        "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32001,\"message\":"
                        "\"Session not found\"}}");
            return send_buffer(c, x, 404, x->out.body);
        }
        x->stream_open = true;
        x->watch = watch_new(x->stream_session, in->authorization);
        return send_stream(c, x, stream_reader);
    case RPC_LISTEN: {
        json_t *uris;
        const char *id;
        size_t id_len;
        rpc_listen_params(&x->out, &uris, &id, &id_len);
        x->watch = watch_listen(uris, in->authorization, id, id_len);
        return send_stream(c, x, listen_reader);
    }
    case RPC_ANSWER:
        if (x->out.sse) return send_stream(c, x, answer_reader);
        rpc_answer(&x->out, x->pending, run_on_workers, g_workers);
        return send_buffer(c, x, 200, x->pending);
    case RPC_REPLY:
    default: return send_buffer(c, x, x->out.status, x->out.body);
    }
}

/* libmicrohttpd's request callback, called first when the headers are in,
 * then with each piece of the body, then once more when it is all in. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size,
                                  void **con_cls) {
    (void)cls;
    (void)version;
    exchange *x = *con_cls;
    if (x == NULL) { /* the headers are in; the body (if any) follows */
        *con_cls = exchange_new(method, header(c, "X-Request-Id"), header(c, "traceparent"));
        return MHD_YES;
    }
    if (*upload_size != 0) {
        take_upload(x, upload, upload_size);
        return MHD_YES;
    }
    if (strcmp(url, "/mcp") != 0) return send_not_found(c, x);
    char client[ABUSE_ADDR_MAX];
    rpc_in in = request_in(c, method, x, client);
    rpc_admit(&in, &x->out);
    return send_admitted(c, x, &in);
}

/* ---- start-up ---- */

/* db's schema hook: every mode's schema and sentinel (a tool call may be
 * the first request of any mode), and the session table. */
static atomic_bool g_schemas_ready;
static bool ensure_schemas(api_error *err) {
    if (atomic_load(&g_schemas_ready)) return true;
    for (const mode *const *mp = mode_registry; *mp; mp++)
        if (!schema_ensure(*mp, err)) return false;
    if (!store_ensure_schema(err)) return false;
    atomic_store(&g_schemas_ready, true);
    return true;
}

/* The session checker: once a second, the sessions with a GET stream open
 * here are looked up in the store (which keeps them from idling out there),
 * and those ended elsewhere have their streams closed: a DELETE on another
 * process closes a stream here within about a second. */
static pthread_mutex_t g_check_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_check_stop_cond;
static bool g_check_stop;

static void *session_checker(void *arg) {
    (void)arg;
    pthread_mutex_lock(&g_check_lock);
    while (!g_check_stop) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += 1;
        pthread_cond_timedwait(&g_check_stop_cond, &g_check_lock, &until);
        if (g_check_stop) break;
        pthread_mutex_unlock(&g_check_lock);
        sessions_recheck();
        metrics_sessions_set(sessions_live());
        pthread_mutex_lock(&g_check_lock);
    }
    pthread_mutex_unlock(&g_check_lock);
    return NULL;
}

static int listen_unix(const char *path) {
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof addr.sun_path) {
        fprintf(stderr, "backend-mcp: socket path too long: %s\n", path);
        return -1;
    }
    memcpy(addr.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    unlink(path);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || chmod(path, 0600) != 0 ||
        listen(fd, 256) != 0) {
        perror("backend-mcp: listen");
        close(fd);
        return -1;
    }
    return fd;
}

/* Stops the session checker (when it runs) and waits for it. */
static void stop_checker(pthread_t *checker) {
    if (checker == NULL) return;
    pthread_mutex_lock(&g_check_lock);
    g_check_stop = true;
    pthread_cond_broadcast(&g_check_stop_cond);
    pthread_mutex_unlock(&g_check_lock);
    pthread_join(*checker, NULL);
}

/* Reads the settings of backend-mcp and of every mode (a tool call runs
 * any mode's route), and names the process in its logs and to PostgreSQL. */
static void load_settings(void) {
    config_load();
    settings_load(mcp_settings, mcp_nsettings);
    for (const mode *const *mp = mode_registry; *mp; mp++) settings_load((*mp)->settings, (*mp)->nsettings);
    log_set_mode("mcp");
    db_set_app_name("mcp");
}

/* Makes the schemas at start-up; one not ready yet is logged, and made by
 * the first request that needs the database (db's schema hook). */
static void prepare_schemas(void) {
    api_error err;
    db_begin(g_config.db_timeout_ms);
    if (!ensure_schemas(&err)) log_msg(LOG_WARN, "schema not ready yet: %s", err.detail);
    db_disconnect();
    db_set_schema_hook(ensure_schemas);
}

/* Starts the workers, the session store, the session checker (*checker)
 * and libmicrohttpd on the listening socket fd (< 0: none). Returns the
 * daemon, or NULL when a part could not start (what had started is
 * stopped and freed again). */
static struct MHD_Daemon *start_serving(int fd, pthread_t *checker) {
    g_workers = fd < 0 ? NULL : workers_new(MCP_WORKERS);
    g_session_workers = g_workers == NULL ? NULL : workers_new(MCP_SESSION_WORKERS);
    store_init(&g_store, g_session_workers, (long)g_mcp.session_idle_seconds);
    sessions_init((long)g_mcp.session_idle_seconds, &g_store);
    clock_cond_init(&g_check_stop_cond);
    bool checking = g_session_workers != NULL && pthread_create(checker, NULL, session_checker, NULL) == 0;
    struct MHD_Daemon *d =
        !checking ? NULL
                  : MHD_start_daemon(
                        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0,
                        NULL, NULL, on_request, NULL, MHD_OPTION_LISTEN_SOCKET, fd,
                        MHD_OPTION_CONNECTION_LIMIT, (unsigned)MCP_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
                        (unsigned)MCP_IDLE_SECONDS, MHD_OPTION_THREAD_STACK_SIZE, (size_t)MCP_STACK_BYTES,
                        MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_END);
    if (d != NULL) return d;
    stop_checker(checking ? checker : NULL);
    if (g_workers) workers_free(g_workers);
    if (g_session_workers) workers_free(g_session_workers);
    sessions_free();
    return NULL;
}

/* Stops what start_serving started: streams end, calls in hand finish (a
 * long-poll gives up early), then the threads are joined. */
static void stop_serving(struct MHD_Daemon *d, pthread_t *checker) {
    serve_request_stop();
    notify_stop(); /* long-polls in tool calls give up now */
    sessions_shutdown();
    MHD_stop_daemon(d);
    stop_checker(checker);
    workers_free(g_workers);
    workers_free(g_session_workers);
    sessions_free();
    db_close_spares();
}

int main(int argc, char **argv) {
    load_settings();
    if (argc == 2 && strcmp(argv[1], "--check-config") == 0) return 0;
    bool fd0 = argc == 2 && strcmp(argv[1], "--listen-fd0") == 0;
    if (!fd0 && (argc != 3 || strcmp(argv[1], "--listen") != 0)) {
        fprintf(stderr, "usage: backend-mcp --listen-fd0 | --listen SOCKET_PATH | --check-config\n");
        return 2;
    }
    const char *where = fd0 ? "the socket lighttpd made" : argv[2];
    signal(SIGPIPE, SIG_IGN);
    metrics_init("mcp");
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL); /* every thread inherits it */
    serve_set_worker_count(MCP_WORKERS);             /* the tool workers: at most half may long-poll */
    prepare_schemas();
    pthread_t checker;
    struct MHD_Daemon *d = start_serving(fd0 ? 0 : listen_unix(argv[2]), &checker);
    if (d == NULL) {
        fprintf(stderr, "backend-mcp: cannot serve on %s\n", where);
        return 1;
    }
    log_msg(LOG_INFO, "serving /mcp on %s", where);
    int sig = 0;
    sigwait(&stop_signals, &sig);
    stop_serving(d, &checker);
    if (!fd0) unlink(argv[2]);
    metrics_release();
    log_msg(LOG_INFO, "stopping (signal %d)", sig);
    return 0;
}
