/* ref backend internals: the scalar oracle every other backend is tested against.
 *
 * Kernels are plain loops over arbitrary byte strides (sources and dst alike), every intermediate is a double
 * (integers: int64), and each result is rounded once when it is stored in the output dtype. Speed is not a goal;
 * being obviously right is. Each op group file fills its entries of the op table: the kernel and an honest
 * supports check (dtypes, shapes, params) so the kernel never sees a node it cannot compute.
 */
#ifndef ACCEL_REF_OPS_H
#define ACCEL_REF_OPS_H

#include "backends/backend.h"
#include "core/error.h"

typedef accel_status (*ref_kernel_fn)(accel_tensor *dst);
typedef bool (*ref_supports_fn)(const accel_tensor *dst);

typedef struct ref_op_entry {
    ref_kernel_fn compute;
    ref_supports_fn supports;
} ref_op_entry;

void ref_register_elementwise(ref_op_entry table[ACCEL_OP_COUNT]); /* cpy, binary, scale, unary */
void ref_register_matmul(ref_op_entry table[ACCEL_OP_COUNT]);
void ref_register_norm(ref_op_entry table[ACCEL_OP_COUNT]);        /* softmax, layer/rms/group/batch norm */
void ref_register_attention(ref_op_entry table[ACCEL_OP_COUNT]);   /* rope, attention */
void ref_register_conv_pool(ref_op_entry table[ACCEL_OP_COUNT]);   /* conv1d/2d, pool1d/2d */
void ref_register_data(ref_op_entry table[ACCEL_OP_COUNT]);        /* get_rows, concat, pad, reductions, top_k,
                                                                      cumsum, interpolate */

/* Whole-device entry points (ref_backend.c), also used by the unit test. */
bool ref_supports_node(const accel_tensor *node);
accel_status ref_compute_node(accel_tensor *node);

/* ---- dtype classes ------------------------------------------------------------------------------------------ */
static inline bool ref_is_float(accel_dtype d) { return d == ACCEL_F32 || d == ACCEL_F16 || d == ACCEL_BF16; }
static inline bool ref_is_int(accel_dtype d) { return d == ACCEL_I8 || d == ACCEL_I32 || d == ACCEL_I64; }
static inline bool ref_is_plain(accel_dtype d) { return ref_is_float(d) || ref_is_int(d); }

/* ---- N-d index iteration -------------------------------------------------------------------------------------
 * Usage:  int64_t idx[ACCEL_MAX_DIMS] = {0};
 *         if (n > 0) do { ... } while (ref_index_next(idx, shape, ndim));
 * Visits every index of `shape` in row-major order; a 0-d shape is visited once. */
static inline bool ref_index_next(int64_t *idx, const int64_t *shape, int ndim) {
    for (int i = ndim - 1; i >= 0; i--) {
        if (++idx[i] < shape[i]) return true;
        idx[i] = 0;
    }
    return false;
}

/* Byte offset of idx (t->ndim entries) in t. */
static inline int64_t ref_offset(const accel_tensor *t, const int64_t *idx) {
    int64_t off = 0;
    for (int i = 0; i < t->ndim; i++) off += idx[i] * t->stride[i];
    return off;
}

/* Byte offset in b of the element that numpy broadcasting maps to idx (an index of an ndim-dimensional shape,
 * right-aligned with b; b's size-1 dims repeat). */
static inline int64_t ref_offset_bcast(const accel_tensor *b, const int64_t *idx, int ndim) {
    int64_t off = 0;
    for (int i = 0; i < b->ndim; i++) {
        int64_t j = idx[ndim - b->ndim + i];
        if (b->shape[i] != 1) off += j * b->stride[i];
    }
    return off;
}

static inline double ref_load(const accel_tensor *t, int64_t off) {
    return accel_load_f64(accel_tensor_ptr(t) + off, t->dtype);
}
static inline void ref_store(accel_tensor *t, int64_t off, double v) {
    accel_store_f64(accel_tensor_ptr(t) + off, t->dtype, v);
}
/* Element i of a 1-d tensor (per-channel parameters). */
static inline double ref_load_1d(const accel_tensor *t, int64_t i) { return ref_load(t, i * t->stride[0]); }

/* Exact integer access for i8/i32/i64 (doubles cannot hold every int64). Stores saturate, like float->int. */
int64_t ref_load_i64(const void *p, accel_dtype d);
void ref_store_i64(void *p, accel_dtype d, int64_t v);

/* Copies one element of dtype d (same dtype both sides): exact for every plain dtype. */
static inline void ref_copy_elem(void *dst, const void *src, accel_dtype d) { memcpy(dst, src, accel_dtype_size(d)); }

/* ---- supports helpers ------------------------------------------------------------------------------------------ */
/* t exists, has a plain dtype, 0..ACCEL_MAX_DIMS dims and no negative size. */
bool ref_tensor_ok(const accel_tensor *t);
/* A float tensor of shape [n]. */
bool ref_is_float_vec(const accel_tensor *t, int64_t n);
/* dst has src's shape and the given dtype. */
bool ref_same_shape_dtype(const accel_tensor *dst, const accel_tensor *src, accel_dtype dtype);
/* Parameter slot that must be 0 or 1. */
static inline bool ref_is_bool_param(int32_t v) { return v == 0 || v == 1; }

#endif
