/* ref: softmax (scale, additive broadcast mask, causal) and the normalizations: layer, RMS, group, batch. */
#include "backends/ref/ref_ops.h"

#include <math.h>
#include <stdlib.h>

/* ---- softmax --------------------------------------------------------------------------------------------------
 * y = softmax(x * scale + mask) over the last dim. A row whose every entry is -inf (fully masked) gives zeros,
 * not PyTorch's NaNs: a padded query row must not poison what follows. NaN inputs propagate as in PyTorch. */
static accel_status ref_softmax(accel_tensor *dst) {
    const accel_tensor *x = dst->src[0], *mask = dst->src[1];
    const int nd = dst->ndim;
    const double scale = accel_param_f32(dst, 0);
    const bool causal = dst->params[1] != 0;
    const int64_t ncols = dst->shape[nd - 1], nrows = nd >= 2 ? dst->shape[nd - 2] : 1;
    if (accel_nelements(dst) == 0) return ACCEL_OK;
    double *row = malloc((size_t)ncols * sizeof *row);
    if (!row) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "ref softmax: out of memory for a row of %lld",
                                     (long long)ncols);

    int64_t idx[ACCEL_MAX_DIMS] = {0}; /* idx[nd-1] is set per column */
    do {
        const int64_t i = nd >= 2 ? idx[nd - 2] : 0;
        double mx = -INFINITY;
        bool has_nan = false;
        for (int64_t j = 0; j < ncols; j++) {
            idx[nd - 1] = j;
            double v = ref_load(x, ref_offset(x, idx)) * scale;
            if (mask) v += ref_load(mask, ref_offset_bcast(mask, idx, nd));
            if (causal && j > i + (ncols - nrows)) v = -INFINITY;
            row[j] = v;
            if (isnan(v)) has_nan = true;
            else if (v > mx) mx = v;
        }
        idx[nd - 1] = 0;
        double sum = 0.0;
        for (int64_t j = 0; j < ncols; j++) {
            row[j] = has_nan ? NAN : mx == -INFINITY ? 0.0 : exp(row[j] - mx);
            sum += row[j];
        }
        for (int64_t j = 0; j < ncols; j++) {
            idx[nd - 1] = j;
            ref_store(dst, ref_offset(dst, idx), sum > 0 || has_nan ? row[j] / sum : 0.0);
        }
        idx[nd - 1] = 0;
    } while (ref_index_next(idx, dst->shape, nd - 1));
    free(row);
    return ACCEL_OK;
}

static bool ref_softmax_supports(const accel_tensor *dst) {
    const accel_tensor *x = dst->src[0], *mask = dst->src[1];
    if (!x || !ref_is_float(x->dtype) || x->ndim < 1 || !ref_same_shape_dtype(dst, x, x->dtype)) return false;
    if (mask && (!ref_is_float(mask->dtype) || !accel_can_broadcast(mask, x))) return false;
    return ref_is_bool_param(dst->params[1]);
}

/* ---- layer norm and RMS norm over the last dim -------------------------------------------------------------- */
static accel_status ref_row_norm(accel_tensor *dst) {
    const accel_tensor *x = dst->src[0], *w = dst->src[1];
    const accel_tensor *b = dst->op == ACCEL_OP_LAYER_NORM ? dst->src[2] : NULL;
    const bool rms = dst->op == ACCEL_OP_RMS_NORM;
    const double eps = accel_param_f32(dst, 0);
    const int nd = dst->ndim;
    const int64_t D = dst->shape[nd - 1];
    const int64_t sx = x->stride[nd - 1], sd = dst->stride[nd - 1];
    if (accel_nelements(dst) == 0) return ACCEL_OK;

    int64_t idx[ACCEL_MAX_DIMS] = {0};
    do {
        const int64_t xo = ref_offset(x, idx), dof = ref_offset(dst, idx);
        double mean = 0.0;
        if (!rms) {
            for (int64_t j = 0; j < D; j++) mean += ref_load(x, xo + j * sx);
            mean /= (double)D;
        }
        double var = 0.0; /* biased (divide by D), as torch.nn.LayerNorm; for RMS: mean of squares */
        for (int64_t j = 0; j < D; j++) {
            double d = ref_load(x, xo + j * sx) - mean;
            var += d * d;
        }
        var /= (double)D;
        const double inv = 1.0 / sqrt(var + eps);
        for (int64_t j = 0; j < D; j++) {
            double y = (ref_load(x, xo + j * sx) - mean) * inv;
            if (w) y *= ref_load_1d(w, j);
            if (b) y += ref_load_1d(b, j);
            ref_store(dst, dof + j * sd, y);
        }
    } while (ref_index_next(idx, dst->shape, nd - 1));
    return ACCEL_OK;
}

static bool ref_row_norm_supports(const accel_tensor *dst) {
    const accel_tensor *x = dst->src[0];
    if (!x || !ref_is_float(x->dtype) || x->ndim < 1 || !ref_same_shape_dtype(dst, x, x->dtype)) return false;
    const int64_t D = x->shape[x->ndim - 1];
    const int nparams = dst->op == ACCEL_OP_LAYER_NORM ? 2 : 1;
    for (int i = 1; i <= nparams; i++)
        if (dst->src[i] && !ref_is_float_vec(dst->src[i], D)) return false;
    return true;
}

/* ---- group norm and batch norm on [N, C, ...] ---------------------------------------------------------------- */
/* Offset of element (n, c, spatial index sp) of t, where sp indexes dims 2.. */
static int64_t ref_nc_offset(const accel_tensor *t, int64_t n, int64_t c, const int64_t *sp) {
    int64_t off = n * t->stride[0] + c * t->stride[1];
    for (int i = 2; i < t->ndim; i++) off += sp[i - 2] * t->stride[i];
    return off;
}

static int64_t ref_spatial_size(const accel_tensor *t) {
    int64_t s = 1;
    for (int i = 2; i < t->ndim; i++) s *= t->shape[i];
    return s;
}

static accel_status ref_group_norm(accel_tensor *dst) {
    const accel_tensor *x = dst->src[0], *w = dst->src[1], *b = dst->src[2];
    const int64_t N = x->shape[0], C = x->shape[1], G = dst->params[0], Cg = C / G;
    const double eps = accel_param_f32(dst, 1);
    const int nsp = x->ndim - 2;
    const int64_t S = ref_spatial_size(x);
    if (S == 0 || Cg == 0) return ACCEL_OK;

    for (int64_t n = 0; n < N; n++) {
        for (int64_t g = 0; g < G; g++) {
            const int64_t count = Cg * S;
            double mean = 0.0, var = 0.0;
            for (int64_t c = g * Cg; c < (g + 1) * Cg; c++) {
                int64_t sp[ACCEL_MAX_DIMS] = {0};
                do mean += ref_load(x, ref_nc_offset(x, n, c, sp));
                while (ref_index_next(sp, x->shape + 2, nsp));
            }
            mean /= (double)count;
            for (int64_t c = g * Cg; c < (g + 1) * Cg; c++) {
                int64_t sp[ACCEL_MAX_DIMS] = {0};
                do {
                    double d = ref_load(x, ref_nc_offset(x, n, c, sp)) - mean;
                    var += d * d;
                } while (ref_index_next(sp, x->shape + 2, nsp));
            }
            var /= (double)count; /* biased, as torch.nn.GroupNorm */
            const double inv = 1.0 / sqrt(var + eps);
            for (int64_t c = g * Cg; c < (g + 1) * Cg; c++) {
                const double wc = w ? ref_load_1d(w, c) : 1.0, bc = b ? ref_load_1d(b, c) : 0.0;
                int64_t sp[ACCEL_MAX_DIMS] = {0};
                do {
                    double y = (ref_load(x, ref_nc_offset(x, n, c, sp)) - mean) * inv * wc + bc;
                    ref_store(dst, ref_nc_offset(dst, n, c, sp), y);
                } while (ref_index_next(sp, x->shape + 2, nsp));
            }
        }
    }
    return ACCEL_OK;
}

static bool ref_group_norm_supports(const accel_tensor *dst) {
    const accel_tensor *x = dst->src[0];
    if (!x || !ref_is_float(x->dtype) || x->ndim < 2 || !ref_same_shape_dtype(dst, x, x->dtype)) return false;
    const int64_t C = x->shape[1], G = dst->params[0];
    if (G <= 0 || C % G != 0) return false;
    for (int i = 1; i <= 2; i++)
        if (dst->src[i] && !ref_is_float_vec(dst->src[i], C)) return false;
    return true;
}

/* Inference batch norm: (x - mean[c]) / sqrt(var[c] + eps) * weight[c] + bias[c]. */
static accel_status ref_batch_norm(accel_tensor *dst) {
    const accel_tensor *x = dst->src[0], *mean = dst->src[1], *var = dst->src[2], *w = dst->src[3],
                       *b = dst->src[4];
    const double eps = accel_param_f32(dst, 0);
    int64_t idx[ACCEL_MAX_DIMS] = {0};
    if (accel_nelements(dst) > 0) do {
            const int64_t c = idx[1];
            double y = (ref_load(x, ref_offset(x, idx)) - ref_load_1d(mean, c)) / sqrt(ref_load_1d(var, c) + eps);
            if (w) y *= ref_load_1d(w, c);
            if (b) y += ref_load_1d(b, c);
            ref_store(dst, ref_offset(dst, idx), y);
        } while (ref_index_next(idx, dst->shape, dst->ndim));
    return ACCEL_OK;
}

static bool ref_batch_norm_supports(const accel_tensor *dst) {
    const accel_tensor *x = dst->src[0];
    if (!x || !ref_is_float(x->dtype) || x->ndim < 2 || !ref_same_shape_dtype(dst, x, x->dtype)) return false;
    const int64_t C = x->shape[1];
    if (!ref_is_float_vec(dst->src[1], C) || !ref_is_float_vec(dst->src[2], C)) return false;
    for (int i = 3; i <= 4; i++)
        if (dst->src[i] && !ref_is_float_vec(dst->src[i], C)) return false;
    return true;
}

void ref_register_norm(ref_op_entry table[ACCEL_OP_COUNT]) {
    table[ACCEL_OP_SOFTMAX] = (ref_op_entry){ref_softmax, ref_softmax_supports};
    table[ACCEL_OP_LAYER_NORM] = (ref_op_entry){ref_row_norm, ref_row_norm_supports};
    table[ACCEL_OP_RMS_NORM] = (ref_op_entry){ref_row_norm, ref_row_norm_supports};
    table[ACCEL_OP_GROUP_NORM] = (ref_op_entry){ref_group_norm, ref_group_norm_supports};
    table[ACCEL_OP_BATCH_NORM] = (ref_op_entry){ref_batch_norm, ref_batch_norm_supports};
}
