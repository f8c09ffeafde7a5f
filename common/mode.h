/*
 * mode: what a mode file declares about itself.
 *
 * A mode file (fcgi-apps/<name>.c, its parts in fcgi-apps/<name>/) defines
 * one `const mode mode_<name>`: its routes, its settings and limits, its
 * schema and sentinel, its MCP tools, its routing needs (processes,
 * threads, streamed bodies). common/ only knows this shape, never a mode:
 * the list of modes is fcgi-apps/registry.c's (docs/architecture.md,
 * docs/adding-a-mode.md).
 */
#ifndef BACKEND_MODE_H
#define BACKEND_MODE_H

#include <stdbool.h>
#include <stddef.h>

#include "api_error.h"
#include "config.h"
#include "db.h"
#include "input.h"
#include "output.h"
#include "reply.h"
#include "request.h"

#define BACKEND_VERSION "0.1.0"

/* A handler answers one request: on success it fills out (status and JSON
 * body) and returns true; on failure it fills err and returns false, and
 * the caller renders the error. It is called once the serve loop has
 * parsed, authenticated and validated the request against the route's
 * declared input (route.input): in[i] is the validated value of
 * route.input[i]. A handler reads its inputs there, never from the raw
 * request (tests/arch/check.sh holds the mode files to it), so what a
 * route declares is all it takes. */
typedef bool (*handler_fn)(request *req, const input_value *in, reply *out, api_error *err);

struct tool;

typedef struct route {
    const char *method;  /* "GET", "POST", "DELETE", ...; GET also answers HEAD;
                              NULL: the path exists but takes no method (405
                              with an empty Allow, e.g. the file tier's ids) */
    const char *pattern; /* "/document/{namespace}/{key}": {x} captures a segment */
    handler_fn handler;
    /* For people and agents: a few words ("Read a document": the
     * operation's summary in /openapi.json, the tool's title) and what the
     * route does (the operation's and the tool's description). */
    const char *summary;
    const char *description;
    bool is_public;        /* true: no bearer token needed (GET /health, /openapi.json) */
    bool streams_body;     /* true: the handler reads the body itself, in
                           chunks, through req->body_read (no
                           BODY_MAX_BYTES; the handler sets its limit) */
    bool streams_response; /* true: the handler may stream its answer
                              (req->stream_write; an event stream), and
                              lighttpd passes it on as it comes
                              (server.stream-response-body = 2) */
    /* The route's input, declared once (input.h): path captures, query
     * parameters, the headers it honours, the body. The serve loop checks
     * all of it before the handler runs, and the route's tool publishes it
     * as its inputSchema. */
    const input_field *input;
    size_t ninput;
    bool body_optional;    /* an empty body is taken as {} */
    const char *body_type; /* the one Content-Type the body may have (else
                              415); NULL: not checked (a JSON body) */
    /* The success body, declared once (output.h): /openapi.json's response
     * schema and the tool's outputSchema. NULL with content_type. */
    const output_shape *output;
    /* The errors the handler itself answers (API_BIT set), beyond those
     * the declaration implies, which /openapi.json derives (route_errors,
     * fcgi-apps/openapi.c): auth unless public, a body's (400, 413, 415),
     * 422 for declared input, 412 for a declared If-Match, the database's
     * 503 when the mode has statements, 500. */
    unsigned long long errors;
    const char *content_type; /* the success body's type when it is not
                                 JSON (GET /metrics), for the document */
    int created;              /* true: success is 201 Created (a create, docs/api.md),
                                 else 200; checked against the handler by
                                 the generated client's test */
    unsigned also;            /* ROUTE_NOT_MODIFIED, ROUTE_OR_OK, ROUTE_ETAG */
    const struct tool *tool;  /* its MCP tool, or NULL */
} route;

/* route.also: 304 Not Modified, no body (a GET with If-None-Match naming
 * the current version); 200 with the created body's shape (a create that
 * found what it would have created: a dedup_key's live item); the answer
 * carries an ETag (one version of a document). */
#define ROUTE_NOT_MODIFIED 1u
#define ROUTE_OR_OK        2u
#define ROUTE_ETAG         4u
/* route.also: any valid token may call it, whatever its scopes, in a mode
 * that is otherwise root_only (GET /tokens/self). */
#define ROUTE_ANY_TOKEN 8u

/* An MCP tool: the /mcp door to one route (docs/mcp.md). A call runs the
 * route's handler through serve_dispatch, so validation, limits and errors
 * are the route's own. Its title and description are the route's summary
 * and description, its inputSchema the route's input (path, query and
 * body fields: path and query arguments fill the URI, the others the
 * body), its outputSchema the route's output. */
typedef struct tool {
    const char *name; /* "document_get" */
    unsigned hints;   /* TOOL_READ_ONLY | TOOL_DESTRUCTIVE | TOOL_IDEMPOTENT:
                         MCP's annotations (openWorldHint is always
                         false: a tool touches only this service) */
    /* For a route whose body is not JSON (the upload's raw bytes): the
     * tool's own description and arguments, which tools.c turns into the
     * body ("content", text or base64). NULL: the route's. */
    const char *description;
    const input_field *input;
    size_t ninput;
} tool;

/* route.tool = TOOL("document_get", TOOL_READ_ONLY | TOOL_IDEMPOTENT) */
#define TOOL(NAME, HINTS) (&(const tool){.name = (NAME), .hints = (HINTS)})

/* A tool's annotations (tool.hints), each true to what the tool does:
 * READ_ONLY: it changes nothing; DESTRUCTIVE: it may remove or overwrite
 * what was there (meaningful when not READ_ONLY); IDEMPOTENT: calling it
 * again with the same arguments has no further effect. */
#define TOOL_READ_ONLY   1u
#define TOOL_DESTRUCTIVE 2u
#define TOOL_IDEMPOTENT  4u

/* The number of elements of a declaration array. */
#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

typedef struct mode {
    const char *name;       /* "document": the executable is backend-<name> */
    const char *url_prefix; /* lighttpd routes paths under it to this mode */
    int processes;          /* FastCGI processes lighttpd starts for it */
    int threads;            /* workers per process (0 or 1: one); each
                                   worker answers one request at a time and
                                   has its own database connection */
    long db_budget_ms;      /* 0: DB_TIMEOUT_MS; else this mode's own budget */
    /* true: the mode's connections plan each prepared statement once
     * (plan_cache_mode = force_generic_plan) instead of letting PostgreSQL
     * plan it again for each execution whenever it guesses that the
     * values could change the plan. For a mode whose statements are all
     * index lookups by their parameters, where planning costs more than
     * running (docs/queue.md). Not for a mode with optional filters
     * (`$1 IS NULL OR ...`), which only a plan for the values removes. */
    bool generic_plans;
    /* The mode's schema as numbered steps: step N is migrations[N-1], NULL
     * ends the list. At start-up, under the schema lock, the steps the
     * database has not recorded in schema_migrations are run in order and
     * recorded (schema.h). A step, once released, is never changed: a
     * change is a new step at the end. NULL: no schema of its own. */
    const char *const *migrations;
    /* The mode's record, whose example (output.h, output_example) is its
     * sentinel's shape: an example of what it stores. */
    const output_shape *sentinel;
    const char *sentinel_note; /* one sentence on what the mode is for */
    const route *routes;
    size_t nroutes;
    /* Optional: checks what the mode needs besides the database (a
     * folder: config_folder_ready). Called at start-up, where a failure is
     * logged in one line, and before each of the mode's routes, which then
     * answer with the error. /health lists the folder of a SETTING_FOLDER
     * setting under "problems" (it carries no other mode's check). Returns
     * false with err set. */
    bool (*check)(api_error *err);
    /* Optional: periodic work (the file mode's TTL sweep), run by the
     * process's main thread every tick_seconds() seconds. */
    void (*tick)(void);
    long (*tick_seconds)(void);
    /* The mode's statements, NULL-ended: `backend-<mode> --sql NAME`
     * prints one, so make bench runs exactly what the service runs. */
    const db_stmt *const *statements;
    /* Optional: prints a statement the mode builds at run time (the sql
     * mode's per-table ones), `backend-<mode> --sql NAME ARG`; returns
     * false when it has no statement NAME or ARG does not fit it. */
    bool (*print_built_sql)(const char *name, const char *arg);
    bool streams_request_body; /* lighttpd passes bodies through as they
                                   arrive (server.stream-request-body = 2) */
    /* The mode's own environment variables (config.h), loaded and checked
     * at start-up by its executable, by backend-mcp and by
     * `backend-registry --check-config` (deploy/lib.sh). */
    const setting *settings;
    size_t nsettings;
    /* Optional, with streams_request_body: the loaded setting that bounds
     * the bodies the mode streams (lighttpd's own cap sits above it). */
    const long long *body_max;
    /* What the mode offers, in a few words ("documents"), for the MCP
     * server's instructions; NULL when it has nothing to add. */
    const char *topic;
    /* Optional: the data the mode stores, described in /openapi.json for
     * a request with a valid token (the sql mode's tables' rows), so that
     * a client generated from that document is typed by it. It reaches
     * the process that serves the document through the mode briefs
     * (registry.h), so that process uses it without carrying the mode. */
    const struct mode_describe *describe;
    /* Scopes (docs/security.md): the area its routes' scopes name; NULL:
     * the mode's name. root_only: only the root token may call its routes
     * (but those marked ROUTE_ANY_TOKEN); scoped tokens get 403. */
    const char *scope_area;
    bool root_only;
} mode;

/* mode.describe: one statement answering one row, one column: a JSON
 * object whose keys are values of the path capture `capture` (the tables'
 * names) and whose values are JSON Schemas, each what the declared output
 * shape `shape` is for that value (a row of that table). The document
 * then holds each schema as components.schemas[prefix + value] and, for
 * each value, a copy of every operation of the mode whose path has the
 * capture: the value in its place, `shape` turned into the value's
 * schema, operationId "<the operation's>__<value>". */
typedef struct mode_describe {
    const char *sql;
    const char *capture; /* "name" */
    const char *shape;   /* "SqlRow" */
    const char *prefix;  /* "sql_row_" */
} mode_describe;

/* Finds the route for req among m's routes, and stores its captures in
 * req->params. Returns NULL with 404 (no pattern matches) or 405 (a pattern
 * matches, not the method; err->allow lists the methods) in err.
 * *public_path tells whether the path is a public route's (no token needed
 * to be told its 405), or a /.well-known/ one (404 with no token). */
const route *mode_route(const mode *m, request *req, bool *public_path, api_error *err);

/* The FastCGI workers each process of m runs: .threads, at least one. */
static inline int mode_workers(const mode *m) { return m->threads > 1 ? m->threads : 1; }

#endif
