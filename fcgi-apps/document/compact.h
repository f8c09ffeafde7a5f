/*
 * compact: the document mode's retention (docs/document.md, "Retention
 * and compaction"): its settings, the schema step that holds the
 * namespaces' policies and compaction points, and the background
 * compactor that the mode's processes run between requests (mode.tick).
 */
#ifndef BACKEND_DOCUMENT_COMPACT_H
#define BACKEND_DOCUMENT_COMPACT_H

#include <stddef.h>

#include "config.h"
#include "db.h"

/* The policy bounds of PUT /document/{namespace}/_retention. */
#define KEEP_VERSIONS_MAX        1000000LL
#define KEEP_DELETED_SECONDS_MAX 315360000LL
/* The most versions one compaction transaction removes. */
#define COMPACT_BATCH 1000

/* DOCUMENT_KEEP_VERSIONS, DOCUMENT_KEEP_DELETED_SECONDS: a namespace's
 * policy when it has none of its own; -1: unset (keep everything). */
extern long long document_keep_versions, document_keep_deleted_seconds;

/* The mode's settings (mode.settings). */
#define DOCUMENT_NSETTINGS 4
extern const setting document_settings[DOCUMENT_NSETTINGS];

/* Schema step 4: the policies, the compaction points, the compactor's
 * function. */
extern const char document_step4[];

/* The compactor's statement, for `backend-document --sql`. */
extern const db_stmt document_compact_stmt;

/* One round of compaction (mode.tick): batches of at most COMPACT_BATCH
 * versions, one transaction each, while there is something to remove
 * (for a few seconds at most), unless another process holds the
 * compactor's lock. */
void document_compact_round(void);

/* Seconds between rounds (mode.tick_seconds). */
long document_compact_every(void);

#endif
