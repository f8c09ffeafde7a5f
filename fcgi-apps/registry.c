/*
 * The mode registry: one line per mode. The Makefile builds an executable
 * for every fcgi-apps/<name>.c listed here; health reports these names and
 * lighttpd's routing is printed from them (docs/adding-a-mode.md).
 */
#include "mode.h"

extern const mode mode_document;
extern const mode mode_file;
extern const mode mode_health;
extern const mode mode_queue;
extern const mode mode_sql;

const mode *const mode_registry[] = {
    &mode_document,
    &mode_file,
    &mode_health,
    &mode_queue,
    &mode_sql,
    NULL,
};
