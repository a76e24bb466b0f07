/* check.h - the smallest test harness, shared by the C unit tests: CHECK records a failure and carries on, so one run
 * reports every broken expectation; main returns check_status(). */
#ifndef FLAMEPROF_TEST_CHECK_H
#define FLAMEPROF_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures;

#define CHECK(cond)                                                                         \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);       \
            check_failures++;                                                               \
        }                                                                                   \
    } while (0)

/* CHECK with a printf-style account of what was seen. */
#define CHECKF(cond, ...)                                                                   \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);       \
            fprintf(stderr, __VA_ARGS__);                                                   \
            fputc('\n', stderr);                                                            \
            check_failures++;                                                               \
        }                                                                                   \
    } while (0)

/* Compares strings and shows both when they differ. */
#define CHECK_STR(got, want)                                                                \
    do {                                                                                    \
        const char *g_ = (got), *w_ = (want);                                               \
        if (!g_ || strcmp(g_, w_) != 0) {                                                   \
            fprintf(stderr, "%s:%d: CHECK_STR failed: %s\n--- got:\n%s\n--- want:\n%s\n",   \
                    __FILE__, __LINE__, #got, g_ ? g_ : "(null)", w_);                      \
            check_failures++;                                                               \
        }                                                                                   \
    } while (0)

static inline int check_status(const char *name)
{
    if (check_failures)
        fprintf(stderr, "%s: %d check(s) failed\n", name, check_failures);
    else
        printf("%s: all checks passed\n", name);
    return check_failures ? 1 : 0;
}

#endif
