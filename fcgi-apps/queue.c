/*
 * queue: a PostgreSQL work queue (docs/queue.md).
 *
 * One table. An item is ready when visible_at has passed and it has attempts
 * left; a claim takes ready items with FOR UPDATE SKIP LOCKED and, in the
 * same statement, bumps attempts, pushes visible_at out by the visibility
 * timeout and issues a fresh claim_token, so two claimers never hold the
 * same item and there is no read-then-update race. visible_at carries both
 * the enqueue delay and the visibility timeout.
 *
 * Dead letters are derived, not moved: an item whose attempts are used up
 * and whose last claim has run out (attempts >= max_attempts and visible_at
 * <= now()) is dead. A partial index keeps exhausted items out of the
 * claim's index, so a claim is an index range scan at any queue depth.
 *
 * Long-poll: every enqueue (and release, retry, resume) NOTIFYs one
 * channel with the namespace, in its own transaction, so a waiting claim
 * wakes on commit; it also wakes when the namespace's next delayed or
 * claimed item becomes visible. A waiting claim holds neither a worker at
 * accept nor a connection (serve.h, docs/queue.md), so waiting claimers do
 * not starve enqueues or acks.
 *
 * Production parts (docs/queue.md): a retry wait drawn at the claim and
 * added to visible_at (retry_pad); a per-namespace concurrency limit, whose
 * claims lock the namespace's queue_limits row before counting; schedules,
 * fired by the mode's tick in every process (queue/cron.c, queue/tz.c);
 * discovery, purges and the dead items' retention sweep.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "config.h"
#include "db.h"
#include "input.h"
#include "json.h"
#include "log.h"
#include "metrics.h"
#include "mode.h"
#include "schema.h"
#include "serve.h"
#include "validate.h"
#include "queue/cron.h"
#include "queue/tz.h"

enum {
    QUEUE_BATCH_MAX = 1000,
    DELAY_MAX = 604800,
    VISIBILITY_MAX = 43200,
    VISIBILITY_DEFAULT = 30,
    MAX_ATTEMPTS_MAX = 1000,
    MAX_ATTEMPTS_DEFAULT = 5,
    PRIORITY_MAX = 1000,
    DEDUP_KEY_MAX = 256,
    GROUP_MAX = 128,
    WAIT_MAX = 20,
    RETRY_DELAY_MAX = 86400,
    RETRY_DELAY_CAP_MAX = 604800,
    RETRY_DELAY_CAP_DEFAULT = 3600,
};
#define QUEUE_CHANNEL "backend_queue"

extern const mode mode_queue;
#define ID_MAX 999999999999999999LL

/* ---- schema ---- */

static const char queue_schema[] =
    "CREATE TABLE IF NOT EXISTS queue_items ("
    " id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    " namespace text COLLATE \"C\" NOT NULL,"
    " payload jsonb NOT NULL,"
    " attempts integer NOT NULL DEFAULT 0,"
    " max_attempts integer NOT NULL,"
    " visible_at timestamptz NOT NULL,"
    " enqueued_at timestamptz NOT NULL DEFAULT now(),"
    " claim_token uuid);"
    /* what a claim scans: items with attempts left, by visibility */
    "CREATE INDEX IF NOT EXISTS queue_items_claimable ON queue_items (namespace, visible_at, id)"
    " WHERE attempts < max_attempts;"
    /* the dead list and the in-flight final attempts */
    "CREATE INDEX IF NOT EXISTS queue_items_exhausted ON queue_items (namespace, id)"
    " WHERE attempts >= max_attempts";

/* Step 2 (issue #20): priority, dedup_key, group and pause.
 * - The claim index leads with priority (descending), so the claim's ORDER
 *   BY priority DESC, visible_at, id is the index order: still one range
 *   scan with LIMIT, no sort; it stays partial on attempts < max_attempts,
 *   so dead and acked (deleted) items are not in it.
 * - dedup_key: unique among the namespace's items that carry one. A dead
 *   item's key is cleared by the next enqueue that names it (dead is
 *   derived from the clock, which a partial index cannot test), and an ack
 *   deletes the row, so the key is free again exactly when docs/queue.md
 *   says.
 * - group: group_seq orders a group (taken from a sequence at enqueue, and
 *   again when a dead item is retried: the end of its group); the index on
 *   (namespace, grp, group_seq) answers the claim's "is there an earlier
 *   live item of my group" with one index probe.
 * - queue_paused: one row per paused namespace. */
static const char queue_step2[] =
    "ALTER TABLE queue_items ADD COLUMN priority smallint NOT NULL DEFAULT 0,"
    " ADD COLUMN dedup_key text COLLATE \"C\", ADD COLUMN grp text COLLATE \"C\","
    " ADD COLUMN group_seq bigint;"
    "CREATE SEQUENCE queue_items_group_seq;"
    "DROP INDEX queue_items_claimable;"
    "CREATE INDEX queue_items_claim ON queue_items (namespace, priority DESC, visible_at, id)"
    " WHERE attempts < max_attempts;"
    "CREATE UNIQUE INDEX queue_items_dedup ON queue_items (namespace, dedup_key)"
    " WHERE dedup_key IS NOT NULL;"
    "CREATE INDEX queue_items_group ON queue_items (namespace, grp, group_seq)"
    " INCLUDE (attempts, max_attempts, visible_at) WHERE grp IS NOT NULL;"
    "CREATE TABLE queue_paused (namespace text COLLATE \"C\" PRIMARY KEY,"
    " paused_at timestamptz NOT NULL DEFAULT now())";

/* Step 3: retry backoff (docs/queue.md, "Retry backoff"). An item's
 * policy (retry_delay_seconds, exponential or not, the cap) and
 * retry_pad, the wait after the running claim if it fails: drawn at the
 * claim (the jitter too), added to visible_at there, so the claim index
 * (on visible_at) still says when the item is claimable again. The
 * claim's own deadline is visible_at - retry_pad. 0 when there is no
 * claim, and on a last attempt (it has no retry). */
static const char queue_step3[] =
    "ALTER TABLE queue_items ADD COLUMN retry_delay_seconds integer NOT NULL DEFAULT 0,"
    " ADD COLUMN retry_exponential boolean NOT NULL DEFAULT false,"
    " ADD COLUMN retry_delay_max_seconds integer NOT NULL DEFAULT 3600,"
    " ADD COLUMN retry_pad interval NOT NULL DEFAULT '0'";

/* Step 4: the concurrency limit (docs/queue.md, "Concurrency limit"). One
 * row per limited namespace, which a limited claim locks; the index finds
 * a namespace's claimed items whose visible_at is ahead (in flight, or in
 * their retry wait) without reading its backlog. */
static const char queue_step4[] =
    "CREATE TABLE queue_limits (namespace text COLLATE \"C\" PRIMARY KEY,"
    " max_in_flight integer NOT NULL);"
    "CREATE INDEX queue_items_in_flight ON queue_items (namespace, visible_at)"
    " WHERE claim_token IS NOT NULL";

/* Step 5: schedules (docs/queue.md, "Schedules"). A schedule's row holds
 * its next due time, which the tick that enqueues its item advances in the
 * same transaction, the row locked; an item a schedule enqueued names its
 * schedule and tick, and the unique index refuses a second item for one
 * tick (a backstop: the row lock already prevents it). */
static const char queue_step5[] =
    "CREATE TABLE queue_schedules (namespace text COLLATE \"C\" NOT NULL, name text COLLATE \"C\" NOT NULL,"
    " cron text NOT NULL, timezone text NOT NULL, payload jsonb NOT NULL, options jsonb NOT NULL,"
    " next_run_at timestamptz, last_run_at timestamptz, PRIMARY KEY (namespace, name));"
    "CREATE INDEX queue_schedules_due ON queue_schedules (next_run_at);"
    "ALTER TABLE queue_items ADD COLUMN schedule text COLLATE \"C\", ADD COLUMN scheduled_for timestamptz;"
    "CREATE UNIQUE INDEX queue_items_tick ON queue_items (namespace, schedule, scheduled_for)"
    " WHERE schedule IS NOT NULL";

/* The schema's steps (mode.h): step 1 is release 0.1.0's whole schema;
 * released steps are never edited. */
static const char *const queue_migrations[] = {queue_schema, queue_step2, queue_step3,
                                               queue_step4,  queue_step5, NULL};

/* ---- statements ---- */

/* An item's retry policy, as every item answer writes it. */
#define RETRY_JSON                                                                         \
    "'retry_delay_seconds', q.retry_delay_seconds, 'retry_backoff', CASE WHEN"             \
    " q.retry_exponential THEN 'exponential' ELSE 'fixed' END, 'retry_delay_max_seconds'," \
    " q.retry_delay_max_seconds, 'schedule', q.schedule, 'scheduled_for', "                \
    "CASE WHEN q.scheduled_for IS NOT NULL THEN " SQL_UTC("q.scheduled_for") " END, "
#define ITEM_JSON(extra)                                                                        \
    "json_build_object('id', q.id, 'namespace', q.namespace, 'payload', q.payload, 'attempts'," \
    " q.attempts, 'max_attempts', q.max_attempts, 'priority', q.priority, 'dedup_key',"         \
    " q.dedup_key, 'group', q.grp, " RETRY_JSON extra                                           \
    "'visible_at', " SQL_UTC("q.visible_at") ", 'enqueued_at', " SQL_UTC("q.enqueued_at") ")::text"
/* Whether item q's claim is running: claimed, its deadline not passed. */
#define CLAIM_RUNNING "(claim_token IS NOT NULL AND visible_at - retry_pad > now())"

/* The enqueue's items: $2 is the whole request body, with $3 true its
 * "items" array, else the body itself as the one item. */
#define ENQ_ITEMS_SQL                                                        \
    "jsonb_array_elements(CASE WHEN $3::boolean THEN ($2::jsonb) -> 'items'" \
    " ELSE jsonb_build_array($2::jsonb) END)"

/* Frees the dedup keys the request names that dead items still hold (dead
 * is a matter of the clock, so no index predicate can drop them by
 * itself). Run before queue_enqueue, only when an item has a key; on its
 * own it is harmless: a dead item's key serves nothing. */
static const db_stmt queue_free_keys = {
    "queue_free_keys",
    "UPDATE queue_items SET dedup_key = NULL WHERE namespace = $1 AND dedup_key IN"
    " (SELECT e ->> 'dedup_key' FROM " ENQ_ITEMS_SQL
    " AS e)"
    " AND attempts >= max_attempts AND visible_at <= now()",
    3};

/* Fields were validated before. One row per item, in order: the item's
 * JSON and whether it was a duplicate. An item whose dedup_key a live item
 * holds (the unique index queue_items_dedup) is not inserted: ON CONFLICT
 * DO UPDATE (a no-op update) returns that item instead, and it waits for a
 * concurrent enqueue of the same key to commit, so exactly one wins. Only
 * the first item of a key repeated in the batch is inserted (the statement
 * may not touch a row twice); the later ones answer with it. xmax is 0 on
 * a row this statement inserted, set on one it updated. The rows without a
 * key are matched to their items by rank: ids are taken in ord order. */
static const db_stmt queue_enqueue = {
    "queue_enqueue",
    "WITH items AS (SELECT e.item, e.ord, e.item ->> 'dedup_key' AS k,"
    " row_number() OVER (PARTITION BY e.item ->> 'dedup_key' ORDER BY e.ord) AS rn"
    " FROM " ENQ_ITEMS_SQL " WITH ORDINALITY AS e(item, ord)),"
    " ins AS (INSERT INTO queue_items AS q (namespace, payload, max_attempts, visible_at, priority,"
    " dedup_key, grp, group_seq, retry_delay_seconds, retry_exponential, retry_delay_max_seconds)"
    " SELECT $1, item -> 'payload',"
    " coalesce((item ->> 'max_attempts')::numeric::integer, 5),"
    " now() + make_interval(secs => coalesce((item ->> 'delay_seconds')::numeric::integer, 0)),"
    " coalesce((item ->> 'priority')::numeric::smallint, 0), k, item ->> 'group',"
    " CASE WHEN item ->> 'group' IS NOT NULL THEN nextval('queue_items_group_seq') END,"
    " coalesce((item ->> 'retry_delay_seconds')::numeric::integer, 0),"
    " coalesce(item ->> 'retry_backoff' = 'exponential', false),"
    " coalesce((item ->> 'retry_delay_max_seconds')::numeric::integer, 3600)"
    " FROM items WHERE k IS NULL OR rn = 1 ORDER BY ord"
    " ON CONFLICT (namespace, dedup_key) WHERE dedup_key IS NOT NULL"
    " DO UPDATE SET dedup_key = excluded.dedup_key"
    " RETURNING " ITEM_JSON("") " AS j, q.id, q.dedup_key AS k, NOT (q.xmax = 0) AS dup),"
    " keyed AS (SELECT i.ord, ins.j, ins.dup OR i.rn > 1 AS dup FROM items i JOIN ins ON ins.k = i.k),"
    /* the i-th keyless item in ord order is the i-th keyless row by id:
     * zipped by unnest of two arrays (linear; a join on two row_number()s
     * was planned as a nested loop, quadratic in the batch) */
    " plain AS (SELECT z.ord, z.j FROM unnest("
    "(SELECT array_agg(i.ord ORDER BY i.ord) FROM items i WHERE i.k IS NULL),"
    " (SELECT array_agg(ins.j ORDER BY ins.id) FROM ins WHERE ins.k IS NULL)) AS z(ord, j)),"
    " res AS (SELECT ord, j, dup FROM keyed UNION ALL SELECT ord, j, false FROM plain),"
    " wake AS (SELECT pg_notify('" QUEUE_CHANNEL "', $1))"
    " SELECT CASE WHEN res.dup THEN left(res.j, -1) || ', \"duplicate\" : true}' ELSE res.j END, res.dup"
    " FROM res, wake ORDER BY res.ord",
    3};

/* A group's order is its items' group_seq, taken from a sequence at
 * enqueue (and at a dead item's retry), and a sequence number taken inside
 * a transaction can commit after a larger one: a claimer that saw only the
 * larger would deliver it first, and then the smaller beside it. So a write
 * that takes a group_seq first takes its group's transaction-level lock,
 * held until its commit: within a group, group_seq order is commit order.
 *
 * An enqueue with dedup keys takes each key's lock too, before it frees a
 * dead item's key or inserts: the unique index makes an insert wait for a
 * concurrent uncommitted insert of the same key, so two batches inserting
 * the same keys in opposite orders would each wait for the other
 * (PostgreSQL aborts one: a deadlock, 503). Under the key locks, taken in
 * one stable order, the second batch waits at its first shared key, before
 * it has inserted anything, and then finds the first batch's items.
 *
 * All of a request's locks are taken by this one statement in (class,
 * lock id) order, groups' class first: any two requests take their common
 * locks in the same order, so they never wait on each other crosswise
 * (ordered by the lock id, not the name: two names can share a hash). The
 * classes differ from the document mode's, which locks namespaces. */
#define QUEUE_GROUP_LOCK_CLASS "6582116"
#define QUEUE_KEY_LOCK_CLASS   "6582117"
static const db_stmt queue_enqueue_lock = {"queue_enqueue_lock",
                                           "SELECT count(pg_advisory_xact_lock(l.c, l.h))"
                                           " FROM (SELECT DISTINCT l.c, l.h FROM " ENQ_ITEMS_SQL
                                           " AS e(item),"
                                           " LATERAL (VALUES (" QUEUE_GROUP_LOCK_CLASS
                                           ", hashtext($1 || '/' || (e.item ->> 'group'))),"
                                           " (" QUEUE_KEY_LOCK_CLASS
                                           ", hashtext($1 || '/' || (e.item ->> 'dedup_key')))) AS l(c, h)"
                                           " WHERE l.h IS NOT NULL ORDER BY l.c, l.h) l",
                                           3};
static const db_stmt queue_retry_lock = {
    "queue_retry_lock",
    "SELECT count(pg_advisory_xact_lock(" QUEUE_GROUP_LOCK_CLASS
    ", hashtext($1 || '/' || grp)))"
    " FROM queue_items WHERE namespace = $1 AND id = $2::bigint AND grp IS NOT NULL",
    2};

/* Whether the namespace is paused: a claim finds nothing then. */
#define NOT_PAUSED "NOT EXISTS (SELECT 1 FROM queue_paused p WHERE p.namespace = $1)"
/* Whether item q may be delivered as far as its group goes: it has none, or
 * no earlier item of its group is live (not acked, not dead). One probe of
 * queue_items_group. */
#define GROUP_HEAD                                                                              \
    "(q.grp IS NULL OR NOT EXISTS (SELECT 1 FROM queue_items e WHERE e.namespace = q.namespace" \
    " AND e.grp = q.grp AND e.group_seq < q.group_seq"                                          \
    " AND (e.attempts < e.max_attempts OR e.visible_at > now())))"

/* How many items of namespace $1 are in flight: claimed, their claim's
 * deadline (visible_at - retry_pad) ahead. An index range on
 * queue_items_in_flight (visible_at ahead), however deep the backlog. */
#define IN_FLIGHT_COUNT                                                                        \
    "(SELECT count(*) FROM queue_items f WHERE f.namespace = $1 AND f.claim_token IS NOT NULL" \
    " AND f.visible_at > now() AND f.visible_at - f.retry_pad > now())"
#define HAS_LIMIT "EXISTS (SELECT 1 FROM queue_limits l WHERE l.namespace = $1)"

/* The claim: up to LIMIT_EXPR items, among those GUARD (an SQL condition,
 * or "") lets through. */
#define CLAIM_SQL(GUARD, LIMIT_EXPR)                                            \
    /* with each item, the retry wait drawn for this attempt, should it fail */ \
    "WITH c AS (SELECT q.id, CASE WHEN q.attempts + 1 >= q.max_attempts OR q.retry_delay_seconds = 0" \
    " THEN interval '0' WHEN NOT q.retry_exponential"                                                \
    " THEN make_interval(secs => least(q.retry_delay_max_seconds, q.retry_delay_seconds))"           \
    " ELSE make_interval(secs => least(q.retry_delay_max_seconds::float8,"                           \
    " q.retry_delay_seconds * power(2::float8, q.attempts)) * (0.5 + random() / 2)) END AS pad"      \
    " FROM queue_items q WHERE q.namespace = $1 AND q.attempts < q.max_attempts"                     \
    " AND q.visible_at <= now() AND " NOT_PAUSED " AND " GROUP_HEAD GUARD                            \
    " ORDER BY q.priority DESC, q.visible_at, q.id LIMIT " LIMIT_EXPR " FOR UPDATE OF q SKIP LOCKED)," \
    " u AS (UPDATE queue_items q SET attempts = q.attempts + 1, claim_token = gen_random_uuid(),"    \
    " retry_pad = c.pad, visible_at = now() + make_interval(secs => $3::integer) + c.pad"            \
    " FROM c WHERE q.id = c.id"                                                                      \
    " RETURNING json_build_object('id', q.id, 'payload', q.payload, 'attempts', q.attempts,"         \
    " 'max_attempts', q.max_attempts, 'priority', q.priority, 'dedup_key', q.dedup_key, 'group', q.grp, " \
    RETRY_JSON "'claim_token', q.claim_token, 'visible_at', "                                        \
    SQL_UTC("q.visible_at - q.retry_pad") ", 'enqueued_at', " SQL_UTC("q.enqueued_at") ")::text AS j," \
    " q.id, q.priority)"                                                                             \
    " SELECT j, priority, id FROM u"

/* The claim of a namespace with no concurrency limit, one statement. For
 * a namespace with one it claims nothing and answers one row, NULL: the
 * caller then claims under the limit's lock (claim_under_limit). */
static const db_stmt queue_claim = {
    "queue_claim",
    CLAIM_SQL(" AND NOT " HAS_LIMIT, "$2::integer") " UNION ALL SELECT NULL, NULL, NULL WHERE " HAS_LIMIT
                                                    /* in claim order, near enough: priority, then id */
                                                    " ORDER BY 2 DESC, 3",
    3};

/* Locks the namespace's limit row until the transaction ends; answers its
 * max_in_flight (no row: no limit). Every claim of a limited namespace
 * takes it, so they run one at a time, each in a snapshot taken after the
 * one before committed. */
static const db_stmt queue_limit_lock = {
    "queue_limit_lock", "SELECT max_in_flight FROM queue_limits WHERE namespace = $1 FOR UPDATE", 1};

/* The claim under the lock: at most $4 (max_in_flight) minus those in
 * flight, in a snapshot taken after the lock. */
static const db_stmt queue_claim_limited = {
    "queue_claim_limited",
    CLAIM_SQL("", "least($2::integer, greatest(0, $4::integer - " IN_FLIGHT_COUNT "))") " ORDER BY 2 DESC, 3",
    4};

/* Milliseconds until the namespace's next item with attempts left becomes
 * visible (a delayed item or a running claim), at most 0 when one is
 * visible already (another claimer held its lock a moment ago); NULL when
 * there is none. Items held back by their group do not count (they would
 * wake the waiter at once, again and again), but a group head's last claim
 * does: when it runs out, the item behind it is free. A paused namespace
 * has none: its waiters wait for the resume's notification. */
static const db_stmt queue_next_visible = {
    "queue_next_visible",
    /* NULL when nothing can become visible: not greatest(..., 0), which
     * ignores a NULL and made a waiter on an empty namespace poll every 5 ms. */
    /* At its concurrency limit, the namespace's next chance is the first
     * running claim's deadline (an ack or release wakes it sooner): not
     * its ready items, which would wake the waiter at once, again and again. */
    "SELECT CASE WHEN (SELECT max_in_flight FROM queue_limits WHERE namespace = $1) <= " IN_FLIGHT_COUNT
    " THEN (SELECT ceil(extract(epoch FROM min(f.visible_at - f.retry_pad) - now()) * 1000)::bigint"
    " FROM queue_items f WHERE f.namespace = $1 AND f.claim_token IS NOT NULL AND f.visible_at > now()"
    " AND f.visible_at - f.retry_pad > now())"
    " ELSE (SELECT ceil(extract(epoch FROM min(q.visible_at) - now()) * 1000)::bigint"
    " FROM queue_items q WHERE q.namespace = $1 AND " NOT_PAUSED
    " AND ((q.attempts < q.max_attempts AND " GROUP_HEAD
    ")"
    " OR (q.grp IS NOT NULL AND q.attempts >= q.max_attempts AND q.visible_at > now()))) END",
    1};

/* Acking a group's item frees the next one, and one of a namespace with
 * a concurrency limit a place: waiters are told. */
static const db_stmt queue_ack = {
    "queue_ack",
    "WITH d AS (DELETE FROM queue_items WHERE namespace = $1 AND id = $2::bigint"
    " AND ($3::uuid IS NULL OR claim_token = $3::uuid) RETURNING id, grp),"
    " wake AS (SELECT pg_notify('" QUEUE_CHANNEL "', $1) FROM d WHERE d.grp IS NOT NULL OR " HAS_LIMIT
    ")"
    " SELECT d.id FROM d LEFT JOIN wake ON true",
    3};

/* Batch ack, one statement: $2 the ids, $3 their claim tokens (arrays of
 * the same length, in request order). An item is deleted when its token is
 * the current claim's; the others are told apart by whether the id exists
 * (in the statement's snapshot, so an id given twice, once with a stale
 * token, says conflict for that one). */
static const db_stmt queue_ack_many = {
    "queue_ack_many",
    "WITH r AS (SELECT x.id, x.tok, x.ord"
    " FROM unnest($2::bigint[], $3::uuid[]) WITH ORDINALITY AS x(id, tok, ord)),"
    " d AS (DELETE FROM queue_items q USING r"
    " WHERE q.namespace = $1 AND q.id = r.id AND q.claim_token = r.tok"
    " RETURNING q.id, q.claim_token AS tok, q.grp),"
    " wake AS (SELECT pg_notify('" QUEUE_CHANNEL
    "', $1) FROM (SELECT 1 FROM d WHERE d.grp IS NOT NULL OR " HAS_LIMIT
    " LIMIT 1) g)"
    " SELECT CASE WHEN EXISTS (SELECT 1 FROM d WHERE d.id = r.id AND d.tok = r.tok)"
    " THEN json_build_object('id', r.id, 'acked', true)"
    " WHEN EXISTS (SELECT 1 FROM queue_items q WHERE q.namespace = $1 AND q.id = r.id)"
    " THEN json_build_object('id', r.id, 'error', 'conflict')"
    " ELSE json_build_object('id', r.id, 'error', 'not_found') END::text"
    " FROM r LEFT JOIN wake ON true ORDER BY r.ord",
    3};

static const db_stmt queue_pause = {
    "queue_pause", "INSERT INTO queue_paused (namespace) VALUES ($1) ON CONFLICT DO NOTHING", 1};

/* Resuming wakes the namespace's long-polls. */
static const db_stmt queue_resume = {"queue_resume",
                                     "WITH d AS (DELETE FROM queue_paused WHERE namespace = $1),"
                                     " wake AS (SELECT pg_notify('" QUEUE_CHANNEL
                                     "', $1))"
                                     " SELECT 1 FROM wake",
                                     1};

static const db_stmt queue_exists = {"queue_exists",
                                     "SELECT 1 FROM queue_items WHERE namespace = $1 AND id = $2::bigint", 2};

/* Release and extend need the caller's claim to be the item's current one.
 * Releasing the final attempt makes the item dead at once (no delay: its
 * attempts are used up); extending cannot bring a dead item back. */
static const db_stmt queue_release = {
    "queue_release",
    /* waiters are told: the item may be claimable at once, and under a
     * concurrency limit its place is free */
    "WITH u AS (UPDATE queue_items q SET claim_token = NULL, retry_pad = interval '0',"
    " visible_at = CASE WHEN q.attempts >= q.max_attempts THEN now()"
    /* no delay_seconds: the retry wait drawn at the claim */
    " WHEN $4::integer IS NULL THEN now() + q.retry_pad"
    " ELSE now() + make_interval(secs => $4::integer) END"
    " WHERE namespace = $1 AND id = $2::bigint AND claim_token = $3::uuid"
    " RETURNING json_build_object('id', q.id, 'released', true, 'visible_at', " SQL_UTC(
        "q.visible_at") ")::text AS j),"
    " wake AS (SELECT pg_notify('" QUEUE_CHANNEL "', $1) FROM (SELECT 1 FROM u LIMIT 1) x)"
    " SELECT u.j FROM u LEFT JOIN wake ON true",
    4};

static const db_stmt queue_extend = {
    "queue_extend",
    "UPDATE queue_items q SET visible_at = now() + make_interval(secs => $4::integer) + q.retry_pad"
    " WHERE namespace = $1 AND id = $2::bigint AND claim_token = $3::uuid"
    " AND (q.attempts < q.max_attempts OR q.visible_at > now())"
    " RETURNING json_build_object('id', q.id, 'claim_token', q.claim_token, 'visible_at', " SQL_UTC(
        "q.visible_at - q.retry_pad") ")::text",
    4};

static const db_stmt queue_dead_list = {
    "queue_dead_list",
    "SELECT " ITEM_JSON("") ", q.id::text FROM queue_items q WHERE q.namespace = $1"
    " AND q.attempts >= q.max_attempts AND q.visible_at <= now() AND q.id > $2::bigint"
    " ORDER BY q.id LIMIT $3::integer",
    3};

static const db_stmt queue_dead_retry = {
    "queue_dead_retry",
    "WITH u AS (UPDATE queue_items q SET attempts = 0, claim_token = NULL, visible_at = now(),"
    " retry_pad = interval '0',"
    /* a retried item goes to the end of its group */
    " group_seq = CASE WHEN q.grp IS NOT NULL THEN nextval('queue_items_group_seq') END"
    " WHERE q.namespace = $1 AND q.id = $2::bigint AND q.attempts >= q.max_attempts"
    " AND q.visible_at <= now() RETURNING " ITEM_JSON("") " AS j),"
    " wake AS (SELECT pg_notify('" QUEUE_CHANNEL "', $1))"
    " SELECT u.j FROM u, wake",
    2};

/* A namespace's counts as one JSON object, GET /queue/{namespace}'s
 * answer, for the namespace NS (an SQL expression). */
#define STATS_JSON(NS)                                                                         \
    "(SELECT json_build_object('namespace', " NS                                               \
    "::text,"                                                                                  \
    " 'ready', count(*) FILTER (WHERE attempts < max_attempts AND visible_at <= now()),"       \
    " 'delayed', count(*) FILTER (WHERE attempts < max_attempts AND visible_at > now()"        \
    " AND NOT " CLAIM_RUNNING                                                                  \
    "),"                                                                                       \
    " 'in_flight', count(*) FILTER (WHERE " CLAIM_RUNNING                                      \
    "),"                                                                                       \
    " 'dead', count(*) FILTER (WHERE attempts >= max_attempts AND visible_at <= now()),"       \
    " 'oldest_ready_age_seconds', coalesce(round(extract(epoch FROM now() - min(enqueued_at)"  \
    " FILTER (WHERE attempts < max_attempts AND visible_at <= now())), 3), 0),"                \
    " 'paused', EXISTS (SELECT 1 FROM queue_paused qp WHERE qp.namespace = " NS                \
    "),"                                                                                       \
    " 'max_in_flight', (SELECT ql.max_in_flight FROM queue_limits ql WHERE ql.namespace = " NS \
    "))::text"                                                                                 \
    " FROM queue_items WHERE namespace = " NS ")"

static const db_stmt queue_stats = {"queue_stats", "SELECT " STATS_JSON("$1"), 1};

/* The first namespace after X (an SQL expression) that has an item: two
 * index probes, one in each partial index (together they hold every
 * item), so walking the namespaces costs two probes a namespace, however
 * many items each holds. NULL when there is none. */
#define NEXT_ITEM_NS(X)                                                                           \
    "least((SELECT min(namespace) FROM queue_items WHERE namespace > " X                          \
    " AND attempts < max_attempts), (SELECT min(namespace) FROM queue_items WHERE namespace > " X \
    " AND attempts >= max_attempts))"

/* GET /queue: the namespaces after $1 that have an item or a pause (a row
 * of their own), at most $2 of them, by name, each with its counts;
 * column 1 is the page's cursor (the name). With $3/$4 (a scoped token's
 * names and prefixes, auth_read_filter) only those: the skip scan then
 * walks every namespace (one index probe each), not only a page's. */
static const db_stmt queue_namespaces = {
    "queue_namespaces",
    "WITH RECURSIVE s(n, k) AS (SELECT " NEXT_ITEM_NS("$1::text") ", 1"
    " UNION ALL SELECT " NEXT_ITEM_NS("s.n") ", s.k + 1 FROM s WHERE s.n IS NOT NULL"
    " AND s.k < CASE WHEN $3::text[] IS NULL THEN $2::integer ELSE 2147483647 END),"
    " a AS (SELECT n FROM s WHERE n IS NOT NULL"
    " UNION SELECT namespace FROM queue_paused WHERE namespace > $1::text"
    " UNION SELECT namespace FROM queue_schedules WHERE namespace > $1::text),"
    " p AS (SELECT n FROM a WHERE $3::text[] IS NULL OR n = ANY($3::text[])"
    " OR EXISTS (SELECT 1 FROM unnest($4::text[]) AS x(y) WHERE starts_with(n, x.y))"
    " ORDER BY n COLLATE \"C\" LIMIT $2::integer)"
    " SELECT " STATS_JSON("p.n") ", p.n FROM p ORDER BY p.n COLLATE \"C\"",
    4};

/* PUT /queue/{namespace}/limits: $2 the limit, NULL for none (the row
 * goes). Waiters are told: a higher limit (or none) frees places. */
static const db_stmt queue_limits_put = {
    "queue_limits_put",
    "WITH d AS (DELETE FROM queue_limits WHERE namespace = $1 AND $2::integer IS NULL),"
    " i AS (INSERT INTO queue_limits (namespace, max_in_flight) SELECT $1, $2::integer"
    " WHERE $2::integer IS NOT NULL"
    " ON CONFLICT (namespace) DO UPDATE SET max_in_flight = excluded.max_in_flight),"
    " wake AS (SELECT pg_notify('" QUEUE_CHANNEL
    "', $1))"
    " SELECT json_build_object('namespace', $1::text, 'max_in_flight', $2::integer)::text FROM wake",
    2};

static const db_stmt queue_limits_get = {
    "queue_limits_get",
    "SELECT json_build_object('namespace', $1::text, 'max_in_flight',"
    " (SELECT max_in_flight FROM queue_limits WHERE namespace = $1))::text",
    1};

/* A schedule as every schedule answer writes it: its enqueue options with
 * their defaults (as an enqueue's). */
#define SCHEDULE_JSON                                                                                 \
    "json_build_object('namespace', s.namespace, 'name', s.name, 'cron', s.cron, 'timezone',"         \
    " s.timezone, 'payload', s.payload,"                                                              \
    " 'max_attempts', coalesce((s.options ->> 'max_attempts')::integer, 5),"                          \
    " 'priority', coalesce((s.options ->> 'priority')::integer, 0),"                                  \
    " 'retry_delay_seconds', coalesce((s.options ->> 'retry_delay_seconds')::integer, 0),"            \
    " 'retry_backoff', coalesce(s.options ->> 'retry_backoff', 'fixed'),"                             \
    " 'retry_delay_max_seconds', coalesce((s.options ->> 'retry_delay_max_seconds')::integer, 3600)," \
    " 'next_run_at', " SQL_UTC("s.next_run_at") ", 'last_run_at', " SQL_UTC("s.last_run_at") ")::text"

/* PUT /queue/{namespace}/schedules/{name}: $3 the validated body (its
 * options are the body but cron, timezone and payload), $4 the next run
 * (epoch seconds, NULL: none), $5 the zone. Replacing keeps last_run_at.
 * The second column: true when created. */
static const db_stmt queue_schedule_put = {
    "queue_schedule_put",
    "INSERT INTO queue_schedules AS s (namespace, name, cron, timezone, payload, options, next_run_at)"
    " VALUES ($1, $2, $3::jsonb ->> 'cron', $5, $3::jsonb -> 'payload',"
    " $3::jsonb - 'cron' - 'timezone' - 'payload', to_timestamp($4::bigint))"
    " ON CONFLICT (namespace, name) DO UPDATE SET cron = excluded.cron, timezone = excluded.timezone,"
    " payload = excluded.payload, options = excluded.options, next_run_at = excluded.next_run_at"
    " RETURNING " SCHEDULE_JSON ", s.xmax = 0",
    5};

static const db_stmt queue_schedule_get = {
    "queue_schedule_get",
    "SELECT " SCHEDULE_JSON " FROM queue_schedules s WHERE s.namespace = $1 AND s.name = $2", 2};

static const db_stmt queue_schedule_delete = {
    "queue_schedule_delete", "DELETE FROM queue_schedules WHERE namespace = $1 AND name = $2 RETURNING 1", 2};

/* A page of the namespace's schedules after name $2, by name. */
static const db_stmt queue_schedule_list = {
    "queue_schedule_list",
    "SELECT " SCHEDULE_JSON
    ", s.name FROM queue_schedules s WHERE s.namespace = $1 AND s.name > $2"
    " ORDER BY s.name COLLATE \"C\" LIMIT $3::integer",
    3};

/* The schedules due now, locked until the tick's transaction ends (those
 * another process holds are skipped: it is enqueuing them); with the due
 * time and the database's now, in epoch seconds. */
enum { QUEUE_TICK_BATCH = 100 };
static const db_stmt queue_schedule_due = {
    "queue_schedule_due",
    "SELECT namespace, name, cron, timezone, extract(epoch FROM next_run_at)::bigint,"
    " extract(epoch FROM now())::bigint FROM queue_schedules WHERE next_run_at <= now()"
    " ORDER BY next_run_at LIMIT 100 FOR UPDATE SKIP LOCKED",
    0};

/* One tick of schedule ($1, $2): its item for the tick $3 (epoch
 * seconds), and the schedule's next run $4 (NULL: none). */
static const db_stmt queue_schedule_fire = {
    "queue_schedule_fire",
    "WITH s AS (SELECT payload, options FROM queue_schedules WHERE namespace = $1 AND name = $2),"
    " ins AS (INSERT INTO queue_items (namespace, payload, max_attempts, visible_at, priority,"
    " retry_delay_seconds, retry_exponential, retry_delay_max_seconds, schedule, scheduled_for)"
    " SELECT $1, s.payload, coalesce((s.options ->> 'max_attempts')::integer, 5), now(),"
    " coalesce((s.options ->> 'priority')::smallint, 0),"
    " coalesce((s.options ->> 'retry_delay_seconds')::integer, 0),"
    " coalesce(s.options ->> 'retry_backoff' = 'exponential', false),"
    " coalesce((s.options ->> 'retry_delay_max_seconds')::integer, 3600), $2, to_timestamp($3::bigint)"
    " FROM s ON CONFLICT (namespace, schedule, scheduled_for) WHERE schedule IS NOT NULL DO NOTHING"
    " RETURNING 1),"
    " up AS (UPDATE queue_schedules SET next_run_at = to_timestamp($4::bigint),"
    " last_run_at = to_timestamp($3::bigint) WHERE namespace = $1 AND name = $2),"
    " wake AS (SELECT pg_notify('" QUEUE_CHANNEL
    "', $1))"
    " SELECT (SELECT count(*) FROM ins) FROM wake",
    4};

/* DELETE /queue/{namespace}/dead/{id}: one dead item, gone. */
static const db_stmt queue_dead_delete = {
    "queue_dead_delete",
    "DELETE FROM queue_items WHERE namespace = $1 AND id = $2::bigint"
    " AND attempts >= max_attempts AND visible_at <= now() RETURNING id",
    2};

/* DELETE /queue/{namespace}/dead: the dead list, emptied; the count. */
static const db_stmt queue_dead_purge = {"queue_dead_purge",
                                         "WITH d AS (DELETE FROM queue_items WHERE namespace = $1"
                                         " AND attempts >= max_attempts AND visible_at <= now() RETURNING 1)"
                                         " SELECT count(*) FROM d",
                                         1};

/* DELETE /queue/{namespace}: every item, in flight too (their claims'
 * acks then find nothing: 404). The pause row stays. Waiters are told:
 * with a concurrency limit, a purge frees places. */
static const db_stmt queue_purge = {"queue_purge",
                                    "WITH d AS (DELETE FROM queue_items WHERE namespace = $1 RETURNING 1),"
                                    " wake AS (SELECT pg_notify('" QUEUE_CHANNEL
                                    "', $1))"
                                    " SELECT count(*) FROM d, wake",
                                    1};

/* The retention sweep: up to 1000 items dead for longer than $1 seconds
 * (a dead item's visible_at is when its last claim ran out), in one short
 * transaction; rows another sweeper holds are skipped, not waited for. */
enum { QUEUE_SWEEP_BATCH = 1000, QUEUE_SWEEP_ROUNDS = 20 };
static const db_stmt queue_dead_sweep = {
    "queue_dead_sweep",
    "WITH d AS (DELETE FROM queue_items WHERE id IN (SELECT id FROM queue_items"
    " WHERE attempts >= max_attempts AND visible_at <= now() - make_interval(secs => $1::bigint)"
    " LIMIT 1000 FOR UPDATE SKIP LOCKED) RETURNING 1)"
    " SELECT count(*) FROM d",
    1};

/* The replica's queue gauges (GET /metrics): items by namespace and
 * state, as queue_stats defines the states, and the oldest ready item's
 * age. The QUEUE_GAUGE_TOP namespaces with the most items are labelled
 * (label "queue": "namespace" is the Kubernetes namespace that
 * deploy/prometheus.yaml puts on every series, and a clash would rename
 * ours exported_namespace);
 * the rest are summed into namespace "_other" (no namespace can be named
 * so: they start with a letter or digit), always present, so the label
 * set is bounded whatever clients name their queues. One scan of the
 * table (the planner's choice; it is a count of every row), by one
 * process of the mode per period. */
enum { QUEUE_GAUGE_TOP = 10, QUEUE_GAUGE_SECONDS = 5 };
static const db_stmt queue_gauges = {
    "queue_gauges",
    "WITH g AS (SELECT namespace,"
    " count(*) FILTER (WHERE attempts < max_attempts AND visible_at <= now()) AS ready,"
    " count(*) FILTER (WHERE attempts < max_attempts AND visible_at > now() AND NOT " CLAIM_RUNNING
    ")"
    " AS delayed,"
    " count(*) FILTER (WHERE " CLAIM_RUNNING
    ") AS in_flight,"
    " count(*) FILTER (WHERE attempts >= max_attempts AND visible_at <= now()) AS dead,"
    " extract(epoch FROM now() - min(enqueued_at) FILTER (WHERE attempts < max_attempts"
    " AND visible_at <= now())) AS oldest, count(*) AS total FROM queue_items GROUP BY namespace),"
    " r AS (SELECT g.*, row_number() OVER (ORDER BY total DESC, namespace) AS rn FROM g),"
    " t AS (SELECT CASE WHEN rn <= $1::integer THEN namespace ELSE '_other' END AS ns,"
    " ready, delayed, in_flight, dead, oldest FROM r"
    " UNION ALL SELECT '_other', 0, 0, 0, 0, NULL)"
    " SELECT ns, sum(ready)::bigint, sum(delayed)::bigint, sum(in_flight)::bigint, sum(dead)::bigint,"
    " round(coalesce(max(oldest), 0)::numeric, 3)::text FROM t GROUP BY ns ORDER BY ns",
    1};

/* The mode's tick: publishes the gauges (metrics.h) when no other queue
 * process has within the period. With the database down nothing is
 * published, and the last values drop out of /metrics after three
 * periods: an alert on the age then sees no data rather than old data. */
static void queue_publish_gauges(void) {
    if (!metrics_publish_due(QUEUE_GAUGE_SECONDS)) return;
    pool *p = pool_new();
    api_error err;
    char top[16];
    snprintf(top, sizeof top, "%d", QUEUE_GAUGE_TOP);
    const char *params[] = {top};
    db_begin(g_config.db_timeout_ms);
    PGresult *res = db_query(p, &queue_gauges, params, &err);
    if (res == NULL) {
        log_msg(LOG_WARN, "queue gauges not published: %s", err.detail);
        pool_free(p);
        return;
    }
    static const char *const states[] = {"ready", "delayed", "in_flight", "dead"};
    strbuf *sb = strbuf_new();
    strbuf_puts(sb,
                "# HELP backend_queue_items Queue items now, by queue namespace (the largest "
                "10; the rest summed as _other) and state.\n# TYPE backend_queue_items gauge\n");
    for (int i = 0; i < PQntuples(res); i++)
        for (int st = 0; st < 4; st++) {
            strbuf_puts(sb, "backend_queue_items{queue=");
            metrics_label_value(sb, PQgetvalue(res, i, 0));
            strbuf_printf(sb, ",state=\"%s\"} %s\n", states[st], PQgetvalue(res, i, 1 + st));
        }
    strbuf_puts(sb,
                "# HELP backend_queue_oldest_ready_age_seconds Age of the oldest ready item (since "
                "enqueued), by queue namespace as backend_queue_items; 0 when none is ready.\n"
                "# TYPE backend_queue_oldest_ready_age_seconds gauge\n");
    for (int i = 0; i < PQntuples(res); i++) {
        strbuf_puts(sb, "backend_queue_oldest_ready_age_seconds{queue=");
        metrics_label_value(sb, PQgetvalue(res, i, 0));
        strbuf_printf(sb, "} %s\n", PQgetvalue(res, i, 5));
    }
    metrics_publish(sb->data, sb->len, 3 * QUEUE_GAUGE_SECONDS);
    strbuf_free(sb);
    pool_free(p);
}

/* QUEUE_DEAD_RETENTION_SECONDS: how long a dead item is kept; 0 keeps it. */
static long long queue_dead_retention;
static const setting queue_settings[] = {
    {.name = "QUEUE_DEAD_RETENTION_SECONDS",
     .kind = SETTING_NUMBER,
     .dflt = "0",
     .max = 315360000,
     .zero_ok = true,
     .number = &queue_dead_retention,
     .meaning = "seconds a dead queue item is kept before the sweep removes it (0: kept)"},
};

/* Removes the items dead for longer than the retention, a batch a
 * transaction, at most QUEUE_SWEEP_ROUNDS batches a tick (the next tick
 * goes on): every process of the mode sweeps, and SKIP LOCKED keeps two
 * sweepers off each other's rows. */
static void queue_sweep_dead(void) {
    if (queue_dead_retention <= 0) return;
    pool *p = pool_new();
    api_error err;
    char secs[24];
    snprintf(secs, sizeof secs, "%lld", queue_dead_retention);
    const char *params[] = {secs};
    for (int round = 0; round < QUEUE_SWEEP_ROUNDS; round++) {
        db_begin(g_config.db_timeout_ms);
        PGresult *res = db_query(p, &queue_dead_sweep, params, &err);
        if (res == NULL) {
            log_msg(LOG_WARN, "queue dead-item sweep: %s", err.detail);
            break;
        }
        if (atoll(PQgetvalue(res, 0, 0)) < QUEUE_SWEEP_BATCH) break;
    }
    pool_free(p);
}

/* The next run of a schedule after `after` (epoch seconds), as text into
 * buf; NULL (no next run) when there is none or the schedule's cron or zone
 * no longer parses. */
static const char *next_run_text(const char *cron, const char *zone, long long after, char *buf, size_t n) {
    cron_spec spec;
    const tz_zone *z;
    api_error err;
    int64_t next;
    if (!cron_parse(cron, &spec, &err) || !tz_load(zone, &z, &err) || !cron_next(&spec, z, after, &next))
        return NULL;
    snprintf(buf, n, "%lld", (long long)next);
    return buf;
}

/* Enqueues the due schedules' items, in one transaction: each schedule's
 * row locked (FOR UPDATE SKIP LOCKED: a schedule another process is
 * enqueuing is skipped, not waited for), its item inserted and its next run
 * advanced together, so a tick is enqueued exactly once whatever the
 * number of processes and replicas, and a process that dies mid-tick rolls
 * back and leaves the tick to the next one. A tick at most
 * SCHEDULE_LAG_SECONDS late (a busy process, a slow second) is still its
 * own item, and the next run is the tick after it; a schedule whose runs
 * were missed for longer (no process ran) gets one item, for its first
 * missed tick, and its next run is then the first after now. Returns the
 * number of items enqueued. */
enum { SCHEDULE_LAG_SECONDS = 10 };
static int queue_fire_schedules(void) {
    pool *p = pool_new();
    api_error err;
    const char *none[1] = {NULL};
    db_begin(g_config.db_timeout_ms);
    PGresult *due = NULL;
    if (!db_command("BEGIN", &err) || (due = db_query(p, &queue_schedule_due, none, &err)) == NULL) goto fail;
    for (int i = 0; i < PQntuples(due); i++) {
        long long at = atoll(PQgetvalue(due, i, 4)), now = atoll(PQgetvalue(due, i, 5));
        char next[24];
        const char *next_text = next_run_text(PQgetvalue(due, i, 2), PQgetvalue(due, i, 3),
                                              now - at <= SCHEDULE_LAG_SECONDS ? at : now, next, sizeof next);
        const char *params[] = {PQgetvalue(due, i, 0), PQgetvalue(due, i, 1), PQgetvalue(due, i, 4),
                                next_text};
        if (db_query(p, &queue_schedule_fire, params, &err) == NULL) goto fail;
    }
    if (!db_command("COMMIT", &err)) goto fail;
    int fired = PQntuples(due);
    pool_free(p);
    return fired;
fail:
    db_rollback();
    log_msg(LOG_WARN, "queue schedules not enqueued this tick: %s", err.detail);
    pool_free(p);
    return 0;
}

/* The mode's tick, every second: due schedules; every
 * QUEUE_GAUGE_SECONDS, the gauges (when due) and the dead items'
 * retention. */
static void queue_tick(void) {
    /* a late tick's successors may be due already: each is its own item */
    for (int round = 0; round < SCHEDULE_LAG_SECONDS && queue_fire_schedules() > 0; round++) continue;
    static double last_ms;
    double now = clock_ms();
    if (now - last_ms < QUEUE_GAUGE_SECONDS * 1000.0) return;
    last_ms = now;
    queue_publish_gauges();
    queue_sweep_dead();
}

static long queue_tick_seconds(void) { return 1; }

/* ---- inputs: each route's, declared once (input.h) ---- */

#define IN_NS INPUT_NAMESPACE("namespace", INPUT_PATH)
#define IN_ID                                                                           \
    {                                                                                   \
        .name = "id", .type = INPUT_INTEGER, .in = INPUT_PATH, .min = 1, .max = ID_MAX, \
        .description = "the item's id"                                                  \
    }
#define IN_DELAY                                                          \
    {                                                                     \
        .name = "delay_seconds", .type = INPUT_INTEGER, .max = DELAY_MAX, \
        .description = "seconds before the item can be claimed"           \
    }
#define IN_MAX_ATTEMPTS                                                                   \
    {                                                                                     \
        .name = "max_attempts", .type = INPUT_INTEGER, .min = 1, .max = MAX_ATTEMPTS_MAX, \
        .dflt = MAX_ATTEMPTS_DEFAULT, .description = "claims before the item is dead"     \
    }
#define IN_VISIBILITY                                                                                 \
    {                                                                                                 \
        .name = "visibility_timeout_seconds", .type = INPUT_INTEGER, .min = 1, .max = VISIBILITY_MAX, \
        .dflt = VISIBILITY_DEFAULT, .description = "how long a claim holds the item"                  \
    }
#define IN_PRIORITY                                                                           \
    {                                                                                         \
        .name = "priority", .type = INPUT_INTEGER, .min = -PRIORITY_MAX, .max = PRIORITY_MAX, \
        .description = "higher is claimed first (default 0)"                                  \
    }
#define IN_DEDUP_KEY                                                                        \
    {                                                                                       \
        .name = "dedup_key", .type = INPUT_STRING, .min = 1, .max = DEDUP_KEY_MAX,          \
        .description = "while an item with this key is live, an enqueue returns it instead" \
    }
#define IN_GROUP                                                                \
    {                                                                           \
        .name = "group", .type = INPUT_STRING, .min = 1, .max = GROUP_MAX,      \
        .description = "items of a group are delivered one at a time, in order" \
    }
#define IN_RETRY_DELAY                                                                                 \
    {                                                                                                  \
        .name = "retry_delay_seconds", .type = INPUT_INTEGER, .max = RETRY_DELAY_MAX,                  \
        .description = "wait before a failed attempt's retry (default 0); exponential: the first wait" \
    }
static const char *const backoff_choices[] = {"fixed", "exponential", NULL};
#define IN_RETRY_BACKOFF                                                               \
    {                                                                                  \
        .name = "retry_backoff", .type = INPUT_STRING, .choices = backoff_choices,     \
        .description =                                                                 \
            "fixed (default): every retry waits retry_delay_seconds; exponential: it " \
            "doubles each attempt, with jitter"                                        \
    }
#define IN_RETRY_CAP                                                                                    \
    {                                                                                                   \
        .name = "retry_delay_max_seconds", .type = INPUT_INTEGER, .min = 1, .max = RETRY_DELAY_CAP_MAX, \
        .dflt = RETRY_DELAY_CAP_DEFAULT, .description = "the longest retry wait (default 3600)"         \
    }
#define IN_PAYLOAD \
    { .name = "payload", .type = INPUT_ANY, .required = true, .description = "any JSON value" }

/* One item to enqueue, alone as the body or in a batch's items. */
static const input_field item_input[] = {IN_DELAY,         IN_MAX_ATTEMPTS, IN_PRIORITY,
                                         IN_DEDUP_KEY,     IN_GROUP,        IN_RETRY_DELAY,
                                         IN_RETRY_BACKOFF, IN_RETRY_CAP,    IN_PAYLOAD};
/* item_input's places of the retry fields, for the cross-field check. */
enum { ITEM_RETRY_DELAY = 5, ITEM_RETRY_BACKOFF = 6 };

/* POST /queue/{namespace}: one item (payload, ...) or a batch (items
 * alone, each an item). */
enum {
    ENQ_NS,
    ENQ_DELAY,
    ENQ_MAX_ATTEMPTS,
    ENQ_PRIORITY,
    ENQ_DEDUP_KEY,
    ENQ_GROUP,
    ENQ_RETRY_DELAY,
    ENQ_RETRY_BACKOFF,
    ENQ_RETRY_CAP,
    ENQ_PAYLOAD,
    ENQ_ITEMS,
    ENQ_N
};
static const input_field enqueue_input[ENQ_N] = {
    [ENQ_NS] = IN_NS,
    [ENQ_DELAY] = IN_DELAY,
    [ENQ_MAX_ATTEMPTS] = IN_MAX_ATTEMPTS,
    [ENQ_PRIORITY] = IN_PRIORITY,
    [ENQ_DEDUP_KEY] = IN_DEDUP_KEY,
    [ENQ_GROUP] = IN_GROUP,
    [ENQ_RETRY_DELAY] = IN_RETRY_DELAY,
    [ENQ_RETRY_BACKOFF] = IN_RETRY_BACKOFF,
    [ENQ_RETRY_CAP] = IN_RETRY_CAP,
    [ENQ_PAYLOAD] = IN_PAYLOAD,
    [ENQ_ITEMS] = {.name = "items",
                   .type = INPUT_ARRAY,
                   .required = true,
                   .alone = true,
                   .min = 1,
                   .max = QUEUE_BATCH_MAX,
                   .items = item_input,
                   .nitems = COUNT_OF(item_input),
                   .description = "a batch of up to 1000 items, alone in the body, in one transaction"},
};

enum { STATS_NS, STATS_N };
static const input_field stats_input[STATS_N] = {[STATS_NS] = IN_NS};

enum { CLAIM_NS, CLAIM_VISIBILITY, CLAIM_MAX, CLAIM_WAIT, CLAIM_N };
static const input_field claim_input[CLAIM_N] = {
    [CLAIM_NS] = IN_NS,
    [CLAIM_VISIBILITY] = IN_VISIBILITY,
    [CLAIM_MAX] = {.name = "max",
                   .type = INPUT_INTEGER,
                   .min = 1,
                   .max = QUEUE_BATCH_MAX,
                   .dflt = 1,
                   .description = "claim up to this many items"},
    [CLAIM_WAIT] = {.name = "wait_seconds",
                    .type = INPUT_INTEGER,
                    .min = 0,
                    .max = WAIT_MAX,
                    .dflt = 0,
                    .description = "with nothing visible, wait up to this long for an item (long-poll)"},
};

#define IN_CLAIM_TOKEN(PLACE, REQUIRED) INPUT_UUID("claim_token", PLACE, REQUIRED)

enum { ACK_NS, ACK_ID, ACK_TOKEN, ACK_N };
static const input_field ack_input[ACK_N] = {
    [ACK_NS] = IN_NS,
    [ACK_ID] = IN_ID,
    [ACK_TOKEN] = IN_CLAIM_TOKEN(INPUT_QUERY, false),
};

/* POST /queue/{namespace}/ack: {"items": [{id, claim_token}, ...]}. */
enum { ACKB_ID, ACKB_TOKEN, ACKB_ITEM_N };
static const input_field ack_item_input[ACKB_ITEM_N] = {
    [ACKB_ID] = {.name = "id", .type = INPUT_INTEGER, .required = true, .min = 1, .max = ID_MAX},
    [ACKB_TOKEN] = IN_CLAIM_TOKEN(INPUT_BODY, true),
};
enum { ACKB_NS, ACKB_ITEMS, ACKB_N };
static const input_field ack_many_input[ACKB_N] = {
    [ACKB_NS] = IN_NS,
    [ACKB_ITEMS] = {.name = "items",
                    .type = INPUT_ARRAY,
                    .required = true,
                    .min = 1,
                    .max = QUEUE_BATCH_MAX,
                    .items = ack_item_input,
                    .nitems = ACKB_ITEM_N,
                    .description = "the claimed items to ack: id and claim_token each"},
};

/* release and extend: the current claim's token and a number of seconds. */
enum { UPDATE_NS, UPDATE_ID, UPDATE_TOKEN, UPDATE_SECONDS, UPDATE_N };
static const input_field release_input[UPDATE_N] = {
    [UPDATE_NS] = IN_NS,
    [UPDATE_ID] = IN_ID,
    [UPDATE_TOKEN] = IN_CLAIM_TOKEN(INPUT_BODY, true),
    [UPDATE_SECONDS] = IN_DELAY,
};
static const input_field extend_input[UPDATE_N] = {
    [UPDATE_NS] = IN_NS,
    [UPDATE_ID] = IN_ID,
    [UPDATE_TOKEN] = IN_CLAIM_TOKEN(INPUT_BODY, true),
    [UPDATE_SECONDS] = IN_VISIBILITY,
};

enum { DEAD_NS, DEAD_LIMIT, DEAD_AFTER, DEAD_N };
static const input_field dead_input[DEAD_N] = {
    [DEAD_NS] = IN_NS,
    [DEAD_LIMIT] = INPUT_LIMIT,
    [DEAD_AFTER] = {.name = "after",
                    .type = INPUT_INTEGER,
                    .in = INPUT_QUERY,
                    .max = ID_MAX,
                    .description = "next, from the previous page (an item id)"},
};

/* POST /queue/{namespace}/dead/{id}/retry: the path only. */
enum { RETRY_NS, RETRY_ID, RETRY_N };
static const input_field retry_input[RETRY_N] = {[RETRY_NS] = IN_NS, [RETRY_ID] = IN_ID};

/* PUT /queue/{namespace}/limits: {"max_in_flight": N or null}. */
enum { LIM_NS, LIM_MAX, LIM_N };
static const input_field limits_input[LIM_N] = {
    [LIM_NS] = IN_NS,
    [LIM_MAX] = {.name = "max_in_flight",
                 .type = INPUT_INTEGER,
                 .min = 1,
                 .max = 100000,
                 .description =
                     "the most items of the namespace in flight at once; null or absent: no limit"},
};

/* A schedule's cron and timezone, checked with the declared input (before
 * the handler): cron_parse's and tz_load's 422s, which name the field and
 * bound the length (CRON_TEXT_MAX, TZ_NAME_MAX). */
static bool check_cron(const char *s, const char *field, api_error *err) {
    (void)field;
    cron_spec spec;
    return cron_parse(s, &spec, err);
}

static bool check_timezone(const char *s, const char *field, api_error *err) {
    (void)field;
    const tz_zone *z;
    return tz_load(s, &z, err);
}

/* The schedules' routes: the namespace and the schedule's name (the
 * namespace rule), and PUT's body. */
#define IN_SCHEDULE_NAME INPUT_NAMESPACE("name", INPUT_PATH)
enum { SCH_NS, SCH_NAME, SCH_N };
static const input_field schedule_input[SCH_N] = {[SCH_NS] = IN_NS, [SCH_NAME] = IN_SCHEDULE_NAME};
enum {
    SPUT_NS,
    SPUT_NAME,
    SPUT_CRON,
    SPUT_TZ,
    SPUT_PAYLOAD,
    SPUT_MAX_ATTEMPTS,
    SPUT_PRIORITY,
    SPUT_RETRY_DELAY,
    SPUT_RETRY_BACKOFF,
    SPUT_RETRY_CAP,
    SPUT_N
};
static const input_field schedule_put_input[SPUT_N] = {
    [SPUT_NS] = IN_NS,
    [SPUT_NAME] = IN_SCHEDULE_NAME,
    [SPUT_CRON] =
        {.name = "cron",
         .type = INPUT_STRING,
         .required = true,
         .min = 1,
         .check = check_cron,
         /* the schema's half: the shape, not the ranges */
         .pattern =
             "^[ \\t]*(@(hourly|daily|weekly|monthly|yearly)|[0-9*A-Za-z][0-9A-Za-z*,/ \\t-]*)[ \\t]*$",
         .example = "@hourly",
         .description = "five fields (minute hour day-of-month month day-of-week), six with a "
                        "leading seconds field, or @hourly, @daily, @weekly, @monthly, @yearly; "
                        "at most 256 bytes"},
    [SPUT_TZ] = {.name = "timezone",
                 .type = INPUT_STRING,
                 .min = 1,
                 .check = check_timezone,
                 .description = "an IANA time zone (default UTC)"},
    [SPUT_PAYLOAD] = IN_PAYLOAD,
    [SPUT_MAX_ATTEMPTS] = IN_MAX_ATTEMPTS,
    [SPUT_PRIORITY] = IN_PRIORITY,
    [SPUT_RETRY_DELAY] = IN_RETRY_DELAY,
    [SPUT_RETRY_BACKOFF] = IN_RETRY_BACKOFF,
    [SPUT_RETRY_CAP] = IN_RETRY_CAP,
};
enum { SLIST_NS, SLIST_LIMIT, SLIST_AFTER, SLIST_N };
static const input_field schedule_list_input[SLIST_N] = {
    [SLIST_NS] = IN_NS,
    [SLIST_LIMIT] = INPUT_LIMIT,
    [SLIST_AFTER] = {.name = "after",
                     .type = INPUT_STRING,
                     .in = INPUT_QUERY,
                     .min = 1,
                     .max = NAMESPACE_MAX,
                     .check = validate_namespace,
                     .pattern = "^[A-Za-z0-9][A-Za-z0-9._-]*$",
                     .description = "next, from the previous page (a schedule's name)"},
};

/* GET /queue: ?limit=&after=<namespace>. */
enum { NSL_LIMIT, NSL_AFTER, NSL_N };
static const input_field namespaces_input[NSL_N] = {
    [NSL_LIMIT] = INPUT_LIMIT,
    [NSL_AFTER] = {.name = "after",
                   .type = INPUT_STRING,
                   .in = INPUT_QUERY,
                   .min = 1,
                   .max = NAMESPACE_MAX,
                   .check = validate_namespace,
                   .pattern = "^[A-Za-z0-9][A-Za-z0-9._-]*$",
                   .description = "next, from the previous page (a namespace)"},
};

/* ---- outputs: each answer's shape, declared once (output.h) ---- */

#define OUT_ID \
    { .name = "id", .type = OUT_INTEGER, .example = "1" }
#define OUT_QUEUE_NS \
    { .name = "namespace", .type = OUT_STRING, .example = "\"jobs\"" }
/* An item's members as every item answer writes them (ITEM_JSON). */
#define OUT_ITEM_COMMON                                                                                    \
    {.name = "payload", .type = OUT_ANY, .example = "{\"task\":\"build\"}"},                               \
        {.name = "attempts", .type = OUT_INTEGER, .example = "0", .description = "claims so far"},         \
        {.name = "max_attempts", .type = OUT_INTEGER, .example = "5"},                                     \
        {.name = "priority", .type = OUT_INTEGER, .example = "0"},                                         \
        {.name = "dedup_key", .type = OUT_STRING, .flags = OUT_NULLABLE, .example = "null"},               \
        {.name = "group", .type = OUT_STRING, .flags = OUT_NULLABLE, .example = "null"},                   \
        {.name = "retry_delay_seconds", .type = OUT_INTEGER, .example = "0"},                              \
        {.name = "retry_backoff", .type = OUT_STRING, .choices = backoff_choices, .example = "\"fixed\""}, \
        {.name = "retry_delay_max_seconds", .type = OUT_INTEGER, .example = "3600"},                       \
        {.name = "schedule",                                                                               \
         .type = OUT_STRING,                                                                               \
         .flags = OUT_NULLABLE,                                                                            \
         .example = "null",                                                                                \
         .description = "the schedule that enqueued the item"},                                            \
        OUT_TIME("scheduled_for", OUT_NULLABLE), OUT_TIME("visible_at", 0), OUT_TIME("enqueued_at", 0)

static const output_field item_fields[] = {
    OUT_ID,
    OUT_QUEUE_NS,
    OUT_ITEM_COMMON,
    {.name = "duplicate",
     .type = OUT_BOOLEAN,
     .flags = OUT_OPTIONAL,
     .description = "true: an enqueue found this live item by its dedup_key and created nothing"}};
static const output_shape item_out = OUTPUT_SHAPE("QueueItem", "A work item", item_fields);
static const output_field items_fields[] = {{.name = "items", .type = OUT_ARRAY, .shape = &item_out}};
static const output_shape items_out =
    OUTPUT_SHAPE("QueueItemBatch", "The items of a batch, in order", items_fields);
static const output_shape *const enqueued_forms[] = {&item_out, &items_out, NULL};
static const output_shape enqueued_out = {.name = "QueueEnqueued", .one_of = enqueued_forms};
static const output_field item_page_fields[] = {OUTPUT_PAGE_FIELDS(item_out)};
static const output_shape item_page_out = OUTPUT_SHAPE("QueueItemPage", NULL, item_page_fields);

static const output_field claimed_fields[] = {OUT_ID,
                                              OUT_ITEM_COMMON,
                                              {.name = "claim_token",
                                               .type = OUT_STRING,
                                               .format = "uuid",
                                               .example = "\"0b5e0c4e-8a52-4d0e-9a43-5d1c2f3e4a5b\"",
                                               .description = "ack, release or extend with it"}};
static const output_shape claimed_out = OUTPUT_SHAPE("QueueClaimedItem", "A claimed item", claimed_fields);
static const output_field claim_fields[] = {{.name = "items", .type = OUT_ARRAY, .shape = &claimed_out}};
static const output_shape claim_out =
    OUTPUT_SHAPE("QueueClaim", "The items claimed (none: empty)", claim_fields);

static const output_field acked_fields[] = {OUT_ID,
                                            {.name = "acked", .type = OUT_BOOLEAN, .example = "true"}};
static const output_shape acked_out = OUTPUT_SHAPE("QueueAcked", NULL, acked_fields);
static const char *const ack_errors[] = {"conflict", "not_found", NULL};
static const output_field ack_result_fields[] = {
    OUT_ID,
    {.name = "acked", .type = OUT_BOOLEAN, .flags = OUT_OPTIONAL},
    {.name = "error",
     .type = OUT_STRING,
     .flags = OUT_OPTIONAL,
     .choices = ack_errors,
     .description = "conflict: the claim is no longer current; not_found: no such item"}};
static const output_shape ack_result_out =
    OUTPUT_SHAPE("QueueAckResult", "One item's ack", ack_result_fields);
static const output_field ack_many_fields[] = {
    {.name = "items", .type = OUT_ARRAY, .shape = &ack_result_out}};
static const output_shape ack_many_out =
    OUTPUT_SHAPE("QueueAckResults", "One result per item, in order", ack_many_fields);

static const output_field released_fields[] = {
    OUT_ID, {.name = "released", .type = OUT_BOOLEAN, .example = "true"}, OUT_TIME("visible_at", 0)};
static const output_shape released_out = OUTPUT_SHAPE("QueueReleased", NULL, released_fields);
static const output_field extended_fields[] = {
    OUT_ID, {.name = "claim_token", .type = OUT_STRING, .format = "uuid"}, OUT_TIME("visible_at", 0)};
static const output_shape extended_out = OUTPUT_SHAPE("QueueExtended", NULL, extended_fields);

static const output_field stats_fields[] = {
    OUT_QUEUE_NS,
    {.name = "ready", .type = OUT_INTEGER, .example = "0", .description = "claimable now"},
    {.name = "delayed",
     .type = OUT_INTEGER,
     .example = "0",
     .description = "waiting for their delay or retry"},
    {.name = "in_flight", .type = OUT_INTEGER, .example = "0", .description = "claimed, claim not run out"},
    {.name = "dead", .type = OUT_INTEGER, .example = "0", .description = "attempts used up"},
    {.name = "oldest_ready_age_seconds", .type = OUT_NUMBER, .example = "0"},
    {.name = "paused", .type = OUT_BOOLEAN, .example = "false"},
    {.name = "max_in_flight",
     .type = OUT_INTEGER,
     .flags = OUT_NULLABLE,
     .example = "null",
     .description = "the concurrency limit, null for none"}};
static const output_shape stats_out = OUTPUT_SHAPE("QueueCounts", "A namespace's counts", stats_fields);
static const output_field limits_fields[] = {
    OUT_QUEUE_NS,
    {.name = "max_in_flight",
     .type = OUT_INTEGER,
     .flags = OUT_NULLABLE,
     .example = "5",
     .description = "the most items in flight at once, null for none"}};
static const output_shape limits_out = OUTPUT_SHAPE("QueueLimits", "A namespace's limits", limits_fields);
static const output_field schedule_fields[] = {
    OUT_QUEUE_NS,
    {.name = "name", .type = OUT_STRING, .example = "\"nightly\""},
    {.name = "cron", .type = OUT_STRING, .example = "\"*/5 * * * *\""},
    {.name = "timezone", .type = OUT_STRING, .example = "\"UTC\""},
    {.name = "payload", .type = OUT_ANY, .example = "{\"task\":\"report\"}"},
    {.name = "max_attempts", .type = OUT_INTEGER, .example = "5"},
    {.name = "priority", .type = OUT_INTEGER, .example = "0"},
    {.name = "retry_delay_seconds", .type = OUT_INTEGER, .example = "0"},
    {.name = "retry_backoff", .type = OUT_STRING, .choices = backoff_choices, .example = "\"fixed\""},
    {.name = "retry_delay_max_seconds", .type = OUT_INTEGER, .example = "3600"},
    OUT_TIME("next_run_at", OUT_NULLABLE),
    OUT_TIME("last_run_at", OUT_NULLABLE)};
static const output_shape schedule_out =
    OUTPUT_SHAPE("QueueSchedule", "A recurring enqueue", schedule_fields);
static const output_field schedule_page_fields[] = {OUTPUT_PAGE_FIELDS(schedule_out)};
static const output_shape schedule_page_out =
    OUTPUT_SHAPE("QueueSchedulePage", "A namespace's schedules, by name", schedule_page_fields);
static const output_field schedule_deleted_fields[] = {
    OUT_QUEUE_NS,
    {.name = "name", .type = OUT_STRING, .example = "\"nightly\""},
    {.name = "deleted", .type = OUT_BOOLEAN, .example = "true"}};
static const output_shape schedule_deleted_out =
    OUTPUT_SHAPE("QueueScheduleDeleted", NULL, schedule_deleted_fields);
static const output_field stats_page_fields[] = {OUTPUT_PAGE_FIELDS(stats_out)};
static const output_shape stats_page_out =
    OUTPUT_SHAPE("QueueNamespacePage", "Namespaces with their counts, by name", stats_page_fields);
static const output_field dead_deleted_fields[] = {
    OUT_ID, {.name = "deleted", .type = OUT_BOOLEAN, .example = "true"}};
static const output_shape dead_deleted_out = OUTPUT_SHAPE("QueueDeadDeleted", NULL, dead_deleted_fields);
static const output_field purged_fields[] = {
    {.name = "deleted", .type = OUT_INTEGER, .example = "3", .description = "how many items were removed"}};
static const output_shape purged_out = OUTPUT_SHAPE("QueuePurged", NULL, purged_fields);

/* ---- handlers ---- */

/* Whether any item of the enqueue (its items, or the body) has member. */
static bool any_item_has(const input_value *in, const char *member) {
    if (!in[ENQ_ITEMS].present) return in[member[0] == 'd' ? ENQ_DEDUP_KEY : ENQ_GROUP].present;
    size_t i;
    json_t *item;
    json_array_foreach(in[ENQ_ITEMS].json, i, item) if (json_object_get(item, member) != NULL) return true;
    return false;
}

/* Exponential backoff doubles retry_delay_seconds: it needs one of at
 * least 1. Returns false with a 422 naming the item's field. */
static bool check_backoff(const input_value *in, api_error *err) {
    if (!in[ENQ_ITEMS].present) {
        if (in[ENQ_RETRY_BACKOFF].present && strcmp(in[ENQ_RETRY_BACKOFF].s, "exponential") == 0 &&
            in[ENQ_RETRY_DELAY].i < 1)
            return API_INVALID(err, "retry_delay_seconds",
                               "exponential retry_backoff needs retry_delay_seconds of at least 1");
        return true;
    }
    size_t i;
    json_t *item;
    json_array_foreach(in[ENQ_ITEMS].json, i, item) {
        const char *b = json_string_value(json_object_get(item, item_input[ITEM_RETRY_BACKOFF].name));
        json_t *d = json_object_get(item, item_input[ITEM_RETRY_DELAY].name);
        if (b != NULL && strcmp(b, "exponential") == 0 && (!json_is_number(d) || json_number_value(d) < 1)) {
            char field[48];
            snprintf(field, sizeof field, "items[%zu].retry_delay_seconds", i);
            return API_INVALID(err, field,
                               "exponential retry_backoff needs retry_delay_seconds of at least 1");
        }
    }
    return true;
}

static bool queue_post(request *req, const input_value *in, reply *out, api_error *err) {
    const char *ns = in[ENQ_NS].s;
    if (!check_backoff(in, err)) return false;
    bool batch = in[ENQ_ITEMS].present, keyed = any_item_has(in, "dedup_key");
    const char *params[] = {ns, req->body, batch ? "t" : "f"};
    /* One transaction when a key or a group is locked first
     * (queue_enqueue_lock) and a key freed (so now(), which decides that
     * an item is dead, is one instant for both statements). */
    bool tx = keyed || any_item_has(in, "group");
    if (tx && !db_command("BEGIN", err)) return false;
    PGresult *res = NULL;
    if ((tx && db_query(req->pool, &queue_enqueue_lock, params, err) == NULL) ||
        (keyed && db_query(req->pool, &queue_free_keys, params, err) == NULL) ||
        (res = db_query(req->pool, &queue_enqueue, params, err)) == NULL ||
        (tx && !db_command("COMMIT", err))) {
        if (tx) db_rollback();
        return false;
    }
    out->status = 201;
    if (!batch) {
        /* A duplicate created nothing: 200 with the live item. */
        if (PQgetvalue(res, 0, 1)[0] == 't') out->status = 200;
        strbuf_puts(out->body, PQgetvalue(res, 0, 0));
        return true;
    }
    reply_items(out, res);
    return true;
}

/* When the namespace's next delayed or claimed item becomes visible (a
 * clock_ms time, a little after), into *at; until_ms when none does sooner.
 * Returns false with err when the database failed. */
static bool next_visible(request *req, const char *ns, long long until_ms, long long *at, api_error *err) {
    const char *params[] = {ns};
    db_begin(g_config.db_timeout_ms);
    PGresult *res = db_query(req->pool, &queue_next_visible, params, err);
    if (res == NULL) return false;
    *at = until_ms;
    if (!PQgetisnull(res, 0, 0)) {
        long long due = atoll(PQgetvalue(res, 0, 0)); /* ms; below 0: visible already */
        long long visible = (long long)clock_ms() + (due > 0 ? due : 0) + 5;
        if (visible < *at) *at = visible;
    }
    return true;
}

/* The claim of a namespace with a concurrency limit: in one transaction,
 * the limit's row locked, then the claim in a snapshot taken after the
 * lock, so every claim of the namespace counts what the one before it
 * claimed. params: the namespace, max, visibility. Returns the claimed
 * rows (owned by req->pool), or NULL with err. */
static PGresult *claim_under_limit(request *req, const char *const *params, api_error *err) {
    if (!db_command("BEGIN", err)) return NULL;
    PGresult *res = db_query(req->pool, &queue_limit_lock, params, err);
    if (res != NULL) {
        /* the limit was lifted meanwhile: none */
        const char *limit = PQntuples(res) > 0 ? PQgetvalue(res, 0, 0) : "2147483647";
        const char *limited[] = {params[0], params[1], params[2], limit};
        res = db_query(req->pool, &queue_claim_limited, limited, err);
    }
    if (res == NULL || !db_command("COMMIT", err)) {
        db_rollback();
        return NULL;
    }
    return res;
}

/* One claim: the one statement, or, for a namespace with a concurrency
 * limit (queue_claim's NULL row), claim_under_limit. */
static PGresult *claim_once(request *req, const char *const *params, api_error *err) {
    PGresult *res = db_query(req->pool, &queue_claim, params, err);
    if (res != NULL && PQntuples(res) == 1 && PQgetisnull(res, 0, 0))
        res = claim_under_limit(req, params, err);
    return res;
}

static bool queue_claim_items(request *req, const input_value *in, reply *out, api_error *err) {
    const char *ns = in[CLAIM_NS].s;
    char max_text[24], vis_text[24];
    snprintf(max_text, sizeof max_text, "%lld", in[CLAIM_MAX].i);
    snprintf(vis_text, sizeof vis_text, "%lld", in[CLAIM_VISIBILITY].i);
    const char *params[] = {ns, max_text, vis_text};
    /* With wait_seconds and nothing visible: wait for an enqueue's (or a
     * release's) notification or the next item's visibility, holding
     * neither a worker at accept nor a connection (serve.h). */
    serve_waiter w;
    serve_waiter_start(&w, QUEUE_CHANNEL, ns, (long long)clock_ms() + in[CLAIM_WAIT].i * 1000);
    PGresult *res;
    for (;;) {
        serve_waiter_watch(&w);
        db_begin(g_config.db_timeout_ms);
        res = claim_once(req, params, err);
        if (res == NULL || PQntuples(res) > 0 || (long long)clock_ms() >= w.until_ms) break;
        long long wake_at;
        if (!next_visible(req, ns, w.until_ms, &wake_at, err)) {
            res = NULL;
            break;
        }
        if (!serve_waiter_sleep(&w, wake_at)) break;
    }
    serve_waiter_end(&w);
    if (res == NULL) return false;
    reply_items(out, res);
    return true;
}

/* After an update or delete that matched nothing: 404 when the item does
 * not exist, else 409 (the claim token is no longer the current one). */
static bool missing_or_stale(request *req, const char *ns, const char *id_text, api_error *err) {
    const char *params[] = {ns, id_text};
    PGresult *res = db_query(req->pool, &queue_exists, params, err);
    if (res == NULL) return false;
    if (PQntuples(res) == 0) return API_NOT_FOUND(err, "id", "item %s/%s does not exist", ns, id_text);
    return API_CONFLICT(err, "claim_token", "the claim on item %s/%s is no longer current", ns, id_text);
}

static bool queue_ack_item(request *req, const input_value *in, reply *out, api_error *err) {
    const char *ns = in[ACK_NS].s, *token = in[ACK_TOKEN].s, *id = in[ACK_ID].s;
    const char *params[] = {ns, id, token};
    PGresult *res = db_query(req->pool, &queue_ack, params, err);
    if (res == NULL) return false;
    if (PQntuples(res) == 0) {
        if (token == NULL) return API_NOT_FOUND(err, "id", "item %s/%s does not exist", ns, id);
        return missing_or_stale(req, ns, id, err);
    }
    strbuf_printf(out->body, "{\"id\":%lld,\"acked\":true}", in[ACK_ID].i);
    return true;
}

/* POST /queue/{namespace}/ack: many acks in one statement. The ids and
 * tokens travel as two array parameters, written here from the validated
 * values (integers and UUIDs), never as SQL. */
static bool queue_ack_items(request *req, const input_value *in, reply *out, api_error *err) {
    strbuf *ids = strbuf_new(), *tokens = strbuf_new();
    size_t i;
    json_t *item;
    json_array_foreach(in[ACKB_ITEMS].json, i, item) {
        strbuf_printf(ids, "%s%lld", i ? "," : "{",
                      (long long)json_number_value(json_object_get(item, "id")));
        strbuf_printf(tokens, "%s%s", i ? "," : "{", json_string_value(json_object_get(item, "claim_token")));
    }
    strbuf_puts(ids, "}");
    strbuf_puts(tokens, "}");
    const char *params[] = {in[ACKB_NS].s, ids->data, tokens->data};
    PGresult *res = db_query(req->pool, &queue_ack_many, params, err);
    strbuf_free(ids);
    strbuf_free(tokens);
    if (res == NULL) return false;
    reply_items(out, res);
    return true;
}

/* release and extend: {claim_token, <seconds field>} against the current
 * claim. */
static bool claim_update(request *req, const input_value *in, reply *out, api_error *err, const db_stmt *st) {
    const char *ns = in[UPDATE_NS].s, *id = in[UPDATE_ID].s;
    char seconds_text[24];
    snprintf(seconds_text, sizeof seconds_text, "%lld", in[UPDATE_SECONDS].i);
    /* absent (release): NULL, the statement's default */
    const char *params[] = {ns, id, in[UPDATE_TOKEN].s, in[UPDATE_SECONDS].present ? seconds_text : NULL};
    PGresult *res = db_query(req->pool, st, params, err);
    if (res == NULL) return false;
    if (PQntuples(res) == 0) return missing_or_stale(req, ns, id, err);
    strbuf_puts(out->body, PQgetvalue(res, 0, 0));
    return true;
}

static bool queue_release_item(request *req, const input_value *in, reply *out, api_error *err) {
    return claim_update(req, in, out, err, &queue_release);
}

static bool queue_extend_item(request *req, const input_value *in, reply *out, api_error *err) {
    return claim_update(req, in, out, err, &queue_extend);
}

static bool queue_dead(request *req, const input_value *in, reply *out, api_error *err) {
    long long limit = in[DEAD_LIMIT].i;
    char after_text[24], fetch[24];
    snprintf(after_text, sizeof after_text, "%lld", in[DEAD_AFTER].i);
    snprintf(fetch, sizeof fetch, "%lld", limit + 1);
    const char *params[] = {in[DEAD_NS].s, after_text, fetch};
    PGresult *res = db_query(req->pool, &queue_dead_list, params, err);
    if (res == NULL) return false;
    reply_page(out, res, limit);
    return true;
}

static bool queue_retry(request *req, const input_value *in, reply *out, api_error *err) {
    const char *ns = in[RETRY_NS].s, *id = in[RETRY_ID].s;
    const char *params[] = {ns, id};
    /* The item's group locked first (queue_enqueue_lock): the retry takes a
     * group_seq at the end of its group. */
    PGresult *res = NULL;
    if (!db_command("BEGIN", err)) return false;
    if (db_query(req->pool, &queue_retry_lock, params, err) == NULL ||
        (res = db_query(req->pool, &queue_dead_retry, params, err)) == NULL || !db_command("COMMIT", err)) {
        db_rollback();
        return false;
    }
    if (PQntuples(res) == 0) return API_NOT_FOUND(err, "id", "item %s/%s is not in the dead list", ns, id);
    strbuf_puts(out->body, PQgetvalue(res, 0, 0));
    return true;
}

/* The namespace's counts, as GET /queue/{namespace} answers them. */
static bool stats_reply(request *req, const char *ns, reply *out, api_error *err) {
    const char *params[] = {ns};
    PGresult *res = db_query(req->pool, &queue_stats, params, err);
    if (res == NULL) return false;
    strbuf_puts(out->body, PQgetvalue(res, 0, 0));
    return true;
}

static bool queue_pause_ns(request *req, const input_value *in, reply *out, api_error *err) {
    const char *params[] = {in[STATS_NS].s};
    return db_query(req->pool, &queue_pause, params, err) != NULL &&
           stats_reply(req, in[STATS_NS].s, out, err);
}

static bool queue_resume_ns(request *req, const input_value *in, reply *out, api_error *err) {
    const char *params[] = {in[STATS_NS].s};
    return db_query(req->pool, &queue_resume, params, err) != NULL &&
           stats_reply(req, in[STATS_NS].s, out, err);
}

static bool queue_stats_get(request *req, const input_value *in, reply *out, api_error *err) {
    return stats_reply(req, in[STATS_NS].s, out, err);
}

static bool queue_limits_put_ns(request *req, const input_value *in, reply *out, api_error *err) {
    char max_text[24];
    snprintf(max_text, sizeof max_text, "%lld", in[LIM_MAX].i);
    const char *params[] = {in[LIM_NS].s, in[LIM_MAX].present ? max_text : NULL};
    PGresult *res = db_query(req->pool, &queue_limits_put, params, err);
    if (res == NULL) return false;
    strbuf_puts(out->body, PQgetvalue(res, 0, 0));
    return true;
}

static bool queue_limits_get_ns(request *req, const input_value *in, reply *out, api_error *err) {
    const char *params[] = {in[STATS_NS].s};
    PGresult *res = db_query(req->pool, &queue_limits_get, params, err);
    if (res == NULL) return false;
    strbuf_puts(out->body, PQgetvalue(res, 0, 0));
    return true;
}

/* PUT /queue/{namespace}/schedules/{name}: 201 created, 200 replaced. */
static bool queue_schedule_put_ns(request *req, const input_value *in, reply *out, api_error *err) {
    cron_spec spec;
    const tz_zone *z;
    const char *zone = in[SPUT_TZ].s ? in[SPUT_TZ].s : "UTC";
    if (!cron_parse(in[SPUT_CRON].s, &spec, err) || !tz_load(zone, &z, err)) return false;
    if (in[SPUT_RETRY_BACKOFF].present && strcmp(in[SPUT_RETRY_BACKOFF].s, "exponential") == 0 &&
        in[SPUT_RETRY_DELAY].i < 1)
        return API_INVALID(err, "retry_delay_seconds",
                           "exponential retry_backoff needs retry_delay_seconds of at least 1");
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t next = 0;
    char next_text[24];
    bool has_next = cron_next(&spec, z, (int64_t)ts.tv_sec, &next);
    snprintf(next_text, sizeof next_text, "%lld", (long long)next);
    const char *params[] = {in[SPUT_NS].s, in[SPUT_NAME].s, req->body, has_next ? next_text : NULL, zone};
    PGresult *res = db_query(req->pool, &queue_schedule_put, params, err);
    if (res == NULL) return false;
    out->status = PQgetvalue(res, 0, 1)[0] == 't' ? 201 : 200;
    strbuf_puts(out->body, PQgetvalue(res, 0, 0));
    return true;
}

static bool queue_schedule_get_ns(request *req, const input_value *in, reply *out, api_error *err) {
    const char *params[] = {in[SCH_NS].s, in[SCH_NAME].s};
    PGresult *res = db_query(req->pool, &queue_schedule_get, params, err);
    if (res == NULL) return false;
    if (PQntuples(res) == 0)
        return API_NOT_FOUND(err, "name", "schedule %s/%s does not exist", in[SCH_NS].s, in[SCH_NAME].s);
    strbuf_puts(out->body, PQgetvalue(res, 0, 0));
    return true;
}

/* The schedule goes; the items it enqueued stay. */
static bool queue_schedule_delete_ns(request *req, const input_value *in, reply *out, api_error *err) {
    const char *params[] = {in[SCH_NS].s, in[SCH_NAME].s};
    PGresult *res = db_query(req->pool, &queue_schedule_delete, params, err);
    if (res == NULL) return false;
    if (PQntuples(res) == 0)
        return API_NOT_FOUND(err, "name", "schedule %s/%s does not exist", in[SCH_NS].s, in[SCH_NAME].s);
    json_t *j = json_pack("{s:s, s:s, s:b}", "namespace", in[SCH_NS].s, "name", in[SCH_NAME].s, "deleted", 1);
    char *text = json_dumps(j, JSON_COMPACT);
    strbuf_puts(out->body, text);
    free(text);
    json_decref(j);
    return true;
}

static bool queue_schedule_list_ns(request *req, const input_value *in, reply *out, api_error *err) {
    long long limit = in[SLIST_LIMIT].i;
    char fetch[24];
    snprintf(fetch, sizeof fetch, "%lld", limit + 1);
    const char *params[] = {in[SLIST_NS].s, in[SLIST_AFTER].s ? in[SLIST_AFTER].s : "", fetch};
    PGresult *res = db_query(req->pool, &queue_schedule_list, params, err);
    if (res == NULL) return false;
    reply_page(out, res, limit);
    return true;
}

/* GET /queue: a page of namespaces with their counts. */
static bool queue_namespace_list(request *req, const input_value *in, reply *out, api_error *err) {
    long long limit = in[NSL_LIMIT].i;
    char fetch[24];
    snprintf(fetch, sizeof fetch, "%lld", limit + 1);
    const char *after = in[NSL_AFTER].s;
    const char *exact = NULL, *prefixes = NULL;
    auth_read_filter(&req->who, req->mode->name, req->pool, &exact, &prefixes);
    const char *params[] = {after ? after : "", fetch, exact, prefixes};
    PGresult *res = db_query(req->pool, &queue_namespaces, params, err);
    if (res == NULL) return false;
    reply_page(out, res, limit);
    return true;
}

static bool queue_dead_delete_item(request *req, const input_value *in, reply *out, api_error *err) {
    const char *ns = in[RETRY_NS].s, *id = in[RETRY_ID].s;
    const char *params[] = {ns, id};
    PGresult *res = db_query(req->pool, &queue_dead_delete, params, err);
    if (res == NULL) return false;
    if (PQntuples(res) == 0) return API_NOT_FOUND(err, "id", "item %s/%s is not in the dead list", ns, id);
    strbuf_printf(out->body, "{\"id\":%lld,\"deleted\":true}", in[RETRY_ID].i);
    return true;
}

/* The purges: {"deleted": N} from a statement answering the count. */
static bool purge_reply(request *req, const char *ns, const db_stmt *st, reply *out, api_error *err) {
    const char *params[] = {ns};
    PGresult *res = db_query(req->pool, st, params, err);
    if (res == NULL) return false;
    strbuf_printf(out->body, "{\"deleted\":%s}", PQgetvalue(res, 0, 0));
    return true;
}

static bool queue_dead_purge_ns(request *req, const input_value *in, reply *out, api_error *err) {
    return purge_reply(req, in[STATS_NS].s, &queue_dead_purge, out, err);
}

static bool queue_purge_ns(request *req, const input_value *in, reply *out, api_error *err) {
    return purge_reply(req, in[STATS_NS].s, &queue_purge, out, err);
}

static const db_stmt *const queue_statements[] = {
    &queue_free_keys,
    &queue_enqueue,
    &queue_claim,
    &queue_next_visible,
    &queue_ack,
    &queue_ack_many,
    &queue_pause,
    &queue_resume,
    &queue_exists,
    &queue_release,
    &queue_extend,
    &queue_dead_list,
    &queue_dead_retry,
    &queue_stats,
    &queue_gauges,
    &queue_enqueue_lock,
    &queue_retry_lock,
    &queue_namespaces,
    &queue_dead_delete,
    &queue_dead_purge,
    &queue_purge,
    &queue_dead_sweep,
    &queue_claim_limited,
    &queue_limit_lock,
    &queue_limits_put,
    &queue_limits_get,
    &queue_schedule_put,
    &queue_schedule_get,
    &queue_schedule_delete,
    &queue_schedule_list,
    &queue_schedule_due,
    &queue_schedule_fire,
    NULL,
};

/* ---- routes ---- */

static const route queue_routes[] = {
    {"GET", "/queue", queue_namespace_list, .summary = "List queue namespaces",
     .description =
         "Every namespace that has an item, a pause or a schedule, by name, each with its counts as "
         "GET /queue/{namespace} answers them; paginated.",
     .input = namespaces_input, .ninput = NSL_N, .output = &stats_page_out,
     .tool = TOOL("queue_namespaces", TOOL_READ_ONLY | TOOL_IDEMPOTENT)},
    {"DELETE", "/queue/{namespace}", queue_purge_ns, .summary = "Purge a queue",
     .description = "Removes every item of the namespace, claimed ones included (acking one later is a "
                    "404). A pause stays. Answers how many items were removed.",
     .input = stats_input, .ninput = STATS_N, .output = &purged_out,
     .tool = TOOL("queue_purge", TOOL_DESTRUCTIVE | TOOL_IDEMPOTENT)},
    {"POST", "/queue/{namespace}", queue_post, .summary = "Enqueue work items",
     .description = "Enqueues one item (payload and its options) or, with items alone in the body, up to "
                    "1000 in one transaction. An item whose dedup_key a live item holds creates nothing: "
                    "the single form answers 200 with that item and duplicate: true.",
     .input = enqueue_input, .ninput = ENQ_N, .output = &enqueued_out, .created = true, .also = ROUTE_OR_OK,
     .tool = TOOL("queue_enqueue", 0)},
    {"GET", "/queue/{namespace}", queue_stats_get, .summary = "A queue's counts",
     .description = "How many items of the namespace are ready, delayed, in flight and dead, the oldest "
                    "ready item's age, and whether it is paused.",
     .input = stats_input, .ninput = STATS_N, .output = &stats_out,
     .tool = TOOL("queue_stats", TOOL_READ_ONLY | TOOL_IDEMPOTENT)},
    {"POST", "/queue/{namespace}/claim", queue_claim_items, .summary = "Claim work items",
     .description = "Claims up to max visible items for visibility_timeout_seconds (highest priority, then "
                    "oldest first); wait_seconds long-polls when none is visible. Ack each with its "
                    "claim_token when done, or release or extend the claim.",
     .input = claim_input, .ninput = CLAIM_N, .body_optional = true, .output = &claim_out,
     .tool = TOOL("queue_claim", 0)},
    {"POST", "/queue/{namespace}/ack", queue_ack_items, .summary = "Acknowledge many work items",
     .description = "Acknowledges (deletes) up to 1000 claimed items at once; each result says acked, or "
                    "error conflict (the claim is no longer current) or not_found.",
     .input = ack_many_input, .ninput = ACKB_N, .output = &ack_many_out,
     .tool = TOOL("queue_ack_many", TOOL_DESTRUCTIVE | TOOL_IDEMPOTENT)},
    {"POST", "/queue/{namespace}/pause", queue_pause_ns, .summary = "Pause a queue",
     .description = "Enqueues are still accepted; claims get no items (a long-poll keeps waiting) until the "
                    "namespace is resumed. Answers its counts.",
     .input = stats_input, .ninput = STATS_N, .body_optional = true, .output = &stats_out,
     .tool = TOOL("queue_pause", TOOL_IDEMPOTENT)},
    {"POST", "/queue/{namespace}/resume", queue_resume_ns, .summary = "Resume a queue",
     .description = "Claims get items again and waiting claimers wake. Answers the namespace's counts.",
     .input = stats_input, .ninput = STATS_N, .body_optional = true, .output = &stats_out,
     .tool = TOOL("queue_resume", TOOL_IDEMPOTENT)},
    {"DELETE", "/queue/{namespace}/{id}", queue_ack_item, .summary = "Acknowledge a work item",
     .description = "Deletes a claimed item: its work is done. With claim_token, only while that claim is "
                    "the item's current one (409 when it ran out and another holds the item).",
     .input = ack_input, .ninput = ACK_N, .output = &acked_out, .errors = API_BIT(CONFLICT),
     .tool = TOOL("queue_ack", TOOL_DESTRUCTIVE | TOOL_IDEMPOTENT)},
    {"POST", "/queue/{namespace}/{id}/release", queue_release_item, .summary = "Release a claimed item",
     .description = "Gives a claimed item back before its claim runs out, visible again after delay_seconds "
                    "(0: at once); 409 on a stale claim_token.",
     .input = release_input, .ninput = UPDATE_N, .output = &released_out, .errors = API_BIT(CONFLICT),
     .tool = TOOL("queue_release", 0)},
    {"POST", "/queue/{namespace}/{id}/extend", queue_extend_item, .summary = "Extend a claim",
     .description = "A worker's heartbeat: the claim holds for visibility_timeout_seconds from now; 409 on "
                    "a stale claim_token.",
     .input = extend_input, .ninput = UPDATE_N, .output = &extended_out, .errors = API_BIT(CONFLICT),
     .tool = TOOL("queue_extend", 0)},
    {"GET", "/queue/{namespace}/dead", queue_dead, .summary = "List dead items",
     .description = "The namespace's dead letters: items whose last claim ran out after max_attempts, "
                    "oldest first, paginated.",
     .input = dead_input, .ninput = DEAD_N, .output = &item_page_out,
     .tool = TOOL("queue_dead_list", TOOL_READ_ONLY | TOOL_IDEMPOTENT)},
    {"DELETE", "/queue/{namespace}/dead", queue_dead_purge_ns, .summary = "Purge the dead list",
     .description = "Removes every dead item of the namespace; answers how many.", .input = stats_input,
     .ninput = STATS_N, .output = &purged_out,
     .tool = TOOL("queue_dead_purge", TOOL_DESTRUCTIVE | TOOL_IDEMPOTENT)},
    {"DELETE", "/queue/{namespace}/dead/{id}", queue_dead_delete_item, .summary = "Delete a dead item",
     .description = "Removes one item of the namespace's dead list (404 when it is not a dead item there).",
     .input = retry_input, .ninput = RETRY_N, .output = &dead_deleted_out,
     .tool = TOOL("queue_dead_delete", TOOL_DESTRUCTIVE | TOOL_IDEMPOTENT)},
    {"GET", "/queue/{namespace}/limits", queue_limits_get_ns, .summary = "A queue's limits",
     .description = "The namespace's concurrency limit: max_in_flight, null when there is none.",
     .input = stats_input, .ninput = STATS_N, .output = &limits_out,
     .tool = TOOL("queue_limits_get", TOOL_READ_ONLY | TOOL_IDEMPOTENT)},
    {"PUT", "/queue/{namespace}/limits", queue_limits_put_ns, .summary = "Set a queue's limits",
     .description = "Sets max_in_flight (1-100000; null or absent: no limit): claims, from every process "
                    "at once, never leave more items of the namespace in flight; a claim that would gets "
                    "fewer items, or none (a long-poll waits for a place).",
     .input = limits_input, .ninput = LIM_N, .output = &limits_out,
     .tool = TOOL("queue_limits_put", TOOL_DESTRUCTIVE | TOOL_IDEMPOTENT)},
    {"GET", "/queue/{namespace}/schedules", queue_schedule_list_ns, .summary = "List a queue's schedules",
     .description = "The namespace's schedules, by name, paginated.", .input = schedule_list_input,
     .ninput = SLIST_N, .output = &schedule_page_out,
     .tool = TOOL("queue_schedule_list", TOOL_READ_ONLY | TOOL_IDEMPOTENT)},
    {"PUT", "/queue/{namespace}/schedules/{name}", queue_schedule_put_ns,
     .summary = "Create or replace a schedule",
     .description =
         "A recurring enqueue: at each time the cron expression names in the time zone, exactly one "
         "item with the payload and options, carrying schedule and scheduled_for. 201 when "
         "created, 200 when replaced.",
     .input = schedule_put_input, .ninput = SPUT_N, .output = &schedule_out, .created = true,
     .also = ROUTE_OR_OK, .tool = TOOL("queue_schedule_put", TOOL_DESTRUCTIVE | TOOL_IDEMPOTENT)},
    {"GET", "/queue/{namespace}/schedules/{name}", queue_schedule_get_ns, .summary = "A schedule",
     .description = "One schedule, with its next and last run times.", .input = schedule_input,
     .ninput = SCH_N, .output = &schedule_out,
     .tool = TOOL("queue_schedule_get", TOOL_READ_ONLY | TOOL_IDEMPOTENT)},
    {"DELETE", "/queue/{namespace}/schedules/{name}", queue_schedule_delete_ns,
     .summary = "Delete a schedule",
     .description = "The schedule enqueues nothing more; the items it enqueued stay.",
     .input = schedule_input, .ninput = SCH_N, .output = &schedule_deleted_out,
     .tool = TOOL("queue_schedule_delete", TOOL_DESTRUCTIVE | TOOL_IDEMPOTENT)},
    {"POST", "/queue/{namespace}/dead/{id}/retry", queue_retry, .summary = "Retry a dead item",
     .description = "Puts a dead item back, claimable at once with attempts 0 (at the end of its group).",
     .input = retry_input, .ninput = RETRY_N, .output = &item_out, .tool = TOOL("queue_dead_retry", 0)},
};

const mode mode_queue = {
    .name = "queue",
    .url_prefix = "/queue",
    .processes = 2,
    /* Two workers a process, as the document mode and for its reason
     * (fcgi-apps/document.c): the claim, ack cycle at 8 clients went from
     * about 700 to 800 a second against 2 x 8. A waiting claim starts a
     * worker in its place (serve.h). */
    .threads = 2,
    /* Left to itself PostgreSQL plans the claim again at every execution
     * (its generic plan's estimate never beats the plan for one namespace
     * the statistics know), and planning that statement costs more than
     * running it; the generic plan is the same index scan (docs/queue.md,
     * "Batched throughput: where the time goes"). */
    .generic_plans = true,
    .migrations = queue_migrations,
    .sentinel = &item_out,
    .sentinel_note =
        "A work queue: enqueue, claim with a visibility timeout, ack; dead letters after max_attempts.",
    .routes = queue_routes,
    .nroutes = sizeof queue_routes / sizeof queue_routes[0],
    .statements = queue_statements,
    .tick = queue_tick,
    .settings = queue_settings,
    .nsettings = COUNT_OF(queue_settings),
    .tick_seconds = queue_tick_seconds,
    .topic = "a work queue",
};
