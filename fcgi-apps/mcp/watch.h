/*
 * watch: resource subscriptions in the session era (docs/mcp.md,
 * "Watching"): resources/subscribe on a document or a document namespace
 * URI records it in mcp_subscriptions (so a subscription made on one
 * replica is delivered by the replica holding the session's GET stream),
 * with the changes feed's cursor of that moment; the GET stream then
 * follows the feed of each subscribed namespace from there, woken by the
 * document mode's notification (notify.h: one listening connection per
 * process, none per stream), and sends notifications/resources/updated
 * for each subscribed URI that a write touched. Reading the feed runs on a
 * tool worker: a stream holds no database connection.
 */
#ifndef BACKEND_MCP_WATCH_H
#define BACKEND_MCP_WATCH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "api_error.h"
#include "strbuf.h"
#include "tools.h"

/* Runs fn(arg) on a worker (with a database connection) and returns when
 * it is done. */
typedef void (*watch_runner)(void (*fn)(void *), void *arg, void *ctx);

/* On a worker: subscribes session sid to uri (a document or namespace
 * URI), from the namespace's latest change (h: the request's headers, for
 * reading the feed). False with err set: a URI that cannot be watched
 * (422, naming uri), the database (503). Subscribing twice is one
 * subscription. */
bool watch_subscribe(const char *sid, const char *uri, const call_headers *h, api_error *err);

/* On a worker: ends session sid's subscription to uri (none: nothing
 * happens). False with err set (the database). */
bool watch_unsubscribe(const char *sid, const char *uri, api_error *err);

typedef struct watch watch;

/* A GET stream's watch of session sid, reading the feed with the stream's
 * authorization (both copied). Free with watch_free. */
watch *watch_new(const char *sid, const char *authorization);
void watch_free(watch *w);

/* A 2026-07-28 subscriptions/listen's watch (no session): the document and
 * namespace URIs among uris (a JSON array, borrowed; others are not
 * honored), read with authorization (copied); id (id_len bytes, the listen
 * request's id as written) stamps its notifications. Free with
 * watch_free. */
watch *watch_listen(json_t *uris, const char *authorization, const char *id, size_t id_len);

/* Starts a listen: each URI follows its feed from its latest change (read
 * through runner), and the acknowledgement (the URIs honored) is appended
 * to out as an SSE event. False when a feed cannot be read (the database):
 * nothing appended. */
bool watch_listen_ack(watch *w, strbuf *out, watch_runner runner, void *ctx);

/* Appends a listen's graceful end (the process stops): the listen
 * request's result, as an SSE event. */
void watch_listen_end(const watch *w, strbuf *out);

/* Called by the stream between waits: reloads the session's subscriptions
 * when they changed, reads the feed of every namespace a write has touched
 * since the last call (through runner), and appends one SSE event per
 * updated URI to out. Returns how long the stream may sleep before the
 * next call, in ms. */
long watch_poll(watch *w, strbuf *out, watch_runner runner, void *ctx);

#endif
