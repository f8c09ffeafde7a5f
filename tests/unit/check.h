/*
 * check.h: the unit tests' whole framework. Each CHECK prints a TAP line
 * ("ok N - ..." or "not ok N - ..."); tests/run.sh counts them.
 */
#ifndef BACKEND_CHECK_H
#define BACKEND_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_count, check_failed;

#define CHECK(cond, name)                                                                         \
    do {                                                                                          \
        check_count++;                                                                            \
        if (cond) {                                                                               \
            printf("ok %d - %s\n", check_count, name);                                            \
        } else {                                                                                  \
            check_failed++;                                                                       \
            printf("not ok %d - %s (%s:%d: %s)\n", check_count, name, __FILE__, __LINE__, #cond); \
        }                                                                                         \
    } while (0)

#define CHECK_STR(got, want, name) CHECK((got) != NULL && strcmp((got), (want)) == 0, name)

/* Ends main: the exit status tells whether every check passed. */
#define CHECK_DONE() (printf("1..%d\n", check_count), check_failed ? 1 : 0)

#endif
