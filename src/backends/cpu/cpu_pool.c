/* CPU max and average pooling, 1-D (x [N, C, L]) and 2-D (x [N, C, H, W]), with PyTorch's semantics: max pooling
 * never lets the padding win and propagates NaN; average pooling divides by the window clipped to the padded
 * input (count_include_pad) or to the real input. A 1-D pool is computed as a 2-D pool of height 1. Values are
 * read as f32 row by row and reduced down the window's columns first, then across them; averages sum in f32. */
#include "backends/cpu/cpu_data.h"
#include "backends/cpu/cpu_vec.h"

#include <math.h>

typedef struct pool_geom {
    int kind;
    int64_t kernel[2], stride[2], pad[2];
    bool count_include_pad;
} pool_geom;

static pool_geom pool_geom_of(const accel_tensor *dst) {
    pool_geom g;
    if (dst->op == ACCEL_OP_POOL1D) {
        g = (pool_geom){dst->params[0], {1, dst->params[1]}, {1, dst->params[2]}, {0, dst->params[3]},
                        dst->params[4] != 0};
    } else {
        g = (pool_geom){dst->params[0], {dst->params[1], dst->params[2]}, {dst->params[3], dst->params[4]},
                        {dst->params[5], dst->params[6]}, dst->params[7] != 0};
    }
    for (int a = 0; a < 2; a++)
        if (g.stride[a] == 0) g.stride[a] = g.kernel[a]; /* the public API's "stride 0 = kernel" */
    return g;
}

/* Shape and strides as [N, C, H, W] (a 1-D tensor gets H = 1). */
static void as_4d(const accel_tensor *t, int64_t shape[4], int64_t stride[4]) {
    if (t->ndim == 3) {
        shape[0] = t->shape[0], shape[1] = t->shape[1], shape[2] = 1, shape[3] = t->shape[2];
        stride[0] = t->stride[0], stride[1] = t->stride[1], stride[2] = 0, stride[3] = t->stride[2];
    } else {
        for (int i = 0; i < 4; i++) shape[i] = t->shape[i], stride[i] = t->stride[i];
    }
}

typedef struct pool_job {
    const accel_tensor *x;
    accel_tensor *dst;
    cpu_isa isa;
    pool_geom g;
    int64_t xs[4], xst[4], ds[4];
    float *scratch;      /* per thread: one input row (W) and the column reduction (W) */
    int64_t per_thread;  /* floats */
} pool_job;

/* Output row (n, c, oy): the window's input rows are first reduced column by column into col[0..W) (max, or
 * sum), then each output reduces its kw columns of col. Both passes run over contiguous f32 and vectorize. */
static void pool_row(const pool_job *j, int64_t n, int64_t c, int64_t oy, float *rowbuf, float *col, float *out) {
    const pool_geom *g = &j->g;
    const bool is_max = g->kind == ACCEL_POOL_MAX;
    const int64_t H = j->xs[2], W = j->xs[3], Wo = j->ds[3];
    const char *plane = accel_tensor_ptr(j->x) + n * j->xst[0] + c * j->xst[1];
    int64_t y0 = oy * g->stride[0] - g->pad[0], y1 = y0 + g->kernel[0];
    if (y1 > H + g->pad[0]) y1 = H + g->pad[0];
    const int64_t padded_h = y1 - y0;
    if (y0 < 0) y0 = 0;
    if (y1 > H) y1 = H;
    for (int64_t x = 0; x < W; x++) col[x] = is_max ? -INFINITY : 0.0f;
    for (int64_t iy = y0; iy < y1; iy++) {
        const float *r = cpu_vec_row_f32(j->isa, j->x->dtype, plane + iy * j->xst[2], j->xst[3], W, rowbuf);
        if (is_max) {
            /* NaN wins; '|' rather than '||' keeps the loop branch-free, so it vectorizes */
            for (int64_t x = 0; x < W; x++) col[x] = (r[x] > col[x]) | (r[x] != r[x]) ? r[x] : col[x];
        } else {
            for (int64_t x = 0; x < W; x++) col[x] += r[x];
        }
    }
    /* outputs whose window lies inside the row: one pass per kernel column, no clipping (vectorizes) */
    const int64_t sw = g->stride[1], pw = g->pad[1], kw = g->kernel[1];
    int64_t in0 = (pw + sw - 1) / sw, in1 = W - kw + pw >= 0 ? (W - kw + pw) / sw + 1 : 0;
    if (in1 > Wo) in1 = Wo;
    if (in0 > in1) in0 = in1;
    if (is_max) {
        for (int64_t ox = in0; ox < in1; ox++) out[ox] = -INFINITY;
        for (int64_t b = 0; b < kw; b++) {
            const float *cb = col + b - pw;
            for (int64_t ox = in0; ox < in1; ox++)
                out[ox] = (cb[ox * sw] > out[ox]) | (cb[ox * sw] != cb[ox * sw]) ? cb[ox * sw] : out[ox];
        }
    } else {
        const int64_t count = padded_h * kw; /* inside windows: the padded and the real counts agree */
        const int64_t real = (y1 - y0) * kw;
        const float inv = 1.0f / (float)(g->count_include_pad ? count : real);
        for (int64_t ox = in0; ox < in1; ox++) out[ox] = 0.0f;
        for (int64_t b = 0; b < kw; b++) {
            const float *cb = col + b - pw;
            for (int64_t ox = in0; ox < in1; ox++) out[ox] += cb[ox * sw];
        }
        for (int64_t ox = in0; ox < in1; ox++) out[ox] *= inv;
    }
    /* border outputs: clip the window */
    for (int64_t ox = 0; ox < Wo; ox++) {
        if (ox == in0) ox = in1;
        if (ox >= Wo) break;
        int64_t x0 = ox * sw - pw, x1 = x0 + kw;
        if (x1 > W + pw) x1 = W + pw;
        const int64_t padded_w = x1 - x0;
        if (x0 < 0) x0 = 0;
        if (x1 > W) x1 = W;
        if (is_max) {
            float m = -INFINITY;
            for (int64_t x = x0; x < x1; x++) m = (col[x] > m) | (col[x] != col[x]) ? col[x] : m;
            out[ox] = m;
        } else {
            double sum = 0.0;
            for (int64_t x = x0; x < x1; x++) sum += col[x];
            const int64_t count = g->count_include_pad ? padded_h * padded_w : (y1 - y0) * (x1 - x0);
            out[ox] = count > 0 ? (float)(sum / (double)count) : NAN;
        }
    }
}

static void pool_task(void *arg, int ith, int nth) {
    const pool_job *j = arg;
    const accel_dtype dt = j->dst->dtype;
    const size_t es = accel_dtype_size(dt);
    const int64_t Ho = j->ds[2], Wo = j->ds[3], W = j->xs[3];
    float *rowbuf = j->scratch + ith * j->per_thread, *col = rowbuf + W, *out = col + W;
    int64_t r0, r1;
    accel_split_range(j->ds[0] * j->ds[1] * Ho, ith, nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        const int64_t oy = r % Ho, nc = r / Ho;
        char *dp = accel_tensor_ptr(j->dst) + (size_t)(r * Wo) * es;
        pool_row(j, nc / j->ds[1], nc % j->ds[1], oy, rowbuf, col, dt == ACCEL_F32 ? (float *)(void *)dp : out);
        if (dt != ACCEL_F32) cpu_vec_store_f32(j->isa, dt, out, dp, Wo);
    }
}

static accel_status pool_compute(cpu_ctx *ctx, accel_tensor *dst) {
    pool_job job = {.x = dst->src[0], .dst = dst, .isa = ctx->isa, .g = pool_geom_of(dst)};
    int64_t dstst[4];
    as_4d(job.x, job.xs, job.xst);
    as_4d(dst, job.ds, dstst);
    if (accel_nelements(dst) == 0) return ACCEL_OK;
    const int nth = cpu_data_nthreads(ctx);
    job.per_thread = (2 * job.xs[3] + job.ds[3] + 15) / 16 * 16;
    job.scratch = cpu_scratch(ctx, (size_t)(job.per_thread * nth) * sizeof(float));
    if (!job.scratch) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "pool: no scratch memory");
    cpu_data_run(ctx, pool_task, &job);
    return ACCEL_OK;
}

static int64_t pool_out_len(int64_t in, int64_t k, int64_t s, int64_t pad) {
    const int64_t n = in + 2 * pad - k;
    return n < 0 ? 0 : n / s + 1;
}

static bool pool_supports(const accel_tensor *dst) {
    const accel_tensor *x = dst->src[0];
    const int nd = dst->op == ACCEL_OP_POOL1D ? 3 : 4;
    if (!x || x->ndim != nd || !cpu_data_is_float(x->dtype) || dst->ndim != nd || dst->dtype != x->dtype) return false;
    const pool_geom g = pool_geom_of(dst);
    if (g.kind != ACCEL_POOL_MAX && g.kind != ACCEL_POOL_AVG) return false;
    const int32_t cip = dst->op == ACCEL_OP_POOL1D ? dst->params[4] : dst->params[7];
    if (cip != 0 && cip != 1) return false;
    /* PyTorch requires padding <= kernel / 2, so no window lies entirely in the padding */
    for (int a = 0; a < 2; a++)
        if (g.kernel[a] < 1 || g.stride[a] < 1 || g.pad[a] < 0 || g.pad[a] > g.kernel[a] / 2) return false;
    int64_t xs[4], ds[4], st[4];
    as_4d(x, xs, st);
    as_4d(dst, ds, st);
    return ds[0] == xs[0] && ds[1] == xs[1] && ds[2] == pool_out_len(xs[2], g.kernel[0], g.stride[0], g.pad[0]) &&
           ds[3] == pool_out_len(xs[3], g.kernel[1], g.stride[1], g.pad[1]) && accel_is_contiguous(dst);
}

void cpu_register_pool(cpu_op_entry table[ACCEL_OP_COUNT]) {
    table[ACCEL_OP_POOL1D] = (cpu_op_entry){pool_compute, pool_supports};
    table[ACCEL_OP_POOL2D] = (cpu_op_entry){pool_compute, pool_supports};
}
