/* Shared infrastructure of the kernel unit tests (tests/unit/test_cpu_*.c, test_ref_ops.c): everything here is
 * static inline or a macro, so each test executable gets its own private copy and nothing is linked.
 *
 *   checks       CHECK(cond, fmt, ...) counts every check and reports a failure with a printf-style message;
 *                kt_summary(name) prints "<name>: N checks, N failures" and the "N passed, N failed" line the
 *                ctest/CI readers parse, and returns the exit code (non-zero on a failure or when nothing ran).
 *                Not defined when tests/test.h (CHECK(cond), RUN, test_summary) was included first: such a test
 *                keeps test.h's framework and uses the rest of this header.
 *   random       kt_urand() / kt_srand1(): xorshift64, uniform in [0, 1) / [-1, 1); kt_rng_seed(s) at the start
 *                of main keeps a test's own sequence.
 *   tensors      kt_tnew(): a hand-built tensor of any storage order with gaps between elements, filled by a
 *                value function, freed by kt_tfree(); kt_node_new() a contiguous output node; kt_contiguous()
 *                just the natural layout; kt_track() / kt_free_all() free a test's allocations in one go;
 *                element access by index (kt_toff, kt_tget, kt_tset, kt_tget_int, kt_tset_int, kt_next_index).
 *   accuracy     kt_nmse() and kt_nmse_limit().
 *   ISA levels   kt_isa_count(), kt_ctx_init() / kt_ctx_release(), and (with the checks) kt_run_all(), which
 *                runs a node's kernel at every ISA level this machine has with 1 and 3 threads.
 */
#ifndef ACCEL_KERNEL_TEST_H
#define ACCEL_KERNEL_TEST_H

#include "backends/cpu/cpu_kernels.h"
#include "core/tensor.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- checks (unless test.h is in use) ------------------------------------------------------------------------- */
#ifndef ACCEL_TEST_H
static int kt_checks = 0;
static int kt_failures = 0;

#define CHECK(cond, ...)                                                                                             \
    do {                                                                                                             \
        kt_checks++;                                                                                                 \
        if (!(cond)) {                                                                                               \
            kt_failures++;                                                                                           \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                                     \
            fprintf(stderr, __VA_ARGS__);                                                                            \
            fprintf(stderr, "\n");                                                                                   \
        }                                                                                                            \
    } while (0)

/* Prints the totals (the last line is "N passed, N failed", counting checks) and returns main's exit code. */
static inline int kt_summary(const char *name) {
    printf("%s: %d checks, %d failures\n", name, kt_checks, kt_failures);
    printf("%d passed, %d failed\n", kt_checks - kt_failures, kt_failures);
    return (kt_failures == 0 && kt_checks > 0) ? 0 : 1;
}
#endif

/* ---- deterministic random numbers (xorshift64) ----------------------------------------------------------------- */
static inline uint64_t *kt_rng_state_(void) {
    static uint64_t state = 0x9e3779b97f4a7c15ull;
    return &state;
}
static inline void kt_rng_seed(uint64_t seed) { *kt_rng_state_() = seed ? seed : 0x9e3779b97f4a7c15ull; }
static inline double kt_urand(void) { /* [0, 1) */
    uint64_t *s = kt_rng_state_();
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (double)(*s >> 11) / 9007199254740992.0;
}
static inline double kt_srand1(void) { return 2.0 * kt_urand() - 1.0; } /* [-1, 1) */

/* ---- allocation tracking: kt_track(p) remembers p, kt_free_all() frees everything remembered ----------------- */
typedef struct kt_allocs_ {
    void **p;
    size_t n, cap;
} kt_allocs_;
static inline kt_allocs_ *kt_allocs_get_(void) {
    static kt_allocs_ a;
    return &a;
}
static inline void *kt_track(void *p) {
    kt_allocs_ *a = kt_allocs_get_();
    if (!p) return p;
    if (a->n == a->cap) {
        const size_t cap = a->cap ? 2 * a->cap : 256;
        void **q = realloc(a->p, cap * sizeof *q);
        if (!q) return p; /* untracked: leaks, the test goes on */
        a->p = q, a->cap = cap;
    }
    a->p[a->n++] = p;
    return p;
}
static inline void kt_free_all(void) {
    kt_allocs_ *a = kt_allocs_get_();
    for (size_t i = 0; i < a->n; i++) free(a->p[i]);
    free(a->p);
    a->p = NULL, a->n = a->cap = 0;
}

/* ---- hand-built tensors ---------------------------------------------------------------------------------------- */
/* Sets t to dtype dt and `shape` with contiguous row-major strides; returns the bytes that layout spans (0 if
 * a dim is 0). Data is left alone. */
static inline int64_t kt_contiguous(accel_tensor *t, accel_dtype dt, int nd, const int64_t *shape) {
    t->dtype = dt;
    t->ndim = nd;
    int64_t s = (int64_t)accel_dtype_size(dt);
    for (int i = nd - 1; i >= 0; i--) {
        t->shape[i] = shape[i];
        t->stride[i] = s;
        s *= shape[i];
    }
    return s;
}

/* Byte offset of the element at idx (t->ndim entries); element access by index. */
static inline int64_t kt_toff(const accel_tensor *t, const int64_t *idx) {
    int64_t off = 0;
    for (int i = 0; i < t->ndim; i++) off += idx[i] * t->stride[i];
    return off;
}
static inline double kt_tget(const accel_tensor *t, const int64_t *idx) {
    return accel_load_f64((const char *)t->data + kt_toff(t, idx), t->dtype);
}
static inline void kt_tset(accel_tensor *t, const int64_t *idx, double v) {
    accel_store_f64((char *)t->data + kt_toff(t, idx), t->dtype, v);
}

/* Exact integer element at p (i8 / i32 / i64), not through double. */
static inline int64_t kt_load_int(const void *p, accel_dtype dt) {
    if (dt == ACCEL_I64) {
        int64_t v;
        memcpy(&v, p, 8);
        return v;
    }
    if (dt == ACCEL_I32) {
        int32_t v;
        memcpy(&v, p, 4);
        return v;
    }
    return *(const int8_t *)p;
}
static inline void kt_store_int(void *p, accel_dtype dt, int64_t v) {
    if (dt == ACCEL_I64) memcpy(p, &v, 8);
    else if (dt == ACCEL_I32) {
        int32_t w = (int32_t)v;
        memcpy(p, &w, 4);
    } else *(int8_t *)p = (int8_t)v;
}
static inline int64_t kt_tget_int(const accel_tensor *t, const int64_t *idx) {
    return kt_load_int((const char *)t->data + kt_toff(t, idx), t->dtype);
}
static inline void kt_tset_int(accel_tensor *t, const int64_t *idx, int64_t v) {
    kt_store_int((char *)t->data + kt_toff(t, idx), t->dtype, v);
}

/* Steps idx through shape in row-major order; false after the last index. */
static inline bool kt_next_index(int64_t *idx, const int64_t *shape, int nd) {
    for (int i = nd - 1; i >= 0; i--) {
        if (++idx[i] < shape[i]) return true;
        idx[i] = 0;
    }
    return false;
}

/* The value of each new element: kt_tnew calls it once per element, in row-major order of the logical shape. */
typedef double (*kt_value_fn)(accel_dtype dt, double amp);

/* Uniform in [-amp, amp) whatever the dtype. */
static inline double kt_uniform(accel_dtype dt, double amp) {
    (void)dt;
    return amp * kt_srand1();
}

typedef struct kt_tensor_ {
    accel_tensor t;
    void *mem;
} kt_tensor_;

/* A tensor of `shape` whose memory stores the dims in the order `order` (order[0] outermost; NULL = natural),
 * with `gap` unused elements after each element of the innermost stored dim (plus 64 spare bytes at the end),
 * filled with value(dt, amp). Free it with kt_tfree. */
static inline accel_tensor *kt_tnew(accel_dtype dt, int nd, const int64_t *shape, const int *order, int gap,
                                    kt_value_fn value, double amp) {
    kt_tensor_ *x = calloc(1, sizeof *x);
    accel_tensor *t = &x->t;
    t->dtype = dt;
    t->ndim = nd;
    int nat[ACCEL_MAX_DIMS];
    for (int i = 0; i < nd; i++) nat[i] = i;
    if (!order) order = nat;
    const int64_t es = (int64_t)accel_dtype_size(dt);
    int64_t s = es * (1 + gap);
    for (int k = nd - 1; k >= 0; k--) {
        t->shape[order[k]] = shape[order[k]];
        t->stride[order[k]] = s;
        s *= shape[order[k]];
    }
    x->mem = calloc(1, (size_t)(s > 0 ? s : es) + 64);
    t->data = x->mem;
    const int64_t n = accel_nelements(t);
    for (int64_t e = 0; e < n; e++) {
        int64_t off = 0, r = e;
        for (int d = nd - 1; d >= 0; d--) {
            off += (r % t->shape[d]) * t->stride[d];
            r /= t->shape[d];
        }
        accel_store_f64((char *)t->data + off, dt, value(dt, amp));
    }
    return t;
}

static inline void kt_tfree(accel_tensor *t) {
    if (!t) return;
    free(((kt_tensor_ *)(void *)t)->mem);
    free(t);
}

/* A contiguous output node of kt_tnew (value is still called once per element, with amp 0, so the random
 * sequence does not depend on how outputs are made); its memory starts as 0xff garbage so unwritten elements
 * show. */
static inline accel_tensor *kt_node_new(accel_op op, accel_dtype dt, int nd, const int64_t *shape, kt_value_fn value) {
    accel_tensor *t = kt_tnew(dt, nd, shape, NULL, 0, value, 0.0);
    memset(t->data, 0xff, accel_tensor_bytes_contiguous(t) + 1);
    t->op = op;
    return t;
}

/* ---- accuracy -------------------------------------------------------------------------------------------------- */
/* Normalized MSE  sum (out - ref)^2 / sum ref^2  of out's first n elements (out contiguous) against ref; NaN in
 * the output gives INFINITY. skip_equal: elements equal to ref (equal infinities too) count in neither sum. */
static inline double kt_nmse(const accel_tensor *out, const double *ref, int64_t n, bool skip_equal) {
    double num = 0, den = 0;
    const size_t es = accel_dtype_size(out->dtype);
    for (int64_t i = 0; i < n; i++) {
        const double o = accel_load_f64((const char *)out->data + (size_t)i * es, out->dtype);
        const double d = o - ref[i];
        if (skip_equal && o == ref[i]) continue;
        num += d * d;
        den += ref[i] * ref[i];
    }
    if (num != num) return INFINITY;
    return den > 0 ? num / den : num;
}

/* NMSE limit by output dtype: f32_limit for f32; f16 2e-6 and bf16 5e-5 (the final rounding alone gives ~1e-7
 * and ~5e-6). */
static inline double kt_nmse_limit(accel_dtype dt, double f32_limit) {
    return dt == ACCEL_F32 ? f32_limit : dt == ACCEL_F16 ? 2e-6 : 5e-5;
}

/* ---- ISA levels and contexts ----------------------------------------------------------------------------------- */
/* How many ISA levels to test when `best` is the machine's (cpu_detect_isa): levels 0 .. count-1, i.e. portable
 * up to best on x86, portable only on NEON machines. */
static inline int kt_isa_count(cpu_isa best) { return best == CPU_ISA_NEON ? 1 : (int)best + 1; }

/* A context for one ISA level and thread count, with its own thread pool (NULL if that failed). */
static inline accel_status kt_ctx_init(cpu_ctx *c, cpu_isa isa, int threads) {
    memset(c, 0, sizeof *c);
    c->isa = isa;
    c->n_threads = threads;
    const accel_status st = accel_threadpool_new(threads, &c->pool);
    if (st != ACCEL_OK) c->pool = NULL;
    return st;
}
static inline void kt_ctx_release(cpu_ctx *c) {
    accel_threadpool_free(c->pool);
    free(c->scratch);
    memset(c, 0, sizeof *c);
}

#ifndef ACCEL_TEST_H
/* Verifies one computed result; label names the node, ISA level and thread count. */
typedef void (*kt_check_fn)(const accel_tensor *dst, const char *label, void *user);

/* Runs dst's kernel from ops (the table cpu_register_* filled) at every ISA level up to best, with 1 and 3
 * threads, dst's memory reset to 0xff before each run; check(dst, label, user) verifies each result. */
static inline void kt_run_all(const cpu_op_entry *ops, cpu_isa best, accel_tensor *dst, kt_check_fn check,
                              void *user, const char *name) {
    const bool ok = ops[dst->op].supports && ops[dst->op].supports(dst);
    CHECK(ok, "%s: supports() refuses the node", name);
    if (!ok) return;
    const int threads[2] = {1, 3};
    for (int ii = 0; ii < kt_isa_count(best); ii++) {
        for (int ti = 0; ti < 2; ti++) {
            cpu_ctx ctx;
            kt_ctx_init(&ctx, (cpu_isa)ii, threads[ti]);
            memset(dst->data, 0xff, accel_tensor_bytes_contiguous(dst));
            char label[300];
            snprintf(label, sizeof label, "%s [%s, %d threads]", name, cpu_isa_name((cpu_isa)ii), threads[ti]);
            const accel_status st = ops[dst->op].compute(&ctx, dst);
            CHECK(st == ACCEL_OK, "%s: compute failed: %s", label, accel_last_error());
            if (st == ACCEL_OK) check(dst, label, user);
            kt_ctx_release(&ctx);
        }
    }
}
#endif

#endif
