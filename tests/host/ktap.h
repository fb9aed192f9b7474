/*
 * ktap.h - the smallest KTAP producer for host unit tests: each CASE prints
 * `ok N - name` or `not ok N - name` with the failed checks as `    # `
 * lines, and ktap_finish() prints the plan and returns the exit status.
 */
#ifndef TESTS_HOST_KTAP_H
#define TESTS_HOST_KTAP_H

#include <stdio.h>

static int ktap_number, ktap_failed_cases, ktap_case_failures;
static const char *ktap_case_name;

#define CASE(name) for (ktap_begin(name); ktap_case_name; ktap_end())

static inline void ktap_begin(const char *name)
{
    if (ktap_number == 0)
        printf("KTAP version 1\n");
    ktap_case_name = name;
    ktap_case_failures = 0;
}

static inline void ktap_end(void)
{
    ktap_number++;
    if (ktap_case_failures)
        ktap_failed_cases++;
    printf("%sok %d - %s\n", ktap_case_failures ? "not " : "", ktap_number, ktap_case_name);
    ktap_case_name = NULL;
}

#define EXPECT(cond)                                                                    \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            ktap_case_failures++;                                                       \
            printf("    # EXPECT(%s) failed at %s:%d\n", #cond, __FILE__, __LINE__);    \
        }                                                                               \
    } while (0)

#define EXPECT_STR(got, want)                                                           \
    do {                                                                                \
        if (strcmp((got), (want)) != 0) {                                               \
            ktap_case_failures++;                                                       \
            printf("    # %s:%d: got \"%s\", want \"%s\"\n", __FILE__, __LINE__, (got), (want)); \
        }                                                                               \
    } while (0)

static inline int ktap_finish(void)
{
    printf("1..%d\n", ktap_number);
    return ktap_failed_cases ? 1 : 0;
}

#endif
