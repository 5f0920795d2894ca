/* Cases: CONV1D, CONV2D (stride, padding, dilation, groups, depthwise, patch embeddings) and POOL1D, POOL2D
 * (max and average, padding with and without count_include_pad). */
#include "harness.h"

#include <stdio.h>
#include <string.h>

#define NO_DTYPE ((accel_dtype)-1)

static int64_t out_size(int64_t in, int k, int s, int p, int d) { return (in + 2 * p - d * (k - 1) - 1) / s + 1; }

/* ---- convolution ------------------------------------------------------------------------------------------- */
typedef struct conv_params {
    int nsp; /* spatial dims: 1 or 2 */
    accel_dtype tx, tw, tb;
    int64_t N, C, OC, in[2];
    int k[2];
    accel_conv_params cp;
    layout lx;
} conv_params;

static int build_conv(build_ctx *c, const void *pp, accel_tensor **out) {
    const conv_params *p = pp;
    int64_t sx[4] = {p->N, p->C, p->in[0], p->in[1]};
    int64_t sw[4] = {p->OC, p->C / p->cp.groups, p->k[0], p->k[1]};
    accel_tensor *x = in_tensor(c, p->tx, 2 + p->nsp, sx, FILL_U(-1, 1), p->lx);
    accel_tensor *w = in_tensor(c, p->tw, 2 + p->nsp, sw, FILL_U(-0.5, 0.5), LAYOUT_CONTIG);
    accel_tensor *b = p->tb != NO_DTYPE ? IN(c, p->tb, FILL_U(-1, 1), p->OC) : NULL;
    out[0] = p->nsp == 1 ? accel_conv1d(c->g, x, w, b, &p->cp) : accel_conv2d(c->g, x, w, b, &p->cp);
    return 1;
}

typedef struct conv_shape {
    int64_t N, C, OC, h, w; /* w unused for conv1d */
    int kh, kw;
} conv_shape;

static void add_conv(case_list *l, int nsp, accel_dtype tx, accel_dtype tw, accel_dtype tb, conv_shape s, int stride_h,
                     int stride_w, int pad_h, int pad_w, int dil_h, int dil_w, int groups, layout lx) {
    conv_params p = {.nsp = nsp, .tx = tx, .tw = tw, .tb = tb, .N = s.N, .C = s.C, .OC = s.OC,
                     .in = {s.h, nsp == 2 ? s.w : 1}, .k = {s.kh, nsp == 2 ? s.kw : 1}, .lx = lx};
    p.cp = accel_conv_default_params();
    p.cp.stride[0] = stride_h, p.cp.stride[1] = stride_w;
    p.cp.padding[0] = pad_h, p.cp.padding[1] = pad_w;
    p.cp.dilation[0] = dil_h, p.cp.dilation[1] = dil_w;
    p.cp.groups = groups;
    char d[160];
    if (nsp == 1)
        snprintf(d, sizeof d, "x=%s[%lld,%lld,%lld] %s w=%s[%lld,%lld,%d] bias=%s stride=%d pad=%d dil=%d groups=%d",
                 accel_dtype_name(tx), (long long)s.N, (long long)s.C, (long long)s.h, layout_name(lx),
                 accel_dtype_name(tw), (long long)s.OC, (long long)(s.C / groups), s.kh,
                 tb == NO_DTYPE ? "none" : accel_dtype_name(tb), stride_h, pad_h, dil_h, groups);
    else
        snprintf(d, sizeof d,
                 "x=%s[%lld,%lld,%lld,%lld] %s w=%s[%lld,%lld,%d,%d] bias=%s stride=%d,%d pad=%d,%d dil=%d,%d groups=%d",
                 accel_dtype_name(tx), (long long)s.N, (long long)s.C, (long long)s.h, (long long)s.w, layout_name(lx),
                 accel_dtype_name(tw), (long long)s.OC, (long long)(s.C / groups), s.kh, s.kw,
                 tb == NO_DTYPE ? "none" : accel_dtype_name(tb), stride_h, stride_w, pad_h, pad_w, dil_h, dil_w,
                 groups);
    op_case *c = case_add(l, nsp == 1 ? "conv1d" : "conv2d", build_conv, &p, sizeof p, tol(NMSE_DOT, tx, 1), "%s", d);
    double outs = (double)out_size(p.in[0], p.k[0], stride_h, pad_h, dil_h);
    if (nsp == 2) outs *= (double)out_size(p.in[1], p.k[1], stride_w, pad_w, dil_w);
    c->flops = 2.0 * (double)(s.N * s.OC) * outs * (double)(s.C / groups) * p.k[0] * p.k[1];
}

static void conv1d_cases(case_list *l) {
    const accel_dtype F = ACCEL_F32, H = ACCEL_F16, B = ACCEL_BF16, N = NO_DTYPE;
    const layout C = LAYOUT_CONTIG;
    if (l->perf) {
        add_conv(l, 1, F, F, F, (conv_shape){1, 80, 384, 3000, 1, 3, 1}, 1, 1, 1, 0, 1, 1, 1, C); /* whisper conv1 */
        add_conv(l, 1, H, H, H, (conv_shape){1, 80, 384, 3000, 1, 3, 1}, 1, 1, 1, 0, 1, 1, 1, C);
        add_conv(l, 1, F, F, N, (conv_shape){1, 512, 512, 3199, 1, 3, 1}, 2, 1, 0, 0, 1, 1, 1, C); /* wav2vec2 */
        return;
    }
    static const accel_dtype bias[4] = {NO_DTYPE, ACCEL_F32, ACCEL_F16, ACCEL_BF16};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            for (int b = 0; b < 4; b++)
                add_conv(l, 1, k_float_types[i], k_float_types[j], bias[b], (conv_shape){2, 4, 6, 11, 1, 3, 1}, 1, 1,
                         0, 0, 1, 1, 1, C);
    add_conv(l, 1, F, F, F, (conv_shape){2, 4, 6, 11, 1, 3, 1}, 2, 1, 1, 0, 1, 1, 1, C);
    add_conv(l, 1, F, F, F, (conv_shape){2, 4, 6, 11, 1, 3, 1}, 1, 1, 2, 0, 2, 1, 1, C);
    add_conv(l, 1, F, F, F, (conv_shape){2, 4, 6, 11, 1, 3, 1}, 1, 1, 1, 0, 1, 1, 2, C);
    add_conv(l, 1, F, F, N, (conv_shape){2, 8, 8, 13, 1, 5, 1}, 1, 1, 2, 0, 1, 1, 8, C);
    add_conv(l, 1, F, F, F, (conv_shape){2, 5, 3, 7, 1, 1, 1}, 1, 1, 0, 0, 1, 1, 1, C);
    add_conv(l, 1, F, F, F, (conv_shape){1, 3, 4, 5, 1, 3, 1}, 1, 1, 4, 0, 1, 1, 1, C); /* outputs made of padding only */
    add_conv(l, 2, F, F, F, (conv_shape){1, 3, 4, 4, 5, 3, 3}, 2, 1, 3, 3, 1, 1, 1, C);
    add_conv(l, 1, F, F, N, (conv_shape){1, 1, 32, 400, 1, 10, 1}, 5, 1, 0, 0, 1, 1, 1, C);
    add_conv(l, 1, F, F, F, (conv_shape){1, 80, 64, 300, 1, 3, 1}, 1, 1, 1, 0, 1, 1, 1, C);
    add_conv(l, 1, F, F, F, (conv_shape){1, 64, 64, 300, 1, 3, 1}, 2, 1, 1, 0, 1, 1, 1, C);
    add_conv(l, 1, F, F, F, (conv_shape){1, 32, 32, 50, 1, 16, 1}, 1, 1, 8, 0, 1, 1, 16, C);
    add_conv(l, 1, F, F, F, (conv_shape){2, 4, 6, 11, 1, 3, 1}, 1, 1, 1, 0, 1, 1, 1, LAYOUT_TRANSPOSED);
    add_conv(l, 1, F, F, F, (conv_shape){2, 4, 6, 11, 1, 3, 1}, 2, 1, 1, 0, 1, 1, 2, LAYOUT_SLICED);
    add_conv(l, 1, H, H, H, (conv_shape){1, 80, 64, 300, 1, 3, 1}, 1, 1, 1, 0, 1, 1, 1, C);
    add_conv(l, 1, B, F, F, (conv_shape){1, 16, 16, 64, 1, 3, 1}, 1, 1, 1, 0, 1, 1, 1, C);
}

static void conv2d_cases(case_list *l) {
    const accel_dtype F = ACCEL_F32, H = ACCEL_F16, B = ACCEL_BF16, N = NO_DTYPE;
    const layout C = LAYOUT_CONTIG;
    if (l->perf) {
        add_conv(l, 2, F, F, F, (conv_shape){1, 64, 64, 56, 56, 3, 3}, 1, 1, 1, 1, 1, 1, 1, C); /* resnet 3x3 */
        add_conv(l, 2, H, H, H, (conv_shape){1, 64, 64, 56, 56, 3, 3}, 1, 1, 1, 1, 1, 1, 1, C);
        add_conv(l, 2, F, F, F, (conv_shape){1, 3, 768, 224, 224, 16, 16}, 16, 16, 0, 0, 1, 1, 1, C); /* ViT patch */
        add_conv(l, 2, F, F, N, (conv_shape){1, 3, 64, 224, 224, 7, 7}, 2, 2, 3, 3, 1, 1, 1, C);      /* resnet stem */
        return;
    }
    static const accel_dtype bias[4] = {NO_DTYPE, ACCEL_F32, ACCEL_F16, ACCEL_BF16};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            for (int b = 0; b < 4; b++)
                add_conv(l, 2, k_float_types[i], k_float_types[j], bias[b], (conv_shape){1, 4, 6, 7, 9, 3, 3}, 1, 1, 0,
                         0, 1, 1, 1, C);
    add_conv(l, 2, F, F, F, (conv_shape){2, 4, 6, 7, 9, 3, 3}, 2, 1, 1, 2, 1, 1, 1, C);
    add_conv(l, 2, F, F, F, (conv_shape){1, 4, 6, 9, 9, 3, 2}, 1, 2, 2, 1, 2, 1, 1, C);
    add_conv(l, 2, F, F, F, (conv_shape){1, 4, 6, 7, 9, 3, 3}, 1, 1, 1, 1, 1, 1, 2, C);
    add_conv(l, 2, F, F, N, (conv_shape){1, 8, 8, 10, 10, 3, 3}, 1, 1, 1, 1, 1, 1, 8, C);
    add_conv(l, 2, F, F, F, (conv_shape){2, 8, 5, 6, 7, 1, 1}, 1, 1, 0, 0, 1, 1, 1, C);
    add_conv(l, 2, F, F, F, (conv_shape){1, 3, 32, 64, 64, 16, 16}, 16, 16, 0, 0, 1, 1, 1, C);
    add_conv(l, 2, F, F, N, (conv_shape){1, 3, 16, 32, 32, 7, 7}, 2, 2, 3, 3, 1, 1, 1, C);
    add_conv(l, 2, F, F, F, (conv_shape){1, 4, 6, 7, 9, 3, 3}, 1, 1, 1, 1, 1, 1, 1, LAYOUT_PERMUTED);
    add_conv(l, 2, F, F, F, (conv_shape){2, 4, 6, 7, 9, 3, 3}, 2, 2, 1, 1, 1, 1, 2, LAYOUT_SLICED);
    add_conv(l, 2, F, F, F, (conv_shape){1, 1, 1, 1, 1, 1, 1}, 1, 1, 0, 0, 1, 1, 1, C);
    add_conv(l, 2, F, F, F, (conv_shape){1, 32, 32, 32, 32, 3, 3}, 1, 1, 1, 1, 1, 1, 1, C);
    add_conv(l, 2, H, H, H, (conv_shape){1, 32, 32, 32, 32, 3, 3}, 1, 1, 1, 1, 1, 1, 1, C);
    add_conv(l, 2, B, B, B, (conv_shape){1, 3, 32, 64, 64, 16, 16}, 16, 16, 0, 0, 1, 1, 1, C);
}

/* ---- pooling ----------------------------------------------------------------------------------------------- */
typedef struct pool_params {
    int nsp;
    accel_dtype tx;
    int64_t N, C, in[2];
    accel_pool_params pp;
    layout lx;
} pool_params;

static int build_pool(build_ctx *c, const void *pp, accel_tensor **out) {
    const pool_params *p = pp;
    int64_t sx[4] = {p->N, p->C, p->in[0], p->in[1]};
    accel_tensor *x = in_tensor(c, p->tx, 2 + p->nsp, sx, FILL_U(-2, 2), p->lx);
    out[0] = p->nsp == 1 ? accel_pool1d(c->g, x, &p->pp) : accel_pool2d(c->g, x, &p->pp);
    return 1;
}

static void add_pool(case_list *l, int nsp, accel_dtype tx, const int64_t *sx, int nd, accel_pool_kind kind, int kh,
                     int kw, int sh, int sw, int ph, int pw, bool include_pad, layout lx) {
    (void)nd;
    pool_params p = {.nsp = nsp, .tx = tx, .N = sx[0], .C = sx[1], .in = {sx[2], nsp == 2 ? sx[3] : 1}, .lx = lx};
    p.pp = accel_pool_default_params();
    p.pp.kind = kind;
    p.pp.kernel[0] = kh, p.pp.kernel[1] = kw;
    p.pp.stride[0] = sh, p.pp.stride[1] = sw;
    p.pp.padding[0] = ph, p.pp.padding[1] = pw;
    p.pp.count_include_pad = include_pad;
    char s[64];
    /* max pooling picks one input value: exact */
    double lim = kind == ACCEL_POOL_MAX ? 0.0 : tol(NMSE_REDUCE, tx, 1);
    case_add(l, nsp == 1 ? "pool1d" : "pool2d", build_pool, &p, sizeof p, lim,
             "x=%s%s %s %s kernel=%d,%d stride=%d,%d pad=%d,%d%s", accel_dtype_name(tx),
             shape_str(s, sizeof s, 2 + nsp, sx), layout_name(lx), kind == ACCEL_POOL_MAX ? "max" : "avg", kh,
             nsp == 2 ? kw : 0, sh, nsp == 2 ? sw : 0, ph, nsp == 2 ? pw : 0,
             kind == ACCEL_POOL_AVG ? (include_pad ? " count_include_pad" : " exclude_pad") : "");
}

static void pool_cases(case_list *l) {
    const accel_pool_kind MAX = ACCEL_POOL_MAX, AVG = ACCEL_POOL_AVG;
    const accel_dtype F = ACCEL_F32;
    const layout C = LAYOUT_CONTIG;
    if (l->perf) {
        add_pool(l, 2, F, SH(1, 64, 112, 112), MAX, 3, 3, 2, 2, 1, 1, true, C);
        add_pool(l, 2, F, SH(8, 256, 56, 56), AVG, 2, 2, 2, 2, 0, 0, true, C);
        add_pool(l, 1, F, SH(8, 512, 4096), AVG, 4, 0, 4, 0, 0, 0, true, C);
        return;
    }
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 2; k++) {
            accel_pool_kind kind = k ? AVG : MAX;
            add_pool(l, 1, k_float_types[i], SH(2, 3, 11), kind, 3, 0, 2, 0, 1, 0, true, C);
            add_pool(l, 2, k_float_types[i], SH(2, 3, 9, 11), kind, 3, 3, 2, 2, 1, 1, true, C);
        }
    for (int k = 0; k < 2; k++) {
        accel_pool_kind kind = k ? AVG : MAX;
        add_pool(l, 1, F, SH(2, 3, 12), kind, 2, 0, 0, 0, 0, 0, true, C);
        add_pool(l, 1, F, SH(2, 3, 12), kind, 1, 0, 1, 0, 0, 0, true, C);
        add_pool(l, 1, F, SH(2, 3, 13), kind, 4, 0, 3, 0, 2, 0, true, LAYOUT_TRANSPOSED);
        add_pool(l, 1, F, SH(4, 64, 4096), kind, 2, 0, 2, 0, 0, 0, true, C);
        add_pool(l, 2, F, SH(2, 3, 8, 8), kind, 2, 2, 0, 0, 0, 0, true, C);
        add_pool(l, 2, F, SH(2, 3, 9, 8), kind, 3, 2, 1, 2, 1, 0, true, C);
        add_pool(l, 2, F, SH(1, 16, 32, 32), kind, 3, 3, 2, 2, 1, 1, true, C);
        add_pool(l, 2, F, SH(1, 8, 7, 7), kind, 7, 7, 1, 1, 0, 0, true, C);
        add_pool(l, 2, F, SH(2, 3, 9, 11), kind, 3, 3, 2, 2, 1, 1, true, LAYOUT_PERMUTED);
        add_pool(l, 2, ACCEL_F16, SH(2, 3, 9, 11), kind, 2, 3, 2, 1, 1, 1, true, LAYOUT_SLICED);
    }
    add_pool(l, 1, F, SH(2, 3, 11), AVG, 3, 0, 2, 0, 1, 0, false, C);
    add_pool(l, 2, F, SH(2, 3, 9, 11), AVG, 3, 3, 2, 2, 1, 1, false, C);
    add_pool(l, 2, ACCEL_BF16, SH(2, 3, 9, 8), AVG, 3, 2, 1, 2, 1, 1, false, C);
}

void cases_conv(case_list *l) {
    conv1d_cases(l);
    conv2d_cases(l);
    pool_cases(l);
}
