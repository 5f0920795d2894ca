/* ref: conv1d/conv2d (stride, zero padding, dilation, groups) and max/avg pooling, as torch.nn.functional. */
#include "backends/ref/ref_ops.h"

#include <math.h>

/* PyTorch's output length of a convolution or pooling window sweep (floor mode). */
static int64_t ref_out_len(int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dilation) {
    int64_t span = dilation * (kernel - 1) + 1;
    int64_t room = in + 2 * pad - span;
    return room < 0 ? 0 : room / stride + 1;
}

/* ---- convolution -----------------------------------------------------------------------------------------------
 * Conv1d is computed as a conv2d with height 1, so one loop nest serves both. Geometry per axis: [h, w]. */
typedef struct ref_conv_geom {
    int64_t stride[2], pad[2], dil[2], groups;
} ref_conv_geom;

static ref_conv_geom ref_conv_geom_of(const accel_tensor *dst) {
    ref_conv_geom g;
    if (dst->op == ACCEL_OP_CONV1D) {
        g = (ref_conv_geom){{1, dst->params[0]}, {0, dst->params[1]}, {1, dst->params[2]}, dst->params[3]};
    } else {
        g = (ref_conv_geom){{dst->params[0], dst->params[1]}, {dst->params[2], dst->params[3]},
                            {dst->params[4], dst->params[5]}, dst->params[6]};
    }
    return g;
}

/* Shape and byte strides of t as [N, C, H, W], with H = 1 (stride 0) for 3-d tensors. */
static void ref_as_4d(const accel_tensor *t, int64_t shape[4], int64_t stride[4]) {
    if (t->ndim == 3) {
        shape[0] = t->shape[0], shape[1] = t->shape[1], shape[2] = 1, shape[3] = t->shape[2];
        stride[0] = t->stride[0], stride[1] = t->stride[1], stride[2] = 0, stride[3] = t->stride[2];
    } else {
        for (int i = 0; i < 4; i++) shape[i] = t->shape[i], stride[i] = t->stride[i];
    }
}

static accel_status ref_conv(accel_tensor *dst) {
    const accel_tensor *x = dst->src[0], *w = dst->src[1], *bias = dst->src[2];
    const ref_conv_geom g = ref_conv_geom_of(dst);
    int64_t xs[4], xst[4], ws[4], wst[4], ds[4], dst_st[4];
    ref_as_4d(x, xs, xst);
    ref_as_4d(w, ws, wst);
    ref_as_4d(dst, ds, dst_st);
    const int64_t Cg = ws[1], OCg = ds[1] / g.groups;

    for (int64_t n = 0; n < ds[0]; n++)
        for (int64_t oc = 0; oc < ds[1]; oc++) {
            const int64_t c0 = (oc / OCg) * Cg; /* first input channel of this output channel's group */
            const double b = bias ? ref_load_1d(bias, oc) : 0.0;
            for (int64_t oy = 0; oy < ds[2]; oy++)
                for (int64_t ox = 0; ox < ds[3]; ox++) {
                    double acc = b;
                    for (int64_t ic = 0; ic < Cg; ic++)
                        for (int64_t ky = 0; ky < ws[2]; ky++) {
                            const int64_t iy = oy * g.stride[0] - g.pad[0] + ky * g.dil[0];
                            if (iy < 0 || iy >= xs[2]) continue;
                            for (int64_t kx = 0; kx < ws[3]; kx++) {
                                const int64_t ix = ox * g.stride[1] - g.pad[1] + kx * g.dil[1];
                                if (ix < 0 || ix >= xs[3]) continue;
                                acc += ref_load(x, n * xst[0] + (c0 + ic) * xst[1] + iy * xst[2] + ix * xst[3]) *
                                       ref_load(w, oc * wst[0] + ic * wst[1] + ky * wst[2] + kx * wst[3]);
                            }
                        }
                    ref_store(dst, n * dst_st[0] + oc * dst_st[1] + oy * dst_st[2] + ox * dst_st[3], acc);
                }
        }
    return ACCEL_OK;
}

static bool ref_conv_supports(const accel_tensor *dst) {
    const accel_tensor *x = dst->src[0], *w = dst->src[1], *bias = dst->src[2];
    const int nd = dst->op == ACCEL_OP_CONV1D ? 3 : 4;
    if (!x || !w || x->ndim != nd || w->ndim != nd || dst->ndim != nd) return false;
    if (!ref_is_float(x->dtype) || !ref_is_float(w->dtype) || dst->dtype != x->dtype) return false;
    const ref_conv_geom g = ref_conv_geom_of(dst);
    for (int a = 0; a < 2; a++)
        if (g.stride[a] < 1 || g.pad[a] < 0 || g.dil[a] < 1) return false;
    int64_t xs[4], ws[4], ds[4], st[4];
    ref_as_4d(x, xs, st);
    ref_as_4d(w, ws, st);
    ref_as_4d(dst, ds, st);
    const int64_t C = xs[1], OC = ws[0];
    if (g.groups < 1 || C % g.groups != 0 || OC % g.groups != 0 || ws[1] != C / g.groups) return false;
    if (bias && !ref_is_float_vec(bias, OC)) return false;
    if (ws[2] < 1 || ws[3] < 1) return false;
    return ds[0] == xs[0] && ds[1] == OC && ds[2] == ref_out_len(xs[2], ws[2], g.stride[0], g.pad[0], g.dil[0]) &&
           ds[3] == ref_out_len(xs[3], ws[3], g.stride[1], g.pad[1], g.dil[1]);
}

/* ---- pooling ---------------------------------------------------------------------------------------------------- */
typedef struct ref_pool_geom {
    int kind;
    int64_t kernel[2], stride[2], pad[2];
    bool count_include_pad;
} ref_pool_geom;

static ref_pool_geom ref_pool_geom_of(const accel_tensor *dst) {
    ref_pool_geom g;
    if (dst->op == ACCEL_OP_POOL1D) {
        g = (ref_pool_geom){dst->params[0], {1, dst->params[1]}, {1, dst->params[2]}, {0, dst->params[3]},
                            dst->params[4] != 0};
    } else {
        g = (ref_pool_geom){dst->params[0], {dst->params[1], dst->params[2]}, {dst->params[3], dst->params[4]},
                            {dst->params[5], dst->params[6]}, dst->params[7] != 0};
    }
    for (int a = 0; a < 2; a++)
        if (g.stride[a] == 0) g.stride[a] = g.kernel[a]; /* the public API's "stride 0 = kernel" */
    return g;
}

/* Max pooling never lets padding win (it is -inf) and propagates NaN; average pooling divides by the window
 * clipped to the padded input (count_include_pad) or to the real input, exactly as PyTorch's avg_pool. */
static accel_status ref_pool(accel_tensor *dst) {
    const accel_tensor *x = dst->src[0];
    const ref_pool_geom g = ref_pool_geom_of(dst);
    int64_t xs[4], xst[4], ds[4], dst_st[4];
    ref_as_4d(x, xs, xst);
    ref_as_4d(dst, ds, dst_st);

    for (int64_t n = 0; n < ds[0]; n++)
        for (int64_t c = 0; c < ds[1]; c++)
            for (int64_t oy = 0; oy < ds[2]; oy++)
                for (int64_t ox = 0; ox < ds[3]; ox++) {
                    int64_t y0 = oy * g.stride[0] - g.pad[0], x0 = ox * g.stride[1] - g.pad[1];
                    int64_t y1 = y0 + g.kernel[0], x1 = x0 + g.kernel[1];
                    if (y1 > xs[2] + g.pad[0]) y1 = xs[2] + g.pad[0];
                    if (x1 > xs[3] + g.pad[1]) x1 = xs[3] + g.pad[1];
                    const int64_t padded_count = (y1 - y0) * (x1 - x0);
                    if (y0 < 0) y0 = 0;
                    if (x0 < 0) x0 = 0;
                    if (y1 > xs[2]) y1 = xs[2];
                    if (x1 > xs[3]) x1 = xs[3];
                    double acc = g.kind == ACCEL_POOL_MAX ? -INFINITY : 0.0;
                    for (int64_t iy = y0; iy < y1; iy++)
                        for (int64_t ix = x0; ix < x1; ix++) {
                            double v = ref_load(x, n * xst[0] + c * xst[1] + iy * xst[2] + ix * xst[3]);
                            if (g.kind == ACCEL_POOL_AVG) acc += v;
                            else if (v > acc || isnan(v)) acc = v;
                            if (isnan(acc)) goto done; /* NaN wins, as torch max_pool */
                        }
                done:
                    if (g.kind == ACCEL_POOL_AVG) {
                        const int64_t count = g.count_include_pad ? padded_count : (y1 - y0) * (x1 - x0);
                        acc = count > 0 ? acc / (double)count : NAN;
                    }
                    ref_store(dst, n * dst_st[0] + c * dst_st[1] + oy * dst_st[2] + ox * dst_st[3], acc);
                }
    return ACCEL_OK;
}

static bool ref_pool_supports(const accel_tensor *dst) {
    const accel_tensor *x = dst->src[0];
    const int nd = dst->op == ACCEL_OP_POOL1D ? 3 : 4;
    if (!x || x->ndim != nd || !ref_is_float(x->dtype) || dst->ndim != nd || dst->dtype != x->dtype) return false;
    const ref_pool_geom g = ref_pool_geom_of(dst);
    if (g.kind != ACCEL_POOL_MAX && g.kind != ACCEL_POOL_AVG) return false;
    const int32_t cip = dst->op == ACCEL_OP_POOL1D ? dst->params[4] : dst->params[7];
    if (!ref_is_bool_param(cip)) return false;
    /* PyTorch requires padding <= kernel / 2, so no window lies entirely in the padding. */
    for (int a = 0; a < 2; a++)
        if (g.kernel[a] < 1 || g.stride[a] < 1 || g.pad[a] < 0 || g.pad[a] > g.kernel[a] / 2) return false;
    int64_t xs[4], ds[4], st[4];
    ref_as_4d(x, xs, st);
    ref_as_4d(dst, ds, st);
    return ds[0] == xs[0] && ds[1] == xs[1] && ds[2] == ref_out_len(xs[2], g.kernel[0], g.stride[0], g.pad[0], 1) &&
           ds[3] == ref_out_len(xs[3], g.kernel[1], g.stride[1], g.pad[1], 1);
}

void ref_register_conv_pool(ref_op_entry table[ACCEL_OP_COUNT]) {
    table[ACCEL_OP_CONV1D] = (ref_op_entry){ref_conv, ref_conv_supports};
    table[ACCEL_OP_CONV2D] = (ref_op_entry){ref_conv, ref_conv_supports};
    table[ACCEL_OP_POOL1D] = (ref_op_entry){ref_pool, ref_pool_supports};
    table[ACCEL_OP_POOL2D] = (ref_op_entry){ref_pool, ref_pool_supports};
}
