#define _POSIX_C_SOURCE 200809L
#include "tablespec.h"

#include <stdio.h>
#include <string.h>

#include "ident.h"
#include "json.h"

const col_type_info col_types[COL_TYPE_COUNT] = {
#define COL_TYPE_ROW_(e, name, sql, pre, arrow, post, row_check, filter_check) \
    [COL_##e] = {name, sql, pre "(_e._r " arrow " %s)" post, row_check, filter_check},
    COL_TYPES(COL_TYPE_ROW_)
#undef COL_TYPE_ROW_
};

/* "text, integer, ..., uuid": the allowlist for messages. */
static const char type_list[] =
#define COL_TYPE_LIST_(e, name, sql, pre, arrow, post, row_check, filter_check) name ", "
    COL_TYPES(COL_TYPE_LIST_)
#undef COL_TYPE_LIST_
    ;

const char *col_type_name(col_type t) { return (unsigned)t < COL_TYPE_COUNT ? col_types[t].name : NULL; }

const char *col_type_sql(col_type t) { return (unsigned)t < COL_TYPE_COUNT ? col_types[t].sql : NULL; }

bool col_type_parse(const char *s, col_type *out) {
    for (int i = 0; i < COL_TYPE_COUNT; i++)
        if (strcmp(col_types[i].name, s) == 0) {
            *out = (col_type)i;
            return true;
        }
    return false;
}

/* obj[name] as a boolean, dflt when absent. */
static bool get_bool(json_t *obj, const char *name, bool dflt, bool *out, const char *field, api_error *err) {
    json_t *v = json_object_get(obj, name);
    *out = dflt;
    if (v == NULL) return true;
    if (!json_is_boolean(v)) return API_INVALID(err, field, "%s must be true or false", field);
    *out = json_is_true(v);
    return true;
}

static bool parse_column(json_t *c, size_t i, table_column *out, api_error *err) {
    static const char *const known[] = {"name", "type", "nullable", "unique", NULL};
    char field[48];
    snprintf(field, sizeof field, "columns[%zu]", i);
    if (!json_is_object(c)) return API_INVALID(err, field, "%s must be an object", field);
    const char *key;
    json_t *value;
    json_object_foreach(c, key, value) {
        bool ok = false;
        for (const char *const *k = known; *k && !ok; k++) ok = strcmp(*k, key) == 0;
        if (!ok) {
            snprintf(field, sizeof field, "columns[%zu].%.20s", i, key);
            return API_INVALID(err, field, "unknown field %s", field);
        }
    }
    snprintf(field, sizeof field, "columns[%zu].name", i);
    json_t *name = json_object_get(c, "name");
    if (name == NULL) return API_INVALID(err, field, "%s is required", field);
    if (!json_is_string(name)) return API_INVALID(err, field, "%s must be a string", field);
    out->name = json_string_value(name);
    /* A NUL inside the string would hide what follows it from C. */
    if (strlen(out->name) != json_string_length(name))
        return API_INVALID(err, field, "%s must match ^[a-z][a-z0-9_]{0,47}$", field);
    if (!ident_column_ok(out->name, field, err)) return false;
    snprintf(field, sizeof field, "columns[%zu].type", i);
    json_t *type = json_object_get(c, "type");
    if (type == NULL) return API_INVALID(err, field, "%s is required", field);
    if (!json_is_string(type) || strlen(json_string_value(type)) != json_string_length(type) ||
        !col_type_parse(json_string_value(type), &out->type))
        return API_INVALID(err, field, "%s must be one of %.*s", field, (int)sizeof type_list - 3, type_list);
    snprintf(field, sizeof field, "columns[%zu].nullable", i);
    if (!get_bool(c, "nullable", true, &out->nullable, field, err)) return false;
    snprintf(field, sizeof field, "columns[%zu].unique", i);
    return get_bool(c, "unique", false, &out->unique, field, err);
}

bool table_spec_parse(json_t *body, table_spec *out, api_error *err) {
    static const char *const known[] = {"name", "columns", NULL};
    if (!json_is_object(body)) return API_INVALID(err, "body", "the body must be a JSON object");
    if (!json_fields_known(body, known, err)) return false;
    json_t *name = json_object_get(body, "name");
    if (name == NULL) return API_INVALID(err, "name", "name is required");
    if (!json_is_string(name)) return API_INVALID(err, "name", "name must be a string");
    out->name = json_string_value(name);
    if (strlen(out->name) != json_string_length(name))
        return API_INVALID(err, "name", "name must match ^[a-z][a-z0-9_]{0,47}$");
    if (!ident_table_ok(out->name, "name", err)) return false;
    json_t *cols = json_object_get(body, "columns");
    if (cols == NULL) return API_INVALID(err, "columns", "columns is required");
    if (!json_is_array(cols)) return API_INVALID(err, "columns", "columns must be an array");
    size_t n = json_array_size(cols);
    if (n == 0 || n > TABLE_COLUMNS_MAX)
        return API_INVALID(err, "columns", "a table has 1 to %d columns (got %zu)", TABLE_COLUMNS_MAX, n);
    for (size_t i = 0; i < n; i++) {
        if (!parse_column(json_array_get(cols, i), i, &out->cols[i], err)) return false;
        for (size_t j = 0; j < i; j++)
            if (strcmp(out->cols[j].name, out->cols[i].name) == 0) {
                char field[48];
                snprintf(field, sizeof field, "columns[%zu].name", i);
                return API_INVALID(err, field, "column %s is named twice", out->cols[i].name);
            }
    }
    out->ncols = n;
    return true;
}

void table_spec_columns_json(const table_spec *spec, strbuf *b) {
    strbuf_puts(b, "[");
    for (size_t i = 0; i < spec->ncols; i++) {
        const table_column *c = &spec->cols[i];
        /* names and types are [a-z0-9_ ]: nothing to escape */
        strbuf_printf(b, "%s{\"name\":\"%s\",\"type\":\"%s\",\"nullable\":%s,\"unique\":%s}", i ? "," : "",
                      c->name, col_type_name(c->type), c->nullable ? "true" : "false",
                      c->unique ? "true" : "false");
    }
    strbuf_puts(b, "]");
}

char *table_spec_ddl(pool *p, const table_spec *spec) {
    const char *table = ident_quote_affixed(p, "sql_", spec->name, "");
    const char *pk = ident_quote_affixed(p, "sql__", spec->name, "_pk");
    const char *seq = ident_quote_affixed(p, "sql__", spec->name, "_id");
    if (table == NULL || pk == NULL || seq == NULL) return NULL;
    strbuf *b = strbuf_new();
    strbuf_printf(b,
                  "CREATE TABLE %s (id bigint GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME %s)"
                  " CONSTRAINT %s PRIMARY KEY",
                  table, seq, pk);
    for (size_t i = 0; i < spec->ncols; i++) {
        const table_column *c = &spec->cols[i];
        char suffix[24]; /* "_u" and any size_t */
        snprintf(suffix, sizeof suffix, "_u%zu", i + 1);
        const char *col = ident_quote(p, c->name);
        const char *uq = ident_quote_affixed(p, "sql__", spec->name, suffix);
        if (col == NULL || uq == NULL) {
            strbuf_free(b);
            return NULL;
        }
        strbuf_printf(b, ", %s %s%s", col, col_type_sql(c->type), c->nullable ? "" : " NOT NULL");
        if (c->unique) strbuf_printf(b, " CONSTRAINT %s UNIQUE", uq);
    }
    strbuf_puts(b, ", created_at timestamptz NOT NULL DEFAULT now())");
    char *out = pool_strdup(p, b->data);
    strbuf_free(b);
    return out;
}
