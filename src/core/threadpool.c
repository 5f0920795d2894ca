#include "core/threadpool.h"

#include "core/error.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct accel_threadpool {
    int n_threads;
    pthread_t *threads;
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    accel_task_fn fn;
    void *arg;
    atomic_uint generation; /* bumped for each run; workers wait for a change */
    atomic_int pending;     /* workers still running the current task */
    atomic_bool stop;
};

typedef struct worker_arg {
    accel_threadpool *pool;
    int ith;
} worker_arg;

static void *worker_main(void *p) {
    worker_arg wa = *(worker_arg *)p;
    free(p);
    accel_threadpool *pool = wa.pool;
    unsigned seen = 0;
    for (;;) {
        /* spin a little before sleeping: consecutive ops arrive microseconds apart */
        int spins = 0;
        while (atomic_load_explicit(&pool->generation, memory_order_acquire) == seen &&
               !atomic_load(&pool->stop) && spins < 20000) {
            spins++;
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
        }
        if (atomic_load_explicit(&pool->generation, memory_order_acquire) == seen && !atomic_load(&pool->stop)) {
            pthread_mutex_lock(&pool->mutex);
            while (atomic_load(&pool->generation) == seen && !atomic_load(&pool->stop))
                pthread_cond_wait(&pool->cond, &pool->mutex);
            pthread_mutex_unlock(&pool->mutex);
        }
        if (atomic_load(&pool->stop)) break;
        seen = atomic_load_explicit(&pool->generation, memory_order_acquire);
        pool->fn(pool->arg, wa.ith, pool->n_threads);
        atomic_fetch_sub_explicit(&pool->pending, 1, memory_order_release);
    }
    return NULL;
}

accel_status accel_threadpool_new(int n_threads, accel_threadpool **out) {
    if (!out || n_threads < 1 || n_threads > 1024)
        return accel_set_error(ACCEL_ERR_INVALID_ARG, "threadpool: n_threads must be in [1, 1024], got %d", n_threads);
    accel_threadpool *pool = calloc(1, sizeof *pool);
    if (!pool) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "threadpool: out of memory");
    pool->n_threads = n_threads;
    pthread_mutex_init(&pool->mutex, NULL);
    pthread_cond_init(&pool->cond, NULL);
    atomic_init(&pool->generation, 0);
    atomic_init(&pool->pending, 0);
    atomic_init(&pool->stop, false);
    if (n_threads > 1) {
        pool->threads = calloc((size_t)n_threads - 1, sizeof(pthread_t));
        if (!pool->threads) {
            free(pool);
            return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "threadpool: out of memory");
        }
        for (int i = 1; i < n_threads; i++) {
            worker_arg *wa = malloc(sizeof *wa);
            int rc = wa ? 0 : -1;
            if (wa) {
                wa->pool = pool;
                wa->ith = i;
                rc = pthread_create(&pool->threads[i - 1], NULL, worker_main, wa);
                if (rc) free(wa);
            }
            if (rc) {
                pool->n_threads = i; /* join what started */
                accel_threadpool_free(pool);
                return accel_set_error(ACCEL_ERR_DEVICE, "threadpool: cannot start thread %d: %s", i, strerror(rc));
            }
        }
    }
    *out = pool;
    return ACCEL_OK;
}

void accel_threadpool_free(accel_threadpool *pool) {
    if (!pool) return;
    pthread_mutex_lock(&pool->mutex);
    atomic_store(&pool->stop, true);
    pthread_cond_broadcast(&pool->cond);
    pthread_mutex_unlock(&pool->mutex);
    for (int i = 1; i < pool->n_threads; i++) pthread_join(pool->threads[i - 1], NULL);
    pthread_mutex_destroy(&pool->mutex);
    pthread_cond_destroy(&pool->cond);
    free(pool->threads);
    free(pool);
}

int accel_threadpool_size(const accel_threadpool *pool) { return pool ? pool->n_threads : 1; }

void accel_threadpool_run(accel_threadpool *pool, accel_task_fn fn, void *arg) {
    if (!pool || pool->n_threads == 1) {
        fn(arg, 0, 1);
        return;
    }
    pool->fn = fn;
    pool->arg = arg;
    atomic_store(&pool->pending, pool->n_threads - 1);
    pthread_mutex_lock(&pool->mutex);
    atomic_fetch_add_explicit(&pool->generation, 1, memory_order_release);
    pthread_cond_broadcast(&pool->cond);
    pthread_mutex_unlock(&pool->mutex);
    fn(arg, 0, pool->n_threads);
    while (atomic_load_explicit(&pool->pending, memory_order_acquire) > 0) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#else
        sched_yield();
#endif
    }
}
