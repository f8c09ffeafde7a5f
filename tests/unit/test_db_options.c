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

    /* A multi-host url: each host with its own port, in order. */
    db_host h[DB_HOSTS_MAX];
    int n = db_hosts("postgresql://a:5432,b:5433,c:5434/db?target_session_attrs=read-write", h, DB_HOSTS_MAX);
    CHECK(n == 3, "three hosts");
    CHECK(n == 3 && strcmp(h[0].host, "a") == 0 && strcmp(h[0].port, "5432") == 0, "the first host and port");
    CHECK(n == 3 && strcmp(h[2].host, "c") == 0 && strcmp(h[2].port, "5434") == 0, "the last host and port");
    n = db_hosts("host=a,b port=6000 dbname=x", h, DB_HOSTS_MAX);
    CHECK(n == 2 && strcmp(h[1].host, "b") == 0 && strcmp(h[1].port, "6000") == 0, "one port for every host");
    n = db_hosts("host=a,b,c port=1,2", h, DB_HOSTS_MAX);
    CHECK(n == -1, "ports that do not pair with the hosts");
    n = db_hosts("host=a,b hostaddr=127.0.0.1,127.0.0.2", h, DB_HOSTS_MAX);
    CHECK(n == 2 && strcmp(h[1].hostaddr, "127.0.0.2") == 0 && h[1].port[0] == '\0', "addresses pair too");
    CHECK(db_hosts("postgresql:///db", h, DB_HOSTS_MAX) == 0, "no host: the default socket");
    CHECK(db_hosts("not a url", h, DB_HOSTS_MAX) == 0, "unparsable: libpq says why when it connects");
    CHECK(db_hosts("host=a,b,c", h, 2) == 2, "at most max");
    CHECK(db_connect_timeout_ms("postgresql://a,b/db") == DB_CONNECT_TIMEOUT_MS, "the default per host");
    CHECK(db_connect_timeout_ms("postgresql://a,b/db?connect_timeout=3") == 3000, "the url's, in seconds");
    CHECK(db_connect_timeout_ms("host=a connect_timeout=1") == 2000, "1 s counts as 2, as in libpq");
    CHECK(db_connect_timeout_ms("host=a connect_timeout=0") == DB_CONNECT_TIMEOUT_MS, "0: the default");

    /* The queue's statements are index lookups by their parameters: one
     * plan each. The sql mode's list has optional filters ($n IS NULL OR
     * ...), which only a plan made for the values drops: never generic. */
    const mode *queue = mode_find("queue"), *sql = mode_find("sql");
    CHECK(queue != NULL && queue->generic_plans, "the queue plans its statements once");
    CHECK(sql != NULL && !sql->generic_plans, "the sql mode plans for the values");
    return CHECK_DONE();
}
