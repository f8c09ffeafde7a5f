/* Unit tests: the sql mode's one identifier path (ident.h) and table
 * definitions (tablespec.h): pure functions, no database. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>

#include "check.h"
#include "sql/filter.h"
#include "sql/ident.h"
#include "sql/tablespec.h"

/* The last definition parsed: spec's strings are borrowed from it. */
static json_t *g_last;

/* Parses a definition from JSON text; returns the status (0 when valid) and
 * leaves the error's field in field. */
static int spec_status(const char *text, table_spec *spec, char *field, size_t size) {
    json_error_t jerr;
    json_t *v = json_loads(text, JSON_ALLOW_NUL, &jerr);
    api_error err = {0};
    int status = 0;
    if (v == NULL) return -1;
    if (!table_spec_parse(v, spec, &err)) status = err.status;
    snprintf(field, size, "%s", status ? err.field : "");
    json_decref(g_last);
    g_last = v;
    return status;
}

static char *repeat(char c, size_t n) {
    char *s = malloc(n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

int main(void) {
    pool *p = pool_new();
    char *a48 = repeat('a', 48), *a49 = repeat('a', 49), *a1000 = repeat('a', 1000);

    CHECK(ident_valid("a"), "a single letter is valid");
    CHECK(ident_valid("builds_2024"), "letters, digits, underscores");
    CHECK(ident_valid(a48), "48 characters are valid");
    CHECK(!ident_valid(a49), "49 characters are not");
    CHECK(!ident_valid(a1000), "1000 characters are not");
    CHECK(!ident_valid(""), "empty is not");
    CHECK(!ident_valid(NULL), "NULL is not");
    CHECK(!ident_valid("X"), "a capital is not");
    CHECK(!ident_valid("1a"), "a leading digit is not");
    CHECK(!ident_valid("_a"), "a leading underscore is not");
    CHECK(!ident_valid("a-b"), "a dash is not");
    CHECK(!ident_valid("a b"), "a space is not");
    CHECK(!ident_valid("a\"b"), "a double quote is not");
    CHECK(!ident_valid("a'b"), "a single quote is not");
    CHECK(!ident_valid("x; drop table sentinels"), "SQL is not");
    CHECK(!ident_valid("\xd0\xb0"
                       "bc"),
          "a Cyrillic look-alike is not");
    CHECK(!ident_valid("caf\xc3"
                       "\xa9"),
          "a non-ASCII letter is not");

    CHECK_STR(ident_quote(p, "sha"), "\"sha\"", "quoting wraps in double quotes");
    CHECK_STR(ident_quote(p, "select"), "\"select\"", "a keyword is quoted like any name");
    CHECK(ident_quote(p, "a\"b") == NULL, "an invalid name does not quote");
    CHECK(ident_quote(p, "") == NULL, "empty does not quote");
    CHECK_STR(ident_quote_affixed(p, "sql_", "builds", ""), "\"sql_builds\"", "prefix");
    CHECK_STR(ident_quote_affixed(p, "sql__", "builds", "_u3"), "\"sql__builds_u3\"", "prefix and suffix");
    CHECK(ident_quote_affixed(p, "sql_\"", "builds", "") == NULL, "an affix with a quote is refused");
    CHECK(ident_quote_affixed(p, "sql_", "Builds", "") == NULL, "the name is still validated");
    CHECK_STR(ident_literal(p, "sha"), "'sha'", "a literal");
    CHECK(ident_literal(p, "a'b") == NULL, "a literal of an invalid name");

    api_error err = {0};
    CHECK(ident_table_ok("builds", "name", &err), "a table name");
    CHECK(!ident_table_ok("pg_class", "name", &err) && err.status == 422 && strcmp(err.field, "name") == 0,
          "pg_ names are reserved, 422 naming the field");
    CHECK(!ident_table_ok("information_schema", "name", &err), "information_schema is reserved");
    CHECK(ident_table_ok("pgx", "name", &err), "pgx is not reserved");
    CHECK(!ident_table_ok("X", "name", &err), "an invalid table name");
    CHECK(ident_column_ok("sha", "c", &err), "a column name");
    CHECK(!ident_column_ok("id", "c", &err) && strcmp(err.field, "c") == 0, "id is reserved");
    CHECK(!ident_column_ok("created_at", "c", &err), "created_at is reserved");
    CHECK(!ident_column_ok("xmin", "c", &err) && !ident_column_ok("ctid", "c", &err) &&
              !ident_column_ok("tableoid", "c", &err),
          "system columns are reserved");
    /* The row routes' query parameters (sql/filter.h): none may name a new
     * column, each refused naming the field. */
    for (const char *const *r = filter_reserved_names; *r; r++) {
        err.field[0] = '\0';
        CHECK(!ident_column_ok(*r, "columns[0].name", &err) && strcmp(err.field, "columns[0].name") == 0,
              "a reserved query parameter name is not a column name");
    }
    CHECK(ident_column_ok("counts", "c", &err) && ident_column_ok("selected", "c", &err),
          "names that only start like a reserved one are column names");

    col_type t;
    CHECK(col_type_parse("double", &t) && t == COL_DOUBLE && strcmp(col_type_sql(t), "double precision") == 0,
          "double is double precision");
    const char *types[] = {"text",    "integer",     "bigint", "double", "numeric",
                           "boolean", "timestamptz", "date",   "jsonb",  "uuid"};
    bool all = true;
    for (size_t i = 0; i < 10; i++)
        all = all && col_type_parse(types[i], &t) && strcmp(col_type_name(t), types[i]) == 0;
    CHECK(all, "every allowlisted type parses and names itself");
    CHECK(!col_type_parse("TEXT", &t) && !col_type_parse("varchar", &t) && !col_type_parse("text ", &t) &&
              !col_type_parse("", &t),
          "anything else is not a type");

    table_spec spec;
    char field[80];
    CHECK(spec_status(
              "{\"name\":\"builds\",\"columns\":[{\"name\":\"sha\",\"type\":\"text\",\"nullable\":false,"
              "\"unique\":true},{\"name\":\"ok\",\"type\":\"boolean\"}]}",
              &spec, field, sizeof field) == 0 &&
              spec.ncols == 2 && !spec.cols[0].nullable && spec.cols[0].unique && spec.cols[1].nullable &&
              !spec.cols[1].unique,
          "a definition parses, defaults nullable true and unique false");
    strbuf *b = strbuf_new();
    table_spec_columns_json(&spec, b);
    CHECK_STR(b->data,
              "[{\"name\":\"sha\",\"type\":\"text\",\"nullable\":false,\"unique\":true},"
              "{\"name\":\"ok\",\"type\":\"boolean\",\"nullable\":true,\"unique\":false}]",
              "the normalised columns");
    strbuf_free(b);
    CHECK_STR(table_spec_ddl(p, &spec),
              "CREATE TABLE \"sql_builds\" (id bigint GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME"
              " \"sql__builds_id\") CONSTRAINT \"sql__builds_pk\" PRIMARY KEY, \"sha\" text NOT NULL"
              " CONSTRAINT \"sql__builds_u1\" UNIQUE, \"ok\" boolean, created_at timestamptz NOT NULL"
              " DEFAULT now())",
              "the DDL");

    struct {
        const char *json, *field, *name;
    } bad[] = {
        {"[]", "body", "not an object"},
        {"{\"columns\":[{\"name\":\"a\",\"type\":\"text\"}]}", "name", "no name"},
        {"{\"name\":\"X\",\"columns\":[{\"name\":\"a\",\"type\":\"text\"}]}", "name", "bad name"},
        {"{\"name\":\"a\\u0000b\",\"columns\":[{\"name\":\"a\",\"type\":\"text\"}]}", "name", "NUL in name"},
        {"{\"name\":7,\"columns\":[{\"name\":\"a\",\"type\":\"text\"}]}", "name", "name not a string"},
        {"{\"name\":\"pg_x\",\"columns\":[{\"name\":\"a\",\"type\":\"text\"}]}", "name", "reserved name"},
        {"{\"name\":\"t\"}", "columns", "no columns"},
        {"{\"name\":\"t\",\"columns\":[]}", "columns", "zero columns"},
        {"{\"name\":\"t\",\"columns\":{}}", "columns", "columns not an array"},
        {"{\"name\":\"t\",\"columns\":[{\"name\":\"a\",\"type\":\"text\"}],\"x\":1}", "x", "unknown field"},
        {"{\"name\":\"t\",\"columns\":[1]}", "columns[0]", "a column not an object"},
        {"{\"name\":\"t\",\"columns\":[{\"type\":\"text\"}]}", "columns[0].name", "a column without a name"},
        {"{\"name\":\"t\",\"columns\":[{\"name\":\"id\",\"type\":\"text\"}]}", "columns[0].name",
         "column id"},
        {"{\"name\":\"t\",\"columns\":[{\"name\":\"a\\u0000\",\"type\":\"text\"}]}", "columns[0].name",
         "NUL in a column"},
        {"{\"name\":\"t\",\"columns\":[{\"name\":\"a\"}]}", "columns[0].type", "a column without a type"},
        {"{\"name\":\"t\",\"columns\":[{\"name\":\"a\",\"type\":\"text\\u0000x\"}]}", "columns[0].type",
         "NUL in a type"},
        {"{\"name\":\"t\",\"columns\":[{\"name\":\"a\",\"type\":\"serial\"}]}", "columns[0].type",
         "a type not allowed"},
        {"{\"name\":\"t\",\"columns\":[{\"name\":\"a\",\"type\":\"text\",\"unique\":1}]}",
         "columns[0].unique", "unique not a boolean"},
        {"{\"name\":\"t\",\"columns\":[{\"name\":\"a\",\"type\":\"text\",\"check\":\"1\"}]}",
         "columns[0].check", "unknown column field"},
        {"{\"name\":\"t\",\"columns\":[{\"name\":\"a\",\"type\":\"text\"},{\"name\":\"a\",\"type\":\"text\"}]"
         "}",
         "columns[1].name", "duplicate column"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char name[96];
        snprintf(name, sizeof name, "422 naming %s: %s", bad[i].field, bad[i].name);
        CHECK(spec_status(bad[i].json, &spec, field, sizeof field) == 422 && strcmp(field, bad[i].field) == 0,
              name);
    }

    /* 64 columns pass, 65 fail */
    strbuf *cols = strbuf_new();
    strbuf_puts(cols, "{\"name\":\"wide\",\"columns\":[");
    for (int i = 1; i <= 65; i++)
        strbuf_printf(cols, "%s{\"name\":\"c%d\",\"type\":\"integer\"}", i > 1 ? "," : "", i);
    strbuf_puts(cols, "]}");
    CHECK(spec_status(cols->data, &spec, field, sizeof field) == 422 && strcmp(field, "columns") == 0,
          "65 columns are refused");
    char *cut = strstr(cols->data, ",{\"name\":\"c65\"");
    strcpy(cut, "]}");
    CHECK(spec_status(cols->data, &spec, field, sizeof field) == 0 && spec.ncols == 64, "64 columns pass");
    char *ddl = table_spec_ddl(p, &spec);
    CHECK(ddl != NULL && strstr(ddl, "\"c64\" integer, created_at") != NULL, "64 columns in the DDL");
    strbuf_free(cols);

    json_decref(g_last);
    free(a48);
    free(a49);
    free(a1000);
    pool_free(p);
    return CHECK_DONE();
}
