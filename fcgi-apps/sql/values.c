/*
 * sql/values: JSON type checks per column, and naming the column of a value
 * PostgreSQL refused (values.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "values.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"
#include "table.h"

/* Blame statements: after PostgreSQL refused a value (SQLSTATE class 22),
 * each cast of one column alone, the column's key as the parameter $2; one
 * per type (used for the types whose row_check is set). */
const db_stmt sql_row_checks[COL_TYPE_COUNT] = {
#define ROW_CHECK_(e, name, sql, pre, arrow, post, row_check, filter_check) \
    [COL_##e] = {"sql_row_check_" name,                                     \
                 "SELECT " pre "(_e._r " arrow " $2)" post " FROM " SQL_ROWS_OF("$1") " AS _e(_r)", 2},
    COL_TYPES(ROW_CHECK_)
#undef ROW_CHECK_
};

/* ---- values: JSON types per column ---- */

/* True when no string value in v holds a NUL byte (jansson already refuses one in a key): PostgreSQL's
 * text and jsonb cannot hold one. */
static bool nul_free(json_t *v) {
    if (json_is_string(v)) return strlen(json_string_value(v)) == json_string_length(v);
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) if (!nul_free(e)) return false;
    } else if (json_is_object(v)) {
        const char *k;
        json_t *e;
        json_object_foreach(v, k, e) if (!nul_free(e)) return false;
    }
    return true;
}

/* True when s spells PostgreSQL's infinite timestamp (blanks around it,
 * any case, an optional sign). */
static bool infinite(const char *s) {
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
    if (*s == '+' || *s == '-') s++;
    if (strncasecmp(s, "infinity", 8) != 0) return false;
    for (s += 8; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r') return false;
    return true;
}

/* Checks one value against its column. `row` is the row's index for the
 * detail (-1: a patch). Returns false with a 422 naming the column. */
static bool value_ok(const table_column *c, json_t *v, long row, api_error *err) {
    char where[32] = "";
    if (row >= 0) snprintf(where, sizeof where, "row %ld: ", row);
    const char *want = NULL;
    if (json_is_null(v)) {
        if (!c->nullable) return API_INVALID(err, c->name, "%s%s must not be null", where, c->name);
        return true;
    }
    switch (c->type) {
    case COL_TEXT:
    case COL_UUID:
    case COL_DATE:
        if (!json_is_string(v)) want = "a string";
        break;
    case COL_TIMESTAMPTZ:
        if (!json_is_string(v)) want = "a string";
        /* PostgreSQL takes [+-]infinity, which has no ISO 8601 form to
         * give back: a timestamp must be a point in time. */
        else if (infinite(json_string_value(v)))
            return API_INVALID(err, c->name, "%s%s must be a finite timestamp", where, c->name);
        break;
    case COL_INTEGER:
    case COL_BIGINT: {
        if (!json_is_number(v)) {
            want = "an integer";
            break;
        }
        double d = json_number_value(v);
        double lim = c->type == COL_INTEGER ? 2147483648.0 : 9223372036854775808.0;
        if (d != floor(d))
            want = "an integer";
        else if (d < -lim || d > lim) /* the exact bound is PostgreSQL's */
            return API_INVALID(err, c->name, "%s%s is out of range for %s", where, c->name,
                               col_type_name(c->type));
        break;
    }
    case COL_DOUBLE:
        if (!json_is_number(v)) want = "a number";
        break;
    case COL_NUMERIC:
        if (!json_is_number(v) && !json_is_string(v)) want = "a number or a string";
        break;
    case COL_BOOLEAN:
        if (!json_is_boolean(v)) want = "true or false";
        break;
    case COL_JSONB:
    case COL_TYPE_COUNT: /* never a column's type */ break;
    }
    if (want != NULL)
        return API_INVALID(err, c->name, "%s%s must be %s (column type %s)", where, c->name, want,
                           col_type_name(c->type));
    if (!nul_free(v))
        return API_INVALID(err, c->name,
                           "%s%s holds a NUL character (\\u0000), which PostgreSQL cannot store", where,
                           c->name);
    return true;
}

bool sql_row_ok(const table_spec *s, json_t *row, long idx, bool whole, api_error *err) {
    if (!json_is_object(row))
        return API_INVALID(err, "body", "row %ld must be a JSON object", idx < 0 ? 0 : idx);
    const char *key;
    json_t *v;
    json_object_foreach(row, key, v) {
        const table_column *c = sql_column_find(s, key);
        if (c == NULL) {
            if (strcmp(key, "id") == 0 || strcmp(key, "created_at") == 0)
                return API_INVALID(err, key, "%s is set by the database and cannot be written", key);
            return API_INVALID(err, key, "table %s has no column %.64s", s->name, key);
        }
        if (!value_ok(c, v, idx, err)) return false;
    }
    if (whole)
        for (size_t i = 0; i < s->ncols; i++)
            if (!s->cols[i].nullable && json_object_get(row, s->cols[i].name) == NULL)
                return API_INVALID(err, s->cols[i].name, "row %ld: %s is required", idx, s->cols[i].name);
    return true;
}

static void json_release(void *v) { json_decref(v); }

json_t *sql_body_json(request *req, api_error *err) {
    json_t *v = json_parse_allow_nul(req->body ? req->body : "", req->body_len, err);
    if (v != NULL) pool_defer(req->pool, json_release, v);
    return v;
}

void sql_blame_rows(request *req, const table_spec *s, api_error *err) {
    if (err->status != 422 || strncmp(err->sqlstate, "22", 2) != 0) return;
    for (size_t i = 0; i < s->ncols; i++) {
        if (!col_types[s->cols[i].type].row_check) continue;
        const db_stmt *check = &sql_row_checks[s->cols[i].type];
        api_error e;
        const char *params[] = {req->body, s->cols[i].name};
        if (db_query(req->pool, check, params, &e) == NULL && e.status == 422) {
            api_fail(err, API_E_VALIDATION_FAILED, s->cols[i].name, "%s: %s", s->cols[i].name, e.detail);
            return;
        }
    }
}

void sql_blame_unique(const table_spec *s, api_error *err) {
    if (err->status != 409) return;
    const char *k = err->constraint;
    const char *u = strrchr(k, 'u');
    if (u == NULL || u == k || u[-1] != '_') return;
    long n = strtol(u + 1, NULL, 10);
    if (n < 1 || (size_t)n > s->ncols) return;
    api_fail(err, API_E_CONFLICT, s->cols[n - 1].name, "a row with this %s exists already",
             s->cols[n - 1].name);
}

void sql_blame_limits(api_error *err) {
    if (err->status == 500 && strcmp(err->sqlstate, "54000") == 0)
        API_INVALID(err, NULL,
                    "a value is too large to store (a unique column's index takes at most about 2700 bytes)");
}
