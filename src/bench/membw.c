/* membw.c — threaded large-copy and large-read bandwidth (see membw.h). */
#include "bench/membw.h"

#include "backends/cpu/cpu_kernels.h"
#include "bench/membw_kernels.h"
#include "bench/stats.h"
#include "core/error.h"
#include "core/threadpool.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_THREADS 256

typedef struct membw_job {
    char *dst;
    const char *src;
    size_t bytes;              /* a multiple of 64 * nth: every part is whole cache lines */
    bool copy;                 /* copy, else read */
    uint64_t (*sum)(const void *p, size_t bytes);
    uint64_t sums[MAX_THREADS][8]; /* one cache line per thread: no false sharing */
} membw_job;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void membw_part(void *arg, int ith, int nth) {
    membw_job *j = arg;
    const size_t part = j->bytes / (size_t)nth, off = part * (size_t)ith;
    if (j->copy) {
        memcpy(j->dst + off, j->src + off, part);
        return;
    }
    j->sums[ith][0] = j->sum(j->src + off, part);
}

uint64_t membw_sum_portable(const void *p, size_t bytes) {
    /* independent sums so the loop is bound by loads, not by one addition chain */
    const uint64_t *w = p;
    uint64_t a = 0, b = 0, c = 0, d = 0;
    for (size_t i = 0; i < bytes / sizeof(uint64_t); i += 4) {
        a += w[i];
        b += w[i + 1];
        c += w[i + 2];
        d += w[i + 3];
    }
    return a + b + c + d;
}

/* The widest read kernel this CPU runs (ACCEL_CPU_ISA caps it, as it caps the CPU backend). */
static void pick_sum(membw_job *j, bench_membw *out) {
    j->sum = membw_sum_portable;
    out->read_isa = "portable";
#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
    const cpu_isa isa = cpu_detect_isa();
    if (isa == CPU_ISA_AVX512) {
        j->sum = membw_sum_avx512;
        out->read_isa = "avx512";
    } else if (isa == CPU_ISA_AVX2) {
        j->sum = membw_sum_avx2;
        out->read_isa = "avx2";
    }
#endif
}

/* One pass; returns its seconds. */
static double pass(accel_threadpool *pool, membw_job *j, bool copy) {
    j->copy = copy;
    const double t0 = now_s();
    accel_threadpool_run(pool, membw_part, j);
    return now_s() - t0;
}

accel_status bench_membw_measure(size_t bytes, int threads, int reps, bench_membw *out) {
    if (!out) return accel_set_error(ACCEL_ERR_INVALID_ARG, "bench_membw_measure: NULL argument");
    memset(out, 0, sizeof *out);
    if (threads < 1 || threads > MAX_THREADS || reps < 1 || reps > 1000 || bytes < ((size_t)1 << 20))
        return accel_set_error(ACCEL_ERR_INVALID_ARG,
                               "bench_membw_measure: invalid request (%zu bytes, %d threads, %d passes; need >= 1 MiB, "
                               "1..%d threads, 1..1000 passes)",
                               bytes, threads, reps, MAX_THREADS);
    const size_t unit = (size_t)64 * (size_t)threads;
    bytes -= bytes % unit;
    membw_job *j = calloc(1, sizeof *j);
    double *copy_s = malloc(sizeof *copy_s * (size_t)reps), *read_s = malloc(sizeof *read_s * (size_t)reps);
    void *src = NULL, *dst = NULL;
    accel_threadpool *pool = NULL;
    accel_status st = ACCEL_OK;
    if (!j || !copy_s || !read_s || posix_memalign(&src, 64, bytes) != 0 || posix_memalign(&dst, 64, bytes) != 0) {
        st = accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "bench: no memory for two %zu MiB bandwidth buffers",
                             bytes >> 20);
        goto done;
    }
    if ((st = accel_threadpool_new(threads, &pool)) != ACCEL_OK) goto done;
    pick_sum(j, out);
    j->src = src;
    j->dst = dst;
    j->bytes = bytes;
    memset(src, 1, bytes); /* fault every page in before any timing */
    memset(dst, 0, bytes);
    (void)pass(pool, j, true);
    (void)pass(pool, j, false);
    /* interleaved, so a drift of the machine touches both figures alike */
    for (int r = 0; r < reps; r++) {
        copy_s[r] = pass(pool, j, true);
        read_s[r] = pass(pool, j, false);
        for (int t = 0; t < threads; t++) out->checksum += j->sums[t][0];
    }
    accel_stats cs, rs;
    if ((st = accel_stats_summarize(copy_s, (size_t)reps, &cs)) != ACCEL_OK ||
        (st = accel_stats_summarize(read_s, (size_t)reps, &rs)) != ACCEL_OK)
        goto done;
    out->bytes = bytes;
    out->threads = threads;
    out->reps = reps;
    out->copy_gbps = 2.0 * (double)bytes / cs.p50 * 1e-9;
    out->copy_gbps_max = 2.0 * (double)bytes / cs.min * 1e-9;
    out->read_gbps = (double)bytes / rs.p50 * 1e-9;
    out->read_gbps_max = (double)bytes / rs.min * 1e-9;
done:
    accel_threadpool_free(pool);
    free(src);
    free(dst);
    free(copy_s);
    free(read_s);
    free(j);
    return st;
}
