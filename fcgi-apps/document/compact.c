/*
 * compact: retention and the background compactor (compact.h,
 * docs/document.md).
 *
 * What one batch removes, in one statement (document_compact, schema step
 * 4), from a namespace's policy (its own row of document_retention, else
 * the settings' defaults):
 * - every version of a key at or below its latest version minus
 *   keep_versions (version numbers never restart and never repeat, so
 *   "beyond the newest keep_versions" is a comparison, no ranking);
 * - every version of a deleted key whose tombstone is older than
 *   keep_deleted_seconds;
 * and never a tombstone, the latest version of a key, nor a version
 * younger than DOCUMENT_COMPACT_MIN_AGE_SECONDS. The same statement raises
 * the namespace's compaction point (the highest seq removed) in
 * document_compaction, so a changes-feed reader sees the removal and the
 * new point together or neither.
 *
 * One compactor at a time, across every process and replica: each batch
 * first tries a transaction-level advisory lock and, when another holds
 * it, removes nothing (-1), and this process skips the round. Writers
 * never wait on it: the compactor deletes old rows and never touches
 * document_heads, which is what a write locks.
 */
#define _POSIX_C_SOURCE 200809L
#include "compact.h"

#include <stdio.h>
#include <stdlib.h>

#include "clock.h"
#include "log.h"
#include "pool.h"

long long document_keep_versions, document_keep_deleted_seconds;
static long long compact_min_age, compact_interval;

const setting document_settings[DOCUMENT_NSETTINGS] = {
    {.name = "DOCUMENT_KEEP_VERSIONS",
     .kind = SETTING_NUMBER,
     .dflt = "",
     .max = KEEP_VERSIONS_MAX,
     .number = &document_keep_versions,
     .meaning = "versions kept per key (1-1000000) in a namespace with no policy of its own (empty: all)"},
    {.name = "DOCUMENT_KEEP_DELETED_SECONDS",
     .kind = SETTING_NUMBER,
     .dflt = "",
     .max = KEEP_DELETED_SECONDS_MAX,
     .zero_ok = true,
     .number = &document_keep_deleted_seconds,
     .meaning = "age in seconds (0-315360000) of a tombstone after which the deleted key's other "
                "versions are removed, in a namespace with no policy of its own (empty: never)"},
    {.name = "DOCUMENT_COMPACT_MIN_AGE_SECONDS",
     .kind = SETTING_NUMBER,
     .dflt = "60",
     .max = KEEP_DELETED_SECONDS_MAX,
     .zero_ok = true,
     .number = &compact_min_age,
     .meaning = "compaction never removes a version younger than this, in seconds (0 allowed)"},
    {.name = "DOCUMENT_COMPACT_INTERVAL_SECONDS",
     .kind = SETTING_NUMBER,
     .dflt = "10",
     .max = 10,
     .number = &compact_interval,
     .meaning = "seconds between compaction rounds (1-10)"},
};

/* The compactor's advisory lock (two-key form, as the writers' lock, in
 * a class of its own: "doc" + 1). */
#define COMPACT_LOCK "6582116, 1"

/* One batch: the versions the policies allow to remove (the heads' join
 * to the policies is JOIN, "JOIN" or "LEFT JOIN", see below), at most
 * p_batch of them, removed, and the namespaces' compaction points raised
 * to the highest seq removed, in one statement. */
#define COMPACT_BATCH_SQL(JOIN)                                                                           \
    "  WITH pol AS (SELECT h.namespace, h.key, h.version AS head, h.deleted,"                             \
    "    CASE WHEN r.namespace IS NULL THEN p_keep_versions ELSE r.keep_versions END AS kv,"              \
    "    CASE WHEN r.namespace IS NULL THEN p_keep_deleted ELSE r.keep_deleted_seconds END AS kd"         \
    "    FROM document_heads h " JOIN                                                                     \
    " document_retention r ON r.namespace = h.namespace),"                                                \
    "  cand AS (SELECT * FROM pol WHERE (kv IS NOT NULL AND head > kv) OR (deleted AND kd IS NOT NULL))," \
    "  v AS (SELECT d.namespace, d.key, d.version FROM cand p JOIN documents d"                           \
    "    ON d.namespace = p.namespace AND d.key = p.key AND d.version < p.head"                           \
    "    WHERE NOT d.deleted AND d.created_at <= now() - make_interval(secs => p_min_age)"                \
    "    AND ((p.kv IS NOT NULL AND d.version <= p.head - p.kv)"                                          \
    "     OR (p.deleted AND p.kd IS NOT NULL AND EXISTS (SELECT 1 FROM documents t"                       \
    "      WHERE t.namespace = p.namespace AND t.key = p.key AND t.version = p.head"                      \
    "      AND t.created_at <= now() - make_interval(secs => p.kd))))"                                    \
    "    LIMIT p_batch),"                                                                                 \
    "  del AS (DELETE FROM documents d USING v WHERE d.namespace = v.namespace AND d.key = v.key"         \
    "    AND d.version = v.version RETURNING d.namespace, d.seq),"                                        \
    "  pt AS (INSERT INTO document_compaction AS c (namespace, compacted_seq)"                            \
    "    SELECT namespace, max(seq) FROM del GROUP BY namespace ON CONFLICT (namespace)"                  \
    "    DO UPDATE SET compacted_seq = greatest(c.compacted_seq, excluded.compacted_seq) RETURNING 1)"    \
    "  SELECT count(*) INTO n FROM del;"

const char document_step4[] =
    "CREATE TABLE IF NOT EXISTS document_retention ("
    " namespace text COLLATE \"C\" PRIMARY KEY,"
    " keep_versions bigint CHECK (keep_versions BETWEEN 1 AND 1000000),"
    " keep_deleted_seconds bigint CHECK (keep_deleted_seconds BETWEEN 0 AND 315360000),"
    " updated_at timestamptz NOT NULL DEFAULT now());"
    "CREATE TABLE IF NOT EXISTS document_compaction ("
    " namespace text COLLATE \"C\" PRIMARY KEY,"
    " compacted_seq bigint NOT NULL);"
    /* p_keep_versions, p_keep_deleted: the defaults (NULL: keep), for a
     * namespace with no row of its own. Returns the versions removed, -1
     * when another compactor holds the lock. With no defaults only the
     * namespaces with a policy are looked at (JOIN): a service where no
     * one asked for retention does no work each round. */
    "CREATE OR REPLACE FUNCTION document_compact(p_keep_versions bigint, p_keep_deleted bigint,"
    " p_min_age bigint, p_batch int) RETURNS bigint LANGUAGE plpgsql VOLATILE AS $f$"
    " DECLARE n bigint;"
    " BEGIN"
    "  IF NOT pg_try_advisory_xact_lock(" COMPACT_LOCK ") THEN RETURN -1; END IF;"
    "  IF p_keep_versions IS NULL AND p_keep_deleted IS NULL THEN"
    COMPACT_BATCH_SQL("JOIN")
    "  ELSE"
    COMPACT_BATCH_SQL("LEFT JOIN")
    "  END IF;"
    "  RETURN n;"
    " END $f$";

const db_stmt document_compact_stmt = {
    "document_compact", "SELECT document_compact($1::bigint, $2::bigint, $3::bigint, $4::int)::text", 4};

long document_compact_every(void) { return (long)compact_interval; }

/* Runs one batch with the settings' defaults. Returns the versions
 * removed, -1 when another compactor holds the lock, -2 on a failure
 * (logged). */
static long long compact_batch(pool *p) {
    char kv[24], kd[24], age[24], batch[24];
    snprintf(kv, sizeof kv, "%lld", document_keep_versions);
    snprintf(kd, sizeof kd, "%lld", document_keep_deleted_seconds);
    snprintf(age, sizeof age, "%lld", compact_min_age);
    snprintf(batch, sizeof batch, "%d", COMPACT_BATCH);
    const char *params[] = {document_keep_versions < 0 ? NULL : kv,
                            document_keep_deleted_seconds < 0 ? NULL : kd, age, batch};
    api_error err;
    db_begin(g_config.db_timeout_ms);
    PGresult *res = db_query(p, &document_compact_stmt, params, &err);
    if (res == NULL) {
        log_msg(LOG_WARN, "compaction: batch not run: %s", err.detail);
        return -2;
    }
    return atoll(PQgetvalue(res, 0, 0));
}

/* A round keeps on while batches come back full, for this long at most,
 * so the process's main thread is soon back to its signals; the next
 * round, a few seconds later, goes on where it stopped. */
#define ROUND_MS 3000

void document_compact_round(void) {
    pool *p = pool_new();
    double start = clock_ms();
    long long total = 0, n;
    do {
        n = compact_batch(p);
        if (n > 0) total += n;
    } while (n == COMPACT_BATCH && clock_ms() - start < ROUND_MS);
    pool_free(p);
    /* The connection waits for the next round on the spare list, for a
     * worker that needs one meanwhile. */
    db_park();
    if (total > 0) log_msg(LOG_INFO, "compaction removed %lld version(s)", total);
}
