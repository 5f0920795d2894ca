/* A tiny test helper for the C unit tests: CHECK records a failure and continues; RUN prints one line per test;
 * test_summary prints "N passed, N failed" and returns the exit code (non-zero if anything failed or nothing
 * ran). Each tests/unit/test_*.c is one ctest. */
#ifndef ACCEL_TEST_H
#define ACCEL_TEST_H

#include "accel.h"

#include <stdio.h>
#include <string.h>

static int test_checks_failed_;
static int test_cases_passed_, test_cases_failed_;

#define CHECK(cond)                                                                                                  \
    do {                                                                                                             \
        if (!(cond)) {                                                                                               \
            test_checks_failed_++;                                                                                   \
            fprintf(stderr, "  FAIL %s:%d: %s (last error: %s)\n", __FILE__, __LINE__, #cond, accel_last_error());  \
        }                                                                                                            \
    } while (0)

#define CHECK_INT_EQ(a, b)                                                                                           \
    do {                                                                                                             \
        long long va_ = (long long)(a), vb_ = (long long)(b);                                                        \
        if (va_ != vb_) {                                                                                            \
            test_checks_failed_++;                                                                                   \
            fprintf(stderr, "  FAIL %s:%d: %s == %s (%lld vs %lld)\n", __FILE__, __LINE__, #a, #b, va_, vb_);        \
        }                                                                                                            \
    } while (0)

#define CHECK_STR_EQ(a, b)                                                                                           \
    do {                                                                                                             \
        const char *sa_ = (a), *sb_ = (b);                                                                           \
        if (!sa_ || !sb_ || strcmp(sa_, sb_) != 0) {                                                                 \
            test_checks_failed_++;                                                                                   \
            fprintf(stderr, "  FAIL %s:%d: %s == %s (\"%s\" vs \"%s\")\n", __FILE__, __LINE__, #a, #b,              \
                    sa_ ? sa_ : "(null)", sb_ ? sb_ : "(null)");                                                     \
        }                                                                                                            \
    } while (0)

#define RUN(fn)                                                                                                      \
    do {                                                                                                             \
        int before_ = test_checks_failed_;                                                                           \
        fn();                                                                                                        \
        if (test_checks_failed_ == before_) {                                                                        \
            test_cases_passed_++;                                                                                    \
            printf("ok   %s\n", #fn);                                                                                \
        } else {                                                                                                     \
            test_cases_failed_++;                                                                                    \
            printf("FAIL %s\n", #fn);                                                                                \
        }                                                                                                            \
        fflush(stdout);                                                                                              \
    } while (0)

static inline int test_summary(void) {
    printf("%d passed, %d failed\n", test_cases_passed_, test_cases_failed_);
    return (test_cases_failed_ == 0 && test_cases_passed_ > 0) ? 0 : 1;
}

#endif
