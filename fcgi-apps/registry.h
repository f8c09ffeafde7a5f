/*
 * registry: the list of modes (fcgi-apps/registry.c), and what the mode
 * executables may know of the others without linking them.
 *
 * Only the executables that carry every mode link registry.c: backend-mcp
 * (its tools call every mode's handlers), backend-registry (the generator:
 * lighttpd's routing, the route list, the start-up check of every mode's
 * settings) and the unit tests. A mode executable (backend-<mode>) links its
 * own mode and common/ only, plus the table of mode briefs that
 * backend-registry generates at build time (build/gen/mode_briefs.c): that
 * is how /health lists every mode without carrying them.
 */
#ifndef BACKEND_REGISTRY_H
#define BACKEND_REGISTRY_H

#include "mode.h"

/* The registry: every mode compiled in, NULL-ended. */
extern const mode *const mode_registry[];

/* Returns the registered mode called name, or NULL. */
const mode *mode_find(const char *name);

/* What one mode executable knows of every mode: its name, and the folder
 * it needs (its SETTING_FOLDER setting, if any), for /health's problems. */
typedef struct mode_brief {
    const char *name;
    const char *folder_var; /* NULL when the mode needs no folder */
    const char *folder_default;
    const mode_describe *describe; /* the mode's (mode.h), or NULL */
} mode_brief;

/* Returns the briefs of every registered mode, in registry order, ended by
 * one whose name is NULL. Static: nobody frees it. registry.c builds them
 * from the registry; build/gen/mode_briefs.c (backend-registry
 * --briefs-c) holds the same as constants for the mode executables. */
const mode_brief *mode_briefs(void);

/* Paths lighttpd answers beside the modes' (generate.c routes them; the
 * OpenAPI document describes them): the MCP endpoint, the reference
 * page over /openapi.json and the web console. */
#define MCP_PATH     "/mcp"
#define DOCS_PATH    "/docs"
#define CONSOLE_PATH "/console"

/* The OpenAPI document of every registered mode's routes (JSON text,
 * static: nobody frees it). fcgi-apps/openapi.c builds it from the
 * registry; build/gen/openapi_doc.c (backend-registry --openapi-c) holds
 * the same text as a constant for the mode executables, as the briefs. */
const char *openapi_document(void);

#endif
