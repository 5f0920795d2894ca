/* membw.h — the machine's memory bandwidth, measured in the benchmark's own process: the yardstick a decode step
 * (which streams every weight once per token) is held against.
 *
 * Two figures over buffers far larger than the caches, split into contiguous parts over n threads (the same thread
 * count as the model), each the median (and the best) of `reps` timed passes after one untimed pass that also
 * faults every page in:
 *  - copy: memcpy of `bytes` from one buffer to another; GB/s counts read + write (2 * bytes per pass), the way
 *    STREAM and tests/ops perf count a copy.
 *  - read: a sum of the 64-bit words of one buffer (`bytes` per pass) with the widest vector loads the CPU has
 *    (membw_kernels.h), nothing written: what a decode step does with its weights, so this is the figure the
 *    decode bound uses.
 * GB = 1e9 bytes. */
#ifndef ACCEL_BENCH_MEMBW_H
#define ACCEL_BENCH_MEMBW_H

#include "accel.h"

#include <stddef.h>
#include <stdint.h>

typedef struct bench_membw {
    size_t bytes;                    /* size of each buffer */
    int threads, reps;
    double copy_gbps, copy_gbps_max; /* (read + write) bytes / s: median and best pass */
    double read_gbps, read_gbps_max; /* read bytes / s: median and best pass */
    uint64_t checksum;               /* the read passes' sum (keeps the reads from being optimized away) */
    const char *read_isa;            /* the read kernel: "avx512", "avx2" or "portable" (membw_kernels.h) */
} bench_membw;

/* Measures both figures. bytes >= 1 MiB (rounded down to a multiple of 64 * threads), threads >= 1, reps >= 1.
 * The two buffers (2 * bytes) are allocated for the measurement and freed before it returns.
 * Errors: ACCEL_ERR_INVALID_ARG, ACCEL_ERR_OUT_OF_MEMORY (naming the size). */
accel_status bench_membw_measure(size_t bytes, int threads, int reps, bench_membw *out);

#endif
