/* stats.c — mean, standard deviation and numpy-style percentiles of benchmark samples. */
#include "bench/stats.h"

#include "core/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double accel_stats_mean(const double *x, size_t n) {
    if (!x || n == 0) return 0.0;
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) sum += x[i];
    return sum / (double)n;
}

double accel_stats_percentile_sorted(const double *sorted, size_t n, double q) {
    if (!sorted || n == 0) return 0.0;
    if (!(q > 0.0)) q = 0.0; /* also catches NaN */
    if (q > 100.0) q = 100.0;
    double h = (double)(n - 1) * (q / 100.0); /* numpy: (n - 1) * quantile */
    size_t lo = (size_t)floor(h);
    if (lo >= n - 1) return sorted[n - 1];
    double t = h - (double)lo, a = sorted[lo], b = sorted[lo + 1], diff = b - a;
    /* numpy's _lerp: from the nearer end, so the result stays within [a, b] and is exact at the ends */
    return t >= 0.5 ? b - diff * (1.0 - t) : a + diff * t;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void accel_stats_sort(double *x, size_t n) {
    if (x && n > 1) qsort(x, n, sizeof *x, cmp_double);
}

accel_status accel_stats_summarize(const double *x, size_t n, accel_stats *out) {
    if (!out || (n > 0 && !x)) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_stats_summarize: NULL argument");
    memset(out, 0, sizeof *out);
    if (n == 0) return ACCEL_OK;
    for (size_t i = 0; i < n; i++)
        if (isnan(x[i])) return accel_set_error(ACCEL_ERR_INVALID_ARG, "accel_stats_summarize: sample %zu is NaN", i);
    double *s = malloc(sizeof *s * n);
    if (!s) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "accel_stats_summarize: out of memory");
    memcpy(s, x, sizeof *s * n);
    accel_stats_sort(s, n);
    out->n = n;
    out->mean = accel_stats_mean(s, n);
    double ss = 0.0;
    for (size_t i = 0; i < n; i++) ss += (s[i] - out->mean) * (s[i] - out->mean);
    out->stddev = n > 1 ? sqrt(ss / (double)(n - 1)) : 0.0;
    out->min = s[0];
    out->max = s[n - 1];
    out->p50 = accel_stats_percentile_sorted(s, n, 50.0);
    out->p90 = accel_stats_percentile_sorted(s, n, 90.0);
    out->p99 = accel_stats_percentile_sorted(s, n, 99.0);
    free(s);
    return ACCEL_OK;
}
