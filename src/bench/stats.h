/* stats.h — summary statistics of benchmark samples (latencies in any unit): mean, standard deviation, and
 * percentiles with linear interpolation between closest ranks, the same definition as numpy.percentile's default
 * ("linear", type 7 of Hyndman & Fan): for sorted x[0..n-1] and q in [0, 100], h = (n - 1) * q / 100 and the
 * result is x[floor(h)] + (h - floor(h)) * (x[floor(h) + 1] - x[floor(h)]).
 * Every function is pure (no allocation except accel_stats_summarize's scratch copy) and thread-safe. */
#ifndef ACCEL_BENCH_STATS_H
#define ACCEL_BENCH_STATS_H

#include "accel.h"

#include <stddef.h>

/* The summary `accel bench` reports for one configuration. */
typedef struct accel_stats {
    size_t n;
    double mean, stddev; /* stddev: sample standard deviation (n - 1 in the denominator; 0 when n < 2) */
    double min, max;
    double p50, p90, p99;
} accel_stats;

/* Arithmetic mean of x[0..n-1]; 0 when n == 0. */
double accel_stats_mean(const double *x, size_t n);

/* Percentile q (0..100) of ALREADY SORTED (ascending) x[0..n-1], numpy's default linear interpolation.
 * q is clamped to [0, 100]; 0 when n == 0. */
double accel_stats_percentile_sorted(const double *sorted, size_t n, double q);

/* Sorts x[0..n-1] ascending in place. */
void accel_stats_sort(double *x, size_t n);

/* Fills *out from x[0..n-1] (x is not modified; a sorted copy is made). Errors: ACCEL_ERR_INVALID_ARG (x or out
 * NULL with n > 0, out NULL, a NaN sample), ACCEL_ERR_OUT_OF_MEMORY. n == 0 gives all zeros and ACCEL_OK. */
accel_status accel_stats_summarize(const double *x, size_t n, accel_stats *out);

#endif
