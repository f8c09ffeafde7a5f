/* libFuzzer target: the SQL identifier rules (common/ident.h) and the table
 * definitions (common/tablespec.h), the only path by which a name from a
 * request becomes SQL text. Invariants, each checked against an oracle
 * written here independently of the code under test:
 *   - ident_valid(s) holds exactly when s matches ^[a-z][a-z0-9_]{0,47}$;
 *   - ident_quote is '"' + s + '"' for a valid s, NULL otherwise;
 *     ident_literal the same with single quotes; an affixed quote wraps
 *     prefix + s + suffix;
 *   - ident_table_ok/ident_column_ok accept only valid names (and refuse
 *     the reserved ones), refusing with a 422 naming the field;
 *   - the input as JSON: table_spec_parse accepts only a definition whose
 *     every name is valid, distinct and unreserved, with 1..64 columns;
 *     its DDL then holds no byte outside the quoted names, the fixed type
 *     texts and the fixed punctuation (no ';', no quote inside a name), and
 *     its column list is valid JSON; a refusal is a 422. */
#define _POSIX_C_SOURCE 200809L
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sql/ident.h"
#include "sql/tablespec.h"

static int oracle_valid(const char *s, size_t n) {
    if (n < 1 || n > 48 || !(s[0] >= 'a' && s[0] <= 'z')) return 0;
    for (size_t i = 1; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return 0;
    }
    return 1;
}

static int reserved_column(const char *s) {
    /* the system's and every table's columns, and the row routes' own
     * query parameters (docs/sql.md, "Reserved names") */
    const char *r[] = {"id",    "created_at",  "tableoid",     "xmin",   "xmax",  "cmin",
                       "cmax",  "ctid",        "after",        "limit",  "order", "select",
                       "count", "on_conflict", "max_affected", "confirm"};
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++)
        if (strcmp(s, r[i]) == 0) return 1;
    return 0;
}

static void check_wrapped(const char *q, char quote, const char *inner) {
    size_t n = strlen(inner);
    if (q == NULL || strlen(q) != n + 2 || q[0] != quote || q[n + 1] != quote || memcmp(q + 1, inner, n) != 0)
        abort();
}

static void check_name(pool *p, const char *s) {
    size_t n = strlen(s);
    int valid = oracle_valid(s, n);
    if (ident_valid(s) != (valid != 0)) abort();
    const char *q = ident_quote(p, s);
    const char *l = ident_literal(p, s);
    const char *a = ident_quote_affixed(p, "sql_", s, "_u3");
    if (!valid) {
        if (q != NULL || l != NULL || a != NULL) abort();
    } else {
        check_wrapped(q, '"', s);
        check_wrapped(l, '\'', s);
        char inner[64];
        snprintf(inner, sizeof inner, "sql_%s_u3", s);
        check_wrapped(a, '"', inner);
    }
    /* An affix outside [a-z0-9_] is refused whatever the name. */
    if (ident_quote_affixed(p, "x\"", s, "") != NULL || ident_quote_affixed(p, "", s, ";") != NULL) abort();
    api_error err;
    bool t = ident_table_ok(s, "name", &err);
    if (t != (valid && strncmp(s, "pg_", 3) != 0 && strcmp(s, "information_schema") != 0)) abort();
    if (!t && (err.status != 422 || strcmp(err.field, "name") != 0)) abort();
    bool c = ident_column_ok(s, "col", &err);
    if (c != (valid && !reserved_column(s))) abort();
    if (!c && (err.status != 422 || strcmp(err.field, "col") != 0)) abort();
}

/* The DDL may only hold: quoted valid names, the fixed words of the
 * statement and the type table (lower-case letters, digits, '_', blanks,
 * parentheses, commas). A ';', a single quote, a backslash or any other
 * byte would mean request text reached the SQL outside a quoted name. */
static void check_ddl(const char *ddl) {
    int in_quote = 0;
    for (const char *c = ddl; *c; c++) {
        if (*c == '"') {
            in_quote = !in_quote;
            continue;
        }
        if (in_quote) {
            if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_')) abort();
            continue;
        }
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_' ||
              *c == ' ' || *c == '\n' || *c == '(' || *c == ')' || *c == ',' || *c == '.'))
            abort();
    }
    if (in_quote) abort();
}

static void check_spec(pool *p, const uint8_t *data, size_t size) {
    json_t *root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (root == NULL) return;
    table_spec spec;
    api_error err;
    if (!table_spec_parse(root, &spec, &err)) {
        if (err.status != 422) abort();
        json_decref(root);
        return;
    }
    if (spec.ncols < 1 || spec.ncols > TABLE_COLUMNS_MAX) abort();
    if (!ident_table_ok(spec.name, "name", &err)) abort();
    for (size_t i = 0; i < spec.ncols; i++) {
        if (!ident_column_ok(spec.cols[i].name, "c", &err)) abort();
        if (col_type_name(spec.cols[i].type) == NULL) abort();
        for (size_t j = 0; j < i; j++)
            if (strcmp(spec.cols[i].name, spec.cols[j].name) == 0) abort();
    }
    char *ddl = table_spec_ddl(p, &spec);
    if (ddl == NULL) abort();
    check_ddl(ddl);
    strbuf *b = strbuf_new();
    table_spec_columns_json(&spec, b);
    json_t *cols = json_loadb(b->data, b->len, 0, NULL);
    if (cols == NULL || !json_is_array(cols) || json_array_size(cols) != spec.ncols) abort();
    json_decref(cols);
    strbuf_free(b);
    json_decref(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    pool *p = pool_new();
    /* The bytes as one name (up to the first NUL), and as JSON. */
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    check_name(p, s);
    check_spec(p, data, size);
    free(s);
    pool_free(p);
    return 0;
}
