/* CPU rotary position embedding: x [B, S, H, D] at positions pos [S] (i32) -> same shape and dtype.
 *
 * For pair i < n_rot/2: angle = pos * freq_scale * f_i, f_i = inv_freq[i] or theta^(-2i/n_rot); HALF mode rotates
 * features (i, i + n_rot/2), INTERLEAVED (2i, 2i+1): out = (x0 c - x1 s, x1 c + x0 s) with c, s = cos, sin(angle)
 * times attn_factor; features >= n_rot are copied.
 *
 * Angles are computed in double (a position of 32768 times f_0 = 1 is 32768 radians: in f32 its rounding alone
 * would move cos/sin by ~2e-3), once per (position, pair) into a cos/sin table shared by all batches and heads;
 * the rotation itself is f32.
 */
#include "backends/cpu/cpu_attention.h"
#include "backends/cpu/cpu_data.h"
#include "backends/cpu/cpu_vec.h"

#include <math.h>

typedef struct rope_job {
    const accel_tensor *x, *pos, *inv_freq;
    accel_tensor *dst;
    cpu_isa isa;
    bool interleaved;
    int64_t n_rot, half;
    double freq_scale, attn_factor;
    int64_t B, S, H, D;
    const double *freq; /* f_i [half] */
    float *cos_t, *sin_t; /* [S][half], attn_factor included */
    float *rowbuf;        /* per thread: 2 * D floats */
    int64_t rowbuf_stride;
} rope_job;

static void rope_table_task(void *arg, int ith, int nth) {
    const rope_job *j = arg;
    int64_t s0, s1;
    accel_split_range(j->S, ith, nth, &s0, &s1);
    for (int64_t s = s0; s < s1; s++) {
        int32_t p;
        memcpy(&p, accel_tensor_ptr(j->pos) + s * j->pos->stride[0], 4);
        for (int64_t i = 0; i < j->half; i++) {
            const double angle = (double)p * j->freq_scale * j->freq[i];
            j->cos_t[s * j->half + i] = (float)(cos(angle) * j->attn_factor);
            j->sin_t[s * j->half + i] = (float)(sin(angle) * j->attn_factor);
        }
    }
}

/* Rotates one row of D features: y from x (both contiguous f32). */
static void rope_row(const rope_job *j, const float *x, float *y, const float *c, const float *sn) {
    const int64_t half = j->half;
    if (j->interleaved) {
        for (int64_t i = 0; i < half; i++) {
            const float x0 = x[2 * i], x1 = x[2 * i + 1];
            y[2 * i] = x0 * c[i] - x1 * sn[i];
            y[2 * i + 1] = x1 * c[i] + x0 * sn[i];
        }
    } else {
        for (int64_t i = 0; i < half; i++) {
            const float x0 = x[i], x1 = x[i + half];
            y[i] = x0 * c[i] - x1 * sn[i];
            y[i + half] = x1 * c[i] + x0 * sn[i];
        }
    }
    for (int64_t d = j->n_rot; d < j->D; d++) y[d] = x[d];
}

static void rope_apply_task(void *arg, int ith, int nth) {
    const rope_job *j = arg;
    const accel_tensor *x = j->x;
    const accel_dtype dt = j->dst->dtype;
    const size_t es = accel_dtype_size(dt);
    float *xb = j->rowbuf + ith * j->rowbuf_stride, *yb = xb + j->D;
    int64_t r0, r1;
    accel_split_range(j->B * j->S * j->H, ith, nth, &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        const int64_t h = r % j->H, s = (r / j->H) % j->S, b = r / (j->H * j->S);
        const char *xr = accel_tensor_ptr(x) + b * x->stride[0] + s * x->stride[1] + h * x->stride[2];
        char *out = accel_tensor_ptr(j->dst) + (size_t)(r * j->D) * es;
        const float *xf = cpu_vec_row_f32(j->isa, x->dtype, xr, x->stride[3], j->D, xb);
        float *yf = dt == ACCEL_F32 ? (float *)(void *)out : yb;
        rope_row(j, xf, yf, j->cos_t + s * j->half, j->sin_t + s * j->half);
        if (dt != ACCEL_F32) cpu_vec_store_f32(j->isa, dt, yf, out, j->D);
    }
}

accel_status cpu_rope_compute(cpu_ctx *ctx, accel_tensor *dst) {
    rope_job j = {.x = dst->src[0], .pos = dst->src[1], .inv_freq = dst->src[2], .dst = dst, .isa = ctx->isa};
    j.interleaved = dst->params[0] == ACCEL_ROPE_INTERLEAVED;
    j.n_rot = dst->params[1];
    j.half = j.n_rot / 2;
    const double theta = accel_param_f32(dst, 2);
    j.freq_scale = accel_param_f32(dst, 3);
    j.attn_factor = accel_param_f32(dst, 4);
    j.B = j.x->shape[0], j.S = j.x->shape[1], j.H = j.x->shape[2], j.D = j.x->shape[3];
    if (accel_nelements(dst) == 0) return ACCEL_OK;

    const int nth = cpu_data_nthreads(ctx);
    const size_t freq_bytes = ((size_t)j.half * sizeof(double) + 63) / 64 * 64;
    const size_t table_bytes = ((size_t)(j.S * j.half) * sizeof(float) + 63) / 64 * 64;
    j.rowbuf_stride = (2 * j.D + 15) / 16 * 16;
    const size_t total = freq_bytes + 2 * table_bytes + (size_t)(j.rowbuf_stride * nth) * sizeof(float);
    char *mem = cpu_scratch(ctx, total);
    if (!mem) return accel_set_error(ACCEL_ERR_OUT_OF_MEMORY, "rope: no scratch memory (%zu bytes)", total);
    double *freq = (double *)(void *)mem;
    j.freq = freq;
    j.cos_t = (float *)(void *)(mem + freq_bytes);
    j.sin_t = (float *)(void *)(mem + freq_bytes + table_bytes);
    j.rowbuf = (float *)(void *)(mem + freq_bytes + 2 * table_bytes);
    for (int64_t i = 0; i < j.half; i++) {
        if (j.inv_freq) {
            float f;
            memcpy(&f, accel_tensor_ptr(j.inv_freq) + i * j.inv_freq->stride[0], 4);
            freq[i] = f;
        } else {
            freq[i] = pow(theta, -2.0 * (double)i / (double)j.n_rot);
        }
    }
    cpu_data_run(ctx, rope_table_task, &j);
    cpu_data_run(ctx, rope_apply_task, &j);
    return ACCEL_OK;
}

bool cpu_rope_supports(const accel_tensor *dst) {
    const accel_tensor *x = dst->src[0], *pos = dst->src[1], *inv_freq = dst->src[2];
    if (!x || !pos || !cpu_data_is_float(x->dtype) || x->ndim != 4 || dst->dtype != x->dtype) return false;
    if (!accel_same_shape(dst, x) || !accel_is_contiguous(dst)) return false;
    if (pos->dtype != ACCEL_I32 || pos->ndim != 1 || pos->shape[0] != x->shape[1]) return false;
    const int32_t mode = dst->params[0], n_rot = dst->params[1];
    if (mode != ACCEL_ROPE_HALF && mode != ACCEL_ROPE_INTERLEAVED) return false;
    if (n_rot <= 0 || n_rot % 2 != 0 || n_rot > x->shape[3]) return false;
    if (inv_freq && (inv_freq->dtype != ACCEL_F32 || inv_freq->ndim != 1 || inv_freq->shape[0] != n_rot / 2))
        return false;
    return true;
}
