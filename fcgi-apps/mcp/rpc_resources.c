/*
 * rpc_resources: the answers to the resource methods (resources.h has the
 * data; docs/mcp.md, "Resources"), in both eras: resources/templates/list,
 * resources/list and resources/read, and completion/complete for the
 * templates' arguments. What needs the database runs through
 * the runner, on a tool worker, as a tool call does.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "resources.h"
#include "rpc_internal.h"
#include "watch.h"

/* An unknown resource's JSON-RPC error: the revision's code (-32002 in
 * the session era, -32602 from 2026-07-28 on). */
#define RPC_RESOURCE_NOT_FOUND -32002
#define RPC_INTERNAL_ERROR     -32603

/* The stateless era's caching members: how long a client may keep the
 * result, and that it depends on the token (private). */
static void put_cache(const answering *a, long ttl_ms) {
    if (a->msg->stateless) strbuf_printf(a->body, ",\"ttlMs\":%ld,\"cacheScope\":\"private\"", ttl_ms);
}

/* One piece of database work for a resource method, run on a worker. */
typedef struct resource_job {
    const char *uri;    /* resources/read */
    const char *cursor; /* resources/list; NULL: the first page */
    call_headers headers;
    bool ok;                        /* resources/list: the page is in members */
    strbuf *members;                /* resources/list: the result's members */
    api_error err;                  /* resources/list: why not */
    reply r;                        /* resources/read: the route's answer */
    const char *ref, *name, *value; /* completion/complete */
    json_t *context;
    const char *sid; /* resources/subscribe, resources/unsubscribe */
    bool subscribe;
} resource_job;

static void run_list(void *arg) {
    resource_job *j = arg;
    j->ok = resources_list(j->headers.authorization, j->cursor, j->members, &j->err);
}

static void run_complete(void *arg) {
    resource_job *j = arg;
    j->ok = resources_complete(j->headers.authorization, j->ref, j->name, j->value, j->context, j->members,
                               &j->err);
}

static void run_subscription(void *arg) {
    resource_job *j = arg;
    j->ok = j->subscribe ? watch_subscribe(j->sid, j->uri, &j->headers, &j->err)
                         : watch_unsubscribe(j->sid, j->uri, &j->err);
}

static void run_read(void *arg) {
    resource_job *j = arg;
    resources_read(j->uri, &j->headers, &j->r);
}

/* resources/list: one page, or -32602 for a cursor this server did not
 * give (or that is not a string), or -32603 when the database failed. */
static void answer_list(const answering *a, json_t *params, rpc_runner runner, void *ctx) {
    json_t *cursor = json_object_get(params, "cursor");
    if (cursor != NULL && !json_is_string(cursor) && !json_is_null(cursor)) {
        rpc_put_error(a->body, a->id, a->id_len, RPC_INVALID_PARAMS,
                      "Invalid params: cursor must be a string");
        return;
    }
    resource_job j = {.cursor = json_string_value(cursor),
                      .members = strbuf_new(),
                      .headers = {a->msg->authorization, a->msg->request_id, NULL}};
    runner(run_list, &j, ctx);
    if (j.ok) {
        rpc_open_result(a->body, a->id, a->id_len);
        strbuf_append(a->body, j.members->data, j.members->len);
        put_cache(a, 0);
        rpc_close_result(a->body, a->msg, true);
    } else {
        char message[300];
        snprintf(message, sizeof message, "%s: %.200s",
                 j.err.status == 422 ? "Invalid params" : "Internal error", j.err.detail);
        rpc_put_error(a->body, a->id, a->id_len,
                      j.err.status == 422 ? RPC_INVALID_PARAMS : RPC_INTERNAL_ERROR, message);
        snprintf(a->out->log_detail, sizeof a->out->log_detail, "resources/list: %.200s", j.err.detail);
    }
    strbuf_free(j.members);
}

/* The error of a read that failed with the route's answer r: a URI that
 * names nothing (no template, no such thing, a bad name, a removed
 * version: 4xx) is the revision's unknown resource; anything else (503) is
 * -32603. data: the route's error body with the uri added. */
static void put_read_error(const answering *a, const char *uri, const reply *r) {
    bool unknown = r->status >= 400 && r->status < 500;
    int code = !unknown            ? RPC_INTERNAL_ERROR
               : a->msg->stateless ? RPC_INVALID_PARAMS
                                   : RPC_RESOURCE_NOT_FOUND;
    strbuf *data = strbuf_new();
    strbuf_puts(data, "{\"uri\":");
    strbuf_json_string(data, uri, strlen(uri));
    if (r->body->len > 2 && r->body->data[0] == '{') {
        strbuf_puts(data, ",");
        strbuf_append(data, r->body->data + 1, r->body->len - 1);
    } else {
        strbuf_puts(data, "}");
    }
    rpc_put_error_data(a->body, a->id, a->id_len, code, unknown ? "Resource not found" : "Internal error",
                       data->data);
    snprintf(a->out->log_detail, sizeof a->out->log_detail, "resources/read %.100s: %d %.200s", uri,
             r->status, r->body->data);
    strbuf_free(data);
}

/* resources/read: one content item holding exactly what the matching HTTP
 * GET returns. */
static void answer_read(const answering *a, json_t *params, rpc_runner runner, void *ctx) {
    json_t *uri = json_object_get(params, "uri");
    if (!json_is_string(uri)) {
        rpc_put_error(a->body, a->id, a->id_len, RPC_INVALID_PARAMS,
                      "Invalid params: resources/read needs params.uri (a string)");
        return;
    }
    const rpc_message *msg = a->msg;
    resource_job j = {
        .uri = json_string_value(uri),
        .headers = {msg->authorization, msg->request_id, msg->traceparent[0] ? msg->traceparent : NULL}};
    reply_init(&j.r);
    runner(run_read, &j, ctx);
    if (j.r.status == 200) {
        rpc_open_result(a->body, a->id, a->id_len);
        strbuf_puts(a->body, "\"contents\":[{\"uri\":");
        strbuf_json_string(a->body, j.uri, json_string_length(uri));
        strbuf_puts(a->body, ",\"mimeType\":\"application/json\",\"text\":");
        strbuf_json_string(a->body, j.r.body->data, j.r.body->len);
        strbuf_puts(a->body, "}]");
        put_cache(a, 0);
        rpc_close_result(a->body, a->msg, true);
    } else {
        put_read_error(a, j.uri, &j.r);
    }
    reply_release(&j.r);
}

/* completion/complete: the values for a template's argument. A prompt
 * reference (this server has no prompts), a template or an argument that
 * is not this server's, or params not of the revision's shape: -32602. */
static void answer_complete(const answering *a, json_t *params, rpc_runner runner, void *ctx) {
    json_t *ref = json_object_get(params, "ref"), *arg = json_object_get(params, "argument");
    const char *type = json_string_value(json_object_get(ref, "type"));
    resource_job j = {.ref = json_string_value(json_object_get(ref, "uri")),
                      .name = json_string_value(json_object_get(arg, "name")),
                      .value = json_string_value(json_object_get(arg, "value")),
                      .context = json_object_get(json_object_get(params, "context"), "arguments"),
                      .headers = {a->msg->authorization, a->msg->request_id, NULL}};
    const char *wrong =
        type == NULL || j.name == NULL || j.value == NULL
            ? "Invalid params: completion/complete needs ref.type, argument.name and argument.value"
        : strcmp(type, "ref/prompt") == 0 ? "Invalid params: this server has no prompts"
        : strcmp(type, "ref/resource") != 0 || j.ref == NULL
            ? "Invalid params: ref must be a ref/resource with a uri"
            : NULL;
    if (wrong != NULL) {
        rpc_put_error(a->body, a->id, a->id_len, RPC_INVALID_PARAMS, wrong);
        return;
    }
    j.members = strbuf_new();
    runner(run_complete, &j, ctx);
    if (j.ok) {
        rpc_open_result(a->body, a->id, a->id_len);
        strbuf_append(a->body, j.members->data, j.members->len);
        rpc_close_result(a->body, a->msg, true);
    } else {
        char message[300];
        bool invalid = j.err.status == 404;
        snprintf(message, sizeof message, "%s: %.200s", invalid ? "Invalid params" : "Internal error",
                 j.err.detail);
        rpc_put_error(a->body, a->id, a->id_len, invalid ? RPC_INVALID_PARAMS : RPC_INTERNAL_ERROR, message);
    }
    strbuf_free(j.members);
}

/* resources/subscribe (subscribe) or resources/unsubscribe, in the
 * session era: {} once recorded; a URI that cannot be watched (a queue, a
 * table, a version, no template) -32602; the database -32603. */
static void answer_subscription(const answering *a, json_t *params, bool subscribe, rpc_runner runner,
                                void *ctx) {
    json_t *uri = json_object_get(params, "uri");
    if (!json_is_string(uri)) {
        rpc_put_error(a->body, a->id, a->id_len, RPC_INVALID_PARAMS,
                      "Invalid params: params.uri (a string) is required");
        return;
    }
    const rpc_message *msg = a->msg;
    resource_job j = {
        .uri = json_string_value(uri),
        .sid = msg->session_id,
        .subscribe = subscribe,
        .headers = {msg->authorization, msg->request_id, msg->traceparent[0] ? msg->traceparent : NULL}};
    runner(run_subscription, &j, ctx);
    if (j.ok) {
        rpc_open_result(a->body, a->id, a->id_len);
        rpc_close_result(a->body, msg, false);
        return;
    }
    char message[300];
    bool invalid = j.err.status == 422;
    snprintf(message, sizeof message, "%s: %.200s", invalid ? "Invalid params" : "Internal error",
             j.err.detail);
    rpc_put_error(a->body, a->id, a->id_len, invalid ? RPC_INVALID_PARAMS : RPC_INTERNAL_ERROR, message);
}

bool rpc_answer_resources(const answering *a, const char *method, json_t *params, rpc_runner runner,
                          void *ctx) {
    if (strcmp(method, "resources/templates/list") == 0) {
        rpc_open_result(a->body, a->id, a->id_len);
        resources_templates(a->body, a->msg->version);
        put_cache(a, RPC_LIST_TTL_MS);
        rpc_close_result(a->body, a->msg, true);
    } else if (strcmp(method, "resources/list") == 0) {
        answer_list(a, params, runner, ctx);
    } else if (strcmp(method, "resources/read") == 0) {
        answer_read(a, params, runner, ctx);
    } else if (strcmp(method, "completion/complete") == 0) {
        answer_complete(a, params, runner, ctx);
    } else if (!a->msg->stateless && strcmp(method, "resources/subscribe") == 0) {
        answer_subscription(a, params, true, runner, ctx);
    } else if (!a->msg->stateless && strcmp(method, "resources/unsubscribe") == 0) {
        answer_subscription(a, params, false, runner, ctx);
    } else {
        return false;
    }
    return true;
}
