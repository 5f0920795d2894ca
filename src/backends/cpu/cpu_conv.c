/* CPU CONV1D / CONV2D (stride, zero padding, dilation, groups, bias), as torch.nn.functional.conv1d/conv2d.
 *
 * Per batch item and group the convolution is a GEMM: out[OCg, L] = w[OCg, Cg*KH*KW] @ cols[Cg*KH*KW, L] + bias,
 * L = OH * OW. cols (im2col, f32) is built in ctx's scratch in chunks of output positions so its size stays
 * bounded; a 1x1 / stride 1 / no-padding convolution reads x directly as the B operand. Depthwise convolutions
 * (one input channel per group) are computed directly, since their GEMMs would have a single row of K.
 * Conv1d is handled as a conv2d with height 1. */
#include "backends/cpu/cpu_kernels.h"
#include "backends/cpu/gemm.h"
#include "core/error.h"

/* Bytes of one im2col chunk (f32): bounds the scratch a convolution uses beside the GEMM's. */
#define COLS_BUDGET_BYTES (8u << 20)

typedef struct conv_geom {
    int64_t n, c, h, w;        /* input */
    int64_t oc, kh, kw, cg;    /* weight [OC, Cg, KH, KW] */
    int64_t oh, ow;            /* output */
    int64_t stride[2], pad[2], dil[2], groups;
    int64_t xs[4], ws[4];      /* byte strides of x and w as 4-d */
} conv_geom;

static bool is_float(accel_dtype d) { return d == ACCEL_F32 || d == ACCEL_F16 || d == ACCEL_BF16; }

/* Shape and byte strides of t as [N, C, H, W], with H = 1 (stride 0) for 3-d tensors. */
static void as_4d(const accel_tensor *t, int64_t shape[4], int64_t stride[4]) {
    if (t->ndim == 3) {
        shape[0] = t->shape[0], shape[1] = t->shape[1], shape[2] = 1, shape[3] = t->shape[2];
        stride[0] = t->stride[0], stride[1] = t->stride[1], stride[2] = 0, stride[3] = t->stride[2];
    } else {
        for (int i = 0; i < 4; i++) shape[i] = t->shape[i], stride[i] = t->stride[i];
    }
}

static int64_t out_len(int64_t in, int64_t kernel, int64_t stride, int64_t pad, int64_t dil) {
    const int64_t room = in + 2 * pad - (dil * (kernel - 1) + 1);
    return room < 0 ? 0 : room / stride + 1;
}

static conv_geom conv_geom_of(const accel_tensor *dst) {
    conv_geom g;
    memset(&g, 0, sizeof g);
    const int32_t *q = dst->params;
    if (dst->op == ACCEL_OP_CONV1D) {
        g.stride[0] = 1, g.stride[1] = q[0], g.pad[0] = 0, g.pad[1] = q[1], g.dil[0] = 1, g.dil[1] = q[2];
        g.groups = q[3];
    } else {
        g.stride[0] = q[0], g.stride[1] = q[1], g.pad[0] = q[2], g.pad[1] = q[3], g.dil[0] = q[4], g.dil[1] = q[5];
        g.groups = q[6];
    }
    int64_t s[4];
    as_4d(dst->src[0], s, g.xs);
    g.n = s[0], g.c = s[1], g.h = s[2], g.w = s[3];
    as_4d(dst->src[1], s, g.ws);
    g.oc = s[0], g.cg = s[1], g.kh = s[2], g.kw = s[3];
    as_4d(dst, s, (int64_t[4]){0});
    g.oh = s[2], g.ow = s[3];
    return g;
}

static bool cpu_conv_supports(const accel_tensor *dst) {
    const accel_tensor *x = dst->src[0], *w = dst->src[1], *bias = dst->src[2];
    const int nd = dst->op == ACCEL_OP_CONV1D ? 3 : 4;
    if (!x || !w || x->ndim != nd || w->ndim != nd || dst->ndim != nd) return false;
    if (!is_float(x->dtype) || !is_float(w->dtype) || dst->dtype != x->dtype) return false;
    if (bias && (!is_float(bias->dtype) || bias->ndim != 1 || bias->shape[0] != w->shape[0])) return false;
    if (!accel_is_contiguous(dst)) return false;
    const conv_geom g = conv_geom_of(dst);
    for (int a = 0; a < 2; a++)
        if (g.stride[a] < 1 || g.pad[a] < 0 || g.dil[a] < 1) return false;
    if (g.groups < 1 || g.c % g.groups || g.oc % g.groups || g.cg * g.groups != g.c) return false;
    int64_t ds[4], dstr[4];
    as_4d(dst, ds, dstr);
    return ds[0] == g.n && ds[1] == g.oc && ds[2] == out_len(g.h, g.kh, g.stride[0], g.pad[0], g.dil[0]) &&
           ds[3] == out_len(g.w, g.kw, g.stride[1], g.pad[1], g.dil[1]);
}

/* ---- im2col -------------------------------------------------------------------------------------------------- */

typedef struct im2col_task {
    const conv_geom *g;
    const char *x;      /* x[n, first channel of the group] */
    accel_dtype dtype;
    float *cols;        /* [Cg * KH * KW, l1 - l0] */
    int64_t l0, l1;     /* output positions (oh * OW + ow) of this chunk */
} im2col_task;

/* Converts n elements of x (dtype, byte stride `stride`) to f32. */
static void load_run(float *out, const char *x, int64_t stride, accel_dtype dtype, int64_t n) {
    if (dtype == ACCEL_F32 && stride == (int64_t)sizeof(float)) {
        memcpy(out, x, (size_t)n * sizeof(float));
        return;
    }
    for (int64_t i = 0; i < n; i++) out[i] = gemm_load_f32(x + i * stride, dtype);
}

/* Row r = (c, ky, kx) of cols: x[c, oy * sh - ph + ky * dh, ox * sw - pw + kx * dw] for every position of the
 * chunk, 0 outside the image. Rows are split over the threads. */
static void im2col_rows(void *arg, int ith, int nth) {
    const im2col_task *t = arg;
    const conv_geom *g = t->g;
    const int64_t krows = g->cg * g->kh * g->kw, width = t->l1 - t->l0, sw = g->stride[1];
    int64_t r0, r1;
    accel_split_range(krows, ith, nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        const int64_t c = r / (g->kh * g->kw), ky = (r / g->kw) % g->kh, kx = r % g->kw;
        float *out = t->cols + r * width;
        const char *xc = t->x + c * g->xs[1];
        /* output columns ox with 0 <= ox * sw + off < W read the image; the rest are padding */
        const int64_t off = kx * g->dil[1] - g->pad[1];
        const int64_t ox_lo = off >= 0 ? 0 : (-off + sw - 1) / sw;
        const int64_t ox_hi = g->w - off <= 0 ? 0 : (g->w - off + sw - 1) / sw; /* exclusive */
        for (int64_t l = t->l0; l < t->l1;) {
            const int64_t oy = l / g->ow, ox0 = l % g->ow;
            const int64_t ox1 = g->ow - ox0 < t->l1 - l ? g->ow : ox0 + (t->l1 - l); /* end of this output row */
            const int64_t iy = oy * g->stride[0] - g->pad[0] + ky * g->dil[0];
            float *o = out + (l - t->l0) - ox0;                                    /* o[ox] */
            if (iy < 0 || iy >= g->h) {
                memset(o + ox0, 0, (size_t)(ox1 - ox0) * sizeof(float));
            } else {
                const int64_t a = ox0 > ox_lo ? ox0 : ox_lo, b = ox1 < ox_hi ? ox1 : ox_hi;
                if (a >= b) {
                    memset(o + ox0, 0, (size_t)(ox1 - ox0) * sizeof(float));
                } else {
                    memset(o + ox0, 0, (size_t)(a - ox0) * sizeof(float));
                    load_run(o + a, xc + iy * g->xs[2] + (a * sw + off) * g->xs[3], sw * g->xs[3], t->dtype, b - a);
                    memset(o + b, 0, (size_t)(ox1 - b) * sizeof(float));
                }
            }
            l += ox1 - ox0;
        }
    }
}

/* ---- depthwise ------------------------------------------------------------------------------------------------ */

typedef struct depthwise_task {
    const conv_geom *g;
    const accel_tensor *x, *w;
    const float *bias; /* [OC] f32 or NULL */
    accel_tensor *dst;
    const gemm_kernels *kern;
    char *scratch;     /* per thread: input plane + output row + weights, f32 */
    size_t per_thread;
} depthwise_task;

/* One (n, oc) output plane per step: the input plane is converted to f32 once, then each output row is summed
 * tap by tap over the valid range of ox (inner loop over contiguous f32, so it vectorizes). */
static void depthwise_planes(void *arg, int ith, int nth) {
    const depthwise_task *t = arg;
    const conv_geom *g = t->g;
    float *plane = (float *)(t->scratch + (size_t)ith * t->per_thread);
    float *row = plane + g->h * g->w;
    float *wk = row + g->ow;
    const int64_t mult = g->oc / g->c, ec = (int64_t)accel_dtype_size(t->dst->dtype);
    int64_t p0, p1;
    accel_split_range(g->n * g->oc, ith, nth, &p0, &p1);
    int64_t loaded = -1; /* (n, c) index of the plane in `plane` */
    for (int64_t pi = p0; pi < p1; pi++) {
        const int64_t n = pi / g->oc, oc = pi % g->oc, c = oc / mult;
        if (loaded != n * g->c + c) {
            const char *xp = accel_tensor_ptr(t->x) + n * g->xs[0] + c * g->xs[1];
            for (int64_t y = 0; y < g->h; y++)
                for (int64_t xx = 0; xx < g->w; xx++)
                    plane[y * g->w + xx] = gemm_load_f32(xp + y * g->xs[2] + xx * g->xs[3], t->x->dtype);
            loaded = n * g->c + c;
        }
        for (int64_t ky = 0; ky < g->kh; ky++)
            for (int64_t kx = 0; kx < g->kw; kx++)
                wk[ky * g->kw + kx] =
                    gemm_load_f32(accel_tensor_ptr(t->w) + oc * g->ws[0] + ky * g->ws[2] + kx * g->ws[3], t->w->dtype);
        const float b = t->bias ? t->bias[oc] : 0.0f;
        char *out = accel_tensor_ptr(t->dst) + (n * g->oc + oc) * g->oh * g->ow * ec;
        for (int64_t oy = 0; oy < g->oh; oy++) {
            for (int64_t ox = 0; ox < g->ow; ox++) row[ox] = b;
            for (int64_t ky = 0; ky < g->kh; ky++) {
                const int64_t iy = oy * g->stride[0] - g->pad[0] + ky * g->dil[0];
                if (iy < 0 || iy >= g->h) continue;
                const float *src = plane + iy * g->w;
                for (int64_t kx = 0; kx < g->kw; kx++) {
                    const float wv = wk[ky * g->kw + kx];
                    const int64_t off = kx * g->dil[1] - g->pad[1], s = g->stride[1];
                    /* ox range with 0 <= ox * s + off < W */
                    int64_t lo = off >= 0 ? 0 : (-off + s - 1) / s;
                    int64_t hi = g->w - 1 - off < 0 ? -1 : (g->w - 1 - off) / s;
                    if (hi > g->ow - 1) hi = g->ow - 1;
                    if (s == 1)
                        for (int64_t ox = lo; ox <= hi; ox++) row[ox] += wv * src[ox + off];
                    else
                        for (int64_t ox = lo; ox <= hi; ox++) row[ox] += wv * src[ox * s + off];
                }
            }
            t->kern->store_row(out + oy * g->ow * ec, t->dst->dtype, row, g->ow);
        }
    }
}

/* ---- kernel ---------------------------------------------------------------------------------------------------- */

static size_t align64(size_t x) { return (x + 63) & ~(size_t)63; }

static void load_bias(float *out, const accel_tensor *bias) {
    for (int64_t i = 0; i < bias->shape[0]; i++)
        out[i] = gemm_load_f32(accel_tensor_ptr(bias) + i * bias->stride[0], bias->dtype);
}

static accel_status conv_depthwise(cpu_ctx *ctx, accel_tensor *dst, const conv_geom *g) {
    const accel_tensor *bias = dst->src[2];
    const int nth = ctx->pool ? accel_threadpool_size(ctx->pool) : 1;
    const size_t bias_bytes = align64((size_t)g->oc * sizeof(float));
    const size_t per_thread = align64((size_t)(g->h * g->w + g->ow + g->kh * g->kw) * sizeof(float));
    char *scratch = cpu_scratch(ctx, bias_bytes + per_thread * (size_t)nth);
    if (!scratch) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "cpu conv: cannot allocate scratch");
    if (bias) load_bias((float *)scratch, bias);
    depthwise_task t = {g, dst->src[0], dst->src[1], bias ? (const float *)scratch : NULL, dst,
                        gemm_kernels_for(ctx->isa), scratch + bias_bytes, per_thread};
    accel_threadpool_run(ctx->pool, depthwise_planes, &t);
    return ACCEL_OK;
}

static accel_status cpu_conv(cpu_ctx *ctx, accel_tensor *dst) {
    const accel_tensor *x = dst->src[0], *w = dst->src[1], *bias = dst->src[2];
    const conv_geom g = conv_geom_of(dst);
    const int64_t L = g.oh * g.ow, krows = g.cg * g.kh * g.kw, ocg = g.oc / g.groups;
    if (accel_nelements(dst) == 0) return ACCEL_OK;
    if (g.cg == 1 && g.groups > 1 && g.h * g.w > 0) return conv_depthwise(ctx, dst, &g);

    /* x read in place as B[Cg, H*W] when each output position is exactly one input position and H, W collapse
     * into one stride */
    const bool one_to_one = g.kh == 1 && g.kw == 1 && g.stride[0] == 1 && g.stride[1] == 1 && g.pad[0] == 0 &&
                            g.pad[1] == 0;
    const bool direct = one_to_one && (g.h == 1 || g.w == 1 || g.xs[2] == g.w * g.xs[3]);
    const int64_t x_cs = g.w == 1 ? g.xs[2] : g.xs[3];
    /* w as A[OC, Cg*KH*KW] with unit element stride: true for a contiguous w, else it is copied to f32 */
    const int64_t ew = (int64_t)accel_dtype_size(w->dtype);
    const bool w_flat = (g.kw == 1 || g.ws[3] == ew) && (g.kh == 1 || g.ws[2] == g.kw * ew) &&
                        (g.cg == 1 || g.ws[1] == g.kh * g.kw * ew);

    int64_t chunk = direct ? L : (int64_t)(COLS_BUDGET_BYTES / ((size_t)(krows ? krows : 1) * sizeof(float)));
    if (chunk < 16) chunk = 16;
    if (chunk > L) chunk = L;

    const int64_t ec = (int64_t)accel_dtype_size(dst->dtype);
    gemm_problem p = {
        .m = ocg,
        .n = chunk,
        .k = krows,
        .b = {NULL, direct ? x->dtype : ACCEL_F32, direct ? g.xs[1] : chunk * (int64_t)sizeof(float),
              direct ? x_cs : (int64_t)sizeof(float)},
        .c_dtype = dst->dtype,
        .ldc = L,
    };
    if (w_flat) {
        p.a = (gemm_operand){NULL, w->dtype, g.ws[0], ew};
    } else {
        p.a = (gemm_operand){NULL, ACCEL_F32, krows * (int64_t)sizeof(float), sizeof(float)};
    }

    const size_t bias_bytes = bias ? align64((size_t)g.oc * sizeof(float)) : 0;
    const size_t wcopy_bytes = w_flat ? 0 : align64((size_t)g.oc * (size_t)krows * sizeof(float));
    const size_t cols_bytes = direct ? 0 : align64((size_t)krows * (size_t)chunk * sizeof(float));
    const size_t gemm_bytes = cpu_gemm_scratch_size(ctx, &p);
    char *scratch = cpu_scratch(ctx, bias_bytes + wcopy_bytes + cols_bytes + gemm_bytes);
    if (!scratch) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "cpu conv: cannot allocate scratch");
    float *bias_f = bias ? (float *)scratch : NULL;
    float *wcopy = (float *)(scratch + bias_bytes);
    float *cols = (float *)(scratch + bias_bytes + wcopy_bytes);
    void *gemm_scratch = scratch + bias_bytes + wcopy_bytes + cols_bytes;
    if (bias) load_bias(bias_f, bias);
    if (!w_flat)
        for (int64_t o = 0; o < g.oc; o++)
            for (int64_t r = 0; r < krows; r++) {
                const int64_t c = r / (g.kh * g.kw), ky = (r / g.kw) % g.kh, kx = r % g.kw;
                wcopy[o * krows + r] = gemm_load_f32(
                    accel_tensor_ptr(w) + o * g.ws[0] + c * g.ws[1] + ky * g.ws[2] + kx * g.ws[3], w->dtype);
            }

    for (int64_t n = 0; n < g.n; n++)
        for (int64_t grp = 0; grp < g.groups; grp++) {
            const char *xg = accel_tensor_ptr(x) + n * g.xs[0] + grp * g.cg * g.xs[1];
            p.a.data = w_flat ? accel_tensor_ptr(w) + grp * ocg * g.ws[0] : (const char *)(wcopy + grp * ocg * krows);
            p.row_bias = bias_f ? bias_f + grp * ocg : NULL;
            for (int64_t l0 = 0; l0 < L; l0 += chunk) {
                const int64_t l1 = L - l0 < chunk ? L : l0 + chunk;
                p.n = l1 - l0;
                p.c = accel_tensor_ptr(dst) + ((n * g.oc + grp * ocg) * L + l0) * ec;
                if (direct) {
                    p.b.data = xg + l0 * x_cs;
                } else {
                    im2col_task t = {&g, xg, x->dtype, cols, l0, l1};
                    accel_threadpool_run(ctx->pool, im2col_rows, &t);
                    p.b.data = (const char *)cols;
                    p.b.rs = p.n * (int64_t)sizeof(float);
                }
                accel_status st = cpu_gemm(ctx, &p, NULL, gemm_scratch);
                if (st != ACCEL_OK) return st;
            }
        }
    return ACCEL_OK;
}

void cpu_register_conv(cpu_op_entry table[ACCEL_OP_COUNT]) {
    table[ACCEL_OP_CONV1D] = (cpu_op_entry){cpu_conv, cpu_conv_supports};
    table[ACCEL_OP_CONV2D] = (cpu_op_entry){cpu_conv, cpu_conv_supports};
}
