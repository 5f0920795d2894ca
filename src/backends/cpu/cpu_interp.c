/* CPU INTERPOLATE: x [N, C, H, W] -> [N, C, OH, OW], nearest / bilinear / bicubic with PyTorch's F.interpolate
 * semantics (output size given, antialias off).
 *
 * Each output row and column has up to 4 source taps with weights, computed once per call: nearest repeats
 * PyTorch's float index arithmetic bit for bit (its rounding of in/out can move floor() across an integer);
 * bilinear and bicubic follow area_pixel_compute_source_index and guard_index_and_lambda (computed in double),
 * bicubic with A = -0.75 and border taps clamped to the edge pixel. */
#include "backends/cpu/cpu_data.h"
#include "backends/cpu/cpu_vec.h"

#include <math.h>

typedef struct interp_taps {
    int64_t idx[4];
    float w[4];
} interp_taps;

static int64_t nearest_src(int64_t o, int64_t in, int64_t out) {
    if (out == in) return o;
    if (out == 2 * in) return o >> 1;
    const float scale = (float)in / (float)out;
    const int64_t s = (int64_t)floorf((float)o * scale);
    return s < in - 1 ? s : in - 1;
}

static double cubic_near(double x, double A) { return ((A + 2) * x - (A + 3)) * x * x + 1; }     /* |x| <= 1 */
static double cubic_far(double x, double A) { return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A; } /* 1 < |x| < 2 */

/* Taps of output index o along an axis of `in` source and `out` output elements; returns the tap count. */
static int axis_taps(int mode, int64_t o, int64_t in, int64_t out, bool align_corners, interp_taps *t) {
    if (mode == ACCEL_INTERP_NEAREST) {
        t->idx[0] = nearest_src(o, in, out);
        t->w[0] = 1.0f;
        return 1;
    }
    const bool cubic = mode == ACCEL_INTERP_BICUBIC;
    double scale;
    if (align_corners) scale = out > 1 ? (double)(in - 1) / (double)(out - 1) : 0.0;
    else scale = (double)in / (double)out;
    double real;
    if (align_corners) {
        real = scale * (double)o;
    } else {
        real = scale * ((double)o + 0.5) - 0.5;
        if (!cubic && real < 0) real = 0.0;
    }
    int64_t i0 = (int64_t)floor(real);
    if (i0 > in - 1) i0 = in - 1;
    double lambda = real - (double)i0;
    lambda = lambda < 0 ? 0 : lambda > 1 ? 1 : lambda;
    if (!cubic) {
        t->idx[0] = i0;
        t->idx[1] = i0 + (i0 < in - 1 ? 1 : 0);
        t->w[0] = (float)(1.0 - lambda);
        t->w[1] = (float)lambda;
        return 2;
    }
    const double A = -0.75;
    t->w[0] = (float)cubic_far(lambda + 1.0, A);
    t->w[1] = (float)cubic_near(lambda, A);
    t->w[2] = (float)cubic_near(1.0 - lambda, A);
    t->w[3] = (float)cubic_far(2.0 - lambda, A);
    for (int j = 0; j < 4; j++) {
        const int64_t s = i0 - 1 + j;
        t->idx[j] = s < 0 ? 0 : s > in - 1 ? in - 1 : s;
    }
    return 4;
}

typedef struct interp_job {
    const accel_tensor *x;
    accel_tensor *dst;
    cpu_isa isa;
    int ntaps;
    const interp_taps *rows, *cols; /* [OH], [OW] */
    float *scratch;                 /* per thread: ntaps input rows, their blend, one output row */
    int64_t per_thread;             /* floats */
} interp_job;

/* Output row r = (n, c, oy): the source rows it needs are read as f32 and blended with the row weights first
 * (one vectorizable pass over W), then each output blends its column taps of that row. */
static void interp_task(void *arg, int ith, int nth) {
    const interp_job *j = arg;
    const accel_tensor *x = j->x;
    const accel_dtype odt = j->dst->dtype;
    const size_t es = accel_dtype_size(odt);
    const int64_t C = x->shape[1], W = x->shape[3], OH = j->dst->shape[2], OW = j->dst->shape[3];
    const int nt = j->ntaps;
    float *bufs = j->scratch + ith * j->per_thread; /* nt row buffers of W */
    float *blend = bufs + nt * W, *obuf = blend + W;
    int64_t r0, r1;
    accel_split_range(x->shape[0] * C * OH, ith, nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        const int64_t oy = r % OH, nc = r / OH;
        const char *plane = accel_tensor_ptr(x) + (nc / C) * x->stride[0] + (nc % C) * x->stride[1];
        const interp_taps *ty = &j->rows[oy];
        const float *src = cpu_vec_row_f32(j->isa, x->dtype, plane + ty->idx[0] * x->stride[2], x->stride[3], W, bufs);
        if (nt > 1) {
            for (int64_t c = 0; c < W; c++) blend[c] = ty->w[0] * src[c];
            for (int a = 1; a < nt; a++) {
                const float *ra = cpu_vec_row_f32(j->isa, x->dtype, plane + ty->idx[a] * x->stride[2], x->stride[3], W,
                                                  bufs + a * W);
                const float wa = ty->w[a];
                for (int64_t c = 0; c < W; c++) blend[c] += wa * ra[c];
            }
            src = blend;
        }
        char *out = accel_tensor_ptr(j->dst) + (size_t)(r * OW) * es;
        float *o = odt == ACCEL_F32 ? (float *)(void *)out : obuf;
        for (int64_t ox = 0; ox < OW; ox++) {
            const interp_taps *tx = &j->cols[ox];
            float acc = tx->w[0] * src[tx->idx[0]];
            for (int b = 1; b < nt; b++) acc += tx->w[b] * src[tx->idx[b]];
            o[ox] = acc;
        }
        if (odt != ACCEL_F32) cpu_vec_store_f32(j->isa, odt, obuf, out, OW);
    }
}

static accel_status interp_compute(cpu_ctx *ctx, accel_tensor *dst) {
    const accel_tensor *x = dst->src[0];
    const int mode = dst->params[0];
    const bool align = dst->params[1] != 0;
    const int64_t H = x->shape[2], W = x->shape[3], OH = dst->shape[2], OW = dst->shape[3];
    if (accel_nelements(dst) == 0) return ACCEL_OK;
    const int nth = cpu_data_nthreads(ctx);
    const size_t taps_bytes = ((size_t)(OH + OW) * sizeof(interp_taps) + 63) / 64 * 64;
    interp_job job = {.x = x, .dst = dst, .isa = ctx->isa};
    job.per_thread = (5 * W + OW + 15) / 16 * 16; /* up to 4 rows + blend, output row */
    char *mem = cpu_scratch(ctx, taps_bytes + (size_t)(job.per_thread * nth) * sizeof(float));
    if (!mem) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "interpolate: no scratch memory for %lldx%lld",
                                     (long long)OH, (long long)OW);
    interp_taps *taps = (interp_taps *)(void *)mem;
    job.rows = taps;
    job.cols = taps + OH;
    job.scratch = (float *)(void *)(mem + taps_bytes);
    for (int64_t o = 0; o < OH; o++) job.ntaps = axis_taps(mode, o, H, OH, align, &taps[o]);
    for (int64_t o = 0; o < OW; o++) job.ntaps = axis_taps(mode, o, W, OW, align, &taps[OH + o]);
    cpu_data_run(ctx, interp_task, &job);
    return ACCEL_OK;
}

static bool interp_supports(const accel_tensor *dst) {
    const accel_tensor *x = dst->src[0];
    if (!x || x->ndim != 4 || dst->ndim != 4 || !cpu_data_is_float(x->dtype) || dst->dtype != x->dtype) return false;
    const int32_t mode = dst->params[0], align = dst->params[1];
    if (mode < ACCEL_INTERP_NEAREST || mode > ACCEL_INTERP_BICUBIC || (align != 0 && align != 1)) return false;
    if (mode == ACCEL_INTERP_NEAREST && align) return false; /* PyTorch rejects align_corners with nearest */
    if (dst->shape[0] != x->shape[0] || dst->shape[1] != x->shape[1]) return false;
    /* an empty input has nothing to sample from */
    if ((dst->shape[2] > 0 && x->shape[2] < 1) || (dst->shape[3] > 0 && x->shape[3] < 1)) return false;
    return accel_is_contiguous(dst);
}

void cpu_register_interp(cpu_op_entry table[ACCEL_OP_COUNT]) {
    table[ACCEL_OP_INTERPOLATE] = (cpu_op_entry){interp_compute, interp_supports};
}
