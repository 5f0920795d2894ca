/* CPU normalization ops: SOFTMAX, LAYER_NORM, RMS_NORM, GROUP_NORM, BATCH_NORM.
 *
 * Softmax, layer and RMS norm work row by row over the last dimension, threads taking contiguous ranges of rows.
 * A row is read from memory once, prefetched while the previous row is computed; its later passes hit L1/L2.
 * Softmax: the max, then exp(v - max) into the output with the sum, then the scaling. Layer norm: the mean, the
 * variance around it, then the write (RMS norm skips the mean). Rows that are not contiguous f32 are first
 * converted into a per-thread f32 buffer; results are rounded once when stored to the output dtype.
 *
 * Group and batch norm work per (n, channel group) and per (n, channel) over the spatial dimensions, in chunks of
 * NORM_CHUNK elements: group statistics are one pass of sum and sum of squares in double, then every element
 * becomes (x - mean) * scale + shift with per-channel scale and shift.
 */
#include "backends/cpu/cpu_vec.h"
#include "core/error.h"

#include <math.h>
#include <string.h>

#define NORM_CHUNK 4096          /* spatial elements per chunk in group/batch norm */
#define NORM_MIN_PARALLEL 32768  /* below this many elements one thread beats waking the pool */
#define NORM_STREAM_MIN_COLS 2048                /* layer/RMS norm rows at least this long ... */
#define NORM_STREAM_MIN_BYTES ((int64_t)8 << 20) /* ... in a thread's share of x this large stream (see below) */

static bool dtype_is_float(accel_dtype d) { return d == ACCEL_F32 || d == ACCEL_F16 || d == ACCEL_BF16; }

static int64_t last_stride(const accel_tensor *t) { return t->ndim > 0 ? t->stride[t->ndim - 1] : 0; }

static size_t round_floats(size_t n) { return (n + 15) & ~(size_t)15; } /* keeps each buffer 64-byte aligned */

static int pick_threads(const cpu_ctx *ctx, int64_t elements, int64_t units) {
    if (elements < NORM_MIN_PARALLEL) return 1;
    return units < ctx->n_threads ? (int)(units > 0 ? units : 1) : ctx->n_threads;
}

static void run(cpu_ctx *ctx, int nth, accel_task_fn fn, void *arg) {
    if (nth <= 1) fn(arg, 0, 1);
    else accel_threadpool_run(ctx->pool, fn, arg);
}

/* A per-channel / per-feature parameter tensor as contiguous f32: the tensor itself when it already is, else a
 * converted copy in buf. NULL stays NULL. */
static const float *param_f32(cpu_isa isa, const accel_tensor *p, int64_t n, float *buf) {
    if (!p) return NULL;
    return cpu_vec_row_f32(isa, p->dtype, p->data, last_stride(p), n, buf);
}

/* ---- row addressing -------------------------------------------------------------------------------------------- */

/* Rows over the last dimension of dst's shape: row r's element 0 of each operand, by the operand's byte strides
 * (right-aligned, broadcast sources have zero strides). */
typedef struct row_walk {
    int64_t shape[ACCEL_MAX_DIMS];
    int64_t stride[3][ACCEL_MAX_DIMS]; /* x, mask (or unused), dst */
} row_walk;

static void row_walk_init(row_walk *w, const accel_tensor *dst, const accel_tensor *x, const accel_tensor *mask) {
    int64_t unused[ACCEL_MAX_DIMS];
    accel_tensor_dims_aligned(dst, w->shape, unused);
    accel_tensor_bcast_strides(x, w->shape, w->stride[0]);
    if (mask) accel_tensor_bcast_strides(mask, w->shape, w->stride[1]);
    else memset(w->stride[1], 0, sizeof w->stride[1]);
    int64_t s = (int64_t)accel_dtype_size(dst->dtype);
    for (int d = ACCEL_MAX_DIMS - 1; d >= 0; d--) {
        w->stride[2][d] = s;
        s *= w->shape[d];
    }
}

static void row_walk_offsets(const row_walk *w, int64_t r, int64_t off[3]) {
    off[0] = off[1] = off[2] = 0;
    for (int d = ACCEL_MAX_DIMS - 2; d >= 0 && r; d--) {
        int64_t i = r % w->shape[d];
        r /= w->shape[d];
        for (int k = 0; k < 3; k++) off[k] += i * w->stride[k][d];
    }
}

/* The next row's input when rows are f32 with unit stride (what the row kernels read in place), to prefetch;
 * NULL otherwise. */
static const float *next_row(const accel_tensor *x, const row_walk *w, int64_t r, int64_t end, int64_t xs) {
    if (r >= end || x->dtype != ACCEL_F32 || xs != 4) return NULL;
    int64_t off[3];
    row_walk_offsets(w, r, off);
    return (const float *)((const char *)x->data + off[0]);
}

/* ---- softmax --------------------------------------------------------------------------------------------------- */

typedef struct softmax_task {
    cpu_isa isa;
    const accel_tensor *dst, *x, *mask;
    row_walk walk;
    float scale;
    bool causal;
    int64_t nrows, ncols;
    float *scratch;
    size_t buf_floats;
} softmax_task;

static void softmax_rows(void *arg, int ith, int nth) {
    const softmax_task *t = arg;
    int64_t begin, end;
    accel_split_range(t->nrows, ith, nth, &begin, &end);
    int64_t n = t->ncols, nq = t->walk.shape[ACCEL_MAX_DIMS - 2];
    float *xbuf = t->scratch + (size_t)ith * t->buf_floats;
    float *mbuf = xbuf + round_floats((size_t)n), *ybuf = mbuf + round_floats((size_t)n);
    int64_t xs = t->walk.stride[0][ACCEL_MAX_DIMS - 1], ms = t->walk.stride[1][ACCEL_MAX_DIMS - 1];
    for (int64_t r = begin; r < end; r++) {
        int64_t off[3];
        row_walk_offsets(&t->walk, r, off);
        /* the query row i sits at key position i + (ncols - nrows) */
        int64_t nvalid = n;
        if (t->causal) {
            int64_t v = r % nq + n - nq + 1;
            nvalid = v < 0 ? 0 : v > n ? n : v;
        }
        const float *xr = cpu_vec_row_f32(t->isa, t->x->dtype, (const char *)t->x->data + off[0], xs, nvalid, xbuf);
        const float *mr = NULL;
        if (t->mask)
            mr = cpu_vec_row_f32(t->isa, t->mask->dtype, (const char *)t->mask->data + off[1], ms, nvalid, mbuf);
        char *dp = (char *)t->dst->data + off[2];
        float *yr = t->dst->dtype == ACCEL_F32 ? (float *)dp : ybuf;
        const float *next = next_row(t->x, &t->walk, r + 1, end, xs);
        cpu_vec_softmax_f32(t->isa, yr, xr, mr, n, nvalid, t->scale, next);
        if (t->dst->dtype != ACCEL_F32) cpu_vec_store_f32(t->isa, t->dst->dtype, yr, dp, n);
    }
}

static accel_status softmax_compute(cpu_ctx *ctx, accel_tensor *dst) {
    softmax_task t = {.isa = ctx->isa, .dst = dst, .x = dst->src[0], .mask = dst->src[1]};
    t.scale = accel_param_f32(dst, 0);
    t.causal = dst->params[1] != 0;
    row_walk_init(&t.walk, dst, t.x, t.mask);
    t.ncols = t.walk.shape[ACCEL_MAX_DIMS - 1];
    t.nrows = accel_nrows(dst);
    if (t.ncols == 0 || t.nrows == 0) return ACCEL_OK;
    int nth = pick_threads(ctx, t.nrows * t.ncols, t.nrows);
    t.buf_floats = 3 * round_floats((size_t)t.ncols);
    t.scratch = cpu_scratch(ctx, (size_t)nth * t.buf_floats * sizeof(float));
    if (!t.scratch) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "cpu softmax: no scratch memory");
    run(ctx, nth, softmax_rows, &t);
    return ACCEL_OK;
}

/* ---- layer norm and RMS norm ----------------------------------------------------------------------------------- */

typedef struct rownorm_task {
    cpu_isa isa;
    const accel_tensor *dst, *x;
    row_walk walk;
    const float *w, *b; /* f32 [D] or NULL */
    float eps;
    bool rms;
    int64_t nrows, ncols;
    float *scratch;
    size_t buf_floats;
} rownorm_task;

static void rownorm_rows(void *arg, int ith, int nth) {
    const rownorm_task *t = arg;
    int64_t begin, end;
    accel_split_range(t->nrows, ith, nth, &begin, &end);
    int64_t n = t->ncols;
    float *xbuf = t->scratch + (size_t)ith * t->buf_floats, *ybuf = xbuf + round_floats((size_t)n);
    int64_t xs = t->walk.stride[0][ACCEL_MAX_DIMS - 1];
    /* Where the next row is prefetched: during the statistics passes while rows stay in cache (measured best), or
     * during the write pass, with dst fetched ahead of the stores, for long rows streamed through much more than
     * an L2's worth of data (4096 x 4096 f32: 2.9 -> 1.6 us a row on one core; the write pass otherwise waits on
     * the stores' reads for ownership one after another while no read is in flight). */
    bool stream = n >= NORM_STREAM_MIN_COLS && (end - begin) * n * (int64_t)sizeof(float) >= NORM_STREAM_MIN_BYTES;
    for (int64_t r = begin; r < end; r++) {
        int64_t off[3];
        row_walk_offsets(&t->walk, r, off);
        const float *xr = cpu_vec_row_f32(t->isa, t->x->dtype, (const char *)t->x->data + off[0], xs, n, xbuf);
        char *dp = (char *)t->dst->data + off[2];
        float *yr = t->dst->dtype == ACCEL_F32 ? (float *)dp : ybuf;
        double mean, var; /* for RMS: mean 0, var = mean of squares */
        const float *next = next_row(t->x, &t->walk, r + 1, end, xs);
        cpu_vec_moments_f32(t->isa, xr, n, !t->rms, &mean, &var, stream ? NULL : next);
        float rstd = (float)(1.0 / sqrt(var + (double)t->eps));
        cpu_vec_norm_row_f32(t->isa, yr, xr, n, (float)mean, rstd, 0.0f, t->w, t->b, stream ? next : NULL);
        if (t->dst->dtype != ACCEL_F32) cpu_vec_store_f32(t->isa, t->dst->dtype, yr, dp, n);
    }
}

static accel_status rownorm_compute(cpu_ctx *ctx, accel_tensor *dst) {
    rownorm_task t = {.isa = ctx->isa, .dst = dst, .x = dst->src[0]};
    t.rms = dst->op == ACCEL_OP_RMS_NORM;
    t.eps = accel_param_f32(dst, 0);
    row_walk_init(&t.walk, dst, t.x, NULL);
    t.ncols = t.walk.shape[ACCEL_MAX_DIMS - 1];
    t.nrows = accel_nrows(dst);
    if (t.ncols == 0 || t.nrows == 0) return ACCEL_OK;
    int nth = pick_threads(ctx, t.nrows * t.ncols, t.nrows);
    size_t shared = 2 * round_floats((size_t)t.ncols); /* converted weight and bias */
    t.buf_floats = 2 * round_floats((size_t)t.ncols);
    float *s = cpu_scratch(ctx, (shared + (size_t)nth * t.buf_floats) * sizeof(float));
    if (!s) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "cpu %s: no scratch memory", accel_op_name(dst->op));
    t.w = param_f32(ctx->isa, dst->src[1], t.ncols, s);
    t.b = t.rms ? NULL : param_f32(ctx->isa, dst->src[2], t.ncols, s + round_floats((size_t)t.ncols));
    t.scratch = s + shared;
    run(ctx, nth, rownorm_rows, &t);
    return ACCEL_OK;
}

/* ---- group norm and batch norm --------------------------------------------------------------------------------- */

/* x [N, C, spatial...]: the spatial dimensions of x, collapsed where x is contiguous across them; the output is
 * contiguous, so channel (n, c) starts at element (n * C + c) * S of dst. */
typedef struct spatial_walk {
    int nd;
    int64_t shape[ACCEL_MAX_DIMS];  /* innermost last; shape[nd-1] is the row length */
    int64_t stride[ACCEL_MAX_DIMS]; /* x byte strides */
    int64_t S;                      /* elements per channel */
} spatial_walk;

static void spatial_walk_init(spatial_walk *w, const accel_tensor *x) {
    w->nd = 0;
    w->S = 1;
    for (int d = 2; d < x->ndim; d++) {
        w->S *= x->shape[d];
        if (x->shape[d] == 1) continue;
        if (w->nd > 0 && w->stride[w->nd - 1] == x->stride[d] * x->shape[d]) {
            w->shape[w->nd - 1] *= x->shape[d];
            w->stride[w->nd - 1] = x->stride[d];
        } else {
            w->shape[w->nd] = x->shape[d];
            w->stride[w->nd] = x->stride[d];
            w->nd++;
        }
    }
    if (w->nd == 0) {
        w->shape[0] = 1;
        w->stride[0] = 0;
        w->nd = 1;
    }
}

static const char *spatial_row(const spatial_walk *w, const char *chan, int64_t o) {
    for (int d = w->nd - 2; d >= 0 && o; d--) {
        chan += (o % w->shape[d]) * w->stride[d];
        o /= w->shape[d];
    }
    return chan;
}

typedef struct chan_task {
    cpu_isa isa;
    const accel_tensor *dst, *x;
    spatial_walk walk;
    int64_t C, units;   /* units: N * groups (group norm) or N * C (batch norm) */
    int64_t per_unit;   /* channels per unit */
    bool stats;         /* group norm: compute mean/var per unit; batch norm: use the given ones */
    float eps;
    const float *mean, *scale, *shift; /* batch norm: per channel; group norm: weight (scale) and bias (shift) */
    float *scratch;
    size_t buf_floats;
} chan_task;

/* Adds the sum and the sum of squares of one channel's spatial elements to *sum, *sumsq, chunk by chunk. */
static void channel_stats(const chan_task *t, const char *xc, float *buf, double *sum, double *sumsq) {
    const spatial_walk *w = &t->walk;
    int64_t len = w->shape[w->nd - 1], xs = w->stride[w->nd - 1];
    for (int64_t o = 0; o < w->S / len; o++) {
        const char *row = spatial_row(w, xc, o);
        for (int64_t c0 = 0; c0 < len; c0 += NORM_CHUNK) {
            int64_t n = len - c0 < NORM_CHUNK ? len - c0 : NORM_CHUNK;
            const float *xr = cpu_vec_row_f32(t->isa, t->x->dtype, row + c0 * xs, xs, n, buf);
            double s, q;
            cpu_vec_sum_sumsq_f64(t->isa, xr, n, &s, &q);
            *sum += s;
            *sumsq += q;
        }
    }
}

/* Writes (x - mean) * mul + add for one channel's spatial elements. */
static void channel_write(const chan_task *t, const char *xc, char *yc, float *buf, float mean, float mul,
                          float add) {
    const spatial_walk *w = &t->walk;
    int64_t len = w->shape[w->nd - 1], xs = w->stride[w->nd - 1];
    int64_t ys = (int64_t)accel_dtype_size(t->dst->dtype);
    float *ybuf = buf + NORM_CHUNK;
    for (int64_t o = 0; o < w->S / len; o++) {
        const char *row = spatial_row(w, xc, o);
        char *yrow = yc + o * len * ys;
        for (int64_t c0 = 0; c0 < len; c0 += NORM_CHUNK) {
            int64_t n = len - c0 < NORM_CHUNK ? len - c0 : NORM_CHUNK;
            const float *xr = cpu_vec_row_f32(t->isa, t->x->dtype, row + c0 * xs, xs, n, buf);
            float *yr = t->dst->dtype == ACCEL_F32 ? (float *)(yrow + c0 * ys) : ybuf;
            cpu_vec_norm_row_f32(t->isa, yr, xr, n, mean, mul, add, NULL, NULL, NULL);
            if (t->dst->dtype != ACCEL_F32) cpu_vec_store_f32(t->isa, t->dst->dtype, yr, yrow + c0 * ys, n);
        }
    }
}

static void chan_units(void *arg, int ith, int nth) {
    const chan_task *t = arg;
    int64_t begin, end;
    accel_split_range(t->units, ith, nth, &begin, &end);
    float *buf = t->scratch + (size_t)ith * t->buf_floats;
    int64_t ys = (int64_t)accel_dtype_size(t->dst->dtype);
    for (int64_t u = begin; u < end; u++) {
        int64_t n = u * t->per_unit / t->C, c_first = u * t->per_unit % t->C;
        const char *xn = (const char *)t->x->data + n * t->x->stride[0];
        char *yn = (char *)t->dst->data + n * t->C * t->walk.S * ys;
        double mean = 0, rstd = 1;
        if (t->stats) {
            double sum = 0, sumsq = 0;
            for (int64_t c = c_first; c < c_first + t->per_unit; c++)
                channel_stats(t, xn + c * t->x->stride[1], buf, &sum, &sumsq);
            double cnt = (double)(t->per_unit * t->walk.S);
            mean = sum / cnt;
            double var = sumsq / cnt - mean * mean;
            rstd = 1.0 / sqrt((var < 0 ? 0 : var) + (double)t->eps);
        }
        for (int64_t c = c_first; c < c_first + t->per_unit; c++) {
            float cmean, mul, add;
            if (t->stats) { /* group norm: group statistics, per-channel affine */
                cmean = (float)mean;
                mul = (float)(rstd * (t->scale ? t->scale[c] : 1.0f));
                add = t->shift ? t->shift[c] : 0.0f;
            } else { /* batch norm: scale[c] already holds weight / sqrt(var + eps) */
                cmean = t->mean[c];
                mul = t->scale[c];
                add = t->shift[c];
            }
            channel_write(t, xn + c * t->x->stride[1], yn + c * t->walk.S * ys, buf, cmean, mul, add);
        }
    }
}

static accel_status chan_compute(cpu_ctx *ctx, accel_tensor *dst) {
    chan_task t = {.isa = ctx->isa, .dst = dst, .x = dst->src[0]};
    const accel_tensor *x = t.x;
    int64_t N = x->shape[0];
    t.C = x->shape[1];
    spatial_walk_init(&t.walk, x);
    if (N == 0 || t.C == 0 || t.walk.S == 0) return ACCEL_OK;
    size_t cpad = round_floats((size_t)t.C);
    bool group = dst->op == ACCEL_OP_GROUP_NORM;
    int64_t groups = group ? dst->params[0] : t.C;
    t.per_unit = t.C / groups;
    t.units = N * groups;
    t.stats = group;
    t.eps = accel_param_f32(dst, group ? 1 : 0);
    int nth = pick_threads(ctx, accel_nelements(x), t.units);
    t.buf_floats = 2 * NORM_CHUNK;
    float *s = cpu_scratch(ctx, (4 * cpad + (size_t)nth * t.buf_floats) * sizeof(float));
    if (!s) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "cpu %s: no scratch memory", accel_op_name(dst->op));
    float *p0 = s, *p1 = s + cpad, *p2 = s + 2 * cpad, *p3 = s + 3 * cpad;
    if (group) {
        t.scale = param_f32(ctx->isa, dst->src[1], t.C, p0);
        t.shift = param_f32(ctx->isa, dst->src[2], t.C, p1);
    } else {
        /* fold the per-channel constants once: scale = weight / sqrt(var + eps), in double */
        const float *mean = param_f32(ctx->isa, dst->src[1], t.C, p0);
        const float *var = param_f32(ctx->isa, dst->src[2], t.C, p1);
        const float *w = param_f32(ctx->isa, dst->src[3], t.C, p2);
        const float *b = param_f32(ctx->isa, dst->src[4], t.C, p3);
        float *scale = p2, *shift = p3; /* may overwrite w and b in place: element c is read before written */
        for (int64_t c = 0; c < t.C; c++) {
            double sc = (w ? (double)w[c] : 1.0) / sqrt((double)var[c] + (double)t.eps);
            shift[c] = b ? b[c] : 0.0f;
            scale[c] = (float)sc;
        }
        t.mean = mean;
        t.scale = scale;
        t.shift = shift;
    }
    t.scratch = s + 4 * cpad;
    run(ctx, nth, chan_units, &t);
    return ACCEL_OK;
}

/* ---- portable row math (the AVX paths live in cpu_norm_avx2.c / _avx512.c) ------------------------------------- */

void cpu_vec_softmax_f32(cpu_isa isa, float *dst, const float *x, const float *mask, int64_t n, int64_t nvalid,
                         float scale, const float *next) {
#if CPU_VEC_X86
    if (isa == CPU_ISA_AVX512) { cpu_vec_softmax_f32_avx512(dst, x, mask, n, nvalid, scale, next); return; }
    if (isa == CPU_ISA_AVX2) { cpu_vec_softmax_f32_avx2(dst, x, mask, n, nvalid, scale, next); return; }
#endif
    (void)isa;
    (void)next;
    float mx = -INFINITY;
    for (int64_t j = 0; j < nvalid; j++) {
        float v = x[j] * scale + (mask ? mask[j] : 0.0f);
        mx = v > mx ? v : mx;
    }
    if (mx == -INFINITY) nvalid = 0; /* nothing visible: the whole row is zeros */
    double sum = 0; /* one chain, so in double to stay exact-ish over long rows */
    for (int64_t j = 0; j < nvalid; j++) {
        float e = expf(x[j] * scale + (mask ? mask[j] : 0.0f) - mx);
        dst[j] = e;
        sum += e;
    }
    float inv = (float)(1.0 / sum);
    for (int64_t j = 0; j < nvalid; j++) dst[j] *= inv;
    for (int64_t j = nvalid < 0 ? 0 : nvalid; j < n; j++) dst[j] = 0.0f;
}

void cpu_vec_sum_sumsq_f64(cpu_isa isa, const float *x, int64_t n, double *sum, double *sumsq) {
#if CPU_VEC_X86
    if (isa == CPU_ISA_AVX512) { cpu_vec_sum_sumsq_f64_avx512(x, n, sum, sumsq); return; }
    if (isa == CPU_ISA_AVX2) { cpu_vec_sum_sumsq_f64_avx2(x, n, sum, sumsq); return; }
#endif
    (void)isa;
    double s = 0, q = 0;
    for (int64_t j = 0; j < n; j++) {
        s += x[j];
        q += (double)x[j] * x[j];
    }
    *sum = s;
    *sumsq = q;
}

void cpu_vec_moments_f32(cpu_isa isa, const float *x, int64_t n, bool center, double *mean, double *var,
                         const float *next) {
#if CPU_VEC_X86
    if (isa == CPU_ISA_AVX512) { cpu_vec_moments_f32_avx512(x, n, center, mean, var, next); return; }
    if (isa == CPU_ISA_AVX2) { cpu_vec_moments_f32_avx2(x, n, center, mean, var, next); return; }
#endif
    (void)isa;
    (void)next;
    double m = 0, q = 0;
    if (center && n > 0) {
        for (int64_t j = 0; j < n; j++) m += x[j];
        m /= (double)n;
    }
    for (int64_t j = 0; j < n; j++) q += ((double)x[j] - m) * ((double)x[j] - m);
    *mean = m;
    *var = n > 0 ? q / (double)n : 0.0;
}

void cpu_vec_norm_row_f32(cpu_isa isa, float *dst, const float *x, int64_t n, float mean, float mul, float add,
                          const float *w, const float *b, const float *next) {
#if CPU_VEC_X86
    if (isa == CPU_ISA_AVX512) { cpu_vec_norm_row_f32_avx512(dst, x, n, mean, mul, add, w, b, next); return; }
    if (isa == CPU_ISA_AVX2) { cpu_vec_norm_row_f32_avx2(dst, x, n, mean, mul, add, w, b, next); return; }
#endif
    (void)isa;
    (void)next;
    for (int64_t j = 0; j < n; j++) {
        float v = (x[j] - mean) * mul;
        if (w) v *= w[j];
        dst[j] = v + (b ? b[j] : add);
    }
}

/* ---- supports and registration --------------------------------------------------------------------------------- */

static bool dst_like_x(const accel_tensor *dst) {
    const accel_tensor *x = dst->src[0];
    return x && dtype_is_float(x->dtype) && dst->dtype == x->dtype && accel_same_shape(dst, x) &&
           accel_is_contiguous(dst) && dst->ndim >= 1 && dst->ndim <= ACCEL_MAX_DIMS;
}

/* An optional parameter of n elements along its last dimension (NULL is fine when optional). */
static bool param_ok(const accel_tensor *p, int64_t n, bool optional) {
    if (!p) return optional;
    return dtype_is_float(p->dtype) && accel_nelements(p) == n && (p->ndim == 0 ? n == 1 : p->shape[p->ndim - 1] == n);
}

static bool softmax_supports(const accel_tensor *dst) {
    const accel_tensor *mask = dst->src[1];
    return dst_like_x(dst) && (!mask || (dtype_is_float(mask->dtype) && accel_can_broadcast(mask, dst->src[0])));
}

static bool layer_norm_supports(const accel_tensor *dst) {
    if (!dst_like_x(dst)) return false;
    int64_t d = dst->shape[dst->ndim - 1];
    return param_ok(dst->src[1], d, true) && param_ok(dst->src[2], d, true);
}

static bool rms_norm_supports(const accel_tensor *dst) {
    return dst_like_x(dst) && param_ok(dst->src[1], dst->shape[dst->ndim - 1], true);
}

static bool group_norm_supports(const accel_tensor *dst) {
    if (!dst_like_x(dst) || dst->ndim < 2) return false;
    int64_t c = dst->shape[1], groups = dst->params[0];
    return groups > 0 && c % groups == 0 && param_ok(dst->src[1], c, true) && param_ok(dst->src[2], c, true);
}

static bool batch_norm_supports(const accel_tensor *dst) {
    if (!dst_like_x(dst) || dst->ndim < 2) return false;
    int64_t c = dst->shape[1];
    return param_ok(dst->src[1], c, false) && param_ok(dst->src[2], c, false) && param_ok(dst->src[3], c, true) &&
           param_ok(dst->src[4], c, true);
}

void cpu_register_norm(cpu_op_entry table[ACCEL_OP_COUNT]) {
    table[ACCEL_OP_SOFTMAX] = (cpu_op_entry){softmax_compute, softmax_supports};
    table[ACCEL_OP_LAYER_NORM] = (cpu_op_entry){rownorm_compute, layer_norm_supports};
    table[ACCEL_OP_RMS_NORM] = (cpu_op_entry){rownorm_compute, rms_norm_supports};
    table[ACCEL_OP_GROUP_NORM] = (cpu_op_entry){chan_compute, group_norm_supports};
    table[ACCEL_OP_BATCH_NORM] = (cpu_op_entry){chan_compute, batch_norm_supports};
}
