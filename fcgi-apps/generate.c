/*
 * backend-registry: the one executable that links every mode's
 * declarations (and backend-mcp's settings) without serving any, for what
 * needs all of them at once. The mode executables carry only their own
 * mode (registry.h).
 *
 *   backend-registry --check-config   load and check the shared settings,
 *                                     every mode's and backend-mcp's; exit
 *                                     0, or 2 with one line naming the
 *                                     variable (deploy/lib.sh, at start-up)
 *   backend-registry --lighttpd-conf  print lighttpd's routing of every
 *                                     registered mode and of /mcp
 *                                     (lighttpd.conf includes it)
 *   backend-registry --routes         print "METHOD PATTERN public|auth" for
 *                                     every route of every mode ("-" for a
 *                                     route that takes no method);
 *                                     tests/integration/12-hostile.bats
 *                                     generates its matrix from it
 *   backend-registry --sql NAME [ARG] print any mode's statement (make bench)
 *   backend-registry --modes          print the registered modes' names
 *   backend-registry --tools          print every mode's MCP tools' names
 *   backend-registry --settings       print every mode's settings, one a
 *                                     line: "NAME<TAB>OWNER<TAB>DEFAULT<TAB>
 *                                     MEANING" (the docs' table, the
 *                                     direction check of make test)
 *   backend-registry --settings-md    the same as a markdown table
 *                                     (docs/configuration.md holds it;
 *                                     tests/arch/check.sh compares)
 *   backend-registry --briefs-c       print build/gen/mode_briefs.c, the
 *                                     table the mode executables link
 *                                     instead of the registry
 *   backend-registry --openapi        print the OpenAPI document of every
 *                                     route (fcgi-apps/openapi.c)
 *   backend-registry --openapi-c      print build/gen/openapi_doc.c: the
 *                                     same, for the mode executables
 *                                     (health serves /openapi.json)
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "http_status.h"
#include "mcp/settings.h"
#include "registry.h"
#include "serve.h"

/* Prints lighttpd's body settings: its own cap (KiB) sits just above the
 * largest body a route takes, so the modes' limits are the ones clients
 * meet; a mode that streams request bodies gets them as they come. */
static void print_body_limits(void) {
    long long largest = (long long)g_config.body_max_bytes;
    for (const mode *const *mp = mode_registry; *mp; mp++)
        if ((*mp)->body_max != NULL && *(*mp)->body_max > largest) largest = *(*mp)->body_max;
    printf("server.max-request-size = %lld\n", largest / 1024 + 64);
    for (const mode *const *mp = mode_registry; *mp; mp++)
        if ((*mp)->streams_request_body)
            printf("$HTTP[\"url\"] =~ \"^%s/\" {\n  server.stream-request-body = 2\n}\n", (*mp)->url_prefix);
}

/* Prints pattern as the body of an anchored lighttpd regex in a string: a
 * {capture} as one segment, every other character a literal. */
static void print_pattern_regex(const char *pattern) {
    for (const char *p = pattern; *p; p++) {
        const char *close = *p == '{' ? strchr(p, '}') : NULL;
        if (close != NULL) {
            printf("[^/]+");
            p = close;
        } else if (strchr(".+*?()[]|^$\\", *p) != NULL) {
            printf("\\\\%c", *p); /* a literal, escaped for the regex and the string */
        } else {
            putchar(*p);
        }
    }
}

/* A route that streams its answer (an event stream) is passed on as it
 * comes; lighttpd's default holds a response back until it ends. */
static void print_streamed_routes(void) {
    for (const mode *const *mp = mode_registry; *mp; mp++)
        for (size_t i = 0; i < (*mp)->nroutes; i++) {
            const route *r = &(*mp)->routes[i];
            if (!r->streams_response) continue;
            printf("$HTTP[\"url\"] =~ \"^");
            print_pattern_regex(r->pattern);
            printf("$\" {\n  server.stream-response-body = 2\n}\n");
        }
}

/* /mcp: proxied, streamed both ways, to backend-mcp (its own HTTP
 * server). lighttpd spawns and respawns it like a mode process: the
 * fastcgi.server entry inside the block exists only for that (its
 * prefix can never match inside this block), and it hands backend-mcp
 * its listening socket on fd 0. Setting fastcgi.server here also
 * replaces the catch-all "/" entry for /mcp. */
static void print_mcp_block(void) {
    printf(
        "$HTTP[\"url\"] == \"/mcp\" {\n"
        "  server.stream-request-body = 2\n"
        "  server.stream-response-body = 2\n"
        "  magnet.attract-response-start-to = ()\n"
        "  proxy.server = (\"\" => ((\"socket\" => var.backend_sockets + \"/mcp.sock-0\")))\n"
        "  fastcgi.server = (\"/mcp/spawn-only/\" => ((\n"
        "    \"bin-path\" => var.backend_wrap + var.backend_bin + \"/backend-mcp --listen-fd0\",\n"
        "    \"socket\" => var.backend_sockets + \"/mcp.sock\",\n"
        "    \"max-procs\" => 1,\n"
        "    \"check-local\" => \"disable\",\n"
        "  )))\n"
        "}\n");
}

/* /docs: Swagger UI's files (deploy/api-docs/node_modules, installed
 * pinned by deploy/install-deps.sh) and the page over /openapi.json
 * (deploy/api-docs/index.html), served by lighttpd itself: no mode
 * process, no other host. Nothing else under /docs is a file: the
 * condition leaves every other path to the catch-all's 404. */
static void print_docs_block(void) {
    printf(
        "$HTTP[\"url\"] =~ \"^%s(/ui/[A-Za-z0-9._-]+)?$\" {\n"
        "  fastcgi.server = ()\n"
        "  magnet.attract-response-start-to = (var.backend_root + \"/deploy/api-docs/request-id.lua\")\n"
        "  alias.url = (\"%s/ui/\" => var.backend_root + "
        "\"/deploy/api-docs/node_modules/swagger-ui-dist/\",\n"
        "    \"%s\" => var.backend_root + \"/deploy/api-docs/index.html\")\n"
        "  mimetype.assign = (\".html\" => \"text/html; charset=utf-8\", \".js\" => \"text/javascript; "
        "charset=utf-8\",\n"
        "    \".css\" => \"text/css; charset=utf-8\", \".png\" => \"image/png\", \".map\" => "
        "\"application/json\")\n"
        "  setenv.add-response-header = (\"X-Content-Type-Options\" => \"nosniff\")\n"
        "}\n",
        DOCS_PATH, DOCS_PATH, DOCS_PATH);
}

/* /console: the web console's page and files (deploy/console/index.html,
 * deploy/console/app/) and its pinned chart library (deploy/console/
 * node_modules/uplot/dist/, installed by deploy/install-deps.sh), served
 * by lighttpd itself like /docs. The page is strict about what it may
 * load and run (docs/console.md, "Security"): only this origin, in no
 * frame, no referrer, no sniffing. Only /console, /console/app/FILE and
 * /console/lib/FILE are files; every other path is the catch-all's 404. */
static void print_console_block(void) {
    printf(
        "$HTTP[\"url\"] =~ \"^%s(/(app|lib)/[A-Za-z0-9._-]+)?$\" {\n"
        "  fastcgi.server = ()\n"
        "  magnet.attract-response-start-to = (var.backend_root + \"/deploy/api-docs/request-id.lua\")\n"
        "  alias.url = (\"%s/lib/\" => var.backend_root + \"/deploy/console/node_modules/uplot/dist/\",\n"
        "    \"%s/app/\" => var.backend_root + \"/deploy/console/app/\",\n"
        "    \"%s\" => var.backend_root + \"/deploy/console/index.html\")\n"
        "  mimetype.assign = (\".html\" => \"text/html; charset=utf-8\", \".js\" => \"text/javascript; "
        "charset=utf-8\",\n"
        "    \".css\" => \"text/css; charset=utf-8\", \".svg\" => \"image/svg+xml\")\n"
        "  setenv.add-response-header = (\"X-Content-Type-Options\" => \"nosniff\",\n"
        "    \"Content-Security-Policy\" => \"default-src 'self'; frame-ancestors 'none'\",\n"
        "    \"Referrer-Policy\" => \"no-referrer\")\n"
        "}\n",
        CONSOLE_PATH, CONSOLE_PATH, CONSOLE_PATH, CONSOLE_PATH);
}

/* Prints fastcgi.server entries for every registered mode. lighttpd takes
 * the first prefix that matches, so the catch-all "/" (the mode whose
 * url_prefix is "/") comes last. */
static void print_fastcgi_servers(void) {
    printf("fastcgi.server = (\n");
    for (int pass = 0; pass < 2; pass++) {
        for (const mode *const *mp = mode_registry; *mp; mp++) {
            const mode *m = *mp;
            bool catch_all = strcmp(m->url_prefix, "/") == 0;
            if (catch_all != (pass == 1)) continue;
            printf(
                "  \"%s\" => ((\n"
                "    \"bin-path\" => var.backend_wrap + var.backend_bin + \"/backend-%s\",\n"
                "    \"socket\" => var.backend_sockets + \"/%s.sock\",\n"
                "    \"max-procs\" => %d,\n"
                "    \"check-local\" => \"disable\",\n"
                "    \"fix-root-scriptname\" => \"enable\",\n"
                "  )),\n",
                m->url_prefix, m->name, m->name, m->processes);
        }
    }
    printf(")\n");
}

/* Prints lighttpd's routing of every registered mode, /mcp, /docs and
 * /console. Paths are lighttpd variables that lighttpd.conf sets from the
 * environment; LISTEN_ADDR and PORT were validated by config_load. */
static void print_lighttpd_conf(void) {
    printf("server.bind = \"%s\"\nserver.port = %ld\n", g_config.listen_addr, g_config.port);
    print_body_limits();
    print_streamed_routes();
    print_mcp_block();
    print_docs_block();
    print_console_block();
    print_fastcgi_servers();
}

/* Prints "METHOD PATTERN PUBLIC" for every route of every registered mode,
 * one a line (PUBLIC is "public" or "auth"; a route that takes no method
 * prints "-"). The hostile-input matrix (tests/integration/12-hostile.bats)
 * is generated from it, so a new route is covered the day it exists. */
static void print_routes(void) {
    for (const mode *const *mp = mode_registry; *mp; mp++)
        for (size_t i = 0; i < (*mp)->nroutes; i++) {
            const route *r = &(*mp)->routes[i];
            printf("%s %s %s\n", r->method ? r->method : "-", r->pattern, r->is_public ? "public" : "auth");
        }
}

/* Prints one line per setting of settings. */
static void print_settings_of(const char *owner, const setting *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        printf("%s\t%s\t%s\t%s\n", s[i].name, owner, s[i].dflt, s[i].meaning ? s[i].meaning : "");
}

/* Prints one markdown table row per setting of settings. */
static void print_settings_md_of(const char *owner, const setting *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        printf("| `%s` | %s | %s%s%s | %s |\n", s[i].name, owner, s[i].dflt[0] ? "`" : "",
               s[i].dflt[0] ? s[i].dflt : "empty", s[i].dflt[0] ? "`" : "", s[i].meaning ? s[i].meaning : "");
}

/* Prints s as a C string literal (the briefs are plain ASCII). */
static void print_c_string(const char *s) {
    if (s == NULL) {
        printf("NULL");
        return;
    }
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') putchar('\\');
        putchar(*s);
    }
    putchar('"');
}

/* Prints d as a C expression: a pointer to a compound literal (static at
 * file scope), or NULL. */
static void print_describe_c(const mode_describe *d) {
    if (d == NULL) {
        printf("NULL");
        return;
    }
    printf("&(const mode_describe){");
    print_c_string(d->sql);
    printf(", ");
    print_c_string(d->capture);
    printf(", ");
    print_c_string(d->shape);
    printf(", ");
    print_c_string(d->prefix);
    printf("}");
}

/* Prints the C source of mode_briefs() for the mode executables. */
static void print_briefs_c(void) {
    printf(
        "/* Generated by backend-registry --briefs-c from fcgi-apps/registry.c: do not edit. */\n"
        "#include \"registry.h\"\n\n"
        "static const mode_brief briefs[] = {\n");
    for (const mode_brief *b = mode_briefs(); b->name; b++) {
        printf("    {");
        print_c_string(b->name);
        printf(", ");
        print_c_string(b->folder_var);
        printf(", ");
        print_c_string(b->folder_default);
        printf(", ");
        print_describe_c(b->describe);
        printf("},\n");
    }
    printf("    {NULL, NULL, NULL, NULL},\n};\n\nconst mode_brief *mode_briefs(void) { return briefs; }\n");
}

/* Prints build/gen/openapi_doc.c: the document as one C string, in
 * lines of source (a literal per line of JSON). */
static void print_openapi_c(void) {
    printf(
        "/* Generated by backend-registry --openapi-c from the registry: do not edit. */\n"
        "#include \"registry.h\"\n\n"
        "static const char text[] =\n");
    const char *s = openapi_document();
    while (*s) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s + 1) : strlen(s);
        printf("    \"");
        for (size_t i = 0; i < n; i++) {
            if (s[i] == '"' || s[i] == '\\') putchar('\\');
            if (s[i] == '\n')
                printf("\\n");
            else
                putchar(s[i]);
        }
        printf("\"\n");
        s += n;
    }
    printf("    \"\";\n\nconst char *openapi_document(void) { return text; }\n");
}

/* backend-registry --sql NAME [ARG]: the statement NAME of any mode, or
 * the one a mode builds from ARG. Returns the exit status. */
static int print_sql(int argc, char **argv) {
    if (argc > 3) {
        for (const mode *const *mp = mode_registry; *mp; mp++)
            if ((*mp)->print_built_sql && (*mp)->print_built_sql(argv[2], argv[3])) return 0;
        fprintf(stderr, "backend: no statement %s for %s\n", argv[2], argv[3]);
        return 2;
    }
    for (const mode *const *mp = mode_registry; *mp; mp++)
        for (const db_stmt *const *st = (*mp)->statements; st && *st; st++)
            if (strcmp((*st)->name, argv[2]) == 0) {
                printf("%s\n", (*st)->sql);
                return 0;
            }
    fprintf(stderr, "backend: no statement %s\n", argv[2]);
    return 2;
}

/* ---- Figures for the docs. tools/docs-blocks.sh writes what these print
 * into README.md and the docs, between markers (docs/testing.md,
 * "Generated docs"); make rewrites them, tests/arch/check.sh fails when
 * they differ. From the declarations alone, whatever the environment.
 *   --errors-md     the error table (api_error.h) as markdown
 *   --processes-md  each mode's processes, workers and connections
 *   --figures       "NAME VALUE" lines: counts (mode_settings: the
 *                   modes' and backend-mcp's, not the shared ones), and
 *                   per mode processes.MODE, workers.MODE,
 *                   connections.MODE ---- */

/* The PostgreSQL connections m's processes hold at most: each its
 * workers' and the spare ones (serve.h). */
static int mode_connections(const mode *m) {
    return m->processes * (mode_workers(m) + SERVE_SPARE_CONNECTIONS);
}

/* Prints the error table as markdown: status, code, when. */
static void print_errors_md(void) {
    printf("| status | error | when |\n|---|---|---|\n");
    for (int i = 0; i < API_E_COUNT; i++) {
        const api_error_kind *k = &api_error_kinds[i];
        printf("| %d %s | `%s` | %s |\n", k->status, http_reason(k->status), k->code, k->when);
    }
}

/* Prints each mode's processes, workers and connections as markdown, and
 * the sums. */
static void print_processes_md(void) {
    int procs = 0, conns = 0;
    printf("| mode | processes | workers each | PostgreSQL connections at most |\n|---|---|---|---|\n");
    for (const mode *const *mp = mode_registry; *mp; mp++) {
        const mode *m = *mp;
        printf("| %s | %d | %d | %d × (%d + %d) = %d |\n", m->name, m->processes, mode_workers(m),
               m->processes, mode_workers(m), SERVE_SPARE_CONNECTIONS, mode_connections(m));
        procs += m->processes;
        conns += mode_connections(m);
    }
    printf("| every mode | %d | | %d |\n", procs, conns);
}

/* Prints the figures, "NAME VALUE" a line. */
static void print_figures(void) {
    int modes = 0, routes = 0, tools = 0, settings = (int)mcp_nsettings, procs = 0, conns = 0;
    for (const mode *const *mp = mode_registry; *mp; mp++) {
        const mode *m = *mp;
        modes++, routes += (int)m->nroutes, settings += (int)m->nsettings;
        for (size_t i = 0; i < m->nroutes; i++) tools += m->routes[i].tool != NULL;
        procs += m->processes, conns += mode_connections(m);
        printf("processes.%s %d\nworkers.%s %d\nconnections.%s %d\n", m->name, m->processes, m->name,
               mode_workers(m), m->name, mode_connections(m));
    }
    printf("modes %d\nroutes %d\ntools %d\nmode_settings %d\nerrors %d\nprocesses %d\nconnections %d\n",
           modes, routes, tools, settings, (int)API_E_COUNT, procs, conns);
    printf("spare_connections %d\n", SERVE_SPARE_CONNECTIONS);
}

/* Prints the registered modes' names. */
static void print_modes(void) {
    for (const mode *const *mp = mode_registry; *mp; mp++) printf("%s\n", (*mp)->name);
}

/* Prints "MODE PROCESSES WORKERS": what each mode runs (make bench's
 * FastCGI floor runs as many; operations.md's connection sums). */
static void print_workers(void) {
    for (const mode *const *mp = mode_registry; *mp; mp++)
        printf("%s %d %d\n", (*mp)->name, (*mp)->processes, mode_workers(*mp));
}

/* Prints every mode's MCP tools' names. */
static void print_tools(void) {
    for (const mode *const *mp = mode_registry; *mp; mp++)
        for (size_t i = 0; i < (*mp)->nroutes; i++)
            if ((*mp)->routes[i].tool) printf("%s\n", (*mp)->routes[i].tool->name);
}

/* Prints every setting, a line each (--settings). */
static void print_settings(void) {
    for (const mode *const *mp = mode_registry; *mp; mp++)
        print_settings_of((*mp)->name, (*mp)->settings, (*mp)->nsettings);
    print_settings_of("mcp", mcp_settings, mcp_nsettings);
}

/* Prints every setting as docs/configuration.md's table. */
static void print_settings_md(void) {
    printf("| variable | declared by | default | meaning |\n|---|---|---|---|\n");
    for (const mode *const *mp = mode_registry; *mp; mp++)
        print_settings_md_of((*mp)->name, (*mp)->settings, (*mp)->nsettings);
    print_settings_md_of("backend-mcp", mcp_settings, mcp_nsettings);
}

/* Prints the OpenAPI document. */
static void print_openapi(void) { printf("%s\n", openapi_document()); }

/* What comes from the declarations alone, whatever the environment. */
static const struct {
    const char *cmd;
    void (*print)(void);
} declared[] = {
    {"--errors-md", print_errors_md}, {"--processes-md", print_processes_md},
    {"--figures", print_figures},     {"--briefs-c", print_briefs_c},
    {"--openapi", print_openapi},     {"--openapi-c", print_openapi_c},
    {"--modes", print_modes},         {"--workers", print_workers},
    {"--routes", print_routes},       {"--tools", print_tools},
    {"--settings", print_settings},   {"--settings-md", print_settings_md},
};

int main(int argc, char **argv) {
    const char *cmd = argc > 1 ? argv[1] : "";
    for (size_t i = 0; i < sizeof declared / sizeof declared[0]; i++)
        if (strcmp(cmd, declared[i].cmd) == 0) {
            declared[i].print();
            return 0;
        }
    /* The rest checks every setting first. */
    config_load();
    for (const mode *const *mp = mode_registry; *mp; mp++) settings_load((*mp)->settings, (*mp)->nsettings);
    settings_load(mcp_settings, mcp_nsettings);
    if (strcmp(cmd, "--check-config") == 0) return 0;
    if (strcmp(cmd, "--lighttpd-conf") == 0) {
        print_lighttpd_conf();
        return 0;
    }
    if (strcmp(cmd, "--sql") == 0 && argc > 2) return print_sql(argc, argv);
    fprintf(stderr,
            "usage: backend-registry --check-config | --lighttpd-conf | --routes | --sql NAME [ARG] |"
            " --modes | --workers | --tools | --settings | --settings-md | --briefs-c | --openapi | "
            "--openapi-c | --errors-md | --processes-md | --figures\n");
    return 2;
}
