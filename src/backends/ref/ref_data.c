/* ref: data movement (get_rows, concat, pad, the in-place write), reductions (sum, mean, max, argmax, top_k,
 * cumsum) and interpolation (nearest, bilinear, bicubic), with PyTorch's semantics. */
#include "backends/ref/ref_ops.h"

#include <math.h>
#include <stdlib.h>

/* ---- get_rows: table [V, D], ids (i32/i64, any shape) -> [ids..., D] ------------------------------------------- */
static accel_status ref_get_rows(accel_tensor *dst) {
    const accel_tensor *table = dst->src[0], *ids = dst->src[1];
    const int64_t V = table->shape[0], D = table->shape[1], n = accel_nelements(ids);
    const int k = ids->ndim;

    /* Validate every id before writing anything, so a bad id leaves dst untouched. */
    int64_t ii[ACCEL_MAX_DIMS] = {0};
    for (int64_t pos = 0; pos < n; pos++, ref_index_next(ii, ids->shape, k)) {
        const int64_t id = ref_load_i64(accel_tensor_ptr(ids) + ref_offset(ids, ii), ids->dtype);
        if (id < 0 || id >= V)
            return accel_set_error(ACCEL_ERR_INVALID_ARG,
                                   "get_rows: id %lld (at flat position %lld of ids) is out of range for a table of "
                                   "%lld rows",
                                   (long long)id, (long long)pos, (long long)V);
    }
    memset(ii, 0, sizeof ii);
    for (int64_t pos = 0; pos < n; pos++, ref_index_next(ii, ids->shape, k)) {
        const int64_t id = ref_load_i64(accel_tensor_ptr(ids) + ref_offset(ids, ii), ids->dtype);
        int64_t dof = 0;
        for (int i = 0; i < k; i++) dof += ii[i] * dst->stride[i];
        for (int64_t d = 0; d < D; d++)
            ref_copy_elem(accel_tensor_ptr(dst) + dof + d * dst->stride[k],
                          accel_tensor_ptr(table) + id * table->stride[0] + d * table->stride[1], table->dtype);
    }
    return ACCEL_OK;
}

static bool ref_get_rows_supports(const accel_tensor *dst) {
    const accel_tensor *table = dst->src[0], *ids = dst->src[1];
    if (!table || !ids || table->ndim != 2 || dst->dtype != table->dtype) return false;
    if ((ids->dtype != ACCEL_I32 && ids->dtype != ACCEL_I64) || ids->ndim + 1 != dst->ndim) return false;
    for (int i = 0; i < ids->ndim; i++)
        if (dst->shape[i] != ids->shape[i]) return false;
    return dst->shape[ids->ndim] == table->shape[1];
}

/* ---- concat and pad (any dtype: elements are copied bit for bit) ----------------------------------------------- */
static accel_status ref_concat(accel_tensor *dst) {
    const accel_tensor *a = dst->src[0], *b = dst->src[1];
    const int dim = dst->params[0];
    int64_t idx[ACCEL_MAX_DIMS] = {0};
    if (accel_nelements(dst) > 0) do {
            const bool from_a = idx[dim] < a->shape[dim];
            const accel_tensor *s = from_a ? a : b;
            int64_t si[ACCEL_MAX_DIMS];
            memcpy(si, idx, sizeof si);
            if (!from_a) si[dim] -= a->shape[dim];
            ref_copy_elem(accel_tensor_ptr(dst) + ref_offset(dst, idx), accel_tensor_ptr(s) + ref_offset(s, si),
                          dst->dtype);
        } while (ref_index_next(idx, dst->shape, dst->ndim));
    return ACCEL_OK;
}

static bool ref_concat_supports(const accel_tensor *dst) {
    const accel_tensor *a = dst->src[0], *b = dst->src[1];
    const int dim = dst->params[0];
    if (!a || !b || a->dtype != dst->dtype || b->dtype != dst->dtype) return false;
    if (a->ndim != dst->ndim || b->ndim != dst->ndim || dim < 0 || dim >= dst->ndim) return false;
    for (int i = 0; i < dst->ndim; i++) {
        if (i == dim) {
            if (dst->shape[i] != a->shape[i] + b->shape[i]) return false;
        } else if (a->shape[i] != dst->shape[i] || b->shape[i] != dst->shape[i]) {
            return false;
        }
    }
    return true;
}

/* Constant padding; negative amounts crop, as torch.nn.functional.pad. The fill value is stored in the dtype
 * (for integer dtypes: truncated toward zero and saturated). */
static accel_status ref_pad(accel_tensor *dst) {
    const accel_tensor *a = dst->src[0];
    const double value = accel_param_f32(dst, 12);
    int64_t idx[ACCEL_MAX_DIMS] = {0};
    if (accel_nelements(dst) > 0) do {
            int64_t si[ACCEL_MAX_DIMS];
            bool inside = true;
            for (int i = 0; i < dst->ndim; i++) {
                si[i] = idx[i] - dst->params[2 * i];
                if (si[i] < 0 || si[i] >= a->shape[i]) inside = false;
            }
            char *dp = accel_tensor_ptr(dst) + ref_offset(dst, idx);
            if (inside) ref_copy_elem(dp, accel_tensor_ptr(a) + ref_offset(a, si), dst->dtype);
            else accel_store_f64(dp, dst->dtype, value);
        } while (ref_index_next(idx, dst->shape, dst->ndim));
    return ACCEL_OK;
}

static bool ref_pad_supports(const accel_tensor *dst) {
    const accel_tensor *a = dst->src[0];
    if (!a || a->dtype != dst->dtype || a->ndim != dst->ndim) return false;
    for (int i = 0; i < dst->ndim; i++)
        if (dst->shape[i] != a->shape[i] + (int64_t)dst->params[2 * i] + (int64_t)dst->params[2 * i + 1]) return false;
    return true;
}

/* ---- write: src1 into the node's memory (its base's) at offset along dim; the rest is left as it is --------- */
static accel_status ref_write(accel_tensor *dst) {
    const accel_tensor *src = dst->src[1];
    const int dim = dst->params[0];
    const int64_t off = accel_param_i64(dst, 1);
    int64_t idx[ACCEL_MAX_DIMS] = {0};
    if (accel_nelements(src) > 0) do {
            int64_t di[ACCEL_MAX_DIMS];
            memcpy(di, idx, sizeof di);
            di[dim] += off;
            char *dp = accel_tensor_ptr(dst) + ref_offset(dst, di);
            const char *sp = accel_tensor_ptr(src) + ref_offset(src, idx);
            if (src->dtype == dst->dtype) ref_copy_elem(dp, sp, dst->dtype);
            else accel_store_f64(dp, dst->dtype, accel_load_f64(sp, src->dtype)); /* floats: one rounding */
        } while (ref_index_next(idx, src->shape, src->ndim));
    return ACCEL_OK;
}

static bool ref_write_supports(const accel_tensor *dst) {
    const accel_tensor *into = dst->src[0], *src = dst->src[1];
    if (!into || !src || !dst->view_src || into->dtype != dst->dtype || !accel_same_shape(into, dst)) return false;
    if (!(ref_is_float(dst->dtype) && ref_is_float(src->dtype)) && src->dtype != dst->dtype) return false;
    const int dim = dst->params[0];
    const int64_t off = accel_param_i64(dst, 1);
    if (src->ndim != dst->ndim || dim < 0 || dim >= dst->ndim) return false;
    for (int i = 0; i < dst->ndim; i++) {
        if (i != dim && src->shape[i] != dst->shape[i]) return false;
        if (i == dim && (off < 0 || src->shape[i] > dst->shape[i] || off > dst->shape[i] - src->shape[i])) return false;
    }
    return true;
}

/* ---- reductions along one dim (keepdim) --------------------------------------------------------------------------
 * Floats reduce in double; i32/i64 in int64 (sums wrap modulo 2^64 like PyTorch's int64, then saturate when
 * stored to i32). max and argmax propagate NaN (argmax: index of the first NaN), as PyTorch. */
static accel_status ref_reduce(accel_tensor *dst) {
    const accel_tensor *a = dst->src[0];
    const int dim = dst->params[0];
    const int64_t n = a->shape[dim], sdim = a->stride[dim];
    const bool ints = ref_is_int(a->dtype);
    int64_t idx[ACCEL_MAX_DIMS] = {0};
    if (accel_nelements(dst) == 0) return ACCEL_OK;
    do {
        const char *base = accel_tensor_ptr(a) + ref_offset(a, idx);
        char *dp = accel_tensor_ptr(dst) + ref_offset(dst, idx);
        if (dst->op == ACCEL_OP_ARGMAX) {
            int64_t best = 0;
            for (int64_t r = 1; r < n; r++) {
                const char *pb = base + best * sdim, *pr = base + r * sdim;
                if (ints) {
                    if (ref_load_i64(pr, a->dtype) > ref_load_i64(pb, a->dtype)) best = r;
                } else {
                    const double vb = accel_load_f64(pb, a->dtype), vr = accel_load_f64(pr, a->dtype);
                    if (isnan(vb)) break;
                    if (isnan(vr) || vr > vb) best = r;
                }
            }
            ref_store_i64(dp, dst->dtype, best);
        } else if (ints) {
            uint64_t sum = 0;
            int64_t mx = INT64_MIN;
            for (int64_t r = 0; r < n; r++) {
                const int64_t v = ref_load_i64(base + r * sdim, a->dtype);
                sum += (uint64_t)v;
                if (v > mx) mx = v;
            }
            ref_store_i64(dp, dst->dtype, dst->op == ACCEL_OP_MAX ? mx : (int64_t)sum);
        } else {
            double sum = 0.0, mx = -INFINITY;
            for (int64_t r = 0; r < n; r++) {
                const double v = accel_load_f64(base + r * sdim, a->dtype);
                sum += v;
                if (v > mx || isnan(v)) mx = isnan(mx) ? mx : v;
            }
            const double out = dst->op == ACCEL_OP_MAX ? mx : dst->op == ACCEL_OP_MEAN ? sum / (double)n : sum;
            accel_store_f64(dp, dst->dtype, out);
        }
    } while (ref_index_next(idx, dst->shape, dst->ndim));
    return ACCEL_OK;
}

static bool ref_reduce_supports(const accel_tensor *dst) {
    const accel_tensor *a = dst->src[0];
    const int dim = dst->params[0];
    if (!a || a->ndim != dst->ndim || dim < 0 || dim >= a->ndim) return false;
    const accel_dtype d = a->dtype;
    const bool int_ok = d == ACCEL_I32 || d == ACCEL_I64;
    switch (dst->op) {
    case ACCEL_OP_MEAN:
        if (!ref_is_float(d) || dst->dtype != d) return false;
        break;
    case ACCEL_OP_ARGMAX:
        if (!(ref_is_float(d) || int_ok) || dst->dtype != ACCEL_I32 || a->shape[dim] < 1) return false;
        break;
    case ACCEL_OP_MAX:
        if (!(ref_is_float(d) || int_ok) || dst->dtype != d || a->shape[dim] < 1) return false;
        break;
    default: /* SUM */
        if (!(ref_is_float(d) || int_ok) || dst->dtype != d) return false;
        break;
    }
    for (int i = 0; i < a->ndim; i++)
        if (dst->shape[i] != (i == dim ? 1 : a->shape[i])) return false;
    return true;
}

/* Inclusive prefix sums along dim (floats in double, integers in wrapping int64). */
static accel_status ref_cumsum(accel_tensor *dst) {
    const accel_tensor *a = dst->src[0];
    const int dim = dst->params[0];
    const int64_t n = a->shape[dim];
    const bool ints = ref_is_int(a->dtype);
    if (accel_nelements(dst) == 0) return ACCEL_OK;
    int64_t outer[ACCEL_MAX_DIMS]; /* a's shape with the scanned dim collapsed to 1 */
    memcpy(outer, a->shape, sizeof outer);
    outer[dim] = 1;
    int64_t idx[ACCEL_MAX_DIMS] = {0};
    do {
        const char *sp = accel_tensor_ptr(a) + ref_offset(a, idx);
        char *dp = accel_tensor_ptr(dst) + ref_offset(dst, idx);
        double fsum = 0.0;
        uint64_t isum = 0;
        for (int64_t r = 0; r < n; r++) {
            if (ints) {
                isum += (uint64_t)ref_load_i64(sp + r * a->stride[dim], a->dtype);
                ref_store_i64(dp + r * dst->stride[dim], dst->dtype, (int64_t)isum);
            } else {
                fsum += accel_load_f64(sp + r * a->stride[dim], a->dtype);
                accel_store_f64(dp + r * dst->stride[dim], dst->dtype, fsum);
            }
        }
    } while (ref_index_next(idx, outer, a->ndim));
    return ACCEL_OK;
}

static bool ref_cumsum_supports(const accel_tensor *dst) {
    const accel_tensor *a = dst->src[0];
    const int dim = dst->params[0];
    if (!a || dim < 0 || dim >= a->ndim) return false;
    if (!(ref_is_float(a->dtype) || a->dtype == ACCEL_I32 || a->dtype == ACCEL_I64)) return false;
    return ref_same_shape_dtype(dst, a, a->dtype);
}

/* ---- top_k along the last dim: descending values, ties lower index first, NaN counts as the largest ------------ */
typedef struct ref_ranked {
    double v;
    int64_t i;
} ref_ranked;

static int ref_ranked_cmp(const void *pa, const void *pb) {
    const ref_ranked *a = pa, *b = pb;
    const bool na = isnan(a->v), nb = isnan(b->v);
    if (na != nb) return na ? -1 : 1;
    if (!na && a->v != b->v) return a->v > b->v ? -1 : 1;
    return a->i < b->i ? -1 : a->i > b->i ? 1 : 0; /* a total order, so qsort's instability cannot show */
}

static accel_status ref_top_k(accel_tensor *dst) {
    const accel_tensor *a = dst->src[0];
    const int nd = a->ndim;
    const int64_t N = a->shape[nd - 1], k = dst->params[0];
    const bool want_indices = dst->op == ACCEL_OP_TOP_K_INDICES;
    if (accel_nelements(dst) == 0) return ACCEL_OK;
    ref_ranked *row = malloc((size_t)N * sizeof *row);
    if (!row) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "ref top_k: out of memory for a row of %lld",
                                     (long long)N);
    int64_t idx[ACCEL_MAX_DIMS] = {0};
    do {
        const int64_t ao = ref_offset(a, idx), dof = ref_offset(dst, idx);
        for (int64_t j = 0; j < N; j++) row[j] = (ref_ranked){ref_load(a, ao + j * a->stride[nd - 1]), j};
        qsort(row, (size_t)N, sizeof *row, ref_ranked_cmp);
        for (int64_t j = 0; j < k; j++) {
            char *dp = accel_tensor_ptr(dst) + dof + j * dst->stride[nd - 1];
            if (want_indices) ref_store_i64(dp, dst->dtype, row[j].i);
            else accel_store_f64(dp, dst->dtype, row[j].v);
        }
    } while (ref_index_next(idx, dst->shape, nd - 1));
    free(row);
    return ACCEL_OK;
}

static bool ref_top_k_supports(const accel_tensor *dst) {
    const accel_tensor *a = dst->src[0];
    if (!a || !ref_is_float(a->dtype) || a->ndim < 1 || dst->ndim != a->ndim) return false;
    const int nd = a->ndim;
    const int64_t k = dst->params[0];
    if (k < 1 || k > a->shape[nd - 1]) return false;
    const accel_dtype want = dst->op == ACCEL_OP_TOP_K_INDICES ? ACCEL_I32 : a->dtype;
    if (dst->dtype != want) return false;
    for (int i = 0; i < nd; i++)
        if (dst->shape[i] != (i == nd - 1 ? k : a->shape[i])) return false;
    return true;
}

/* ---- interpolate x [N, C, H, W] -> [N, C, OH, OW] (PyTorch, antialias off, output size given) ------------------- */

/* PyTorch's nearest_idx: the index math is done in float (not double) in PyTorch for every dtype, and the
 * rounding of in/out can move floor() across an integer, so we repeat it bit for bit. */
static int64_t ref_nearest_src(int64_t o, int64_t in, int64_t out) {
    if (out == in) return o;
    if (out == 2 * in) return o >> 1;
    const float scale = (float)in / (float)out;
    const int64_t s = (int64_t)floorf((float)o * scale);
    return s < in - 1 ? s : in - 1;
}

/* area_pixel_compute_scale / area_pixel_compute_source_index (in double: PyTorch's opmath for f64). */
static double ref_area_scale(int64_t in, int64_t out, bool align_corners) {
    if (align_corners) return out > 1 ? (double)(in - 1) / (double)(out - 1) : 0.0;
    return (double)in / (double)out;
}

static double ref_source_index(double scale, int64_t o, bool align_corners, bool cubic) {
    if (align_corners) return scale * (double)o;
    const double s = scale * ((double)o + 0.5) - 0.5;
    return (!cubic && s < 0) ? 0.0 : s;
}

/* Up to 4 source taps and weights along one axis for output index o. */
typedef struct ref_taps {
    int n;
    int64_t idx[4];
    double w[4];
} ref_taps;

static double ref_cubic_near(double x, double A) { return ((A + 2) * x - (A + 3)) * x * x + 1; }     /* |x|<=1 */
static double ref_cubic_far(double x, double A) { return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A; } /* 1<|x|<2 */

static ref_taps ref_axis_taps(int mode, int64_t o, int64_t in, int64_t out, bool align_corners) {
    ref_taps t = {0};
    if (mode == ACCEL_INTERP_NEAREST) {
        t.n = 1, t.idx[0] = ref_nearest_src(o, in, out), t.w[0] = 1.0;
        return t;
    }
    const bool cubic = mode == ACCEL_INTERP_BICUBIC;
    const double real = ref_source_index(ref_area_scale(in, out, align_corners), o, align_corners, cubic);
    /* guard_index_and_lambda */
    int64_t i0 = (int64_t)floor(real);
    if (i0 > in - 1) i0 = in - 1;
    double lambda = real - (double)i0;
    lambda = lambda < 0 ? 0 : lambda > 1 ? 1 : lambda;
    if (!cubic) {
        t.n = 2;
        t.idx[0] = i0, t.idx[1] = i0 + (i0 < in - 1 ? 1 : 0);
        t.w[0] = 1.0 - lambda, t.w[1] = lambda;
        return t;
    }
    const double A = -0.75;
    t.n = 4;
    t.w[0] = ref_cubic_far(lambda + 1.0, A);
    t.w[1] = ref_cubic_near(lambda, A);
    t.w[2] = ref_cubic_near(1.0 - lambda, A);
    t.w[3] = ref_cubic_far(2.0 - lambda, A);
    for (int j = 0; j < 4; j++) { /* border taps repeat the edge pixel */
        int64_t s = i0 - 1 + j;
        t.idx[j] = s < 0 ? 0 : s > in - 1 ? in - 1 : s;
    }
    return t;
}

static accel_status ref_interpolate(accel_tensor *dst) {
    const accel_tensor *x = dst->src[0];
    const int mode = dst->params[0];
    const bool align = dst->params[1] != 0;
    const int64_t N = x->shape[0], C = x->shape[1], H = x->shape[2], W = x->shape[3];
    const int64_t OH = dst->shape[2], OW = dst->shape[3];
    for (int64_t oy = 0; oy < OH; oy++) {
        const ref_taps ty = ref_axis_taps(mode, oy, H, OH, align);
        for (int64_t ox = 0; ox < OW; ox++) {
            const ref_taps tx = ref_axis_taps(mode, ox, W, OW, align);
            for (int64_t n = 0; n < N; n++)
                for (int64_t c = 0; c < C; c++) {
                    const int64_t base = n * x->stride[0] + c * x->stride[1];
                    double acc = 0.0;
                    for (int a = 0; a < ty.n; a++) {
                        double row = 0.0;
                        for (int b = 0; b < tx.n; b++)
                            row += tx.w[b] * ref_load(x, base + ty.idx[a] * x->stride[2] + tx.idx[b] * x->stride[3]);
                        acc += ty.w[a] * row;
                    }
                    ref_store(dst, n * dst->stride[0] + c * dst->stride[1] + oy * dst->stride[2] + ox * dst->stride[3],
                              acc);
                }
        }
    }
    return ACCEL_OK;
}

static bool ref_interpolate_supports(const accel_tensor *dst) {
    const accel_tensor *x = dst->src[0];
    if (!x || x->ndim != 4 || dst->ndim != 4 || !ref_is_float(x->dtype) || dst->dtype != x->dtype) return false;
    const int32_t mode = dst->params[0], align = dst->params[1];
    if (mode < ACCEL_INTERP_NEAREST || mode > ACCEL_INTERP_BICUBIC || !ref_is_bool_param(align)) return false;
    if (mode == ACCEL_INTERP_NEAREST && align) return false; /* PyTorch rejects align_corners with nearest */
    if (dst->shape[0] != x->shape[0] || dst->shape[1] != x->shape[1]) return false;
    /* an empty input has nothing to sample from */
    if ((dst->shape[2] > 0 && x->shape[2] < 1) || (dst->shape[3] > 0 && x->shape[3] < 1)) return false;
    return true;
}

void ref_register_data(ref_op_entry table[ACCEL_OP_COUNT]) {
    table[ACCEL_OP_GET_ROWS] = (ref_op_entry){ref_get_rows, ref_get_rows_supports};
    table[ACCEL_OP_CONCAT] = (ref_op_entry){ref_concat, ref_concat_supports};
    table[ACCEL_OP_PAD] = (ref_op_entry){ref_pad, ref_pad_supports};
    table[ACCEL_OP_WRITE] = (ref_op_entry){ref_write, ref_write_supports};
    table[ACCEL_OP_SUM] = (ref_op_entry){ref_reduce, ref_reduce_supports};
    table[ACCEL_OP_MEAN] = (ref_op_entry){ref_reduce, ref_reduce_supports};
    table[ACCEL_OP_MAX] = (ref_op_entry){ref_reduce, ref_reduce_supports};
    table[ACCEL_OP_ARGMAX] = (ref_op_entry){ref_reduce, ref_reduce_supports};
    table[ACCEL_OP_CUMSUM] = (ref_op_entry){ref_cumsum, ref_cumsum_supports};
    table[ACCEL_OP_TOP_K] = (ref_op_entry){ref_top_k, ref_top_k_supports};
    table[ACCEL_OP_TOP_K_INDICES] = (ref_op_entry){ref_top_k, ref_top_k_supports};
    table[ACCEL_OP_INTERPOLATE] = (ref_op_entry){ref_interpolate, ref_interpolate_supports};
}
