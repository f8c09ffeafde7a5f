/* Unit tests: the startup options of a database connection (common/db.c)
 * and which modes plan their statements once (mode.generic_plans). */
#define _POSIX_C_SOURCE 200809L
#include <string.h>

#include "check.h"
#include "db.h"
#include "registry.h"

int main(void) {
    char buf[DB_OPTIONS_MAX];
    db_startup_options(buf, sizeof buf, 5000, false);
    CHECK(strcmp(buf, "-c statement_timeout=4000") == 0, "the server's timeout is four fifths of the budget");
    db_startup_options(buf, sizeof buf, 1, false);
    CHECK(strcmp(buf, "-c statement_timeout=1") == 0, "never 0 (which would mean no timeout at all)");
    db_startup_options(buf, sizeof buf, 30000, true);
    CHECK(strcmp(buf, "-c statement_timeout=24000 -c plan_cache_mode=force_generic_plan") == 0,
          "generic plans: the plan cache mode follows");
    db_startup_options(buf, sizeof buf, 2147483647L, true);
    CHECK(strstr(buf, "plan_cache_mode=force_generic_plan") != NULL, "the longest budget still fits");

    /* The queue's statements are index lookups by their parameters: one
     * plan each. The sql mode's list has optional filters ($n IS NULL OR
     * ...), which only a plan made for the values drops: never generic. */
    const mode *queue = mode_find("queue"), *sql = mode_find("sql");
    CHECK(queue != NULL && queue->generic_plans, "the queue plans its statements once");
    CHECK(sql != NULL && !sql->generic_plans, "the sql mode plans for the values");
    return CHECK_DONE();
}
