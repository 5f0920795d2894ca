/* ref: cpy (cont/cast), broadcasting binary ops, scale and unary activations. */
#include "backends/ref/ref_ops.h"

#include <math.h>

/* ---- cpy ------------------------------------------------------------------------------------------------------- */
/* Walks source and destination in logical (row-major) order side by side, so any source strides work and a
 * cpy may also reshape (equal element counts). Integer to integer goes through int64 (exact, saturating);
 * anything involving a float goes through double (float -> int truncates toward zero and saturates). */
static accel_status ref_cpy(accel_tensor *dst) {
    const accel_tensor *s = dst->src[0];
    int64_t n = accel_nelements(s);
    int64_t si[ACCEL_MAX_DIMS] = {0}, di[ACCEL_MAX_DIMS] = {0};
    const bool int_src = ref_is_int(s->dtype);
    for (int64_t k = 0; k < n; k++) {
        const char *sp = accel_tensor_ptr(s) + ref_offset(s, si);
        char *dp = accel_tensor_ptr(dst) + ref_offset(dst, di);
        if (int_src)
            ref_store_i64(dp, dst->dtype, ref_load_i64(sp, s->dtype));
        else
            accel_store_f64(dp, dst->dtype, accel_load_f64(sp, s->dtype));
        ref_index_next(si, s->shape, s->ndim);
        ref_index_next(di, dst->shape, dst->ndim);
    }
    return ACCEL_OK;
}

static bool ref_cpy_supports(const accel_tensor *dst) {
    const accel_tensor *s = dst->src[0];
    return s && accel_nelements(s) == accel_nelements(dst);
}

/* ---- binary with broadcasting ---------------------------------------------------------------------------------- */
static double ref_binary_apply(accel_op op, double a, double b) {
    switch (op) {
    case ACCEL_OP_ADD: return a + b;
    case ACCEL_OP_SUB: return a - b;
    case ACCEL_OP_MUL: return a * b;
    default: return a / b; /* ACCEL_OP_DIV: IEEE semantics (x/0 = inf, 0/0 = nan) as PyTorch */
    }
}

static accel_status ref_binary(accel_tensor *dst) {
    const accel_tensor *a = dst->src[0], *b = dst->src[1];
    int64_t idx[ACCEL_MAX_DIMS] = {0};
    if (accel_nelements(dst) > 0) do {
            double va = ref_load(a, ref_offset(a, idx));
            double vb = ref_load(b, ref_offset_bcast(b, idx, dst->ndim));
            ref_store(dst, ref_offset(dst, idx), ref_binary_apply(dst->op, va, vb));
        } while (ref_index_next(idx, dst->shape, dst->ndim));
    return ACCEL_OK;
}

static bool ref_binary_supports(const accel_tensor *dst) {
    const accel_tensor *a = dst->src[0], *b = dst->src[1];
    return a && b && ref_is_float(a->dtype) && ref_is_float(b->dtype) && ref_same_shape_dtype(dst, a, a->dtype) &&
           accel_can_broadcast(b, a);
}

/* ---- scale and unary ------------------------------------------------------------------------------------------- */
static double ref_sigmoid_f64(double x) { return 1.0 / (1.0 + exp(-x)); }

static double ref_unary_apply(const accel_tensor *dst, double x) {
    switch (dst->op) {
    case ACCEL_OP_SCALE: return x * (double)accel_param_f32(dst, 0) + (double)accel_param_f32(dst, 1);
    case ACCEL_OP_GELU: return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
    case ACCEL_OP_GELU_TANH: {
        const double k = sqrt(2.0 / M_PI);
        return 0.5 * x * (1.0 + tanh(k * (x + 0.044715 * x * x * x)));
    }
    case ACCEL_OP_QUICK_GELU: return x * ref_sigmoid_f64(1.702 * x);
    case ACCEL_OP_SILU: return x * ref_sigmoid_f64(x);
    case ACCEL_OP_RELU: return isnan(x) ? x : (x > 0 ? x : 0.0); /* NaN propagates, as torch.relu */
    case ACCEL_OP_TANH: return tanh(x);
    default: return ref_sigmoid_f64(x); /* ACCEL_OP_SIGMOID */
    }
}

static accel_status ref_unary(accel_tensor *dst) {
    const accel_tensor *a = dst->src[0];
    int64_t idx[ACCEL_MAX_DIMS] = {0};
    if (accel_nelements(dst) > 0) do {
            double x = ref_load(a, ref_offset(a, idx));
            ref_store(dst, ref_offset(dst, idx), ref_unary_apply(dst, x));
        } while (ref_index_next(idx, dst->shape, dst->ndim));
    return ACCEL_OK;
}

static bool ref_unary_supports(const accel_tensor *dst) {
    const accel_tensor *a = dst->src[0];
    return a && ref_is_float(a->dtype) && ref_same_shape_dtype(dst, a, a->dtype);
}

void ref_register_elementwise(ref_op_entry table[ACCEL_OP_COUNT]) {
    table[ACCEL_OP_CPY] = (ref_op_entry){ref_cpy, ref_cpy_supports};
    static const accel_op binary[] = {ACCEL_OP_ADD, ACCEL_OP_SUB, ACCEL_OP_MUL, ACCEL_OP_DIV};
    for (size_t i = 0; i < sizeof binary / sizeof binary[0]; i++)
        table[binary[i]] = (ref_op_entry){ref_binary, ref_binary_supports};
    static const accel_op unary[] = {ACCEL_OP_SCALE, ACCEL_OP_GELU, ACCEL_OP_GELU_TANH, ACCEL_OP_QUICK_GELU,
                                     ACCEL_OP_SILU,  ACCEL_OP_RELU, ACCEL_OP_TANH,      ACCEL_OP_SIGMOID};
    for (size_t i = 0; i < sizeof unary / sizeof unary[0]; i++)
        table[unary[i]] = (ref_op_entry){ref_unary, ref_unary_supports};
}
