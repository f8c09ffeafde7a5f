/*
 * The mode registry: every mode file in fcgi-apps/ (the Makefile writes
 * their list, build/gen/registry_modes.h: no hand-kept list). From it come
 * the lighttpd routing, the route list, the start-up check of every mode's
 * settings (backend-registry, fcgi-apps/generate.c), /health's mode list
 * (through the generated briefs) and the MCP tool list (backend-mcp).
 * The Makefile builds backend-<name> from fcgi-apps/<name>.c and
 * fcgi-apps/<name>/ (docs/adding-a-mode.md).
 */
#define _POSIX_C_SOURCE 200809L
#include "registry.h"

#include <pthread.h>
#include <string.h>

#include "registry_modes.h"

const mode *const mode_registry[] = {REGISTRY_MODES NULL};

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
        g_briefs[n].describe = (*m)->describe;
    }
}

const mode_brief *mode_briefs(void) {
    pthread_once(&g_briefs_once, briefs_build);
    return g_briefs;
}
