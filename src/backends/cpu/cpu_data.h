/* Shared helpers of the CPU data-movement, pooling, reduction and interpolation kernels (cpu_data.c, cpu_pool.c,
 * cpu_reduce.c, cpu_interp.c).
 *
 * Conventions of these kernels: sources are read through their byte strides (any layout, broadcasting zero
 * strides included); dst is contiguous; float math is f32 (sums in double) and each result is rounded once when
 * stored in the output dtype. Work is split across ctx->pool by output rows.
 */
#ifndef ACCEL_CPU_DATA_H
#define ACCEL_CPU_DATA_H

#include "backends/cpu/cpu_kernels.h"
#include "core/error.h"

#include <string.h>

/* Op-group registration of the split files; cpu_register_data (cpu_data.c) calls all three. */
void cpu_register_pool(cpu_op_entry table[ACCEL_OP_COUNT]);   /* pool1d, pool2d */
void cpu_register_reduce(cpu_op_entry table[ACCEL_OP_COUNT]); /* sum, mean, max, argmax, cumsum, top_k(_indices) */
void cpu_register_interp(cpu_op_entry table[ACCEL_OP_COUNT]); /* interpolate */

/* SIMD helpers of cpu_reduce.c (cpu_reduce_avx2.c / cpu_reduce_avx512.c). The TOP_K scan: the first j < n with
 * !(x[j] <= thr) (a NaN value or threshold counts), or n. */
int64_t cpu_topk_skip_avx2(const float *x, int64_t n, float thr);
int64_t cpu_topk_skip_avx512(const float *x, int64_t n, float thr);
/* Max of x[0..n) ignoring NaNs (-inf for none), *has_nan set when x holds a NaN; and the first j with x[j] == v
 * (n if none). */
float cpu_max_f32_avx2(const float *x, int64_t n, bool *has_nan);
float cpu_max_f32_avx512(const float *x, int64_t n, bool *has_nan);
int64_t cpu_find_f32_avx2(const float *x, int64_t n, float v);
int64_t cpu_find_f32_avx512(const float *x, int64_t n, float v);

/* Threads the kernel will be run with (the pool's size, or 1 without a pool). */
static inline int cpu_data_nthreads(const cpu_ctx *ctx) { return ctx->pool ? accel_threadpool_size(ctx->pool) : 1; }

/* Runs fn on every thread of ctx's pool (inline when there is none). */
static inline void cpu_data_run(cpu_ctx *ctx, accel_task_fn fn, void *arg) {
    if (ctx->pool) accel_threadpool_run(ctx->pool, fn, arg);
    else fn(arg, 0, 1);
}

static inline bool cpu_data_is_float(accel_dtype dt) { return dt == ACCEL_F32 || dt == ACCEL_F16 || dt == ACCEL_BF16; }
static inline bool cpu_data_is_plain(accel_dtype dt) { return (unsigned)dt <= ACCEL_I64; }

/* One float element (f32, f16 or bf16) at p as f32. */
static inline float cpu_data_load_float(const char *p, accel_dtype dt) {
    if (dt == ACCEL_F32) {
        float v;
        memcpy(&v, p, 4);
        return v;
    }
    uint16_t h;
    memcpy(&h, p, 2);
    return dt == ACCEL_F16 ? accel_f16_to_f32(h) : accel_bf16_to_f32(h);
}

/* Stores v as one float element (f32, f16 or bf16, round to nearest even). */
static inline void cpu_data_store_float(char *p, accel_dtype dt, float v) {
    if (dt == ACCEL_F32) {
        memcpy(p, &v, 4);
        return;
    }
    uint16_t h = dt == ACCEL_F16 ? accel_f32_to_f16(v) : accel_f32_to_bf16(v);
    memcpy(p, &h, 2);
}

/* One integer element (i8, i32 or i64) at p, exactly. */
static inline int64_t cpu_data_load_int(const char *p, accel_dtype dt) {
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

/* Stores an int64 as i8/i32/i64, saturating (as float->int conversions do). */
static inline void cpu_data_store_int(char *p, accel_dtype dt, int64_t v) {
    if (dt == ACCEL_I64) {
        memcpy(p, &v, 8);
    } else if (dt == ACCEL_I32) {
        int32_t w = v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int32_t)v;
        memcpy(p, &w, 4);
    } else {
        *(int8_t *)p = (int8_t)(v > 127 ? 127 : v < -128 ? -128 : v);
    }
}

/* Byte offset of the row with flat index `row` (row-major over dims 0 .. ndim-2) for the given shape and strides;
 * a 0-d or 1-d tensor has the single row 0. */
static inline int64_t cpu_data_row_offset(int64_t row, const int64_t *shape, const int64_t *stride, int ndim) {
    int64_t off = 0;
    for (int d = ndim - 2; d >= 0; d--) {
        int64_t n = shape[d];
        off += (row % n) * stride[d];
        row /= n;
    }
    return off;
}

/* Byte offset of the element with flat index `idx` (row-major over every dim). */
static inline int64_t cpu_data_elem_offset(int64_t idx, const accel_tensor *t) {
    int64_t off = 0;
    for (int d = t->ndim - 1; d >= 0; d--) {
        int64_t n = t->shape[d];
        off += (idx % n) * t->stride[d];
        idx /= n;
    }
    return off;
}

/* Contiguous byte strides of t's shape (what dst always has; computed so kernels need not trust dst->stride). */
static inline void cpu_data_contiguous_strides(const accel_tensor *t, int64_t stride[ACCEL_MAX_DIMS]) {
    int64_t s = (int64_t)accel_dtype_size(t->dtype);
    for (int d = t->ndim - 1; d >= 0; d--) {
        stride[d] = s;
        s *= t->shape[d];
    }
}

/* dst has the given shape (ndim entries). */
static inline bool cpu_data_has_shape(const accel_tensor *t, int ndim, const int64_t *shape) {
    if (t->ndim != ndim) return false;
    for (int i = 0; i < ndim; i++)
        if (t->shape[i] != shape[i]) return false;
    return true;
}

#endif
