/* Tests of the benchmark statistics (src/bench/stats.c) on known samples. Expected values are numpy 2.4's
 * np.percentile (default method "linear"), np.mean and np.std(ddof=1) of the same samples, so a different
 * percentile definition (nearest rank, lower, midpoint, ...) fails here. */
#include "bench/stats.h"
#include "test.h"

#include <math.h>

static bool near(double a, double b) { return fabs(a - b) <= 1e-12 * (fabs(b) > 1.0 ? fabs(b) : 1.0); }

#define CHECK_NEAR(a, b)                                                                                             \
    do {                                                                                                             \
        double a_ = (a), b_ = (b);                                                                                   \
        if (!near(a_, b_)) {                                                                                         \
            test_checks_failed_++;                                                                                   \
            fprintf(stderr, "  FAIL %s:%d: %s == %s (%.17g vs %.17g)\n", __FILE__, __LINE__, #a, #b, a_, b_);        \
        }                                                                                                            \
    } while (0)

static const double qs[] = {0, 25, 50, 90, 99, 100, 33.3};

/* Percentiles of an unsorted sample against numpy's. */
static void check_percentiles(const double *x, size_t n, const double *want) {
    double s[16];
    for (size_t i = 0; i < n; i++) s[i] = x[i];
    accel_stats_sort(s, n);
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) CHECK_NEAR(accel_stats_percentile_sorted(s, n, qs[i]), want[i]);
}

static void test_percentile_single(void) {
    const double x[] = {3.0};
    const double want[] = {3, 3, 3, 3, 3, 3, 3};
    check_percentiles(x, 1, want);
}

static void test_percentile_two(void) {
    const double x[] = {2, 1};
    const double want[] = {1.0, 1.25, 1.5, 1.9, 1.99, 2.0, 1.333};
    check_percentiles(x, 2, want);
}

static void test_percentile_odd(void) {
    const double x[] = {5, 1, 4, 2, 3};
    const double want[] = {1.0, 2.0, 3.0, 4.6, 4.96, 5.0, 2.332};
    check_percentiles(x, 5, want);
}

static void test_percentile_eleven(void) {
    const double x[] = {110, 10, 100, 20, 90, 30, 80, 40, 70, 50, 60};
    const double want[] = {10.0, 35.0, 60.0, 100.0, 109.0, 110.0, 43.3};
    check_percentiles(x, 11, want);
}

static void test_percentile_ties(void) {
    const double x[] = {0.5, 0.25, 8.0, 8.0, 1e-3, 7.5, 3.25};
    const double want[] = {0.001, 0.375, 3.25, 8.0, 8.0, 8.0, 0.49949999999999994};
    check_percentiles(x, 7, want);
}

static void test_percentile_edges(void) {
    const double x[] = {1, 2, 3};
    CHECK_NEAR(accel_stats_percentile_sorted(x, 3, -5.0), 1.0);  /* clamped */
    CHECK_NEAR(accel_stats_percentile_sorted(x, 3, 250.0), 3.0); /* clamped */
    CHECK_NEAR(accel_stats_percentile_sorted(x, 3, NAN), 1.0);   /* treated as 0 */
    CHECK_NEAR(accel_stats_percentile_sorted(x, 0, 50.0), 0.0);
    CHECK_NEAR(accel_stats_percentile_sorted(NULL, 3, 50.0), 0.0);
    CHECK_NEAR(accel_stats_mean(NULL, 0), 0.0);
}

static void test_summarize(void) {
    const double x[] = {0.5, 0.25, 8.0, 8.0, 1e-3, 7.5, 3.25};
    accel_stats st;
    CHECK(accel_stats_summarize(x, 7, &st) == ACCEL_OK);
    CHECK_INT_EQ(st.n, 7);
    CHECK_NEAR(st.mean, 3.928714285714286);
    CHECK_NEAR(st.stddev, 3.8096681707766322);
    CHECK_NEAR(st.min, 1e-3);
    CHECK_NEAR(st.max, 8.0);
    CHECK_NEAR(st.p50, 3.25);
    CHECK_NEAR(st.p90, 8.0);
    CHECK_NEAR(st.p99, 8.0);
    CHECK_NEAR(x[0], 0.5); /* the input is not sorted in place */

    const double y[] = {10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110};
    CHECK(accel_stats_summarize(y, 11, &st) == ACCEL_OK);
    CHECK_NEAR(st.mean, 60.0);
    CHECK_NEAR(st.stddev, 33.166247903554);
    CHECK_NEAR(st.p90, 100.0);
    CHECK_NEAR(st.p99, 109.0);

    const double one[] = {4.5};
    CHECK(accel_stats_summarize(one, 1, &st) == ACCEL_OK);
    CHECK_NEAR(st.stddev, 0.0);
    CHECK_NEAR(st.p99, 4.5);
}

static void test_summarize_bad_input(void) {
    accel_stats st;
    const double x[] = {1.0, NAN, 2.0};
    CHECK(accel_stats_summarize(x, 3, &st) == ACCEL_ERR_INVALID_ARG);
    CHECK(strstr(accel_last_error(), "NaN") != NULL);
    CHECK(accel_stats_summarize(NULL, 3, &st) == ACCEL_ERR_INVALID_ARG);
    CHECK(accel_stats_summarize(x, 1, NULL) == ACCEL_ERR_INVALID_ARG);
    CHECK(accel_stats_summarize(NULL, 0, &st) == ACCEL_OK);
    CHECK_INT_EQ(st.n, 0);
}

int main(void) {
    RUN(test_percentile_single);
    RUN(test_percentile_two);
    RUN(test_percentile_odd);
    RUN(test_percentile_eleven);
    RUN(test_percentile_ties);
    RUN(test_percentile_edges);
    RUN(test_summarize);
    RUN(test_summarize_bad_input);
    return test_summary();
}
