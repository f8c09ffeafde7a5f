/* Unit tests: the gauges a mode publishes for /metrics (common/metrics.c,
 * metrics_publish): shown by a scrape while under their time to live, text
 * up to METRICS_BOARD_BYTES taken and one byte more refused, label values
 * escaped. Without a run folder the slot is this process's own. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "metrics.h"
#include "strbuf.h"

static bool scrape_has(const char *needle) {
    strbuf *sb = strbuf_new();
    metrics_render(sb);
    bool found = strstr(sb->data, needle) != NULL;
    strbuf_free(sb);
    return found;
}

int main(void) {
    unsetenv("BACKEND_SOCKETS");
    metrics_init("unit");
    CHECK(metrics_publish_due(5), "nothing published yet: due");
    const char *g = "# HELP backend_unit_g A gauge.\n# TYPE backend_unit_g gauge\nbackend_unit_g 1\n";
    metrics_publish(g, strlen(g), 60);
    CHECK(scrape_has("backend_unit_g 1\n"), "a published gauge is in the scrape");
    CHECK(!metrics_publish_due(5), "just published: not due");

    /* METRICS_BOARD_BYTES exactly is taken; one byte more is not (the last
     * text stays). */
    char *big = malloc(METRICS_BOARD_BYTES + 2);
    memset(big, '#', METRICS_BOARD_BYTES + 1);
    memcpy(big, "# big\n", 6);
    big[METRICS_BOARD_BYTES - 1] = '\n';
    big[METRICS_BOARD_BYTES] = '\n';
    big[METRICS_BOARD_BYTES + 1] = '\0';
    metrics_publish(big, METRICS_BOARD_BYTES, 60);
    CHECK(scrape_has("# big\n") && !scrape_has("backend_unit_g 1"),
          "METRICS_BOARD_BYTES of text is published");
    metrics_publish(g, strlen(g), 60);
    metrics_publish(big, METRICS_BOARD_BYTES + 1, 60);
    CHECK(scrape_has("backend_unit_g 1\n") && !scrape_has("# big\n"), "one byte more is refused");
    free(big);

    /* The time to live: shown at its age, gone past it. */
    metrics_publish(g, strlen(g), 1);
    CHECK(scrape_has("backend_unit_g 1\n"), "shown while under its time to live");
    struct timespec pause = {2, 100000000};
    nanosleep(&pause, NULL);
    CHECK(!scrape_has("backend_unit_g"), "gone once older than its time to live");
    CHECK(metrics_publish_due(2) && !metrics_publish_due(5), "due once a period has passed, not before");

    strbuf *sb = strbuf_new();
    metrics_label_value(sb, "a\"b\\c\nd");
    CHECK_STR(sb->data, "\"a\\\"b\\\\c\\nd\"", "label values are quoted and escaped");
    strbuf_free(sb);
    return CHECK_DONE();
}
