/*
 * described: the data a mode stores, written into /openapi.json for a
 * request with a valid token (mode.h, mode_describe): each described
 * value's schema among the components, and the mode's operations copied
 * for that value (the sql mode's /sql/tables/builds/rows, whose rows are
 * sql_row_builds), so that a client generated from the document is typed
 * by each table. Plain JSON work on the document: it names no mode.
 */
#ifndef BACKEND_HEALTH_DESCRIBED_H
#define BACKEND_HEALTH_DESCRIBED_H

#include <jansson.h>

#include "mode.h"

/* Adds to doc (an OpenAPI document) what described, the JSON object a
 * describe statement answered (value -> JSON Schema), says for the mode
 * called mode: the schemas as components.schemas[d->prefix + value], and
 * after the mode's last path, per value, a copy of each of its operations
 * whose path has {d->capture} (described_operation). A value whose path
 * would be taken already adds no path. Changes doc in place. */
void described_add(json_t *doc, const char *mode, const mode_describe *d, json_t *described);

/* A copy of the operation op of path template for value: the capture's
 * parameter gone, summary "<summary>: <value>", operationId
 * "<operationId>__<value>" (unique: no generated operationId holds "__",
 * and a value starts with a letter), every reference to the schema
 * d->shape one to d->prefix + value, and every other schema of schemas
 * that refers to it written in place, turned the same way. A new
 * reference. */
json_t *described_operation(json_t *op, json_t *schemas, const mode_describe *d, const char *value);

#endif
