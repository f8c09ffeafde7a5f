/* Unit tests: declared inputs (input.h). For every route of every mode
 * that declares its input, each field's edges (at the limit, one over) go
 * through both doors, the route over HTTP (serve_dispatch) and its MCP tool
 * (tools_call), with no database: a request that passes validation
 * answers 503, one that does not is a 422 naming the field. The route's
 * tool publishes the declaration as its inputSchema, and every value the
 * test finds taken matches the field's published pattern and length. */
#define _POSIX_C_SOURCE 200809L
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config.h"
#include "fake_env.h"
#include "input.h"
#include "jspan.h"
#include "registry.h"
#include "serve.h"
#include "strbuf.h"
#include "tools.h"

/* A request's arguments: JSON values by field, as a tool's arguments are. */
static json_t *value_of(const input_field *f);

/* The k-th of distinct strings of at least min letters ("a", "b", ...,
 * "ba", ...): element k of an array, for items whose names must differ
 * (the sql mode's columns). */
static json_t *distinct_text(long long k, long long min) {
    char s[64], r[64];
    size_t n = 0;
    do {
        r[n++] = (char)('a' + k % 26);
        k /= 26;
    } while (k > 0 && n < 20);
    size_t len = 0;
    for (; (long long)len + (long long)n < min && len < 40; len++) s[len] = 'a';
    while (n > 0) s[len++] = r[--n];
    s[len] = '\0';
    return json_string(s);
}

/* The k-th object the declaration items (n) takes: its required and ANY
 * fields, plain strings distinct from the other elements'. */
static json_t *valid_object(const input_field *items, size_t n, long long k) {
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++) {
        const input_field *f = &items[i];
        if (!f->required && f->type != INPUT_ANY) continue;
        bool plain = f->type == INPUT_STRING && f->choices == NULL && f->example == NULL;
        json_object_set_new(o, f->name, plain ? distinct_text(k, f->min) : value_of(f));
    }
    return o;
}

/* n valid elements of f's array. */
static json_t *array_of(const input_field *f, long long n) {
    json_t *a = json_array();
    for (long long i = 0; i < n; i++) json_array_append_new(a, valid_object(f->items, f->nitems, i));
    return a;
}

/* count characters c. */
static json_t *repeat(char c, long long count) {
    char *s = malloc((size_t)count + 1);
    if (s == NULL) abort();
    memset(s, c, (size_t)count);
    s[count] = '\0';
    json_t *v = json_string(s);
    free(s);
    return v;
}

/* A value f takes. */
static json_t *value_of(const input_field *f) {
    switch (f->type) {
    case INPUT_INTEGER: return json_integer(f->min);
    case INPUT_STRING:
        if (f->choices) return json_string(f->choices[0]);
        if (f->example) return json_string(f->example);
        return repeat('a', f->min > 0 ? f->min : 1);
    case INPUT_ARRAY: return array_of(f, f->min);
    case INPUT_BOOLEAN: return json_true();
    case INPUT_ANY:
        if (f->example) return json_loads(f->example, 0, NULL);
        break;
    case INPUT_OBJECT: break;
    }
    return json_object();
}

/* What a door answered: the status and the error's field. */
typedef struct answer {
    int status;
    char field[80];
} answer;

static void field_of(const char *body, answer *a) {
    json_t *v = json_loads(body, 0, NULL);
    const char *f = v ? json_string_value(json_object_get(v, "field")) : NULL;
    snprintf(a->field, sizeof a->field, "%s", f ? f : "");
    json_decref(v);
}

/* Appends s percent-encoded enough for the test's values. */
static void put_text(strbuf *sb, json_t *v) {
    if (json_is_string(v)) {
        for (const char *p = json_string_value(v); *p; p++)
            if (strchr("?&=#%/ +", *p))
                strbuf_printf(sb, "%%%02X", (unsigned char)*p);
            else
                strbuf_append(sb, p, 1);
    } else {
        char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        strbuf_puts(sb, t);
        free(t);
    }
}

/* The HTTP door: args become r's path, query and body as declared. */
static answer over_http(const mode *m, const route *r, json_t *args) {
    strbuf *uri = strbuf_new();
    for (const char *p = r->pattern; *p;) {
        if (*p != '{') {
            strbuf_append(uri, p++, 1);
            continue;
        }
        const char *close = strchr(p, '}');
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(close - p - 1), p + 1);
        put_text(uri, json_object_get(args, name));
        p = close + 1;
    }
    json_t *body = json_object(), *whole = NULL;
    bool has_body = false;
    char sep = '?';
    const char *env[16] = {"REQUEST_METHOD",     r->method,   "REQUEST_URI", NULL,
                           "HTTP_AUTHORIZATION", "Bearer tok"};
    size_t nenv = 6;
    char header_names[8][64];
    size_t nheaders = 0;
    for (size_t i = 0; i < r->ninput; i++) {
        const input_field *f = &r->input[i];
        json_t *v = json_object_get(args, f->name);
        if (f->in == INPUT_BODY) has_body = true;
        if (f->in == INPUT_WHOLE) whole = v;
        if (v == NULL || f->in == INPUT_PATH || f->in == INPUT_WHOLE) continue;
        if (f->in == INPUT_HEADER && json_is_string(v) && nheaders < 8) {
            /* "If-Match" as the FastCGI parameter HTTP_IF_MATCH */
            char *h = header_names[nheaders++];
            size_t k = 0;
            const char *prefix = strcmp(f->name, "Content-Type") == 0 ? "" : "HTTP_";
            k = (size_t)snprintf(h, 64, "%s", prefix);
            for (const char *c = f->name; *c && k + 1 < 64; c++)
                h[k++] = *c == '-' ? '_' : (char)(*c & ~0x20);
            h[k] = '\0';
            if (strcmp(f->name, "Content-Type") == 0) snprintf(h, 64, "CONTENT_TYPE");
            env[nenv++] = h;
            env[nenv++] = json_string_value(v);
            continue;
        }
        if (f->in == INPUT_BODY) {
            json_object_set(body, f->name, v);
        } else {
            strbuf_printf(uri, "%c%s=", sep, f->name);
            sep = '&';
            put_text(uri, v);
        }
    }
    /* An argument the route does not declare goes in the body. */
    const char *k;
    json_t *v;
    json_object_foreach(args, k, v) {
        bool declared = false;
        for (size_t i = 0; i < r->ninput; i++) declared = declared || strcmp(r->input[i].name, k) == 0;
        if (!declared) json_object_set(body, k, v);
    }
    /* A whole body is its argument ({} when absent, so the edge tested is
     * the path's or the query's); a route whose body is one type (the
     * merge patch) is sent with it. */
    char *text = has_body                                 ? json_dumps(body, JSON_COMPACT)
                 : whole                                  ? json_dumps(whole, JSON_COMPACT | JSON_ENCODE_ANY)
                 : input_whole_field(r->input, r->ninput) ? strdup("{}")
                                                          : NULL;
    if (r->body_type != NULL) {
        env[nenv++] = "CONTENT_TYPE";
        env[nenv++] = r->body_type;
    }
    env[3] = uri->data;
    env[nenv] = NULL;
    pool *p = pool_new();
    request req;
    reply out;
    api_error err;
    reply_init(&out);
    if (request_parse(&req, p, fake_env_lookup, (void *)env, &err)) {
        req.body = text ? text : "";
        req.body_len = strlen(req.body);
        serve_dispatch(m, &req, &out);
    } else {
        reply_error(&out, &err);
    }
    answer a = {.status = out.status};
    field_of(out.body->data, &a);
    reply_release(&out);
    pool_free(p);
    free(text);
    json_decref(body);
    strbuf_free(uri);
    return a;
}

/* The MCP door: args are the arguments of r's tool. */
static answer over_mcp(const mode *m, const route *r, json_t *args) {
    tool_ref ref = {m, r, r->tool};
    char *msg = json_dumps(args, JSON_COMPACT);
    strbuf *out = strbuf_new();
    char detail[256];
    strbuf_puts(out, "{");
    answer a = {.status = tools_call(&ref, msg, jspan_root(msg, strlen(msg)), args, "Bearer tok", NULL, NULL,
                                     true, out, detail, sizeof detail)};
    strbuf_puts(out, "}");
    json_t *result = json_loads(out->data, 0, NULL);
    json_t *content = json_array_get(json_object_get(result, "content"), 0);
    field_of(content ? json_string_value(json_object_get(content, "text")) : "", &a);
    json_decref(result);
    strbuf_free(out);
    free(msg);
    return a;
}

/* The arguments every edge of r starts from: each path field, each
 * required field and each ANY field, taken values. */
static json_t *base_args(const route *r) {
    json_t *args = json_object();
    for (size_t i = 0; i < r->ninput; i++) {
        const input_field *f = &r->input[i];
        /* The body's form without its alone member (a queue batch). */
        if (f->alone) continue;
        if (f->in == INPUT_PATH || f->required || f->type == INPUT_ANY)
            json_object_set_new(args, f->name, value_of(f));
    }
    return args;
}

/* Sends base with f set to v (NULL: absent) through both doors; checks it
 * is taken (ok) or refused with a 422 naming f. An array is sent without
 * the route's optional fields (a batch stands alone). */
static void edge(const mode *m, const route *r, const input_field *f, json_t *v, bool ok, const char *what) {
    json_t *args = base_args(r);
    /* A member alone in its body is sent without the others. */
    if (f->alone)
        for (size_t i = 0; i < r->ninput; i++)
            if (r->input[i].in == INPUT_BODY) json_object_del(args, r->input[i].name);
    if (v)
        json_object_set(args, f->name, v);
    else
        json_object_del(args, f->name);
    char name[512];
    answer h = over_http(m, r, args);
    snprintf(name, sizeof name, "%s %s %s %s (HTTP): %s (got %d %s)", r->method, r->pattern, f->name, what,
             ok ? "taken" : "422 naming it", h.status, h.field);
    CHECK(ok ? h.status != 422 && h.status != 400 : h.status == 422 && strcmp(h.field, f->name) == 0, name);
    /* A header is no tool argument. */
    if (r->tool && f->in != INPUT_HEADER) {
        answer a = over_mcp(m, r, args);
        snprintf(name, sizeof name, "%s %s %s %s (MCP %s): %s (got %d %s)", r->method, r->pattern, f->name,
                 what, r->tool->name, ok ? "taken" : "422 naming it", a.status, a.field);
        CHECK(ok ? a.status != 422 && a.status != 400 : a.status == 422 && strcmp(a.field, f->name) == 0,
              name);
    }
    json_decref(args);
}

/* Checks a string taken (or refused) matches (or breaks) f's published
 * pattern and length, the schema's half of the rule. */
static void schema_agrees(const input_field *f, json_t *v, bool ok, const char *what) {
    if (f->type != INPUT_STRING || !json_is_string(v)) return;
    const char *s = json_string_value(v);
    bool fits = f->max <= 0 || (long long)strlen(s) <= f->max;
    fits = fits && (long long)strlen(s) >= f->min;
    if (f->choices) {
        bool listed = false;
        for (const char *const *c = f->choices; *c; c++) listed = listed || strcmp(*c, s) == 0;
        fits = fits && listed;
    }
    if (f->pattern) {
        regex_t re;
        if (regcomp(&re, f->pattern, REG_EXTENDED | REG_NOSUB) != 0) {
            CHECK(false, f->pattern);
            return;
        }
        fits = fits && regexec(&re, s, 0, NULL, 0) == 0;
        regfree(&re);
    }
    char name[256];
    snprintf(name, sizeof name, "%s %s: the published schema %s it", f->name, what, ok ? "takes" : "refuses");
    CHECK(fits == ok, name);
}

static void walk_field(const mode *m, const route *r, const input_field *f) {
    char what[96];
    json_t *v;
    long long over;
#define EDGE(VALUE, OK, ...)                      \
    do {                                          \
        v = (VALUE);                              \
        snprintf(what, sizeof what, __VA_ARGS__); \
        edge(m, r, f, v, OK, what);               \
        schema_agrees(f, v, OK, what);            \
        json_decref(v);                           \
    } while (0)
    switch (f->type) {
    case INPUT_INTEGER:
        EDGE(json_integer(f->min), true, "= %lld (its minimum)", f->min);
        EDGE(json_integer(f->max), true, "= %lld (its maximum)", f->max);
        EDGE(json_integer(f->min - 1), false, "= %lld (one under)", f->min - 1);
        /* A body's numbers are doubles (json.h): past 2^53 the next one
         * is 2 away. */
        over = f->max + (f->in == INPUT_BODY && f->max >= (1LL << 53) ? 2 : 1);
        EDGE(json_integer(over), false, "= %lld (one over)", over);
        if (f->in == INPUT_BODY) {
            EDGE(json_real(1.5), false, "= 1.5");
            EDGE(json_string("1"), false, "= \"1\"");
            EDGE(json_true(), false, "= true");
            EDGE(json_array(), false, "= []");
            if (!f->required) EDGE(json_null(), true, "= null (its default)");
        } else {
            EDGE(json_string("1.5"), false, "= \"1.5\"");
            EDGE(json_string("x"), false, "= \"x\"");
        }
        break;
    case INPUT_STRING:
        if (f->choices) {
            for (const char *const *c = f->choices; *c; c++) EDGE(json_string(*c), true, "= %s", *c);
            EDGE(json_sprintf("x%s", f->choices[0]), false, "= x%s (not a choice)", f->choices[0]);
        }
        if (f->max > 0) {
            EDGE(repeat('a', f->max), true, "of %lld characters (its maximum)", f->max);
            EDGE(repeat('a', f->max + 1), false, "of %lld characters (one over)", f->max + 1);
        }
        if (f->min > 0 && f->in != INPUT_PATH)
            EDGE(repeat('a', f->min - 1), false, "of %lld characters (one under)", f->min - 1);
        if (f->example) EDGE(json_string(f->example), true, "= its example");
        /* A field with a rule of its own refuses its example made longer. */
        if (f->example && (f->check || f->pattern))
            EDGE(json_sprintf("%s0", f->example), false, "= its example and one character more");
        if (f->pattern && f->in != INPUT_PATH) EDGE(json_string("-"), false, "= \"-\" (off its pattern)");
        if (f->in == INPUT_BODY) EDGE(json_integer(1), false, "= 1 (not a string)");
        if (f->in == INPUT_BODY && f->required) EDGE(NULL, false, "absent (required)");
        break;
    case INPUT_BOOLEAN:
        EDGE(json_true(), true, "= true");
        EDGE(json_false(), true, "= false");
        if (f->in == INPUT_BODY) EDGE(json_string("true"), false, "= \"true\" (not a boolean)");
        if (f->in != INPUT_BODY) EDGE(json_string("yes"), false, "= \"yes\"");
        break;
    case INPUT_ARRAY:
        EDGE(array_of(f, f->min), true, "of %lld items (its minimum)", f->min);
        EDGE(array_of(f, f->max), true, "of %lld items (its maximum)", f->max);
        if (f->min > 0) EDGE(array_of(f, f->min - 1), false, "of %lld items (one under)", f->min - 1);
        EDGE(array_of(f, f->max + 1), false, "of %lld items (one over)", f->max + 1);
        EDGE(json_object(), false, "= {} (not an array)");
        break;
    case INPUT_ANY:
        if (f->example)
            EDGE(json_loads(f->example, 0, NULL), true, "= its example");
        else
            EDGE(json_pack("{s:[i]}", "any", 1), true, "= a JSON value");
        if (f->required) EDGE(NULL, false, "absent (required)");
        break;
    case INPUT_OBJECT: break;
    }
#undef EDGE
}

int main(void) {
    g_config.token = "tok";
    g_config.token_len = 3;
    g_config.db_timeout_ms = 100;
    g_config.database_url = "host=127.0.0.1 port=1 connect_timeout=1";
    g_config.body_max_bytes = 1 << 20;
    g_config.log_level = LOG_ERROR + 1; /* quiet */
    int routes = 0, tools = 0;
    for (const mode *const *mp = mode_registry; *mp; mp++) {
        for (size_t i = 0; i < (*mp)->nroutes; i++) {
            const route *r = &(*mp)->routes[i];
            tools += r->tool != NULL;
            if (r->input == NULL) continue;
            routes++;
            for (size_t j = 0; j < r->ninput; j++) walk_field(*mp, r, &r->input[j]);
            char name[512];
            if (input_has_body_members(r->input, r->ninput)) {
                static const input_field undeclared = {.name = "undeclared", .type = INPUT_ANY};
                json_t *args = base_args(r);
                json_object_set_new(args, "undeclared", json_integer(1));
                answer h = over_http(*mp, r, args);
                snprintf(name, sizeof name, "%s %s: an undeclared body field is 422 naming it", r->method,
                         r->pattern);
                CHECK(h.status == 422 && strcmp(h.field, undeclared.name) == 0, name);
                json_decref(args);
            }
        }
    }
    printf("# %d routes declare their input; %d tools publish it\n", routes, tools);
    CHECK(routes >= 20, "the routes declare their input");
    return CHECK_DONE();
}
