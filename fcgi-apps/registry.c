/*
 * The mode registry: one line per mode. From this list alone come the
 * lighttpd routing, the route list, the start-up check of every mode's
 * settings (backend-registry, fcgi-apps/generate.c), /health's mode list
 * (through the generated briefs) and the MCP tool list (backend-mcp).
 * The Makefile builds backend-<name> from fcgi-apps/<name>.c and
 * fcgi-apps/<name>/ (docs/adding-a-mode.md).
 */
#define _POSIX_C_SOURCE 200809L
#include "registry.h"

#include <pthread.h>
#include <string.h>

extern const mode mode_document;
extern const mode mode_file;
extern const mode mode_health;
extern const mode mode_queue;
extern const mode mode_sql;

/* One line per mode: make mode (tools/new-mode.sh) adds its line before
 * NULL, so clang-format must not join them. */
// clang-format off
const mode *const mode_registry[] = {
    &mode_document,
    &mode_file,
    &mode_health,
    &mode_queue,
    &mode_sql,
    NULL,
};
// clang-format on

const mode *mode_find(const char *name) {
    for (const mode *const *m = mode_registry; *m; m++)
        if (strcmp((*m)->name, name) == 0) return *m;
    return NULL;
}

enum { BRIEFS_MAX = sizeof mode_registry / sizeof mode_registry[0] };
static mode_brief g_briefs[BRIEFS_MAX];
static pthread_once_t g_briefs_once = PTHREAD_ONCE_INIT;

static void briefs_build(void) {
    size_t n = 0;
    for (const mode *const *m = mode_registry; *m; m++, n++) {
        g_briefs[n].name = (*m)->name;
        for (size_t i = 0; i < (*m)->nsettings; i++)
            if ((*m)->settings[i].kind == SETTING_FOLDER) {
                g_briefs[n].folder_var = (*m)->settings[i].name;
                g_briefs[n].folder_default = (*m)->settings[i].dflt;
                break;
            }
        g_briefs[n].describe_sql = (*m)->describe_sql;
    }
}

const mode_brief *mode_briefs(void) {
    pthread_once(&g_briefs_once, briefs_build);
    return g_briefs;
}
