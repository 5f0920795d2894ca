/* A small fork-join thread pool: accel_threadpool_run() runs fn(arg, ith, nth) on every thread (the caller is
 * thread 0) and returns when all have finished. Workers spin briefly, then sleep on a condition variable, so
 * back-to-back ops of a graph don't pay a wake-up each while an idle pool costs no CPU. */
#ifndef ACCEL_CORE_THREADPOOL_H
#define ACCEL_CORE_THREADPOOL_H

#include "accel.h"

typedef struct accel_threadpool accel_threadpool;
typedef void (*accel_task_fn)(void *arg, int ith, int nth);

/* n_threads >= 1 (1 = no workers: run() calls fn inline). */
accel_status accel_threadpool_new(int n_threads, accel_threadpool **out);
void accel_threadpool_free(accel_threadpool *pool);
int accel_threadpool_size(const accel_threadpool *pool);
/* Not reentrant: fn must not call run() on the same pool. */
void accel_threadpool_run(accel_threadpool *pool, accel_task_fn fn, void *arg);

/* Splits [0, n) into nth nearly equal parts; part ith is [*begin, *end). */
static inline void accel_split_range(int64_t n, int ith, int nth, int64_t *begin, int64_t *end) {
    int64_t per = n / nth, rem = n % nth;
    *begin = ith * per + (ith < rem ? ith : rem);
    *end = *begin + per + (ith < rem ? 1 : 0);
}

/* Number of physical cores of this machine (>= 1), from the cached hardware detection (src/hw/cpu_info.c). */
int accel_physical_cores(void);

#endif
